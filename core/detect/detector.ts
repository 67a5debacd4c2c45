/**
 * Static-threshold detection: flow batches in (`ingest`, as they arrive), incident events out
 * (`step`, once a second with the wall clock). Pure: no timers, time is the argument of `step`.
 *
 * A host's rate is its per-second ring over the last `windowSeconds` complete seconds, with the
 * not-yet-reported end of the window (at most one second) left out of the divisor; see
 * SecondRings.windowRates and docs/detection.md. A host over any enabled threshold of its network
 * opens an incident; each step updates it (current and peak rates, severity, and while over:
 * family, confidence, fingerprint, lastOverAtMs); it closes after `holdDownSeconds` continuously
 * below every threshold. Crossing again after the close opens a new incident.
 */
import { FloodgateError } from '../errors.js';
import { ADDRESS_WORDS, type FlowBatch } from '../flow/flow-batch.js';
import type { Incident, IncidentEvent, Rates } from '../incident/incident.js';
import { IncidentTracker, type OpeningFacts } from '../incident/tracker.js';
import { formatAddressWords, isIPv4Mapped } from '../net/address.js';
import { TrafficCounter } from '../traffic/counter.js';
import { emptyRateSample } from '../traffic/second-ring.js';
import { classify, severityOf } from './classifier.js';
import { type DetectionConfig, detectionConfigSchema } from './config.js';
import { resolveNetworks } from './thresholds.js';

export interface DetectorStats {
  /** Hosts being counted now, and the most that can be. */
  trackedHosts: number;
  hostCapacity: number;
  /** Records not counted for their host because the host table was full (still in network totals). */
  overflowRecords: number;
  /** Hosts forgotten after `hostIdleSeconds` without flows. */
  evictedHosts: number;
  recordsIngested: number;
  /** Records whose destination is in no monitored network. */
  recordsOutsideNetworks: number;
  /** Records with no packets or no usable arrival time. */
  unusableRecords: number;
  /** Records whose duration was negative or implausibly long and was clamped. */
  clampedDurationRecords: number;
  openIncidents: number;
  /** Bytes of counting state, fixed at start-up by `hostCapacity` and the networks. */
  memoryBytes: number;
}

export interface NetworkTotals {
  /** The prefix as configured. */
  network: string;
  name: string | undefined;
  /** All traffic to the network over the rate window, tracked hosts or not. */
  pps: number;
  bps: number;
  /** Flow records counted for the network since start. */
  records: number;
}

export interface Detector {
  ingest(batch: FlowBatch): void;
  /** Evaluates every tracked host at `nowMs` and returns what opened, changed or closed. */
  step(nowMs: number): IncidentEvent[];
  openIncidents(): Incident[];
  networkTotals(nowMs: number): NetworkTotals[];
  stats(): DetectorStats;
}

export interface DetectorOptions {
  /** Seed for the host table's hash; the appliance passes a random one. */
  hashSeed?: number;
}

export function createDetector(config: DetectionConfig, options: DetectorOptions = {}): Detector {
  const checked = detectionConfigSchema.safeParse(config);
  if (!checked.success) {
    throw new FloodgateError('FG_ERR_CONFIG_INVALID', 'detection configuration is invalid', {
      issues: checked.error.issues.map((i) => `detection.${i.path.join('.')}: ${i.message}`),
    });
  }
  const cfg = checked.data;
  const networks = resolveNetworks(cfg);
  const counter = new TrafficCounter({
    networks: networks.map((n) => n.prefix),
    windowSeconds: cfg.windowSeconds,
    hostCapacity: cfg.hostCapacity,
    ...(options.hashSeed === undefined ? {} : { hashSeed: options.hashSeed }),
  });
  const hosts = counter.hosts;
  const tracker = new IncidentTracker<number>({
    holdDownMs: cfg.holdDownSeconds * 1000,
    severity: severityOf,
  });
  const idleMs = cfg.hostIdleSeconds * 1000;
  const sample = emptyRateSample();

  function assess(host: number, nowMs: number) {
    const meanPacketBytes = sample.packets > 0 ? sample.bytes / sample.packets : 0;
    const version = isIPv4Mapped(hosts.keys, host * ADDRESS_WORDS) ? 4 : 6;
    return classify(counter.hostBreakdown(host, nowMs), version, meanPacketBytes);
  }

  function step(nowMs: number): IncidentEvent[] {
    const events: IncidentEvent[] = [];
    for (let host = 0; host < hosts.highWater; host++) {
      if (hosts.used[host] !== 1) continue;
      counter.hostRates(host, nowMs, sample);
      const network = networks[counter.networkOf(host)]!;
      const { thresholds } = network;
      const overPps = thresholds.pps > 0 && sample.pps > thresholds.pps;
      const overBps = thresholds.bps > 0 && sample.bps > thresholds.bps;
      const over = overPps || overBps;
      // Pinned exactly while an incident is open (pinning keeps the host from eviction).
      const hasIncident = hosts.isPinned(host);
      if (!over && !hasIncident) continue;
      const current: Rates = { pps: Math.round(sample.pps), bps: Math.round(sample.bps) };
      if (!hasIncident) {
        const version = isIPv4Mapped(hosts.keys, host * ADDRESS_WORDS) ? 4 : 6;
        const triggers: string[] = [];
        if (overPps) triggers.push('pps');
        if (overBps) triggers.push('bps');
        const facts: OpeningFacts = {
          target: formatAddressWords(hosts.keys, host * ADDRESS_WORDS),
          ipVersion: version,
          network: network.text,
          thresholds,
          triggers,
          assessment: assess(host, nowMs),
        };
        events.push(tracker.openIncident(host, facts, current, nowMs));
        hosts.setPinned(host, true);
        continue;
      }
      const event = tracker.observe(
        host,
        over ? { current, over, assessment: assess(host, nowMs) } : { current, over },
        nowMs,
      );
      if (!event) continue;
      events.push(event);
      if (event.type === 'closed') hosts.setPinned(host, false);
    }
    counter.evictIdle(nowMs, idleMs);
    return events;
  }

  function networkTotals(nowMs: number): NetworkTotals[] {
    return networks.map((n, i) => {
      counter.networkRates(i, nowMs, sample);
      return {
        network: n.text,
        name: n.name,
        pps: Math.round(sample.pps),
        bps: Math.round(sample.bps),
        records: counter.networkRecords(i),
      };
    });
  }

  function stats(): DetectorStats {
    const s = counter.stats();
    return {
      trackedHosts: s.trackedHosts,
      hostCapacity: s.hostCapacity,
      overflowRecords: s.overflowRecords,
      evictedHosts: s.evictedHosts,
      recordsIngested: s.recordsIngested,
      recordsOutsideNetworks: s.recordsOutsideNetworks,
      unusableRecords: s.unusableRecords,
      clampedDurationRecords: s.clampedDurationRecords,
      openIncidents: tracker.size,
      memoryBytes: s.memoryBytes,
    };
  }

  return {
    ingest: (batch) => counter.ingest(batch),
    step,
    openIncidents: () => tracker.incidents(),
    networkTotals,
    stats,
  };
}
