/**
 * Whether a tier has not been enough: the escalation conditions of a runbook tier checked against
 * the latest state of the incident. The answer is the reason in words (it goes into the audit and
 * the timeline), or undefined to stay on this tier.
 */
import type { Incident } from '../incident/incident.js';
import type { EscalateConditions } from './config.js';
import { levelRank, type SeverityThresholds, severityLevelOf } from './select.js';

const UNITS = ['', 'k', 'M', 'G', 'T'] as const;

/** 2500 -> "2.5k", 9400000 -> "9.4M": rates as operators read them. */
export function siRate(value: number): string {
  let v = value;
  let unit = 0;
  while (Math.abs(v) >= 1000 && unit < UNITS.length - 1) {
    v /= 1000;
    unit++;
  }
  const digits = v >= 100 || unit === 0 ? 0 : 1;
  return `${v.toFixed(digits)}${UNITS[unit]}`;
}

export function formatPps(pps: number): string {
  return `${siRate(pps)} pps`;
}

export function formatBps(bps: number): string {
  return `${siRate(bps)}bit/s`;
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? `${s} s` : `${s.toFixed(1)} s`;
}

/**
 * The first condition that holds, in the order afterSeconds, ppsAbove, bpsAbove, severityAbove,
 * severityAtLeast. "Still over threshold N s after the tier became active" reads the incident's
 * last time over threshold: a target in its hold-down (below threshold, not yet closed) does not
 * escalate on time alone.
 */
export function escalationReason(
  conditions: EscalateConditions,
  incident: Incident,
  tierActivatedAtMs: number,
  levels: SeverityThresholds,
): string | undefined {
  if (incident.state !== 'open') return undefined;
  const { afterSeconds, ppsAbove, bpsAbove, severityAbove, severityAtLeast } = conditions;
  if (afterSeconds !== undefined && incident.lastOverAtMs - tierActivatedAtMs >= afterSeconds * 1000) {
    return `still over threshold ${formatSeconds(afterSeconds * 1000)} after the tier became active`;
  }
  if (ppsAbove !== undefined && incident.current.pps > ppsAbove) {
    return `rate ${formatPps(incident.current.pps)} is above ${formatPps(ppsAbove)}`;
  }
  if (bpsAbove !== undefined && incident.current.bps > bpsAbove) {
    return `rate ${formatBps(incident.current.bps)} is above ${formatBps(bpsAbove)}`;
  }
  if (severityAbove !== undefined && incident.severity > severityAbove) {
    return `severity ${incident.severity} is above ${severityAbove}`;
  }
  if (severityAtLeast !== undefined) {
    const level = severityLevelOf(incident, levels);
    if (levelRank(level) >= levelRank(severityAtLeast))
      return `severity is ${level} (at least ${severityAtLeast})`;
  }
  return undefined;
}
