/**
 * Drives a detector with exported records on a synthetic clock: records are ingested when they
 * arrive, and the detector steps once a second, `stepPhaseMs` into the second, the way the
 * appliance does with the wall clock.
 */
import { detectionConfigSchema } from '../../core/detect/config.js';
import { createDetector, type Detector } from '../../core/detect/detector.js';
import type { Incident, IncidentEvent } from '../../core/incident/incident.js';
import type { Arrival } from './exporter.js';

export function replay(
  detector: Detector,
  arrivals: readonly Arrival[],
  untilMs: number,
  options: { stepPhaseMs?: number; afterStep?: (nowMs: number) => void } = {},
): IncidentEvent[] {
  const stepPhaseMs = options.stepPhaseMs ?? 700;
  const pending = [...arrivals].sort((a, b) => a.arrivalMs - b.arrivalMs);
  const events: IncidentEvent[] = [];
  let next = 0;
  const firstSecond = Math.floor(pending[0]!.arrivalMs / 1000);
  for (let t = firstSecond * 1000 + stepPhaseMs; t <= untilMs; t += 1000) {
    while (next < pending.length && pending[next]!.arrivalMs <= t) {
      detector.ingest(pending[next]!.batch);
      next += 1;
    }
    events.push(...detector.step(t));
    options.afterStep?.(t);
  }
  return events;
}

export function detectorFor(config: Record<string, unknown>): Detector {
  return createDetector(detectionConfigSchema.parse(config), { hashSeed: 0x5eed });
}

/** Incidents as they were when they opened, by target. */
export function openedByTarget(events: readonly IncidentEvent[]): Map<string, Incident> {
  const out = new Map<string, Incident>();
  for (const e of events) if (e.type === 'opened') out.set(e.incident.target, e.incident);
  return out;
}

/** Each incident's last state (its latest event), by id. */
export function latestById(events: readonly IncidentEvent[]): Map<string, Incident> {
  const out = new Map<string, Incident>();
  for (const e of events) out.set(e.incident.id, e.incident);
  return out;
}
