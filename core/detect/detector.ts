/**
 * Detection: flow batches in (`ingest`, as they arrive), incident events out (`step`, once a
 * second with the wall clock, and earlier when `stepDue()` says so). Pure: no timers, time is
 * the argument of `step`.
 *
 * At each step, for every tracked host, its rates (pps, bps, flows/s over the last
 * `windowSeconds`, see SecondRings.windowRates) are compared with its profile's rules (whole
 * traffic and per traffic class, resolved by thresholds.ts) and, once the baselines have
 * learned, with its dynamic thresholds (baseline.ts, per rule that has a floor). The largest
 * rate / threshold ratio decides:
 * - over 1: the host is over. So is a host whose window average is not over yet but whose
 *   latest complete seconds each were, for at least `openAfterSeconds` (one second at least):
 *   an attack shows second by second before it fills the window. An incident opens once the
 *   host has been over for `openAfterSeconds`, counted in traffic time: when the host first goes
 *   over, the consecutive seconds of its ring that were each already over count as held (so an
 *   exporter that reports the past in a burst, or a reported second of attack, opens at once);
 *   after that, wall time counts.
 * - at least `focus.ratio`: the host is watched closely (focus.ts) so the incident can name top
 *   sources, ports and TCP flags.
 * Hosts of the monitored networks are judged a second time on what they send when outbound
 * rules are set (`thresholds.outbound`): the same rules on their outbound side (host-side.ts),
 * incidents with `direction: 'outbound'`.
 * Then every monitored network with `totals` thresholds (or a network baseline) is checked the
 * same way on its total traffic; a network over while none of its hosts is over at that step is
 * carpet bombing: an incident whose target is the prefix itself.
 *
 * Early steps. Between steps, a host or network whose traffic since the last step passes its
 * smallest threshold is checked second by second as soon as its records arrive (host-side.ts,
 * "step candidates"); when it is already over long enough to open an incident, `stepDue()`
 * turns true: the caller should step now instead of waiting for its next tick.
 *
 * Open incidents are updated every step (tracker.ts) and close after `holdDownSeconds` below
 * every threshold; crossing again before that continues the same incident.
 */
import { FloodgateError } from '../errors.js';
import { ADDRESS_WORDS, type FlowBatch } from '../flow/flow-batch.js';
import type { Evidence, Incident, IncidentEvent, TrafficDirection } from '../incident/incident.js';
import { type Assessment, IncidentTracker, type Observation } from '../incident/tracker.js';
import { formatAddressWords, formatPrefix, isIPv4Mapped } from '../net/address.js';
import type { TrafficBreakdown } from '../traffic/breakdown.js';
import { TrafficCounter } from '../traffic/counter.js';
import type { FocusReport } from '../traffic/focus.js';
import type { HostSide } from '../traffic/host-side.js';
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
  /** Source hosts counted for outbound rules (0 and capacity 0 when no outbound rule is set). */
  outboundHosts: number;
  outboundHostCapacity: number;
  outboundOverflowRecords: number;
  outboundEvictedHosts: number;
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
  /**
   * Steps taken while stepDue() was true: records had already shown a target over long enough
   * to open (early steps, when the caller steps on stepDue()).
   */
  dueSteps: number;
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
  /**
   * True when records ingested since the last step already put a target over a threshold for
   * long enough to open an incident: step now rather than at the next tick. Cheap; reset by `step`.
   */
  stepDue(): boolean;
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

/** What a step judges: a host as destination, a network's total, a host as source. */
const INBOUND = 0;
const NETWORK = 1;
const OUTBOUND = 2;

/** Tracker key of a network: negative, so it never meets a host id. */
const networkKey = (n: number) => -(n + 1);

/** One side of the per-host pass (inbound or outbound) and what its rules need, resolved once. */
interface HostPass {
  kind: typeof INBOUND | typeof OUTBOUND;
  direction: TrafficDirection;
  side: HostSide;
  /** RULE_COUNT thresholds per profile. */
  profiles: Float64Array;
  /** Per profile and metric: the smallest class threshold (static), and the one in force now. */
  minClass: Float64Array;
  minClassActive: Float64Array;
  /** Per profile and metric: the smallest threshold of any rule (static), and the one in force now. */
  minRule: Float64Array;
  minRuleActive: Float64Array;
  /** Per host: when its current over-streak began (traffic time credited), NaN when not over. */
  overSince: Float64Array;
  /** Tracker key of host 0. */
  keyBase: number;
  /** Prefix of the rule names ("", "outbound."). */
  prefix: string;
  /** Dynamic baselines apply (inbound only). */
  baselines: boolean;
}

/** Per profile and metric: the smallest positive threshold among `rules` of each profile. */
function smallestOf(values: Float64Array, count: number, classesOnly: boolean): Float64Array {
  const out = new Float64Array(count * METRICS).fill(Number.POSITIVE_INFINITY);
  for (let p = 0; p < count; p++) {
    for (let r = classesOnly ? METRICS : 0; r < RULE_COUNT; r++) {
      const t = values[p * RULE_COUNT + r]!;
      const at = p * METRICS + ruleMetric(r);
      if (t > 0 && t < out[at]!) out[at] = t;
    }
  }
  return out;
}

/** `out[i] = min(base[i], extra[i % METRICS])`, or a copy of `base` when `extra` is absent. */
function withMinima(base: Float64Array, extra: Float64Array | undefined, out: Float64Array): void {
  for (let i = 0; i < base.length; i++) {
    const e = extra === undefined ? Number.POSITIVE_INFINITY : extra[i % METRICS]!;
    out[i] = Math.min(base[i]!, e);
  }
}

export function createDetector(config: DetectionConfig, options: DetectorOptions = {}): Detector {
  const checked = detectionConfigSchema.safeParse(config);
  if (!checked.success) {
    throw new FloodgateError('FG_ERR_CONFIG_INVALID', 'detection configuration is invalid', {
      issues: checked.error.issues.map((i) => `detection.${i.path.join('.')}: ${i.message}`),
    });
  }
  const cfg = checked.data;
  const plan = planDetection(cfg);
  const { networks, profiles, outboundProfiles } = plan;
  const profileCount = plan.leaves.length;
  const focusRatio = cfg.focus.ratio;
  const baselineOn = cfg.baseline.enabled;
  const windowSeconds = cfg.windowSeconds;

  const networkTotals = new Float64Array(networks.length * RULE_COUNT);
  networks.forEach((n, i) => {
    networkTotals.set(n.totals, i * RULE_COUNT);
  });
  const networkWatched = networks.map((n) => n.watchTotals || (baselineOn && n.prefix.length > 0));
  const networkMinClass = smallestOf(networkTotals, networks.length, true);
  const networkMinRule = smallestOf(networkTotals, networks.length, false);
  const networkMinClassActive = new Float64Array(networkMinClass);
  const networkMinRuleActive = new Float64Array(networkMinRule);
  networkWatched.forEach((watched, i) => {
    if (!watched) networkMinRuleActive.fill(Number.POSITIVE_INFINITY, i * METRICS, (i + 1) * METRICS);
  });

  // Focus triggers: `focus.ratio` of one second of the smallest threshold, in packets and bytes;
  // the dynamic floors count only once the baselines have learned (until then nothing fires on them).
  const hostTriggers = { packets: new Float64Array(profileCount), bytes: new Float64Array(profileCount) };
  const outboundTriggers = {
    packets: new Float64Array(profileCount),
    bytes: new Float64Array(profileCount),
  };
  const networkTriggers = {
    packets: new Float64Array(networks.length),
    bytes: new Float64Array(networks.length),
  };

  const counter = new TrafficCounter({
    networks: networks.map((n) => n.prefix),
    leaves: plan.leaves,
    windowSeconds,
    hostCapacity: cfg.hostCapacity,
    outboundHostCapacity: plan.outboundEnabled ? cfg.outboundHostCapacity : 0,
    focusCapacity: cfg.focus.capacity,
    hostFocusTriggers: hostTriggers,
    outboundFocusTriggers: outboundTriggers,
    networkFocusTriggers: networkTriggers,
    networkBreakdownWanted: Uint8Array.from(networkWatched, (w) => (w ? 1 : 0)),
    ...(options.hashSeed === undefined ? {} : { hashSeed: options.hashSeed }),
  });
  const baselines = new Baselines(cfg.baseline, networks, options.hashSeed);

  const passOf = (
    kind: typeof INBOUND | typeof OUTBOUND,
    side: HostSide,
    values: Float64Array,
    keyBase: number,
  ): HostPass => {
    const minClass = smallestOf(values, profileCount, true);
    const minRule = smallestOf(values, profileCount, false);
    return {
      kind,
      direction: kind === INBOUND ? 'inbound' : 'outbound',
      side,
      profiles: values,
      minClass,
      minClassActive: new Float64Array(minClass),
      minRule,
      minRuleActive: new Float64Array(minRule),
      overSince: new Float64Array(side.hosts.capacity).fill(Number.NaN),
      keyBase,
      prefix: kind === INBOUND ? '' : 'outbound.',
      baselines: kind === INBOUND,
    };
  };
  const inbound = passOf(INBOUND, counter.inbound, profiles, 0);
  const passes: HostPass[] = [inbound];
  if (counter.outbound !== undefined) {
    passes.push(passOf(OUTBOUND, counter.outbound, outboundProfiles, cfg.hostCapacity));
  }

  let dynamicState: boolean | undefined;
  /**
   * Brings what depends on whether dynamic thresholds are in force up to date: the smallest
   * thresholds (whose floors count only then), the focus triggers and the candidate minima.
   */
  function applyDynamicState(active: boolean): void {
    if (dynamicState === active) return;
    dynamicState = active;
    for (const pass of passes) {
      const dynamic = active && pass.baselines;
      withMinima(pass.minRule, dynamic ? baselines.hostFloorMinima : undefined, pass.minRuleActive);
      withMinima(
        pass.minClass,
        dynamic ? classFloorMinima(baselines.hostFloors) : undefined,
        pass.minClassActive,
      );
      const triggers = pass.kind === INBOUND ? hostTriggers : outboundTriggers;
      for (let p = 0; p < profileCount; p++) {
        triggers.packets[p] = focusRatio * finiteOr0(pass.minRuleActive[p * METRICS]!);
        triggers.bytes[p] = (focusRatio * finiteOr0(pass.minRuleActive[p * METRICS + 1]!)) / 8;
      }
      pass.side.candidateMinima = pass.minRuleActive;
    }
    for (let i = 0; i < networks.length; i++) {
      if (!networkWatched[i]) continue;
      const floors = active && networks[i]!.prefix.length > 0;
      for (let m = 0; m < METRICS; m++) {
        const at = i * METRICS + m;
        networkMinRuleActive[at] = Math.min(
          networkMinRule[at]!,
          floors ? baselines.networkFloorMinima[m]! : Number.POSITIVE_INFINITY,
        );
        networkMinClassActive[at] = Math.min(
          networkMinClass[at]!,
          floors ? classFloorMinima(baselines.networkFloors)[m]! : Number.POSITIVE_INFINITY,
        );
      }
      networkTriggers.packets[i] = focusRatio * finiteOr0(networkMinRuleActive[i * METRICS]!);
      networkTriggers.bytes[i] = (focusRatio * finiteOr0(networkMinRuleActive[i * METRICS + 1]!)) / 8;
    }
    counter.networkCandidateMinima = networkMinRuleActive;
  }
  applyDynamicState(false);

  const tracker = new IncidentTracker<number>({
    holdDownMs: cfg.holdDownSeconds * 1000,
    severityLevels: cfg.severityLevels,
  });
  const idleMs = cfg.hostIdleSeconds * 1000;
  const openAfterMs = cfg.openAfterSeconds * 1000;
  const sample: RateSample = emptyRateSample();
  const check = new RuleCheck();
  /** Dynamic thresholds of the target being judged, one per rule (0 = none). */
  const dynamic = new Float64Array(RULE_COUNT);
  /** What each rule reads for the target being observed by the baselines. */
  const observed = new Float64Array(RULE_COUNT);
  const networkOverSince = new Float64Array(networks.length).fill(Number.NaN);
  /** Per network: a host of it was over at the last step (carpet bombing is then not the story). */
  const hostOverInNetwork = new Uint8Array(networks.length);
  /** Complete seconds a rule must have held, second by second, to count as over before the window shows it. */
  const secondsToOpen = Math.max(1, Math.ceil(cfg.openAfterSeconds));
  let due = false;
  let dueSteps = 0;

  const versionOf = (side: HostSide, host: number) =>
    isIPv4Mapped(side.hosts.keys, host * ADDRESS_WORDS) ? 4 : 6;

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

  function hostAssessment(
    pass: HostPass,
    host: number,
    nowMs: number,
  ): { assessment: Assessment; evidence: Evidence } {
    const side = pass.side;
    const breakdown = side.breakdown(host, nowMs);
    const slot = side.focusSlotOf(host);
    const focus: FocusReport | undefined = slot >= 0 ? counter.focusReport(slot, nowMs) : undefined;
    const c = classify(breakdown, versionOf(side, host), meanPacketBytes(breakdown), focus);
    let fingerprint = c.fingerprint;
    if (pass.kind === OUTBOUND) {
      // The host is the source: what matters is whom it hits. The breakdown's sketch counted
      // distinct destinations on this side; "spoofed sources" means nothing here.
      const { topSources: _self, spoofing: _spoofing, distinctSources: peers, ...rest } = fingerprint;
      const targets = targetsOf(focus);
      fingerprint = {
        ...rest,
        distinctTargets: targets.distinctTargets ?? peers ?? 0,
        ...(targets.topTargets ? { topTargets: targets.topTargets } : {}),
      };
    }
    return {
      assessment: { family: c.family, confidence: c.confidence, fingerprint, vectors: c.vectors },
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

  /** Set by `heldOf`: the largest per-second value of the run it counted. */
  let heldPeak = 0;

  function heldOf(kind: number, id: number, nowMs: number, rule: CrossedRule): number {
    let held: number;
    if (kind === NETWORK) {
      held = counter.networkHeldSeconds(id, nowMs, rule.metric, rule.threshold, rule.share);
      heldPeak = counter.heldPeak;
    } else {
      const side = kind === INBOUND ? counter.inbound : counter.outbound!;
      held = side.heldSeconds(id, nowMs, rule.metric, rule.threshold, rule.share);
      heldPeak = side.heldPeak;
    }
    return held;
  }

  /**
   * Whether the second being reported could already be over some rule on its own: its packets,
   * bits or flows so far pass the smallest threshold of any rule in force. Cheap: a few reads,
   * no shares. (With steps a second apart, everything in the current second arrived since the
   * last step.)
   */
  function secondMayBeOver(
    kind: number,
    id: number,
    nowMs: number,
    minima: Float64Array,
    at: number,
  ): boolean {
    const side = kind === INBOUND ? counter.inbound : kind === OUTBOUND ? counter.outbound! : undefined;
    for (let m = 0; m < METRICS; m++) {
      const min = minima[at + m]!;
      if (!Number.isFinite(min)) continue;
      // What arrived since the last step bounds the second being reported: test it first.
      const arrived = side ? side.sinceStep(id, m) : counter.networkSinceStep(id, m);
      if (!(arrived > min)) continue;
      const value = side ? side.currentSecond(id, nowMs, m) : counter.networkCurrentSecond(id, nowMs, m);
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
      rule.value = heldPeak;
      out.push(rule);
      runHeld = Math.max(runHeld, held);
      runRatio = Math.max(runRatio, heldPeak / rule.threshold);
    };
    const each = (thresholds: Float64Array, at: number, namePrefix: string) => {
      for (let r = 0; r < RULE_COUNT; r++) {
        const threshold = thresholds[at + r]!;
        if (!(threshold > 0)) continue;
        const metric = ruleMetric(r);
        const cls = RULE_CLASS[r]!;
        const share = cls < 0 ? 1 : check.shares[cls * METRICS + metric]!;
        if (share > 0) consider({ name: namePrefix + RULE_NAMES[r]!, threshold, value: 0, metric, share });
      }
    };
    each(values, base, prefix);
    if (withDynamic) each(dynamic, 0, 'dynamic.');
    return out;
  }

  /** Whether the rates reach a dynamic floor, spread over the window (a rate under it cannot be over). */
  function reachesFloors(minima: Float64Array): boolean {
    return (
      sample.pps >= minima[0]! / windowSeconds ||
      sample.bps >= minima[1]! / windowSeconds ||
      sample.fps >= minima[2]! / windowSeconds
    );
  }

  /** Whether the rates reach one of the baselines' low bounds, per metric (a class rate never exceeds its metric's). */
  function reachesLows(minima: Float64Array): boolean {
    return sample.pps >= minima[0]! || sample.bps >= minima[1]! || sample.fps >= minima[2]!;
  }

  function stepHost(
    pass: HostPass,
    host: number,
    nowMs: number,
    dynamicActive: boolean,
    events: IncidentEvent[],
  ): void {
    const side = pass.side;
    side.rates(host, nowMs, sample);
    check.setRates(sample.pps, sample.bps, sample.fps);
    const profile = side.profileOf(host);
    const base = profile * RULE_COUNT;
    const m3 = profile * METRICS;
    const minClass = pass.minClassActive;
    let withClasses =
      sample.pps >= minClass[m3]! * focusRatio ||
      sample.bps >= minClass[m3 + 1]! * focusRatio ||
      sample.fps >= minClass[m3 + 2]! * focusRatio;
    if (withClasses) side.shares(host, nowMs, check.shares);
    let ratio = check.maxRatio(pass.profiles, base, withClasses);
    let dynamicChecked = false;
    if (pass.baselines && dynamicActive && reachesFloors(baselines.hostFloorMinima)) {
      baselines.hostThresholds(side.hosts.keys, host, dynamic);
      dynamicChecked = true;
      const d = check.maxRatio(dynamic, 0, withClasses);
      if (d > ratio) ratio = d;
    }
    // Pinned exactly while an incident is open (pinning keeps the host from eviction).
    const hasIncident = side.hosts.isPinned(host);
    let over = ratio > 1;
    let crossed: CrossedRule[] | undefined;
    if (
      !over &&
      (ratio * windowSeconds > 1 || secondMayBeOver(pass.kind, host, nowMs, pass.minRuleActive, m3))
    ) {
      if (!withClasses) {
        side.shares(host, nowMs, check.shares);
        withClasses = true;
      }
      const bySecond = secondBySecond(
        pass.kind,
        host,
        nowMs,
        pass.profiles,
        base,
        dynamicChecked,
        pass.prefix,
      );
      if (runHeld >= (hasIncident ? 1 : secondsToOpen)) {
        over = true;
        ratio = Math.max(ratio, runRatio);
        crossed = bySecond;
      }
    }
    const network = side.networkOf(host);
    if (over && pass.kind === INBOUND) hostOverInNetwork[network] = 1;

    if (over || hasIncident || ratio >= focusRatio) side.acquireFocus(host, nowMs);
    else if (ratio < focusRatio / 2 && side.focusSlotOf(host) >= 0) side.releaseFocus(host);

    const overSince = pass.overSince;
    if (!over && !hasIncident) {
      overSince[host] = Number.NaN;
      // Below every low bound nothing is kept: most hosts stop at this cheap test.
      if (pass.baselines && baselines.enabled && reachesLows(baselines.hostLowMinima)) {
        if (!withClasses && reachesLows(baselines.hostClassLowMinima)) {
          side.shares(host, nowMs, check.shares);
          withClasses = true;
        }
        check.valuesInto(observed, withClasses);
        baselines.observeHost(side.hosts.keys, host, observed);
      }
      return;
    }
    const current = { pps: Math.round(sample.pps), bps: Math.round(sample.bps) };
    const currentFlows = Math.round(sample.fps);
    const key = pass.keyBase + host;
    if (hasIncident) {
      const observation: Observation = { current, currentFlows, over, ratio };
      if (over) Object.assign(observation, hostAssessment(pass, host, nowMs));
      const event = tracker.observe(key, observation, nowMs);
      if (!event) return;
      events.push(event);
      if (event.type === 'closed') {
        side.hosts.setPinned(host, false);
        overSince[host] = Number.NaN;
      }
      return;
    }
    if (!crossed) {
      crossed = check.crossed(pass.profiles, base, withClasses, pass.prefix);
      if (dynamicChecked) crossed.push(...check.crossed(dynamic, 0, withClasses, 'dynamic.'));
    }
    if (Number.isNaN(overSince[host]!)) {
      let held = 0;
      for (const rule of crossed) held = Math.max(held, heldOf(pass.kind, host, nowMs, rule));
      overSince[host] = nowMs - held * 1000;
    }
    if (nowMs - overSince[host]! < openAfterMs) return;
    const { assessment, evidence } = hostAssessment(pass, host, nowMs);
    events.push(
      tracker.openIncident(
        key,
        {
          target: formatAddressWords(side.hosts.keys, host * ADDRESS_WORDS),
          targetKind: 'host',
          direction: pass.direction,
          ipVersion: versionOf(side, host),
          network: networks[network]!.text,
          thresholds: { pps: pass.profiles[base]!, bps: pass.profiles[base + 1]! },
          flowsThreshold: pass.profiles[base + 2]!,
          triggers: crossed.map((r) => r.name),
          triggerThresholds: thresholdsOf(crossed),
          assessment,
          evidence,
        },
        { current, currentFlows, over, ratio },
        nowMs,
      ),
    );
    side.hosts.setPinned(host, true);
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
      sample.pps >= networkMinClassActive[m3]! * focusRatio ||
      sample.bps >= networkMinClassActive[m3 + 1]! * focusRatio ||
      sample.fps >= networkMinClassActive[m3 + 2]! * focusRatio;
    if (withClasses) counter.networkShares(n, nowMs, check.shares);
    let ratio = check.maxRatio(networkTotals, base, withClasses);
    let dynamicChecked = false;
    const baselined = networks[n]!.prefix.length > 0;
    if (dynamicActive && baselined) {
      baselines.networkThresholds(n, dynamic);
      dynamicChecked = true;
      const d = check.maxRatio(dynamic, 0, withClasses);
      if (d > ratio) ratio = d;
    }
    const key = networkKey(n);
    const hasIncident = tracker.has(key);
    let over = ratio > 1;
    let crossed: CrossedRule[] | undefined;
    if (
      !over &&
      (ratio * windowSeconds > 1 || secondMayBeOver(NETWORK, n, nowMs, networkMinRuleActive, m3))
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
      if (baselined && baselines.enabled && reachesLows(baselines.networkLowMinima)) {
        if (!withClasses && reachesLows(baselines.networkClassLowMinima)) {
          counter.networkShares(n, nowMs, check.shares);
          withClasses = true;
        }
        check.valuesInto(observed, withClasses);
        baselines.observeNetwork(n, observed);
      }
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
      if (dynamicChecked) crossed.push(...check.crossed(dynamic, 0, withClasses, 'dynamic.'));
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
          direction: 'inbound',
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

  // Step candidates (host-side.ts): at the end of a batch, a target whose traffic since the
  // last step passed its smallest threshold is checked second by second. Rare (a few times per
  // target per step period), so it may allocate.
  const dynamicNow = () => baselines.enabled && !baselines.learning;
  for (const pass of passes) {
    pass.side.onCandidate = (host, nowMs) => {
      if (due) return true;
      const side = pass.side;
      const base = side.profileOf(host) * RULE_COUNT;
      side.shares(host, nowMs, check.shares);
      const withDynamic = pass.baselines && dynamicNow();
      if (withDynamic) baselines.hostThresholds(side.hosts.keys, host, dynamic);
      secondBySecond(pass.kind, host, nowMs, pass.profiles, base, withDynamic, pass.prefix);
      if (runHeld >= secondsToOpen) due = true;
      return due;
    };
  }
  counter.onNetworkCandidate = (n, nowMs) => {
    if (due) return true;
    // Not carpet bombing while one of its hosts is over, nor news while its incident is open.
    if (!networkWatched[n] || hostOverInNetwork[n] === 1 || tracker.has(networkKey(n))) return false;
    counter.networkShares(n, nowMs, check.shares);
    const withDynamic = dynamicNow() && networks[n]!.prefix.length > 0;
    if (withDynamic) baselines.networkThresholds(n, dynamic);
    secondBySecond(NETWORK, n, nowMs, networkTotals, n * RULE_COUNT, withDynamic, 'totals.');
    if (runHeld >= secondsToOpen) due = true;
    return due;
  };

  function step(nowMs: number): IncidentEvent[] {
    const events: IncidentEvent[] = [];
    if (due) dueSteps += 1;
    due = false;
    baselines.beginStep(nowMs);
    const dynamicActive = dynamicNow();
    applyDynamicState(dynamicActive);
    hostOverInNetwork.fill(0);
    for (const pass of passes) {
      const hosts = pass.side.hosts;
      for (let host = 0; host < hosts.highWater; host++) {
        if (hosts.used[host] !== 1) continue;
        stepHost(pass, host, nowMs, dynamicActive, events);
      }
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
    const passBytes = passes.reduce((sum, p) => sum + p.overSince.byteLength, 0);
    return {
      trackedHosts: s.trackedHosts,
      hostCapacity: s.hostCapacity,
      overflowRecords: s.overflowRecords,
      evictedHosts: s.evictedHosts,
      outboundHosts: s.outboundHosts,
      outboundHostCapacity: s.outboundHostCapacity,
      outboundOverflowRecords: s.outboundOverflowRecords,
      outboundEvictedHosts: s.outboundEvictedHosts,
      recordsIngested: s.recordsIngested,
      recordsOutsideNetworks: s.recordsOutsideNetworks,
      recordsOutbound: s.recordsOutbound,
      unusableRecords: s.unusableRecords,
      clampedDurationRecords: s.clampedDurationRecords,
      openIncidents: tracker.size,
      dueSteps,
      focusInUse: s.focusInUse,
      focusCapacity: s.focusCapacity,
      focusRefused: s.focusRefused,
      baseline: b,
      memoryBytes: s.memoryBytes + b.memoryBytes + passBytes,
    };
  }

  return {
    ingest: (batch) => counter.ingest(batch),
    step,
    stepDue: () => due,
    openIncidents: () => tracker.incidents(),
    networkTotals: totals,
    stats,
    baselineSnapshot: () => baselines.snapshot(),
    exportBaselines: () => encodeBaseline(baselines.snapshot()),
    importBaselines: (bytes, nowMs) => baselines.restore(decodeBaseline(bytes), nowMs),
  };
}

/** Per metric, the smallest floor among the class rules (Infinity when none). */
function classFloorMinima(floors: Float64Array): Float64Array {
  const out = new Float64Array(METRICS).fill(Number.POSITIVE_INFINITY);
  for (let r = METRICS; r < RULE_COUNT; r++) {
    const f = floors[r]!;
    if (f > 0 && f < out[ruleMetric(r)]!) out[ruleMetric(r)] = f;
  }
  return out;
}

function finiteOr0(x: number): number {
  return Number.isFinite(x) ? x : 0;
}
