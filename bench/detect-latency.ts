/**
 * `npm run bench -- detect-latency`: how long from the first datagram carrying an attack to the
 * incident event, through the real UDP collector and detector in one process, with the exporter
 * reporting per second (sFlow, or IPFIX with a 1 s active timeout).
 *
 * Each trial waits a random time (so the attack starts at any phase of the exporter's and the
 * detector's clocks), then an in-process exporter starts reporting a UDP flood on a new host at
 * `--attack-pps` (5x the threshold by default) beside everyday traffic on 50 hosts, and quiet
 * traffic on `--background-hosts` more fed straight to the detector. The latency runs from just
 * before the exporter hands its first datagram carrying the attack to the socket, to the moment
 * `step` returns the incident's `opened` event (both on performance.now()).
 *
 * Two ways of driving the detector, both measured: `tick`, a step every second as
 * appliance/daemon.ts does now; `due`, the same plus a step as soon as a batch leaves
 * `detector.stepDue()` true (the records already show a target over long enough to open).
 * The reference is the exporter's own reporting interval (1 s): the ratio is p99 / 1 s.
 * Method and figures: docs/BENCHMARKS.md, "Detection".
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { type CollectorsConfig, collectorsConfigSchema } from '../collectors/config.js';
import { createUdpCollector } from '../collectors/udp-listener.js';
import { detectionConfigSchema } from '../core/detect/config.js';
import { createDetector, type Detector } from '../core/detect/detector.js';
import { nullLogger } from '../core/logger.js';
import { backgroundBatches, feedBackground } from './detect/background.js';
import { IpfixExporter } from './detect/ipfix-exporter.js';
import { formatMs, percentile } from './detect/percentiles.js';
import { SflowAgent } from './detect/sflow-agent.js';
import { benignTcp, type TrafficStream, udpFlood } from './detect/traffic.js';
import { formatQuantity, parseChoiceList, parseQuantity, UsageError } from './lib/args.js';
import { describeMachine, machineLine } from './lib/machine.js';

const EXPORTERS = ['sflow', 'ipfix'] as const;
type ExporterName = (typeof EXPORTERS)[number];
const MODES = ['tick', 'due'] as const;
type Mode = (typeof MODES)[number];

/** The exporter reports per second: the reference the latency is compared with. */
const REPORTING_INTERVAL_MS = 1000;
const STEP_MS = 1000;
const TRIAL_TIMEOUT_MS = 6000;
const BENIGN_HOSTS = 50;
const BENIGN_PPS = 2000;
/** Attacked hosts are 10.200.x.y, one per trial; everyday hosts 10.100.0.x, quiet ones 10.1.x.y. */
const ATTACKED = '10.200.';

const USAGE = `usage: npm run bench -- detect-latency [options]

  --exporters LIST        sflow, ipfix (default both)
  --modes LIST            tick (a step a second, as the daemon does), due (also a step as
                          soon as stepDue() says so) (default both)
  --trials N              attacks per exporter and mode (default 100)
  --attack-pps N          the attack's rate (default 100k: 5x the threshold)
  --threshold-pps N       detection.thresholds.pps (default 20k)
  --sources N             attack sources, one flow each for IPFIX (default 200)
  --sampling N            sFlow 1-in-N sampling (default 1000)
  --background-hosts N    quiet hosts fed to the detector besides (default 100k)
`;

interface Options {
  exporters: ExporterName[];
  modes: Mode[];
  trials: number;
  attackPps: number;
  thresholdPps: number;
  sources: number;
  sampling: number;
  backgroundHosts: number;
}

function parseOptions(args: string[]): Options | undefined {
  const { values } = parseArgs({
    args,
    options: {
      exporters: { type: 'string', default: EXPORTERS.join(',') },
      modes: { type: 'string', default: MODES.join(',') },
      trials: { type: 'string', default: '100' },
      'attack-pps': { type: 'string', default: '100k' },
      'threshold-pps': { type: 'string', default: '20k' },
      sources: { type: 'string', default: '200' },
      sampling: { type: 'string', default: '1000' },
      'background-hosts': { type: 'string', default: '100k' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const options: Options = {
    exporters: parseChoiceList(values.exporters, EXPORTERS, '--exporters'),
    modes: parseChoiceList(values.modes, MODES, '--modes'),
    trials: parseQuantity(values.trials, '--trials'),
    attackPps: parseQuantity(values['attack-pps'], '--attack-pps'),
    thresholdPps: parseQuantity(values['threshold-pps'], '--threshold-pps'),
    sources: parseQuantity(values.sources, '--sources'),
    sampling: parseQuantity(values.sampling, '--sampling'),
    backgroundHosts:
      values['background-hosts'].trim() === '0'
        ? 0
        : parseQuantity(values['background-hosts'], '--background-hosts'),
  };
  if (options.attackPps <= options.thresholdPps) {
    throw new UsageError('--attack-pps must be above --threshold-pps, or no trial ever opens');
  }
  return options;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Exporter {
  add(stream: TrafficStream): void;
  remove(id: string): void;
  tick(): void;
}

interface Result {
  exporter: ExporterName;
  mode: Mode;
  latencies: number[];
  missed: number;
  dueSteps: number;
  steps: number;
  /** Incidents opened on anything but an attacked host: everyday or quiet traffic. */
  falseOpens: number;
}

/** The collector config with one listener on an ephemeral port (port 0 is no operator setting). */
function collectorConfig(): CollectorsConfig {
  return { ...collectorsConfigSchema.parse({}), netflow: { listen: ['127.0.0.1:0'] }, sflow: { listen: [] } };
}

function detectorFor(options: Options): Detector {
  return createDetector(
    detectionConfigSchema.parse({
      networks: [{ prefix: '10.0.0.0/8' }],
      thresholds: { pps: options.thresholdPps, bps: 100_000_000_000 },
      holdDownSeconds: 5,
      hostCapacity: options.backgroundHosts + 65_536,
    }),
    { hashSeed: randomInt(2 ** 32) },
  );
}

async function runTrials(exporterName: ExporterName, mode: Mode, options: Options): Promise<Result> {
  const detector = detectorFor(options);
  const waiting = new Map<string, (atMs: number) => void>();
  let steps = 0;
  let falseOpens = 0;
  const stepNow = () => {
    steps += 1;
    const events = detector.step(Date.now());
    const at = performance.now();
    for (const e of events) {
      if (e.type !== 'opened') continue;
      if (!e.incident.target.startsWith(ATTACKED)) falseOpens += 1;
      waiting.get(e.incident.target)?.(at);
    }
  };
  let stepQueued = false;
  const collector = createUdpCollector(collectorConfig(), {
    logger: nullLogger,
    onBatch: (batch) => {
      detector.ingest(batch);
      if (mode === 'due' && !stepQueued && detector.stepDue()) {
        stepQueued = true;
        setImmediate(() => {
          stepQueued = false;
          stepNow();
        });
      }
    },
  });
  await collector.start();
  const { port } = collector.boundAddresses()[0]!;
  const socket = dgram.createSocket('udp4');
  const firstSent = new Map<string, number>();
  const onSend = (ids: ReadonlySet<string>, atMs: number) => {
    for (const id of ids) if (!firstSent.has(id)) firstSent.set(id, atMs);
  };
  const exporter: Exporter =
    exporterName === 'sflow'
      ? (() => {
          const agent = new SflowAgent({
            socket,
            host: '127.0.0.1',
            port,
            samplingRate: options.sampling,
            onSend,
          });
          return {
            add: (s: TrafficStream) => agent.add(s),
            remove: (id: string) => agent.remove(id),
            tick: () => agent.tick(performance.now()),
          };
        })()
      : new IpfixExporter({ socket, host: '127.0.0.1', port, onSend });
  for (let h = 0; h < BENIGN_HOSTS; h++)
    exporter.add(benignTcp(`benign-${h}`, `10.100.0.${h + 1}`, BENIGN_PPS));
  const exporterTimer = setInterval(() => exporter.tick(), 5);
  const stopBackground = feedBackground(
    detector,
    backgroundBatches(options.backgroundHosts, Math.max(1, Math.ceil(options.backgroundHosts / 10)), 100),
  );
  const stepTimer = setInterval(stepNow, STEP_MS);
  // Warm up: the JIT, the first pages of the tables, the exporter's template.
  await sleep(3000);

  const latencies: number[] = [];
  let missed = 0;
  const earlyBefore = detector.stats().dueSteps;
  const stepsBefore = steps;
  for (let t = 0; t < options.trials; t++) {
    await sleep(Math.random() * 1000);
    const target = `${ATTACKED}${(t >> 8) & 255}.${(t & 255) + 1}`;
    const stream = udpFlood(`attack-${t}`, target, options.attackPps, options.sources);
    const opened = new Promise<number | undefined>((resolve) => {
      waiting.set(target, resolve);
      setTimeout(() => resolve(undefined), TRIAL_TIMEOUT_MS);
    });
    exporter.add(stream);
    const openedAt = await opened;
    waiting.delete(target);
    exporter.remove(stream.id);
    const sentAt = firstSent.get(stream.id);
    if (openedAt === undefined || sentAt === undefined) missed += 1;
    else latencies.push(openedAt - sentAt);
    await sleep(200);
  }
  const dueSteps = detector.stats().dueSteps - earlyBefore;
  clearInterval(stepTimer);
  clearInterval(exporterTimer);
  stopBackground();
  socket.close();
  await collector.stop();
  return {
    exporter: exporterName,
    mode,
    latencies,
    missed,
    dueSteps,
    steps: steps - stepsBefore,
    falseOpens,
  };
}

function report(r: Result): string {
  const p50 = percentile(r.latencies, 50);
  const p99 = percentile(r.latencies, 99);
  const ratio = p99 / REPORTING_INTERVAL_MS;
  return [
    `${r.exporter.padEnd(5)} ${r.mode.padEnd(4)}`,
    `trials ${r.latencies.length + r.missed}`,
    `p50 ${formatMs(p50)}`,
    `p90 ${formatMs(percentile(r.latencies, 90))}`,
    `p99 ${formatMs(p99)}`,
    `max ${formatMs(percentile(r.latencies, 100))}`,
    `p99/interval ${Number.isFinite(ratio) ? ratio.toFixed(2) : 'n/a'}`,
    `missed ${r.missed}`,
    `false opens ${r.falseOpens}`,
    `steps ${r.steps} (${r.dueSteps} with stepDue() true)`,
  ].join('  ');
}

export async function run(args: string[]): Promise<number> {
  const options = parseOptions(args);
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  say(machineLine(describeMachine()));
  say(
    `attack ${formatQuantity(options.attackPps)} pps (threshold ${formatQuantity(options.thresholdPps)} pps) from ${options.sources} sources; ` +
      `${BENIGN_HOSTS} everyday hosts through the exporter, ${formatQuantity(options.backgroundHosts)} quiet hosts beside; ` +
      `sFlow 1:${options.sampling}, IPFIX active timeout 1 s; reference: the exporter's ${REPORTING_INTERVAL_MS} ms reporting interval`,
  );
  const results: Result[] = [];
  for (const exporter of options.exporters) {
    for (const mode of options.modes) {
      const result = await runTrials(exporter, mode, options);
      results.push(result);
      say(report(result));
    }
  }
  return results.every((r) => r.missed === 0 && r.falseOpens === 0) ? 0 : 1;
}
