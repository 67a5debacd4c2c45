/**
 * The incident lifecycle once the detector has decided to open one: update while it lasts,
 * close once the target has stayed below every threshold for the hold-down. Crossing again
 * within the hold-down (the grace period) continues the same incident and is counted in
 * `retriggers`; crossing after the close is a new incident. Keyed by whatever the detector uses
 * to name a target (a host slot id, a network index); pure, time comes in with each observation.
 *
 * Severity is the largest rate / threshold ratio seen over the incident's life, on whichever
 * rule went furthest over (the detector computes each step's ratio), and its level is that ratio
 * against the configured levels.
 *
 * Events carry copies of the incident: the tracker keeps mutating its own object, and what was
 * emitted must stay what happened at that step.
 */
import type { IpVersion } from '../net/address.js';
import type {
  AttackFamily,
  Evidence,
  Fingerprint,
  Incident,
  IncidentEvent,
  Rates,
  SeverityLevel,
  TrafficDirection,
} from './incident.js';
import { IncidentIdAllocator } from './incident-id.js';

/** What the classifier said about the traffic (core/detect/classifier.ts Classification). */
export interface Assessment {
  family: AttackFamily;
  confidence: number;
  fingerprint: Fingerprint;
  vectors?: { family: AttackFamily; share: number }[];
}

export interface Observation {
  current: Rates;
  /** Flow records per second now. */
  currentFlows?: number;
  /** Over at least one threshold at this step. */
  over: boolean;
  /** The largest rate / threshold over the target's enabled rules at this step. */
  ratio: number;
  /** The assessment at this step; when absent (below threshold) the incident keeps the last one. */
  assessment?: Assessment;
  evidence?: Evidence;
}

export interface OpeningFacts {
  target: string;
  targetKind: 'host' | 'prefix';
  /** Default inbound. */
  direction?: TrafficDirection;
  ipVersion: IpVersion;
  network: string;
  /** Effective whole-traffic thresholds, 0 = disabled metric. */
  thresholds: Rates;
  /** Effective whole-traffic flows/s threshold, 0 = none. */
  flowsThreshold: number;
  /** Rules over threshold at opening ("pps", "syn.pps", "dynamic.bps", ...). */
  triggers: string[];
  /** The threshold of each trigger. */
  triggerThresholds: Record<string, number>;
  assessment: Assessment;
  evidence: Evidence;
}

export interface SeverityLevels {
  medium: number;
  high: number;
  critical: number;
}

export interface IncidentTrackerOptions {
  holdDownMs: number;
  severityLevels: SeverityLevels;
}

interface Tracked {
  incident: Incident;
  over: boolean;
}

export class IncidentTracker<K> {
  private readonly open = new Map<K, Tracked>();
  private readonly ids = new IncidentIdAllocator();

  constructor(private readonly options: IncidentTrackerOptions) {}

  has(key: K): boolean {
    return this.open.has(key);
  }

  get size(): number {
    return this.open.size;
  }

  /** Opens an incident for `key`, which must have none open. */
  openIncident(key: K, facts: OpeningFacts, observation: Observation, nowMs: number): IncidentEvent {
    if (this.open.has(key)) throw new RangeError(`an incident is already open for ${facts.target}`);
    const severity = round3(observation.ratio);
    const flows = observation.currentFlows ?? 0;
    const incident: Incident = {
      id: this.ids.next(nowMs, facts.target),
      state: 'open',
      ipVersion: facts.ipVersion,
      target: facts.target,
      network: facts.network,
      family: facts.assessment.family,
      confidence: facts.assessment.confidence,
      severity,
      triggers: [...facts.triggers],
      thresholds: { ...facts.thresholds },
      current: { ...observation.current },
      peak: { ...observation.current },
      fingerprint: facts.assessment.fingerprint,
      openedAtMs: nowMs,
      lastOverAtMs: nowMs,
      closedAtMs: null,
      targetKind: facts.targetKind,
      direction: facts.direction ?? 'inbound',
      severityLevel: this.levelOf(severity),
      vectors: facts.assessment.vectors ? [...facts.assessment.vectors] : [],
      triggerThresholds: { ...facts.triggerThresholds },
      flows: { current: flows, peak: flows, threshold: facts.flowsThreshold },
      evidence: { ...facts.evidence },
      retriggers: 0,
    };
    this.open.set(key, { incident, over: true });
    return { type: 'opened', atMs: nowMs, incident: snapshot(incident) };
  }

  /**
   * Records one step for an open incident: rates and peaks, severity, the assessment while over,
   * and the close once `holdDownMs` have passed since the target was last over. Returns
   * undefined when `key` has no open incident.
   */
  observe(key: K, observation: Observation, nowMs: number): IncidentEvent | undefined {
    const tracked = this.open.get(key);
    if (!tracked) return undefined;
    const { incident } = tracked;
    const { current } = observation;
    incident.current = { pps: current.pps, bps: current.bps };
    if (current.pps > incident.peak.pps) incident.peak.pps = current.pps;
    if (current.bps > incident.peak.bps) incident.peak.bps = current.bps;
    if (incident.flows && observation.currentFlows !== undefined) {
      incident.flows.current = observation.currentFlows;
      if (observation.currentFlows > incident.flows.peak) incident.flows.peak = observation.currentFlows;
    }
    const ratio = round3(observation.ratio);
    if (ratio > incident.severity) {
      incident.severity = ratio;
      incident.severityLevel = this.levelOf(ratio);
    }
    if (observation.over) {
      if (!tracked.over) incident.retriggers = (incident.retriggers ?? 0) + 1;
      incident.lastOverAtMs = nowMs;
      if (observation.assessment) {
        incident.family = observation.assessment.family;
        incident.confidence = observation.assessment.confidence;
        incident.fingerprint = observation.assessment.fingerprint;
        if (observation.assessment.vectors) incident.vectors = [...observation.assessment.vectors];
      }
      if (observation.evidence) incident.evidence = { ...observation.evidence };
    } else if (nowMs - incident.lastOverAtMs >= this.options.holdDownMs) {
      incident.state = 'closed';
      incident.closedAtMs = nowMs;
      this.open.delete(key);
      return { type: 'closed', atMs: nowMs, incident: snapshot(incident) };
    }
    tracked.over = observation.over;
    return { type: 'updated', atMs: nowMs, incident: snapshot(incident) };
  }

  private levelOf(severity: number): SeverityLevel {
    const l = this.options.severityLevels;
    if (severity >= l.critical) return 'critical';
    if (severity >= l.high) return 'high';
    if (severity >= l.medium) return 'medium';
    return 'low';
  }

  /** Keys with an open incident, for the detector's per-step pass. */
  keys(): IterableIterator<K> {
    return this.open.keys();
  }

  incidents(): Incident[] {
    return [...this.open.values()].map((t) => snapshot(t.incident));
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function snapshot(incident: Incident): Incident {
  return structuredClone(incident);
}
