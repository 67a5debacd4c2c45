/**
 * `npm run bench -- ingest`: the highest flow record rate Floodgate's UDP collector ingests
 * without loss, next to pmacct's collector for the protocol (nfacctd for NetFlow and IPFIX,
 * sfacctd for sFlow) measured the same way in the same run.
 *
 * softflowd turns a generated flood capture into real NetFlow v9, IPFIX and v5 datagrams
 * (about 30 records each), pmacctd's sfprobe into sFlow v5 datagrams (about 7.5 flow samples
 * each); a C sender in its own process replays them over loopback at stepped rates; each
 * collector runs in its own process. A step is lossless when the collector stored
 * every record sent and the kernel dropped nothing (UDP RcvbufErrors/InErrors, socket drops).
 * The whole run happens in a network namespace of its own, so the kernel counters are the
 * benchmark's alone. Method and figures: docs/BENCHMARKS.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freeUdpPort } from '../test/helpers/ports.js';
import { type DecodeOnly, measureDecodeOnly } from './ingest/decode-only.js';
import { startFloodgate } from './ingest/floodgate.js';
import { startNfacctd } from './ingest/nfacctd.js';
import type { Receiver } from './ingest/receiver.js';
import {
  buildReplay,
  type Replay,
  type ReplayVersion,
  SFLOW_V5_REPLAY,
  versionName,
  writeReplay,
} from './ingest/replay-file.js';
import { buildSender, type SequenceState, sendStep } from './ingest/sender.js';
import { startSfacctd } from './ingest/sfacctd.js';
import {
  type CollectorSummary,
  judge,
  keepStepping,
  lossFraction,
  type StepResult,
  summarize,
} from './ingest/steps.js';
import {
  formatQuantity,
  parseChoiceList,
  parseCount,
  parseNonNegative,
  parsePositive,
  parseQuantity,
  parseQuantityList,
  UsageError,
} from './lib/args.js';
import { floodCapture, sfprobeDatagrams, softflowdDatagrams } from './lib/captures.js';
import { busyCores, readCpuTimes, waitForQuiet } from './lib/cpu-load.js';
import { mibDelta, readSocketQueue, readUdpMib } from './lib/kernel-udp.js';
import { describeMachine, type Machine, machineLine } from './lib/machine.js';
import { bringUpLoopback, insideBenchNamespace, rerunInNewNamespace } from './lib/netns.js';
import { cpuSeconds, ticksPerSecond } from './lib/processes.js';

const PROTOCOLS = { v9: 9, ipfix: 10, v5: 5, sflow: SFLOW_V5_REPLAY } as const satisfies Record<
  string,
  ReplayVersion
>;
type ProtocolName = keyof typeof PROTOCOLS;
/** `pmacct` is the reference: nfacctd for NetFlow and IPFIX, sfacctd for sFlow. */
const COLLECTORS = ['floodgate', 'pmacct'] as const;
type CollectorName = (typeof COLLECTORS)[number];
/** Names --collectors also takes for the reference. */
const PMACCT_ALIASES = new Set(['nfacctd', 'sfacctd']);

/** How often a lossy step taken while other processes were busy is run again, at most. */
const MAX_NOISY_RERUNS = 3;

/** Finer steps where the collectors' limits lie, so the ratio is not decided by the step size. */
const DEFAULT_RATES = '250k,500k,1M,1.25M,1.5M,1.75M,2M,2.25M,2.5M,2.75M,3M,3.5M,4M';
/**
 * sFlow carries about 7.5 samples per datagram against about 30 records: the collectors' limits
 * (set per datagram) lie about four times lower in records, where this ladder is finer.
 */
const DEFAULT_SFLOW_RATES = '250k,500k,750k,900k,1M,1.1M,1.2M,1.3M,1.4M,1.5M,1.75M,2M';

const USAGE = `usage: npm run bench -- ingest [options]

  --protocols LIST     v9, ipfix, v5, sflow (default v9,ipfix,v5,sflow)
  --rates LIST         records/s per step (default ${DEFAULT_RATES};
                       for sFlow, where a record is a flow sample, ${DEFAULT_SFLOW_RATES})
  --seconds N          length of each step (default 10)
  --collectors LIST    floodgate, pmacct (default both); pmacct is nfacctd for NetFlow and
                       IPFIX, sfacctd for sFlow (either name is taken for it)
  --flows N            distinct flows in the replayed capture (default 60k)
  --receive-buffer N   SO_RCVBUF asked for by both collectors (default 32M; the kernel caps it
                       at net.core.rmem_max)
  --retries N          run a lossy step again up to N times before it counts as lossy
                       (default 1): on a shared machine a neighbour's burst of work can cost
                       a step; a real limit loses again
  --noise-limit N      a lossy step during which processes other than the collector and the
                       sender used more than N cores is run again, up to ${MAX_NOISY_RERUNS} times, without
                       using up --retries (default 0.5)
  --stop-after N       stop a collector's steps after N lossy steps in a row (default 2)
  --pause N            seconds between steps (default 1)
  --warmup N           seconds each collector receives at the lowest rate before the
                       steps, not judged (default 5): JIT, first page faults, caches
  --quiet-below N      before each step, wait (up to 60 s) for a second in which the whole
                       machine used less than N cores (default 0.3): someone else's work is
                       noise
  --json FILE          also write every step and the summary as JSON
  --keep               keep the work directory (captures, replays, pmacct output)
  --decode-only        only the decoders: build the replays and print what decoding costs per
                       record, best of 9 rounds of 0.33 s on one core (no collectors, no
                       sockets, no namespace); for work on the decoders
  --no-netns           run in the current network namespace (kernel counters are then shared
                       with everything else on the machine)
`;

interface Options {
  protocols: ProtocolName[];
  /** Undefined: each protocol's default ladder. */
  rates: number[] | undefined;
  seconds: number;
  collectors: CollectorName[];
  flows: number;
  receiveBuffer: number;
  stopAfter: number;
  retries: number;
  pauseSeconds: number;
  warmupSeconds: number;
  quietBelow: number;
  noiseLimit: number;
  json: string | undefined;
  keep: boolean;
  netns: boolean;
  decodeOnly: boolean;
}

function parseOptions(args: string[]): Options | undefined {
  const { values } = parseArgs({
    args,
    options: {
      protocols: { type: 'string', default: 'v9,ipfix,v5,sflow' },
      rates: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      collectors: { type: 'string', default: COLLECTORS.join(',') },
      flows: { type: 'string', default: '60k' },
      'receive-buffer': { type: 'string', default: '33554432' },
      'stop-after': { type: 'string', default: '2' },
      retries: { type: 'string', default: '1' },
      pause: { type: 'string', default: '1' },
      warmup: { type: 'string', default: '5' },
      'quiet-below': { type: 'string', default: '0.3' },
      'noise-limit': { type: 'string', default: '0.5' },
      json: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'no-netns': { type: 'boolean', default: false },
      'decode-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  return {
    protocols: parseChoiceList(values.protocols, Object.keys(PROTOCOLS) as ProtocolName[], '--protocols'),
    rates: values.rates === undefined ? undefined : parseQuantityList(values.rates, '--rates'),
    seconds: parsePositive(values.seconds, '--seconds'),
    collectors: parseChoiceList(
      values.collectors
        .split(',')
        .map((c) => (PMACCT_ALIASES.has(c.trim()) ? 'pmacct' : c))
        .join(','),
      COLLECTORS,
      '--collectors',
    ),
    flows: parseQuantity(values.flows, '--flows'),
    receiveBuffer: parseQuantity(values['receive-buffer'], '--receive-buffer'),
    stopAfter: parseQuantity(values['stop-after'], '--stop-after'),
    retries: parseCount(values.retries, '--retries'),
    pauseSeconds: parseNonNegative(values.pause, '--pause'),
    warmupSeconds: parseNonNegative(values.warmup, '--warmup'),
    quietBelow: parsePositive(values['quiet-below'], '--quiet-below'),
    noiseLimit: parsePositive(values['noise-limit'], '--noise-limit'),
    json: values.json,
    keep: values.keep,
    netns: !values['no-netns'],
    decodeOnly: values['decode-only'],
  };
}

function ratesFor(protocol: ProtocolName, options: Options): number[] {
  if (options.rates) return options.rates;
  return parseQuantityList(protocol === 'sflow' ? DEFAULT_SFLOW_RATES : DEFAULT_RATES, '--rates');
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function startReceiver(
  name: CollectorName,
  protocol: ProtocolName,
  dir: string,
  port: number,
  receiveBuffer: number,
): Promise<Receiver> {
  if (name === 'floodgate') return startFloodgate(port, receiveBuffer);
  return protocol === 'sflow'
    ? startSfacctd(dir, port, receiveBuffer)
    : startNfacctd(dir, port, receiveBuffer);
}

interface Lane {
  receiver: Receiver;
  sequence: SequenceState;
  /** Records the receiver had stored when the current step began. */
  storedBefore: number;
}

interface StepPlan {
  protocol: ProtocolName;
  replay: Replay;
  replayPath: string;
  senderBinary: string;
  targetRecordsPerSecond: number;
  seconds: number;
  quietBelow: number;
}

async function runStep(lane: Lane, plan: StepPlan): Promise<StepResult> {
  const { receiver } = lane;
  const datagramsPerSecond = plan.targetRecordsPerSecond / plan.replay.recordsPerDatagram;
  const ticks = ticksPerSecond();
  const quiet = await waitForQuiet(plan.quietBelow, 60_000, ticks);
  const mibBefore = readUdpMib();
  const dropsBefore = readSocketQueue(receiver.port)?.drops ?? 0;
  const processes = receiver.processes();
  const cpuBefore = processes.map((p) => cpuSeconds(p.pid));
  const machineBefore = readCpuTimes();
  const sent = await sendStep({
    binary: plan.senderBinary,
    replayPath: plan.replayPath,
    host: '127.0.0.1',
    port: receiver.port,
    datagramsPerSecond,
    seconds: plan.seconds,
    sequence: lane.sequence,
  });
  const cpuAfter = processes.map((p) => cpuSeconds(p.pid));
  const machineCores = busyCores(machineBefore, readCpuTimes(), sent.seconds, ticks);
  lane.sequence = sent.sequence;
  const settled = await receiver.settle(30_000);
  const mib = mibDelta(mibBefore, readUdpMib());
  const dropsAfter = readSocketQueue(receiver.port)?.drops ?? dropsBefore;
  const storedRecords = settled.records - lane.storedBefore;
  lane.storedBefore = settled.records;
  const cpuPercent: Record<string, number> = {};
  let receiverCores = 0;
  processes.forEach((p, i) => {
    const used = (cpuAfter[i]! - cpuBefore[i]!) / sent.seconds;
    receiverCores += used;
    cpuPercent[p.role] = (cpuPercent[p.role] ?? 0) + Math.round(used * 1000) / 10;
  });
  const others = machineCores - receiverCores - sent.cpuSeconds / sent.seconds;
  return judge({
    protocol: plan.protocol,
    collector: receiver.name,
    targetRecordsPerSecond: plan.targetRecordsPerSecond,
    sentRecordsPerSecond: Math.round(sent.records / sent.seconds),
    sentDatagramsPerSecond: Math.round(sent.datagrams / sent.seconds),
    sentRecords: sent.records,
    sentDatagrams: sent.datagrams,
    sendSeconds: sent.seconds,
    senderErrors: sent.errors,
    senderBehindMaxMs: sent.behindMaxMs,
    senderResyncs: sent.resyncs,
    senderCpuPercent: Math.round((sent.cpuSeconds / sent.seconds) * 1000) / 10,
    storedRecords,
    rcvbufErrors: mib.rcvbufErrors,
    inErrors: mib.inErrors,
    socketDrops: dropsAfter - dropsBefore,
    cpuPercent,
    othersCores: Math.max(0, Math.round(others * 100) / 100),
    quietBefore: quiet.quiet,
    settled: settled.settled,
  });
}

function stepLine(s: StepResult): string {
  const loss = lossFraction(s);
  const cpu = Object.entries(s.cpuPercent)
    .map(([role, pct]) => `${role} ${pct.toFixed(0)}%`)
    .join(', ');
  const counted =
    s.storedRecords > s.sentRecords
      ? `STORED ${s.storedRecords - s.sentRecords} MORE THAN SENT`
      : `LOST ${(loss * 100).toFixed(2)}%`;
  const verdict = s.lossless
    ? 'lossless'
    : `${counted}${s.settled ? '' : ' (not settled)'}${s.senderErrors > 0 ? ` sender errors ${s.senderErrors}` : ''}`;
  return (
    `  ${s.collector.padEnd(9)} ${formatQuantity(s.targetRecordsPerSecond).padStart(5)}/s  ` +
    `sent ${formatQuantity(s.sentRecordsPerSecond)} rec/s (${formatQuantity(s.sentDatagramsPerSecond)} dgram/s)  ` +
    `stored ${s.storedRecords}/${s.sentRecords}  RcvbufErrors ${s.rcvbufErrors} InErrors ${s.inErrors} ` +
    `socket drops ${s.socketDrops}  cpu ${cpu} (sender ${s.senderCpuPercent.toFixed(0)}%` +
    `${s.senderResyncs > 0 ? `, fell behind ${s.senderResyncs}x` : ''}; others ${s.othersCores.toFixed(2)} cores` +
    `${s.quietBefore ? '' : ', busy at start'})  ${verdict}`
  );
}

interface ProtocolResult {
  protocol: ProtocolName;
  name: string;
  datagramsInReplay: number;
  recordsPerDatagram: number;
  /** The ladder of target rates, records/s. */
  rates: number[];
  /** The decoder table alone, no socket, in the benchmark's own process. */
  decodeOnly: DecodeOnly;
  receivers: { name: string; label: string; receiveBufferBytes: number }[];
  steps: StepResult[];
  retried: StepResult[];
  summaries: CollectorSummary[];
  /** Floodgate's highest lossless rate over pmacct's; undefined unless both were measured. */
  ratio: number | undefined;
}

async function runProtocol(
  protocol: ProtocolName,
  options: Options,
  dir: string,
  senderBinary: string,
  datagrams: Buffer[],
): Promise<ProtocolResult> {
  const version = PROTOCOLS[protocol];
  const replay = buildReplay(version, datagrams);
  const replayPath = join(dir, `replay-${protocol}.bin`);
  writeReplay(replayPath, replay);
  say(
    `\n${versionName(version)}: ${replay.datagrams.length} datagrams, ${replay.totalRecords} records ` +
      `(${replay.recordsPerDatagram.toFixed(1)} per datagram) replayed in a loop`,
  );
  const decodeOnly = measureDecodeOnly(replay, 3);
  say(
    `  decoder table alone (no socket, one core): ${formatQuantity(decodeOnly.recordsPerSecond)} records/s, ` +
      `${decodeOnly.microsPerDatagram.toFixed(2)} µs per datagram`,
  );

  const rates = ratesFor(protocol, options);
  say(`  steps ${rates.map(formatQuantity).join(', ')} records/s`);
  const lanes: Lane[] = [];
  const steps: StepResult[] = [];
  /** Lossy attempts that were run again (retries, busy machine); the last run is the step's. */
  const retried: StepResult[] = [];
  try {
    for (const name of options.collectors) {
      const receiver = await startReceiver(name, protocol, dir, await freeUdpPort(), options.receiveBuffer);
      lanes.push({ receiver, sequence: { datagrams: 0, records: 0 }, storedBefore: 0 });
      say(
        `  ${receiver.label} on 127.0.0.1:${receiver.port}, SO_RCVBUF ${receiver.receiveBufferBytes} bytes`,
      );
    }
    if (options.warmupSeconds > 0) {
      for (const lane of lanes) {
        const warm = await runStep(lane, {
          protocol,
          replay,
          replayPath,
          senderBinary,
          targetRecordsPerSecond: rates[0]!,
          seconds: options.warmupSeconds,
          quietBelow: options.quietBelow,
        });
        say(`${stepLine(warm)}  (warm-up, not judged)`);
      }
    }
    for (const [i, rate] of rates.entries()) {
      // Alternate who goes first, so slow drifts in the machine's load hit both alike.
      const order = i % 2 === 0 ? lanes : [...lanes].reverse();
      let ran = false;
      for (const lane of order) {
        if (!keepStepping(lane.receiver.name, steps, options.stopAfter)) continue;
        ran = true;
        let retries = options.retries;
        let noisyReruns = MAX_NOISY_RERUNS;
        for (;;) {
          const step = await runStep(lane, {
            protocol,
            replay,
            replayPath,
            senderBinary,
            targetRecordsPerSecond: rate,
            seconds: options.seconds,
            quietBelow: options.quietBelow,
          });
          await new Promise((r) => setTimeout(r, options.pauseSeconds * 1000));
          // Noise only ever costs records: a lossless step stands however busy the machine was.
          const noisy = !step.lossless && step.othersCores > options.noiseLimit && noisyReruns > 0;
          if (!step.lossless && (noisy || retries > 0)) {
            if (noisy) noisyReruns -= 1;
            else retries -= 1;
            retried.push(step);
            say(`${stepLine(step)}  (${noisy ? 'machine busy: running it again' : 'retrying'})`);
            continue;
          }
          steps.push(step);
          say(stepLine(step));
          break;
        }
      }
      if (!ran) break;
    }
  } finally {
    for (const lane of lanes) await lane.receiver.stop();
  }
  const summaries = lanes.map((l) => summarize(l.receiver.name, steps));
  const fg = summaries.find((s) => s.collector === 'floodgate');
  const nf = summaries.find((s) => s.collector !== 'floodgate');
  return {
    protocol,
    name: versionName(version),
    datagramsInReplay: replay.datagrams.length,
    recordsPerDatagram: replay.recordsPerDatagram,
    rates,
    decodeOnly,
    receivers: lanes.map((l) => ({
      name: l.receiver.name,
      label: l.receiver.label,
      receiveBufferBytes: l.receiver.receiveBufferBytes,
    })),
    steps,
    retried,
    summaries,
    ratio: fg && nf && nf.highestLossless > 0 ? fg.highestLossless / nf.highestLossless : undefined,
  };
}

function summaryLines(results: readonly ProtocolResult[]): string[] {
  const lines = ['', 'Highest lossless rate (records/s actually sent; CPU at that step, % of one core):'];
  for (const r of results) {
    const parts = r.summaries.map((s) => {
      const cpu = s.highestLosslessStep
        ? Object.entries(s.highestLosslessStep.cpuPercent)
            .map(([role, pct]) => `${role} ${pct.toFixed(0)}%`)
            .join(' + ')
        : '-';
      const above = s.limitAboveSteps ? ' (no loss at the highest step: limit is higher)' : '';
      const upTo =
        s.losslessUpTo < s.highestLossless
          ? `, every step lossless up to ${formatQuantity(s.losslessUpTo)}`
          : '';
      return `${s.collector} ${formatQuantity(s.highestLossless)}${above} [${cpu}${upTo}]`;
    });
    const fg = r.summaries.find((x) => x.collector === 'floodgate');
    const nf = r.summaries.find((x) => x.collector !== 'floodgate');
    // A collector still lossless at the top step only gives a bound on its limit.
    const bound =
      fg?.limitAboveSteps && nf?.limitAboveSteps
        ? ' (both lossless at the top step: raise --rates)'
        : fg?.limitAboveSteps
          ? ' at least'
          : nf?.limitAboveSteps
            ? ' at most'
            : '';
    const ratio =
      r.ratio === undefined || !nf ? '' : `  ratio Floodgate/${nf.collector}${bound} ${r.ratio.toFixed(2)}`;
    lines.push(`  ${r.name.padEnd(10)} ${parts.join('   ')}${ratio}`);
  }
  return lines;
}

async function runInNamespace(options: Options): Promise<number> {
  if (options.netns) await bringUpLoopback();
  const machine: Machine = describeMachine();
  say(`ingest benchmark  ${machineLine(machine)}`);
  say(
    `steps of ${options.seconds} s; ` +
      `collectors ${options.collectors.join(', ')}; ` +
      (options.netns
        ? 'own network namespace'
        : 'shared network namespace (kernel counters may include others)'),
  );
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-ingest-'));
  try {
    const senderBinary = await buildSender(dir);
    const capture = await floodCapture(dir, options.flows);
    say(`capture: ${capture.flows} flows (${capture.pcapPath})`);
    const results: ProtocolResult[] = [];
    for (const protocol of options.protocols) {
      const version = PROTOCOLS[protocol];
      const datagrams =
        version === SFLOW_V5_REPLAY
          ? await sfprobeDatagrams(capture)
          : await softflowdDatagrams(capture, version);
      results.push(await runProtocol(protocol, options, dir, senderBinary, datagrams));
    }
    for (const line of summaryLines(results)) say(line);
    if (options.json) {
      writeFileSync(options.json, `${JSON.stringify({ machine, options, results }, null, 2)}\n`);
      say(`\nwrote ${options.json}`);
    }
    return 0;
  } finally {
    if (options.keep) say(`work directory kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** Rounds of the decoder-alone loop for --decode-only; the best one counts (noise only adds). */
const DECODE_ROUNDS = 9;
const DECODE_ROUND_SECONDS = 0.33;

async function runDecodeOnly(options: Options): Promise<number> {
  say(`decoding cost per record  ${machineLine(describeMachine())}`);
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-decode-'));
  try {
    const capture = await floodCapture(dir, options.flows);
    for (const protocol of options.protocols) {
      const version = PROTOCOLS[protocol];
      const datagrams =
        version === SFLOW_V5_REPLAY
          ? await sfprobeDatagrams(capture)
          : await softflowdDatagrams(capture, version);
      const replay = buildReplay(version, datagrams);
      let best = 0;
      for (let i = 0; i < DECODE_ROUNDS; i++) {
        best = Math.max(best, measureDecodeOnly(replay, DECODE_ROUND_SECONDS).recordsPerSecond);
      }
      say(
        `  ${versionName(version).padEnd(10)} ${(1e9 / best).toFixed(1).padStart(6)} ns per record ` +
          `(${formatQuantity(best)} records/s, ${replay.recordsPerDatagram.toFixed(1)} per datagram)`,
      );
    }
    return 0;
  } finally {
    if (options.keep) say(`work directory kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(args);
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError(`${(e as Error).message}\n\n${USAGE}`);
  }
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (options.decodeOnly) return runDecodeOnly(options);
  if (options.netns && !insideBenchNamespace()) {
    if (process.getuid?.() !== 0) {
      throw new UsageError(
        'the ingest benchmark runs in its own network namespace, which needs root; or pass --no-netns',
      );
    }
    return rerunInNewNamespace();
  }
  return runInNamespace(options);
}
