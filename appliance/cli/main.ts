#!/usr/bin/env node
/** The `floodgate` command. Each subcommand lives in its own file; this one only parses argv. */
import { Command } from 'commander';
import { type CliIo, checkConfig } from './check-config.js';
import { decodeCapture } from './decode.js';
import { runDaemon } from './run.js';
import { packageVersion } from './version.js';

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

await program.parseAsync(process.argv);
