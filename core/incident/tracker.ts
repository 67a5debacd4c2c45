/**
 * The incident lifecycle: open when a target goes over a threshold, update while it lasts, close
 * once it has stayed below every threshold for the hold-down. Keyed by whatever the detector
 * uses to name a target (a host slot id); pure, time comes in with each observation.
 *
 * Events carry copies of the incident: the tracker keeps mutating its own object, and what was
 * emitted must stay what happened at that step.
 */
import type { IpVersion } from '../net/address.js';
import type { AttackFamily, Fingerprint, Incident, IncidentEvent, Rates } from './incident.js';
import { IncidentIdAllocator } from './incident-id.js';

/** What the classifier said about the traffic (core/detect/classifier.ts Classification). */
export interface Assessment {
  family: AttackFamily;
  confidence: number;
  fingerprint: Fingerprint;
}

export interface Observation {
  current: Rates;
  /** Over at least one threshold at this step. */
  over: boolean;
  /** The assessment at this step; when absent (below threshold) the incident keeps the last one. */
  assessment?: Assessment;
}

export interface OpeningFacts {
  target: string;
  ipVersion: IpVersion;
  network: string;
  /** Effective thresholds, 0 = disabled metric. */
  thresholds: Rates;
  /** Metrics over threshold at opening ("pps", "bps"). */
  triggers: string[];
  assessment: Assessment;
}

export interface IncidentTrackerOptions {
  holdDownMs: number;
  /** peak and thresholds -> severity (core/detect/classifier.ts severityOf). */
  severity: (peak: Rates, thresholds: Rates) => number;
}

export class IncidentTracker<K> {
  private readonly open = new Map<K, Incident>();
  private readonly ids = new IncidentIdAllocator();

  constructor(private readonly options: IncidentTrackerOptions) {}

  has(key: K): boolean {
    return this.open.has(key);
  }

  get size(): number {
    return this.open.size;
  }

  /** Opens an incident for `key`, which must have none open. */
  openIncident(key: K, facts: OpeningFacts, current: Rates, nowMs: number): IncidentEvent {
    if (this.open.has(key)) throw new RangeError(`an incident is already open for ${facts.target}`);
    const incident: Incident = {
      id: this.ids.next(nowMs, facts.target),
      state: 'open',
      ipVersion: facts.ipVersion,
      target: facts.target,
      network: facts.network,
      family: facts.assessment.family,
      confidence: facts.assessment.confidence,
      severity: this.options.severity(current, facts.thresholds),
      triggers: [...facts.triggers],
      thresholds: { ...facts.thresholds },
      current: { ...current },
      peak: { ...current },
      fingerprint: facts.assessment.fingerprint,
      openedAtMs: nowMs,
      lastOverAtMs: nowMs,
      closedAtMs: null,
    };
    this.open.set(key, incident);
    return { type: 'opened', atMs: nowMs, incident: snapshot(incident) };
  }

  /**
   * Records one step for an open incident: rates and peak, the assessment while over, and the
   * close once `holdDownMs` have passed since the target was last over. Returns undefined when
   * `key` has no open incident.
   */
  observe(key: K, observation: Observation, nowMs: number): IncidentEvent | undefined {
    const incident = this.open.get(key);
    if (!incident) return undefined;
    const { current } = observation;
    incident.current = { pps: current.pps, bps: current.bps };
    if (current.pps > incident.peak.pps) incident.peak.pps = current.pps;
    if (current.bps > incident.peak.bps) incident.peak.bps = current.bps;
    incident.severity = this.options.severity(incident.peak, incident.thresholds);
    if (observation.over) {
      incident.lastOverAtMs = nowMs;
      if (observation.assessment) {
        incident.family = observation.assessment.family;
        incident.confidence = observation.assessment.confidence;
        incident.fingerprint = observation.assessment.fingerprint;
      }
    } else if (nowMs - incident.lastOverAtMs >= this.options.holdDownMs) {
      incident.state = 'closed';
      incident.closedAtMs = nowMs;
      this.open.delete(key);
      return { type: 'closed', atMs: nowMs, incident: snapshot(incident) };
    }
    return { type: 'updated', atMs: nowMs, incident: snapshot(incident) };
  }

  /** Keys with an open incident, for the detector's per-step pass. */
  keys(): IterableIterator<K> {
    return this.open.keys();
  }

  incidents(): Incident[] {
    return [...this.open.values()].map(snapshot);
  }
}

function snapshot(incident: Incident): Incident {
  return {
    ...incident,
    triggers: [...incident.triggers],
    thresholds: { ...incident.thresholds },
    current: { ...incident.current },
    peak: { ...incident.peak },
    fingerprint: {
      ...incident.fingerprint,
      protocols: [...incident.fingerprint.protocols],
      sourcePorts: [...incident.fingerprint.sourcePorts],
      destinationPorts: [...incident.fingerprint.destinationPorts],
    },
  };
}
