/**
 * `npm run bench -- bgp [--samples N] [--rules N] [--speaker exabgp|bird]`: how fast a FlowSpec
 * rule reaches a real BGP peer. In the interop lab's network namespace (root needed), each
 * speaker announces to a receiving BIRD 2:
 * - latency: `apply()` called -> the rule is in the receiver's flow table (polled over BIRD's
 *   control socket every millisecond), one rule at a time, and the same for `withdraw()`;
 * - bulk: announce N rules (default 1,000) and withdraw them again, one call after another as
 *   the dispatcher does, and (ExaBGP) all calls at once, pipelined through the helper; timed
 *   until the adapter has answered and until the receiver holds all N (holds none).
 * References, in the same run on the same daemons: for ExaBGP, the same command lines written
 * straight into ExaBGP by `cat` from a FIFO (a second `process`, no adapter, no helper); for BIRD,
 * the include file written with every rule at once and one `birdc configure` (no check, no
 * per-rule reload).
 * Figures go to docs/BENCHMARKS.md ("bgp-speakers").
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBirdAdapter } from '../adapters/bird/bird-adapter.js';
import { createBirdcRunner } from '../adapters/bird/birdc.js';
import { birdConfigSchema } from '../adapters/bird/config.js';
import { renderIncludeFile } from '../adapters/bird/include-file.js';
import { renderFlowRoute } from '../adapters/bird/render.js';
import type { AdapterReceipt, MitigationAdapter } from '../adapters/contract.js';
import { exabgpConfigSchema } from '../adapters/exabgp/config.js';
import { createExabgpAdapter } from '../adapters/exabgp/exabgp-adapter.js';
import { renderExabgpConf } from '../adapters/exabgp/exabgp-conf.js';
import { helperArgv } from '../adapters/exabgp/helper-command.js';
import { renderAnnounce, renderWithdraw } from '../adapters/exabgp/text-api.js';
import { nullLogger } from '../core/logger.js';
import type { FlowSpecIntent, MitigationIntent } from '../core/mitigation/intent.js';
import { type IntentContent, intentId } from '../core/mitigation/intent-id.js';
import { exabgpDaemon, requireDaemon, startBird } from '../test/interop/lab/daemons.js';
import {
  BIRD_LAB,
  birdReceiverConf,
  birdSenderConf,
  EXABGP_LAB,
  exabgpAdapterConfig,
  exabgpReceiverConf,
} from '../test/interop/lab/topologies.js';
import { createNetns, type Netns, requireRoot } from '../test/interop/netns.js';
import { waitFor } from '../test/interop/wait.js';
import { type BirdControl, connectBirdControl } from './bgp/bird-control.js';
import { parseQuantity, UsageError } from './lib/args.js';
import { describeMachine, machineLine } from './lib/machine.js';

const USAGE = `usage: npm run bench -- bgp [options]   (as root: it creates a network namespace)

  --samples N          rules timed one at a time, per speaker (default 50)
  --rules N            rules announced and withdrawn in bulk (default 1000)
  --speaker NAME       exabgp or bird (default both)
`;

type Speaker = 'exabgp' | 'bird';

interface Lab {
  adapter: MitigationAdapter;
  receiver: BirdControl;
  /** The same rules put in place without the adapter (see the references in the file comment). */
  reference: {
    announce(intents: MitigationIntent[]): Promise<void>;
    withdraw(intents: MitigationIntent[]): Promise<void>;
  };
  close(): Promise<void>;
}

/** Distinct FlowSpec rules on 198.18.0.0/15 (benchmarking space, RFC 2544). */
function rule(i: number): MitigationIntent {
  const content: IntentContent = {
    kind: 'flowspec',
    ipVersion: 4,
    match: {
      destination: `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`,
      protocols: [17],
      sourcePorts: [123],
    },
    action: { type: 'discard' },
  };
  return { ...content, id: intentId(content), incidentId: 'inc-bench' } as MitigationIntent;
}

async function untilCount(receiver: BirdControl, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if ((await receiver.count('ft4')) === count) return;
    if (performance.now() > deadline) throw new Error(`the receiver never held ${count} flow routes`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function exabgpLab(ns: Netns, dir: string): Promise<Lab> {
  await ns.addAddress(`${EXABGP_LAB.exabgp}/8`);
  await ns.addAddress(`${EXABGP_LAB.receiver}/8`);
  const receiver = await startBird(ns, dir, 'receiver', exabgpReceiverConf());
  const config = exabgpConfigSchema.parse({
    ...exabgpAdapterConfig(dir),
    timeouts: { connectMs: 20_000, commandMs: 60_000 },
  });
  const confPath = join(dir, 'exabgp.conf');
  const fifo = join(dir, 'reference.fifo');
  const made = await ns.run(['mkfifo', fifo]);
  if (made.code !== 0) throw new Error(`mkfifo ${fifo}: ${made.stderr}`);
  const conf = renderExabgpConf({
    adapterName: 'edge',
    config,
    helperArgv: helperArgv({ socketPath: config.socket!, retryMs: 100 }),
  }).replace('processes [ floodgate-edge ];', 'processes [ floodgate-edge reference ];');
  // The reference: command lines written straight into ExaBGP by cat, no adapter, no helper.
  writeFileSync(confPath, `${conf}\nprocess reference {\n    run /bin/cat ${fifo};\n    encoder text;\n}\n`);
  const adapter = createExabgpAdapter(config, { name: 'edge', logger: nullLogger, now: Date.now });
  await adapter.start();
  const exabgp = exabgpDaemon(ns, dir, confPath);
  exabgp.start();
  await receiver.waitEstablished('exabgp');
  await waitFor('the ExaBGP helper', async () => (await adapter.health()).ok, { timeoutMs: 20_000 });
  const control = await connectBirdControl(receiver.socket);
  // Opening blocks until cat has the FIFO open for reading, which it does as ExaBGP starts it.
  const referenceFd = openSync(fifo, 'w');
  const write = (lines: string[]) => writeSync(referenceFd, lines.map((l) => `${l}\n`).join(''));
  return {
    adapter,
    receiver: control,
    reference: {
      announce: async (intents) => void write(intents.map((i) => renderAnnounce(i))),
      withdraw: async (intents) => void write(intents.map((i) => renderWithdraw(i))),
    },
    close: async () => {
      closeSync(referenceFd);
      control.close();
      await adapter.stop();
      await exabgp.stop();
    },
  };
}

async function birdLab(ns: Netns, dir: string): Promise<Lab> {
  for (const a of [
    `${BIRD_LAB.sender4}/8`,
    `${BIRD_LAB.receiver4}/8`,
    `${BIRD_LAB.sender6}/128`,
    `${BIRD_LAB.receiver6}/128`,
  ]) {
    await ns.addAddress(a);
  }
  const receiver = await startBird(ns, dir, 'receiver', birdReceiverConf());
  const includeFile = join(dir, 'floodgate-lab.conf');
  const config = birdConfigSchema.parse({
    socket: join(dir, 'sender.ctl'),
    configFile: join(dir, 'sender.conf'),
    includeFile,
    protocolPrefix: BIRD_LAB.protocolPrefix,
    timeouts: { commandMs: 60_000 },
  });
  const adapter = createBirdAdapter(config, { name: 'lab', logger: nullLogger, now: Date.now });
  // The reference: the whole file written at once and one `birdc configure`, no check, no receipts.
  const birdc = createBirdcRunner(config.birdc, config.socket, 60_000);
  const layout = {
    adapterName: 'lab',
    protocolPrefix: BIRD_LAB.protocolPrefix,
    tables: config.tables,
    capabilities: new Set(config.capabilities),
  };
  const reload = async (intents: MitigationIntent[]) => {
    const receipts = intents.map((i) => {
      const route = renderFlowRoute(i as FlowSpecIntent);
      const details = { protocol: `${BIRD_LAB.protocolPrefix}_flow4`, ...route, includeFile };
      return {
        adapter: 'lab',
        intentId: i.id,
        kind: i.kind,
        command: route.statement,
        appliedAtMs: 0,
        details,
      };
    });
    writeFileSync(includeFile, renderIncludeFile(layout, receipts));
    const r = await birdc(['configure']);
    if (r.code !== 0) throw new Error(`birdc configure: ${r.stdout}${r.stderr}`);
  };
  await adapter.start();
  await startBird(ns, dir, 'sender', birdSenderConf(includeFile));
  await receiver.waitEstablished('sender4');
  const control = await connectBirdControl(receiver.socket);
  return {
    adapter,
    receiver: control,
    reference: { announce: (intents) => reload(intents), withdraw: () => reload([]) },
    close: async () => {
      control.close();
      await adapter.stop();
    },
  };
}

interface Stats {
  median: number;
  p90: number;
  max: number;
}

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p90: at(0.9), max: sorted.at(-1)! };
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const line = (label: string, s: Stats) =>
  `  ${label.padEnd(44)} median ${ms(s.median)}, p90 ${ms(s.p90)}, max ${ms(s.max)}`;

async function latency(lab: Lab, samples: number): Promise<void> {
  const acked: number[] = [];
  const present: number[] = [];
  const gone: number[] = [];
  for (let i = 0; i < samples; i++) {
    const intent = rule(i);
    const t0 = performance.now();
    const receipt = await lab.adapter.apply(intent);
    acked.push(performance.now() - t0);
    await untilCount(lab.receiver, 1);
    present.push(performance.now() - t0);
    const t1 = performance.now();
    await lab.adapter.withdraw(receipt);
    await untilCount(lab.receiver, 0);
    gone.push(performance.now() - t1);
  }
  const refPresent: number[] = [];
  const refGone: number[] = [];
  for (let i = 0; i < samples; i++) {
    const intent = rule(i);
    const t0 = performance.now();
    await lab.reference.announce([intent]);
    await untilCount(lab.receiver, 1);
    refPresent.push(performance.now() - t0);
    const t1 = performance.now();
    await lab.reference.withdraw([intent]);
    await untilCount(lab.receiver, 0);
    refGone.push(performance.now() - t1);
  }
  process.stdout.write(`latency, ${samples} rules one at a time:\n`);
  process.stdout.write(`${line('apply() answered', stats(acked))}\n`);
  process.stdout.write(`${line('apply() -> rule in the receiver', stats(present))}\n`);
  process.stdout.write(`${line('withdraw() -> rule gone from the receiver', stats(gone))}\n`);
  process.stdout.write(`${line('reference: announced -> in the receiver', stats(refPresent))}\n`);
  process.stdout.write(`${line('reference: withdrawn -> gone', stats(refGone))}\n`);
}

async function bulkReference(lab: Lab, rules: number): Promise<void> {
  const intents = Array.from({ length: rules }, (_, i) => rule(i));
  const t0 = performance.now();
  await lab.reference.announce(intents);
  await untilCount(lab.receiver, rules);
  const tAll = performance.now();
  await lab.reference.withdraw(intents);
  await untilCount(lab.receiver, 0);
  const tNone = performance.now();
  process.stdout.write(`${rules} rules, reference (no adapter, all at once):\n`);
  process.stdout.write(`  announce: receiver held all after ${ms(tAll - t0)}\n`);
  process.stdout.write(`  withdraw: receiver held none after ${ms(tNone - tAll)}\n`);
}

async function bulk(lab: Lab, rules: number, pipelined: boolean): Promise<void> {
  const intents = Array.from({ length: rules }, (_, i) => rule(i));
  const t0 = performance.now();
  let receipts: AdapterReceipt[] = [];
  if (pipelined) receipts = await Promise.all(intents.map((i) => lab.adapter.apply(i)));
  else for (const i of intents) receipts.push(await lab.adapter.apply(i));
  const tAcked = performance.now();
  await untilCount(lab.receiver, rules);
  const tAll = performance.now();
  if (pipelined) await Promise.all(receipts.map((r) => lab.adapter.withdraw(r)));
  else for (const r of receipts) await lab.adapter.withdraw(r);
  const tWithdrawn = performance.now();
  await untilCount(lab.receiver, 0);
  const tNone = performance.now();
  const how = pipelined ? 'all calls at once' : 'one call after another';
  process.stdout.write(`${rules} rules, ${how}:\n`);
  process.stdout.write(
    `  announce: adapter answered all in ${ms(tAcked - t0)}, receiver held all after ${ms(tAll - t0)}\n`,
  );
  process.stdout.write(
    `  withdraw: adapter answered all in ${ms(tWithdrawn - tAll)}, receiver held none after ${ms(tNone - tAll)}\n`,
  );
}

async function benchSpeaker(speaker: Speaker, samples: number, rules: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `fg-bench-${speaker}-`));
  const ns = await createNetns(`bench${speaker}`);
  try {
    const lab = speaker === 'exabgp' ? await exabgpLab(ns, dir) : await birdLab(ns, dir);
    process.stdout.write(
      `\n== ${speaker === 'exabgp' ? 'ExaBGP 4.2 -> BIRD 2' : 'BIRD 2 (include file) -> BIRD 2'}\n`,
    );
    await latency(lab, samples);
    await bulk(lab, rules, false);
    // The BIRD adapter serialises every change (one reload each); only ExaBGP pipelines.
    if (speaker === 'exabgp') await bulk(lab, rules, true);
    await bulkReference(lab, rules);
    await lab.close();
  } finally {
    await ns.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      samples: { type: 'string', default: '50' },
      rules: { type: 'string', default: '1000' },
      speaker: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const samples = parseQuantity(values.samples, '--samples');
  const rules = parseQuantity(values.rules, '--rules');
  if (rules > 65_536 * 2) throw new UsageError('--rules: at most 131072 (the rules use 198.18.0.0/15)');
  const speakers: Speaker[] =
    values.speaker === undefined
      ? ['exabgp', 'bird']
      : values.speaker === 'exabgp' || values.speaker === 'bird'
        ? [values.speaker]
        : [];
  if (speakers.length === 0) throw new UsageError(`--speaker: "${values.speaker}" is not exabgp or bird`);
  requireRoot();
  for (const d of ['bird', 'birdc', ...(speakers.includes('exabgp') ? ['exabgp' as const] : [])] as const)
    requireDaemon(d);
  process.stdout.write(`${machineLine(describeMachine())}\n`);
  for (const speaker of speakers) await benchSpeaker(speaker, samples, rules);
  return 0;
}
