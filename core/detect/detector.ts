/**
 * Detection: flow batches in (`ingest`, as they arrive), incident events out (`step`, once a
 * second with the wall clock). Pure: no timers, time is the argument of `step`.
 *
 * At each step, for every tracked host, its rates (pps, bps, flows/s over the last
 * `windowSeconds`, see SecondRings.windowRates) are compared with its profile's rules (whole
 * traffic and per traffic class, resolved by thresholds.ts) and, once the baselines have
 * learned, with its dynamic thresholds (baseline.ts). The largest rate / threshold ratio decides:
 * - over 1: the host is over. So is a host whose window average is not over yet but whose
 *   latest complete seconds each were, for at least `openAfterSeconds` (one second at least):
 *   an attack shows second by second before it fills the window. An incident opens once the
 *   host has been over for `openAfterSeconds`, counted in traffic time: when the host first goes
 *   over, the consecutive seconds of its ring that were each already over count as held (so an
 *   exporter that reports the past in a burst, or a reported second of attack, opens at once);
 *   after that, wall time counts.
 * - at least `focus.ratio`: the host is watched closely (focus.ts) so the incident can name top
 *   sources, ports and TCP flags.
 * Then every monitored network with `totals` thresholds (or a network baseline) is checked the
 * same way on its total traffic; a network over while none of its hosts is over at that step is
 * carpet bombing: an incident whose target is the prefix itself.
 *
 * Open incidents are updated every step (tracker.ts) and close after `holdDownSeconds` below
 * every threshold; crossing again before that continues the same incident.
 */
import { FloodgateError } from '../errors.js';
import { ADDRESS_WORDS, type FlowBatch } from '../flow/flow-batch.js';
import type { Evidence, Incident, IncidentEvent } from '../incident/incident.js';
import { type Assessment, IncidentTracker, type Observation } from '../incident/tracker.js';
import { formatAddressWords, formatPrefix, isIPv4Mapped } from '../net/address.js';
import type { TrafficBreakdown } from '../traffic/breakdown.js';
import { TrafficCounter } from '../traffic/counter.js';
import type { FocusReport } from '../traffic/focus.js';
import { emptyRateSample, type RateSample } from '../traffic/second-ring.js';
import {
  type BaselineRestoreReport,
  type BaselineSnapshot,
  type BaselineStats,
  Baselines,
} from './baseline.js';
import { decodeBaseline, encodeBaseline } from './baseline-codec.js';
import { classify, round3, targetsOf } from './classifier.js';
import { type DetectionConfig, detectionConfigSchema } from './config.js';
import { type CrossedRule, RuleCheck } from './rule-check.js';
import { METRICS, RULE_CLASS, RULE_COUNT, RULE_NAMES, ruleMetric } from './rules.js';
import { planDetection } from './thresholds.js';

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
  /** Records whose source is in a monitored network. */
  recordsOutbound: number;
  /** Records with no packets or no usable arrival time. */
  unusableRecords: number;
  /** Records whose duration was negative or implausibly long and was clamped. */
  clampedDurationRecords: number;
  openIncidents: number;
  /** Focus slots in use, their number, and requests refused because all were taken. */
  focusInUse: number;
  focusCapacity: number;
  focusRefused: number;
  baseline: BaselineStats;
  /** Bytes of counting state, fixed at start-up by `hostCapacity`, the networks and the focus pool. */
  memoryBytes: number;
}

export interface DirectionTotals {
  pps: number;
  bps: number;
  /** Flow records per second. */
  fps: number;
  /** Flow records counted since start. */
  records: number;
}

export interface NetworkTotals {
  /** The prefix as configured. */
  network: string;
  name: string | undefined;
  /** All traffic to the network over the rate window, tracked hosts or not. */
  pps: number;
  bps: number;
  fps: number;
  /** Flow records counted for the network since start (inbound). */
  records: number;
  /** Traffic from the network's hosts (records whose source is in it). */
  outbound: DirectionTotals;
}

export interface Detector {
  ingest(batch: FlowBatch): void;
  /** Evaluates every tracked host and watched network at `nowMs`; returns what opened, changed or closed. */
  step(nowMs: number): IncidentEvent[];
  openIncidents(): Incident[];
  networkTotals(nowMs: number): NetworkTotals[];
  stats(): DetectorStats;
  /** The baselines as plain data (JSON-able) and as the compact file (baseline-codec.ts). */
  baselineSnapshot(): BaselineSnapshot;
  exportBaselines(): Uint8Array;
  /** Merges a saved baseline file; throws WireError on a malformed one. */
  importBaselines(bytes: Uint8Array, nowMs: number): BaselineRestoreReport;
}

export interface DetectorOptions {
  /** Seed for the host tables' hashes; the appliance passes a random one. */
  hashSeed?: number;
}

/** Tracker key of a network: negative, so it never meets a host id. */
const networkKey = (n: number) => -(n + 1);

export function createDetector(config: DetectionConfig, options: DetectorOptions = {}): Detector {
  const checked = detectionConfigSchema.safeParse(config);
  if (!checked.success) {
    throw new FloodgateError('FG_ERR_CONFIG_INVALID', 'detection configuration is invalid', {
      issues: checked.error.issues.map((i) => `detection.${i.path.join('.')}: ${i.message}`),
    });
  }
  const cfg = checked.data;
  const plan = planDetection(cfg);
  const { networks, profiles } = plan;
  const profileCount = plan.leaves.length;
  const focusRatio = cfg.focus.ratio;
  const baselineOn = cfg.baseline.enabled;
  const hostFloors = Float64Array.of(
    cfg.baseline.floor.pps ?? 0,
    cfg.baseline.floor.bps ?? 0,
    cfg.baseline.floor.flows ?? 0,
  );
  const networkFloors = Float64Array.of(
    cfg.baseline.networkFloor.pps ?? 0,
    cfg.baseline.networkFloor.bps ?? 0,
    cfg.baseline.networkFloor.flows ?? 0,
  );

  // Per profile and metric: the smallest class threshold (a class rate never exceeds the whole
  // rate, so below it no class rule needs the shares).
  const minClassOf = (values: Float64Array, base: number, out: Float64Array, at: number) => {
    for (let m = 0; m < METRICS; m++) out[at + m] = Number.POSITIVE_INFINITY;
    for (let r = METRICS; r < RULE_COUNT; r++) {
      const t = values[base + r]!;
      const m = ruleMetric(r);
      if (t > 0 && t < out[at + m]!) out[at + m] = t;
    }
  };
  const minClass = new Float64Array(profileCount * METRICS);
  for (let p = 0; p < profileCount; p++) minClassOf(profiles, p * RULE_COUNT, minClass, p * METRICS);
  const networkTotals = new Float64Array(networks.length * RULE_COUNT);
  networks.forEach((n, i) => {
    networkTotals.set(n.totals, i * RULE_COUNT);
  });
  const networkMinClass = new Float64Array(networks.length * METRICS);
  for (let n = 0; n < networks.length; n++)
    minClassOf(networkTotals, n * RULE_COUNT, networkMinClass, n * METRICS);
  const networkWatched = networks.map((n) => n.watchTotals || (baselineOn && n.prefix.length > 0));
  // Per profile (network) and metric: the smallest threshold of any rule, for the cheap test of
  // whether the second being reported could already be over something.
  const minRuleOf = (values: Float64Array, count: number) => {
    const out = new Float64Array(count * METRICS).fill(Number.POSITIVE_INFINITY);
    for (let p = 0; p < count; p++) {
      for (let r = 0; r < RULE_COUNT; r++) {
        const t = values[p * RULE_COUNT + r]!;
        const at = p * METRICS + ruleMetric(r);
        if (t > 0 && t < out[at]!) out[at] = t;
      }
    }
    return out;
  };
  const minRule = minRuleOf(profiles, profileCount);
  const networkMinRule = minRuleOf(networkTotals, networks.length);

  // Focus triggers: `focus.ratio` of one second of the smallest threshold, in packets and bytes;
  // the dynamic floors count only once the baselines have learned (until then nothing fires on them).
  const smallest = (values: Float64Array, base: number, metric: number, floor: number) => {
    let min = floor > 0 ? floor : Number.POSITIVE_INFINITY;
    for (let r = metric; r < RULE_COUNT; r += METRICS) {
      const t = values[base + r]!;
      if (t > 0 && t < min) min = t;
    }
    return Number.isFinite(min) ? min : 0;
  };
  const hostTriggers = { packets: new Float64Array(profileCount), bytes: new Float64Array(profileCount) };
  const networkTriggers = {
    packets: new Float64Array(networks.length),
    bytes: new Float64Array(networks.length),
  };
  let triggersWithFloors: boolean | undefined;
  function setFocusTriggers(withFloors: boolean): void {
    if (triggersWithFloors === withFloors) return;
    triggersWithFloors = withFloors;
    for (let p = 0; p < profileCount; p++) {
      hostTriggers.packets[p] =
        focusRatio * smallest(profiles, p * RULE_COUNT, 0, withFloors ? hostFloors[0]! : 0);
      hostTriggers.bytes[p] =
        (focusRatio * smallest(profiles, p * RULE_COUNT, 1, withFloors ? hostFloors[1]! : 0)) / 8;
    }
    for (let i = 0; i < networks.length; i++) {
      if (!networkWatched[i]) continue;
      const floors = withFloors && networks[i]!.prefix.length > 0;
      networkTriggers.packets[i] =
        focusRatio * smallest(networkTotals, i * RULE_COUNT, 0, floors ? networkFloors[0]! : 0);
      networkTriggers.bytes[i] =
        (focusRatio * smallest(networkTotals, i * RULE_COUNT, 1, floors ? networkFloors[1]! : 0)) / 8;
    }
  }
  setFocusTriggers(false);

  const counter = new TrafficCounter({
    networks: networks.map((n) => n.prefix),
    leaves: plan.leaves,
    windowSeconds: cfg.windowSeconds,
    hostCapacity: cfg.hostCapacity,
    focusCapacity: cfg.focus.capacity,
    hostFocusTriggers: hostTriggers,
    networkFocusTriggers: networkTriggers,
    networkBreakdownWanted: Uint8Array.from(networkWatched, (w) => (w ? 1 : 0)),
    ...(options.hashSeed === undefined ? {} : { hashSeed: options.hashSeed }),
  });
  const baselines = new Baselines(cfg.baseline, networks, options.hashSeed);
  const hosts = counter.hosts;
  const tracker = new IncidentTracker<number>({
    holdDownMs: cfg.holdDownSeconds * 1000,
    severityLevels: cfg.severityLevels,
  });
  const idleMs = cfg.hostIdleSeconds * 1000;
  const openAfterMs = cfg.openAfterSeconds * 1000;
  const sample: RateSample = emptyRateSample();
  const check = new RuleCheck();
  const dynamic = new Float64Array(METRICS);
  /** Per host: when its current over-streak began (traffic time credited), NaN when not over. */
  const hostOverSince = new Float64Array(cfg.hostCapacity).fill(Number.NaN);
  const networkOverSince = new Float64Array(networks.length).fill(Number.NaN);
  const hostOverInNetwork = new Uint8Array(networks.length);

  const versionOfHost = (host: number) => (isIPv4Mapped(hosts.keys, host * ADDRESS_WORDS) ? 4 : 6);

  function evidenceOf(b: TrafficBreakdown): Evidence {
    const records = Math.round(b.flows);
    const sampledPackets = Math.round(b.sampledPackets);
    const samplingRate = b.sampledPackets > 0 ? Math.max(1, Math.round(b.packets / b.sampledPackets)) : 1;
    const sufficient = records >= cfg.evidence.minRecords && sampledPackets >= cfg.evidence.minSampledPackets;
    const evidence: Evidence = { records, sampledPackets, samplingRate, sufficient };
    if (!sufficient) {
      evidence.note =
        `only ${records} flow records and ${sampledPackets} sampled packets (1:${samplingRate} sampling) behind ` +
        `this incident; its rates are extrapolated from them (minimum ${cfg.evidence.minRecords} records, ` +
        `${cfg.evidence.minSampledPackets} sampled packets)`;
    }
    return evidence;
  }

  /** Mean packet size over the rate window, else (only the second being reported is in) the breakdown's. */
  function meanPacketBytes(b: TrafficBreakdown): number {
    if (sample.packets > 0) return sample.bytes / sample.packets;
    return b.packets > 0 ? b.bytes / b.packets : 0;
  }

  function hostAssessment(host: number, nowMs: number): { assessment: Assessment; evidence: Evidence } {
    const breakdown = counter.hostBreakdown(host, nowMs);
    const slot = counter.hostFocusSlot(host);
    const focus: FocusReport | undefined = slot >= 0 ? counter.focusReport(slot, nowMs) : undefined;
    const c = classify(breakdown, versionOfHost(host), meanPacketBytes(breakdown), focus);
    return {
      assessment: {
        family: c.family,
        confidence: c.confidence,
        fingerprint: c.fingerprint,
        vectors: c.vectors,
      },
      evidence: evidenceOf(breakdown),
    };
  }

  function networkAssessment(n: number, nowMs: number): { assessment: Assessment; evidence: Evidence } {
    const breakdown = counter.networkBreakdown(n, nowMs);
    const slot = counter.networkFocusSlot(n);
    const focus = slot >= 0 ? counter.focusReport(slot, nowMs) : undefined;
    const c = classify(breakdown, networks[n]!.prefix.version, meanPacketBytes(breakdown), focus);
    const targets = targetsOf(focus);
    const top = targets.topTargets?.[0];
    // How spread the attack is: 1 - the most hit host's share (0.5 when nobody watched the targets).
    const confidence =
      top && focus && focus.packets > 0 ? round3(1 - Math.min(1, top.packets / focus.packets)) : 0.5;
    return {
      assessment: {
        family: 'carpet_bombing',
        confidence,
        fingerprint: { ...c.fingerprint, ...targets },
        vectors: c.vectors.length > 0 ? c.vectors : [{ family: c.family, share: c.confidence }],
      },
      evidence: evidenceOf(breakdown),
    };
  }

  const HOST = 0;
  const NETWORK = 1;
  const windowSeconds = cfg.windowSeconds;
  /** Complete seconds a rule must have held, second by second, to count as over before the window shows it. */
  const secondsToOpen = Math.max(1, Math.ceil(cfg.openAfterSeconds));

  function heldOf(kind: number, id: number, nowMs: number, rule: CrossedRule): number {
    return kind === HOST
      ? counter.hostHeldSeconds(id, nowMs, rule.metric, rule.threshold, rule.share)
      : counter.networkHeldSeconds(id, nowMs, rule.metric, rule.threshold, rule.share);
  }

  /**
   * Whether the second being reported could already be over some rule on its own: its packets,
   * bits or flows so far pass the smallest threshold of any rule (or the dynamic floor). Cheap:
   * a few reads, no shares. (With steps a second apart, everything in the current second arrived
   * since the last step.)
   */
  function secondMayBeOver(
    kind: number,
    id: number,
    nowMs: number,
    minima: Float64Array,
    at: number,
    dynamicActive: boolean,
  ): boolean {
    const floors = kind === HOST ? hostFloors : networkFloors;
    for (let m = 0; m < METRICS; m++) {
      let min = minima[at + m]!;
      if (dynamicActive && floors[m]! > 0 && floors[m]! < min) min = floors[m]!;
      if (!Number.isFinite(min)) continue;
      // What arrived since the last step bounds the second being reported: test it first.
      const arrived = kind === HOST ? counter.hostSinceStep(id, m) : counter.networkSinceStep(id, m);
      if (!(arrived > min)) continue;
      const value =
        kind === HOST ? counter.hostCurrentSecond(id, nowMs, m) : counter.networkCurrentSecond(id, nowMs, m);
      if (value > min) return true;
    }
    return false;
  }

  /** Set by `secondBySecond`: the longest run of over seconds among the rules, and its largest ratio. */
  let runHeld = 0;
  let runRatio = 0;

  /**
   * The rules whose latest complete seconds were each over their threshold, for a target whose
   * window average is not (yet) over: an attack shows second by second before it fills the
   * window. The target's shares must be in `check` and `dynamic` filled when `withDynamic`.
   */
  function secondBySecond(
    kind: number,
    id: number,
    nowMs: number,
    values: Float64Array,
    base: number,
    withDynamic: boolean,
    prefix: string,
  ): CrossedRule[] {
    const out: CrossedRule[] = [];
    runHeld = 0;
    runRatio = 0;
    const consider = (rule: CrossedRule) => {
      const held = heldOf(kind, id, nowMs, rule);
      if (held === 0) return;
      rule.value = counter.heldPeak;
      out.push(rule);
      runHeld = Math.max(runHeld, held);
      runRatio = Math.max(runRatio, counter.heldPeak / rule.threshold);
    };
    for (let r = 0; r < RULE_COUNT; r++) {
      const threshold = values[base + r]!;
      if (!(threshold > 0)) continue;
      const metric = ruleMetric(r);
      const cls = RULE_CLASS[r]!;
      const share = cls < 0 ? 1 : check.shares[cls * METRICS + metric]!;
      if (share > 0) consider({ name: prefix + RULE_NAMES[r]!, threshold, value: 0, metric, share });
    }
    if (withDynamic) {
      for (let m = 0; m < METRICS; m++) {
        const threshold = dynamic[m]!;
        if (threshold > 0)
          consider({ name: `dynamic.${RULE_NAMES[m]!}`, threshold, value: 0, metric: m, share: 1 });
      }
    }
    return out;
  }

  function stepHost(host: number, nowMs: number, dynamicActive: boolean, events: IncidentEvent[]): void {
    counter.hostRates(host, nowMs, sample);
    check.setRates(sample.pps, sample.bps, sample.fps);
    const profile = counter.profileOf(host);
    const base = profile * RULE_COUNT;
    const m3 = profile * METRICS;
    let withClasses =
      sample.pps >= minClass[m3]! * focusRatio ||
      sample.bps >= minClass[m3 + 1]! * focusRatio ||
      sample.fps >= minClass[m3 + 2]! * focusRatio;
    if (withClasses) counter.hostShares(host, nowMs, check.shares);
    let ratio = check.maxRatio(profiles, base, withClasses);
    let dynamicChecked = false;
    if (
      dynamicActive &&
      ((hostFloors[0]! > 0 && sample.pps >= hostFloors[0]! / windowSeconds) ||
        (hostFloors[1]! > 0 && sample.bps >= hostFloors[1]! / windowSeconds) ||
        (hostFloors[2]! > 0 && sample.fps >= hostFloors[2]! / windowSeconds))
    ) {
      baselines.hostThresholds(hosts.keys, host, dynamic);
      dynamicChecked = true;
      const d = check.maxMetricRatio(dynamic);
      if (d > ratio) ratio = d;
    }
    // Pinned exactly while an incident is open (pinning keeps the host from eviction).
    const hasIncident = hosts.isPinned(host);
    let over = ratio > 1;
    let crossed: CrossedRule[] | undefined;
    if (
      !over &&
      (ratio * windowSeconds > 1 || secondMayBeOver(HOST, host, nowMs, minRule, m3, dynamicActive))
    ) {
      if (!withClasses) {
        counter.hostShares(host, nowMs, check.shares);
        withClasses = true;
      }
      const bySecond = secondBySecond(HOST, host, nowMs, profiles, base, dynamicChecked, '');
      if (runHeld >= (hasIncident ? 1 : secondsToOpen)) {
        over = true;
        ratio = Math.max(ratio, runRatio);
        crossed = bySecond;
      }
    }
    const network = counter.networkOf(host);
    if (over) hostOverInNetwork[network] = 1;

    if (over || hasIncident || ratio >= focusRatio) counter.acquireHostFocus(host, nowMs);
    else if (ratio < focusRatio / 2 && counter.hostFocusSlot(host) >= 0) counter.releaseHostFocus(host);

    if (!over && !hasIncident) {
      hostOverSince[host] = Number.NaN;
      baselines.observeHost(hosts.keys, host, sample.pps, sample.bps, sample.fps);
      return;
    }
    const current = { pps: Math.round(sample.pps), bps: Math.round(sample.bps) };
    const currentFlows = Math.round(sample.fps);
    if (hasIncident) {
      const observation: Observation = { current, currentFlows, over, ratio };
      if (over) Object.assign(observation, hostAssessment(host, nowMs));
      const event = tracker.observe(host, observation, nowMs);
      if (!event) return;
      events.push(event);
      if (event.type === 'closed') {
        hosts.setPinned(host, false);
        hostOverSince[host] = Number.NaN;
      }
      return;
    }
    if (!crossed) {
      crossed = check.crossed(profiles, base, withClasses, '');
      if (dynamicChecked) crossed.push(...check.crossedMetrics(dynamic, 'dynamic.'));
    }
    if (Number.isNaN(hostOverSince[host]!)) {
      let held = 0;
      for (const rule of crossed) held = Math.max(held, heldOf(HOST, host, nowMs, rule));
      hostOverSince[host] = nowMs - held * 1000;
    }
    if (nowMs - hostOverSince[host]! < openAfterMs) return;
    const { assessment, evidence } = hostAssessment(host, nowMs);
    events.push(
      tracker.openIncident(
        host,
        {
          target: formatAddressWords(hosts.keys, host * ADDRESS_WORDS),
          targetKind: 'host',
          ipVersion: versionOfHost(host),
          network: networks[network]!.text,
          thresholds: { pps: profiles[base]!, bps: profiles[base + 1]! },
          flowsThreshold: profiles[base + 2]!,
          triggers: crossed.map((r) => r.name),
          triggerThresholds: thresholdsOf(crossed),
          assessment,
          evidence,
        },
        { current, currentFlows, over, ratio },
        nowMs,
      ),
    );
    hosts.setPinned(host, true);
  }

  function thresholdsOf(crossed: readonly CrossedRule[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const rule of crossed) out[rule.name] = round3(rule.threshold);
    return out;
  }

  function stepNetwork(n: number, nowMs: number, dynamicActive: boolean, events: IncidentEvent[]): void {
    if (!networkWatched[n]) return;
    counter.networkRates(n, nowMs, sample);
    check.setRates(sample.pps, sample.bps, sample.fps);
    const base = n * RULE_COUNT;
    const m3 = n * METRICS;
    let withClasses =
      sample.pps >= networkMinClass[m3]! * focusRatio ||
      sample.bps >= networkMinClass[m3 + 1]! * focusRatio ||
      sample.fps >= networkMinClass[m3 + 2]! * focusRatio;
    if (withClasses) counter.networkShares(n, nowMs, check.shares);
    let ratio = check.maxRatio(networkTotals, base, withClasses);
    let dynamicChecked = false;
    if (dynamicActive && networks[n]!.prefix.length > 0) {
      baselines.networkThresholds(n, dynamic);
      dynamicChecked = true;
      const d = check.maxMetricRatio(dynamic);
      if (d > ratio) ratio = d;
    }
    const key = networkKey(n);
    const hasIncident = tracker.has(key);
    let over = ratio > 1;
    let crossed: CrossedRule[] | undefined;
    if (
      !over &&
      (ratio * windowSeconds > 1 || secondMayBeOver(NETWORK, n, nowMs, networkMinRule, m3, dynamicActive))
    ) {
      if (!withClasses) {
        counter.networkShares(n, nowMs, check.shares);
        withClasses = true;
      }
      const bySecond = secondBySecond(NETWORK, n, nowMs, networkTotals, base, dynamicChecked, 'totals.');
      if (runHeld >= (hasIncident ? 1 : secondsToOpen)) {
        over = true;
        ratio = Math.max(ratio, runRatio);
        crossed = bySecond;
      }
    }
    if (over || hasIncident || ratio >= focusRatio) counter.acquireNetworkFocus(n, nowMs);
    else if (ratio < focusRatio / 2 && counter.networkFocusSlot(n) >= 0) counter.releaseNetworkFocus(n);
    if (!over && !hasIncident) {
      networkOverSince[n] = Number.NaN;
      baselines.observeNetwork(n, sample.pps, sample.bps, sample.fps);
      return;
    }
    const current = { pps: Math.round(sample.pps), bps: Math.round(sample.bps) };
    const currentFlows = Math.round(sample.fps);
    if (hasIncident) {
      const observation: Observation = { current, currentFlows, over, ratio };
      if (over) Object.assign(observation, networkAssessment(n, nowMs));
      const event = tracker.observe(key, observation, nowMs);
      if (event) events.push(event);
      if (event?.type === 'closed') networkOverSince[n] = Number.NaN;
      return;
    }
    // Carpet bombing is the prefix over while no single host is: otherwise the host incidents say it.
    if (hostOverInNetwork[n] === 1) {
      networkOverSince[n] = Number.NaN;
      return;
    }
    if (!crossed) {
      crossed = check.crossed(networkTotals, base, withClasses, 'totals.');
      if (dynamicChecked) crossed.push(...check.crossedMetrics(dynamic, 'dynamic.'));
    }
    if (Number.isNaN(networkOverSince[n]!)) {
      let held = 0;
      for (const rule of crossed) held = Math.max(held, heldOf(NETWORK, n, nowMs, rule));
      networkOverSince[n] = nowMs - held * 1000;
    }
    if (nowMs - networkOverSince[n]! < openAfterMs) return;
    const { assessment, evidence } = networkAssessment(n, nowMs);
    const resolved = networks[n]!;
    events.push(
      tracker.openIncident(
        key,
        {
          target: formatPrefix(resolved.prefix),
          targetKind: 'prefix',
          ipVersion: resolved.prefix.version,
          network: resolved.text,
          thresholds: { pps: networkTotals[base]!, bps: networkTotals[base + 1]! },
          flowsThreshold: networkTotals[base + 2]!,
          triggers: crossed.map((r) => r.name),
          triggerThresholds: thresholdsOf(crossed),
          assessment,
          evidence,
        },
        { current, currentFlows, over, ratio },
        nowMs,
      ),
    );
  }

  function step(nowMs: number): IncidentEvent[] {
    const events: IncidentEvent[] = [];
    baselines.beginStep(nowMs);
    const dynamicActive = baselines.enabled && !baselines.learning;
    setFocusTriggers(dynamicActive);
    hostOverInNetwork.fill(0);
    for (let host = 0; host < hosts.highWater; host++) {
      if (hosts.used[host] !== 1) continue;
      stepHost(host, nowMs, dynamicActive, events);
    }
    for (let n = 0; n < networks.length; n++) stepNetwork(n, nowMs, dynamicActive, events);
    counter.evictIdle(nowMs, idleMs);
    counter.beginStep();
    return events;
  }

  function totals(nowMs: number): NetworkTotals[] {
    return networks.map((n, i) => {
      counter.networkOutboundRates(i, nowMs, sample);
      const outbound: DirectionTotals = {
        pps: Math.round(sample.pps),
        bps: Math.round(sample.bps),
        fps: Math.round(sample.fps),
        records: counter.networkOutboundRecords(i),
      };
      counter.networkRates(i, nowMs, sample);
      return {
        network: n.text,
        name: n.name,
        pps: Math.round(sample.pps),
        bps: Math.round(sample.bps),
        fps: Math.round(sample.fps),
        records: counter.networkRecords(i),
        outbound,
      };
    });
  }

  function stats(): DetectorStats {
    const s = counter.stats();
    const b = baselines.stats();
    return {
      trackedHosts: s.trackedHosts,
      hostCapacity: s.hostCapacity,
      overflowRecords: s.overflowRecords,
      evictedHosts: s.evictedHosts,
      recordsIngested: s.recordsIngested,
      recordsOutsideNetworks: s.recordsOutsideNetworks,
      recordsOutbound: s.recordsOutbound,
      unusableRecords: s.unusableRecords,
      clampedDurationRecords: s.clampedDurationRecords,
      openIncidents: tracker.size,
      focusInUse: s.focusInUse,
      focusCapacity: s.focusCapacity,
      focusRefused: s.focusRefused,
      baseline: b,
      memoryBytes: s.memoryBytes + b.memoryBytes + hostOverSince.byteLength,
    };
  }

  return {
    ingest: (batch) => counter.ingest(batch),
    step,
    openIncidents: () => tracker.incidents(),
    networkTotals: totals,
    stats,
    baselineSnapshot: () => baselines.snapshot(),
    exportBaselines: () => encodeBaseline(baselines.snapshot()),
    importBaselines: (bytes, nowMs) => baselines.restore(decodeBaseline(bytes), nowMs),
  };
}
