#!/usr/bin/env node
/** The `floodgate` command. Each subcommand lives in its own file; this one only parses argv. */
import { Command } from 'commander';
import { type AuditFormat, auditExport, auditVerify } from './audit.js';
import { type CliIo, checkConfig } from './check-config.js';
import { decodeCapture } from './decode.js';
import { exabgpConfig } from './exabgp-config.js';
import { operatorAction } from './operator.js';
import { rulesActions, rulesAdd, rulesChange, rulesList, rulesPreview } from './rules.js';
import { runDaemon } from './run.js';
import { simulateCommand } from './simulate.js';
import { packageVersion } from './version.js';

// `floodgate rules actions | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const io: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const program = new Command()
  .name('floodgate')
  .description('DDoS detection and automatic mitigation appliance')
  .version(packageVersion());

program
  .command('run')
  .description('start the daemon (embedded default configuration when no --config is given)')
  .option('-c, --config <file>', 'floodgate.yaml to use')
  .action(async (opts: { config?: string }) => {
    process.exitCode = await runDaemon(opts.config, io);
  });

program
  .command('check-config')
  .description('validate a configuration file and print the effective configuration')
  .argument('[file]', 'floodgate.yaml to check (the embedded default when omitted)')
  .action((file: string | undefined) => {
    process.exitCode = checkConfig(file, io);
  });

program
  .command('decode')
  .description('print the flow records of the NetFlow/IPFIX/sFlow datagrams in a pcap as JSON lines')
  .argument('<capture>', 'a classic pcap file (convert pcapng with: editcap -F pcap IN OUT)')
  .option('-p, --port <port...>', 'only datagrams sent to these UDP ports', [])
  .option('--default-sampling-rate <n>', 'rate assumed when an exporter reports none', '1')
  .action(async (capture: string, opts: { port: string[]; defaultSamplingRate: string }) => {
    const ports = opts.port.map(Number);
    const rate = Number(opts.defaultSamplingRate);
    if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
      io.err(`--port takes UDP ports from 1 to 65535, got ${opts.port.join(' ')}\n`);
      process.exitCode = 2;
      return;
    }
    if (!Number.isInteger(rate) || rate < 1) {
      io.err(`--default-sampling-rate takes a whole number >= 1, got ${opts.defaultSamplingRate}\n`);
      process.exitCode = 2;
      return;
    }
    process.exitCode = await decodeCapture(capture, { ports, defaultSamplingRate: rate }, io);
  });

program
  .command('simulate')
  .description(
    'replay flow datagrams through detection and the runbooks on a simulated clock and print the timeline',
  )
  .argument(
    '[capture]',
    'a classic pcap of NetFlow/IPFIX/sFlow datagrams (their capture times are the clock)',
  )
  .option(
    '-c, --config <file>',
    'floodgate.yaml whose detection and runbooks to try (the embedded default when omitted)',
  )
  .option('-p, --port <port...>', 'only datagrams sent to these UDP ports', [])
  .option(
    '--scenario <spec.json>',
    'a flow-lab scenario instead of a capture (needs python3-scapy and softflowd)',
  )
  .option(
    '--exporter-version <n>',
    'NetFlow version softflowd exports a scenario as: 5, 9 or 10 (IPFIX)',
    '5',
  )
  .option('--max-tail <seconds>', 'most simulated seconds after the last datagram', '86400')
  .option('--json', 'print the timeline as JSON lines (audit entries and notes)')
  .action(
    async (
      capture: string | undefined,
      opts: {
        config?: string;
        port: string[];
        scenario?: string;
        exporterVersion: string;
        maxTail: string;
        json?: boolean;
      },
    ) => {
      const ports = opts.port.map(Number);
      const version = Number(opts.exporterVersion);
      const maxTail = Number(opts.maxTail);
      if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
        io.err(`--port takes UDP ports from 1 to 65535, got ${opts.port.join(' ')}\n`);
        process.exitCode = 2;
        return;
      }
      if (version !== 5 && version !== 9 && version !== 10) {
        io.err(`--exporter-version takes 5, 9 or 10, got ${opts.exporterVersion}\n`);
        process.exitCode = 2;
        return;
      }
      if (!Number.isInteger(maxTail) || maxTail < 0) {
        io.err(`--max-tail takes a whole number of seconds, got ${opts.maxTail}\n`);
        process.exitCode = 2;
        return;
      }
      process.exitCode = await simulateCommand(
        capture,
        {
          ports,
          exporterVersion: version,
          maxTailSeconds: maxTail,
          json: opts.json === true,
          ...(opts.config === undefined ? {} : { config: opts.config }),
          ...(opts.scenario === undefined ? {} : { scenario: opts.scenario }),
        },
        io,
      );
    },
  );

for (const action of ['approve', 'withdraw'] as const) {
  program
    .command(action)
    .description(
      action === 'approve'
        ? 'approve a pending mitigation (or every pending mitigation of an incident id) on the running daemon'
        : 'withdraw a mitigation by hand on the running daemon, whoever holds it',
    )
    .argument(
      '<id>',
      action === 'approve' ? 'mitigation id (fs4-...@adapter) or incident id (inc-...)' : 'mitigation id',
    )
    .option('-c, --config <file>', 'floodgate.yaml whose http.listen the daemon answers on')
    .option('--api <url>', 'the daemon API base URL instead (e.g. http://127.0.0.1:8080)')
    .option('--operator <name>', 'who acts, as the audit log names them (default: $USER)')
    .action(async (id: string, opts: { config?: string; api?: string; operator?: string }) => {
      process.exitCode = await operatorAction(action, id, opts, io);
    });
}

program
  .command('exabgp-config')
  .description(
    "write the exabgp.conf that runs Floodgate's helper and peers with an exabgp adapter's neighbors",
  )
  .option('-c, --config <file>', 'floodgate.yaml with the exabgp adapter (the embedded default when omitted)')
  .option('-a, --adapter <name>', 'the exabgp adapter, when there are several')
  .option('-o, --out <file>', 'write to this file instead of stdout')
  .option('--node <path>', 'the Node binary ExaBGP runs the helper with (default: this one)')
  .action((opts: { config?: string; adapter?: string; out?: string; node?: string }) => {
    process.exitCode = exabgpConfig(opts, io);
  });

const audit = program.command('audit').description('the tamper-evident audit log');
audit
  .command('verify')
  .description('re-hash the whole audit chain and report the first entry that does not match')
  .option('-c, --config <file>', 'floodgate.yaml whose store to read (the embedded default when omitted)')
  .action((opts: { config?: string }) => {
    process.exitCode = auditVerify(opts.config, io);
  });
audit
  .command('export')
  .description('write every audit entry, oldest first')
  .option('-c, --config <file>', 'floodgate.yaml whose store to read (the embedded default when omitted)')
  .option('-f, --format <format>', 'json (an array, entries as stored and hashed) or csv', 'json')
  .option('-o, --out <file>', 'write to this file instead of stdout')
  .action((opts: { config?: string; format: string; out?: string }) => {
    if (opts.format !== 'json' && opts.format !== 'csv') {
      io.err(`--format takes json or csv, got ${opts.format}\n`);
      process.exitCode = 2;
      return;
    }
    process.exitCode = auditExport(opts.config, opts.format as AuditFormat, opts.out, io);
  });

const rules = program
  .command('rules')
  .description('node firewall rules (tier 1): trigger -> command -> undo');
rules
  .command('actions')
  .description('list every action type with its tool group, parameters, command and undo templates and risk')
  .option('--json', 'print JSON for scripts')
  .option('--markdown', 'print the reference page docs/node-actions.md')
  .action((opts: { json?: boolean; markdown?: boolean }) => {
    process.exitCode = rulesActions(opts.json === true, io, undefined, opts.markdown === true);
  });
rules
  .command('preview')
  .description('show the exact command and undo a rule would run, filled with an example incident')
  .argument('<file>', 'the rule as YAML or JSON')
  .option('--ipv6', 'fill it with an IPv6 example incident')
  .option('--json', 'print the preview as JSON')
  .action((file: string, opts: { ipv6?: boolean; json?: boolean }) => {
    process.exitCode = rulesPreview(file, opts, io);
  });
const daemonOptions = (command: Command) =>
  command
    .option('-c, --config <file>', 'floodgate.yaml whose http.listen the daemon answers on')
    .option('--api <url>', 'the daemon API base URL instead (e.g. http://127.0.0.1:8080)')
    .option('--operator <name>', 'who acts, as the audit log names them (default: $USER)');
daemonOptions(
  rules
    .command('add')
    .description('save a rule (or replace the rule with its id) on the running daemon; prints its commands')
    .argument('<file>', 'the rule as YAML or JSON')
    .option('--acknowledge-risk', 'save a broad rule (a whole protocol, an interface-wide police, ...)'),
).action(
  async (
    file: string,
    opts: { config?: string; api?: string; operator?: string; acknowledgeRisk?: boolean },
  ) => {
    process.exitCode = await rulesAdd(file, opts, io);
  },
);
daemonOptions(
  rules.command('list').description('list the saved rules').option('--json', 'print JSON'),
).action(async (opts: { config?: string; api?: string; operator?: string; json?: boolean }) => {
  process.exitCode = await rulesList(opts, io);
});
daemonOptions(
  rules
    .command('enable')
    .description('enable a saved rule (from the next incident on)')
    .argument('<id>', 'rule id'),
).action(async (id: string, opts: { config?: string; api?: string; operator?: string }) => {
  process.exitCode = await rulesChange('enable', id, opts, io);
});
for (const verb of ['disable', 'delete'] as const) {
  daemonOptions(
    rules
      .command(verb)
      .description(`${verb} a saved rule; what it put in place is undone at once`)
      .argument('<id>', 'rule id')
      .option('--keep-runs', 'leave what the rule put in place until its incident ends'),
  ).action(
    async (id: string, opts: { config?: string; api?: string; operator?: string; keepRuns?: boolean }) => {
      process.exitCode = await rulesChange(verb, id, opts, io);
    },
  );
}

await program.parseAsync(process.argv);
