/**
 * `npm run bench -- detect-scale`: the detector with 1,000,000 active destination hosts: the
 * process's resident memory, and how long one evaluation step takes.
 *
 * Every second of a synthetic clock, each host receives one flow record covering that second
 * (ordinary TCP, under every threshold), ingested in batches of 65,536 rows through
 * `detector.ingest`, then `detector.step` runs once and is timed. The first seconds are warm-up
 * (JIT, first touch of the tables' pages); the next `--seconds` are measured. RSS is read after
 * the last step (process.memoryUsage), next to the process's RSS before the detector existed
 * and the detector's own account of its typed arrays (stats().memoryBytes).
 *
 * Reference, measured in the same process right after: a plain sweep over typed arrays laid out
 * like the detector's per-second rings for the same number of hosts (16 seconds of packets,
 * bytes and flows each), reading each host's last 3 seconds and comparing the sum with a
 * threshold: the least any per-host evaluation must do. The ratio step / sweep says what the
 * detector's step costs beyond touching each host's counters once.
 * Method and figures: docs/BENCHMARKS.md, "Detection".
 */
import { parseArgs } from 'node:util';
import { detectionConfigSchema } from '../core/detect/config.js';
import { createDetector } from '../core/detect/detector.js';
import { FlowBatch, setIPv4 } from '../core/flow/flow-batch.js';
import { formatMs, median, percentile } from './detect/percentiles.js';
import { formatQuantity, parseCount, parseQuantity } from './lib/args.js';
import { describeMachine, machineLine } from './lib/machine.js';

const USAGE = `usage: npm run bench -- detect-scale [options]

  --hosts N      active destination hosts (default 1M)
  --seconds N    measured steps, one per second of synthetic traffic (default 10)
  --warmup N     steps before those, not measured (default 3)
`;

const CHUNK = 65_536;
const RING_SECONDS = 16;
const WINDOW_SECONDS = 3;
const MIB = 2 ** 20;
const GIB = 2 ** 30;
/** A fixed instant, so every run walks the same seconds. */
const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

interface Options {
  hosts: number;
  seconds: number;
  warmup: number;
}

function parseOptions(args: string[]): Options | undefined {
  const { values } = parseArgs({
    args,
    options: {
      hosts: { type: 'string', default: '1M' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  return {
    hosts: parseQuantity(values.hosts, '--hosts'),
    seconds: parseQuantity(values.seconds, '--seconds'),
    warmup: parseCount(values.warmup, '--warmup'),
  };
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const mib = (bytes: number) => `${Math.round(bytes / MIB)} MiB`;

/** Writes rows for hosts [from, from + rows) into `batch`, each a record covering the second before `arrivalMs`. */
function fill(batch: FlowBatch, from: number, rows: number, arrivalMs: number): void {
  // The other columns were set once (constantColumns); append() would zero them.
  batch.length = rows;
  for (let row = 0; row < rows; row++) {
    const h = from + row;
    // Hosts 10.0.0.1 upwards; sources 100.64.0.0/10, a few per host.
    setIPv4(batch.dstAddr, row, ((10 << 24) + h + 1) >>> 0);
    setIPv4(batch.srcAddr, row, ((100 << 24) | (64 << 16) | ((h * 7) & 0xffff)) >>> 0);
  }
  batch.arrivalMs.fill(arrivalMs, 0, rows);
  batch.endMs.fill(arrivalMs, 0, rows);
  batch.startMs.fill(arrivalMs - 1000, 0, rows);
}

function constantColumns(batch: FlowBatch): void {
  batch.ipVersion.fill(4);
  batch.protocol.fill(6);
  batch.tcpFlags.fill(0x18);
  batch.srcPort.fill(443);
  batch.dstPort.fill(50_000);
  batch.packets.fill(50);
  batch.sampledPackets.fill(50);
  batch.samplingRate.fill(1);
  batch.bytes.fill(50 * 900);
}

/** The reference: one pass over ring-shaped typed arrays of `hosts` slots; returns its duration in ms. */
function sweep(
  packets: Float64Array,
  bytes: Float64Array,
  flows: Float32Array,
  hosts: number,
  second: number,
): number {
  const started = performance.now();
  let over = 0;
  for (let h = 0; h < hosts; h++) {
    const base = h * RING_SECONDS;
    let p = 0;
    let b = 0;
    let f = 0;
    for (let s = second - WINDOW_SECONDS; s < second; s++) {
      const i = base + (s & (RING_SECONDS - 1));
      p += packets[i]!;
      b += bytes[i]!;
      f += flows[i]!;
    }
    if (p / WINDOW_SECONDS > 20_000 || (b * 8) / WINDOW_SECONDS > 1e9 || f > 1e6) over += 1;
  }
  const elapsed = performance.now() - started;
  if (over < 0) say('unreachable'); // keeps the loop from being optimised away
  return elapsed;
}

export async function run(args: string[]): Promise<number> {
  const options = parseOptions(args);
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  say(machineLine(describeMachine()));
  const { hosts } = options;
  const batch = new FlowBatch(CHUNK);
  constantColumns(batch);
  const rssBefore = process.memoryUsage().rss;
  const detector = createDetector(
    detectionConfigSchema.parse({ networks: [{ prefix: '10.0.0.0/8' }], hostCapacity: hosts }),
    { hashSeed: 0x5eed },
  );
  const rssEmpty = process.memoryUsage().rss;

  const stepMs: number[] = [];
  const ingestRates: number[] = [];
  let events = 0;
  const total = options.warmup + options.seconds;
  for (let second = 0; second < total; second++) {
    const arrivalMs = T0 + second * 1000 + 200;
    const ingestStarted = performance.now();
    for (let from = 0; from < hosts; from += CHUNK) {
      fill(batch, from, Math.min(CHUNK, hosts - from), arrivalMs);
      detector.ingest(batch);
    }
    const ingestMs = performance.now() - ingestStarted;
    const stepStarted = performance.now();
    events += detector.step(T0 + second * 1000 + 700).length;
    const elapsed = performance.now() - stepStarted;
    if (second >= options.warmup) {
      stepMs.push(elapsed);
      ingestRates.push(hosts / (ingestMs / 1000));
    }
  }
  const rssLoaded = process.memoryUsage().rss;
  const stats = detector.stats();

  // The reference, in the same process after the measurement (its arrays would add to the RSS).
  const packets = new Float64Array(hosts * RING_SECONDS).fill(50);
  const bytes = new Float64Array(hosts * RING_SECONDS).fill(45_000);
  const flows = new Float32Array(hosts * RING_SECONDS).fill(1);
  const sweepMs: number[] = [];
  for (let i = 0; i < options.warmup + options.seconds; i++) {
    const ms = sweep(packets, bytes, flows, hosts, 100 + i);
    if (i >= options.warmup) sweepMs.push(ms);
  }

  const stepMedian = median(stepMs);
  const sweepMedian = median(sweepMs);
  say(
    `${formatQuantity(hosts)} hosts tracked (${stats.trackedHosts}), ${stats.overflowRecords} overflow records, ${events} incident events`,
  );
  say(
    `RSS ${mib(rssLoaded)} (${(rssLoaded / GIB).toFixed(2)} GiB; goal under 1 GiB): ${mib(rssBefore)} before the detector, ` +
      `${mib(rssEmpty)} with it created and empty; the detector's typed arrays: ${mib(stats.memoryBytes)}`,
  );
  say(
    `step over ${options.seconds} seconds: median ${formatMs(stepMedian)}, p90 ${formatMs(percentile(stepMs, 90))}, ` +
      `max ${formatMs(percentile(stepMs, 100))} (goal under 100 ms)`,
  );
  say(
    `reference sweep (3 s of 3 ring columns per host): median ${formatMs(sweepMedian)}; step / sweep ${(stepMedian / sweepMedian).toFixed(1)}`,
  );
  say(
    `ingest: median ${formatQuantity(Math.round(median(ingestRates)))} records/s with one record per host per second`,
  );
  return 0;
}
