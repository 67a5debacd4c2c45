/**
 * Which runbook takes an incident: the first, in the order of floodgate.yaml, whose every given
 * criterion holds (target in one of its networks or host groups, family in its list, severity at
 * least its minimum). Put narrow runbooks first and a catch-all last.
 */
import type { Incident, SeverityLevel } from '../incident/incident.js';
import { type Prefix, parsePrefix, prefixCovers } from '../net/address.js';
import { type Runbook, SEVERITY_LEVELS } from './config.js';

export interface SeverityThresholds {
  medium: number;
  high: number;
  critical: number;
}

export interface HostGroupPrefixes {
  name: string;
  prefixes: readonly string[];
}

/** The incident's level: as the detector set it, or from its severity and the configured levels. */
export function severityLevelOf(incident: Incident, levels: SeverityThresholds): SeverityLevel {
  if (incident.severityLevel !== undefined) return incident.severityLevel;
  if (incident.severity >= levels.critical) return 'critical';
  if (incident.severity >= levels.high) return 'high';
  if (incident.severity >= levels.medium) return 'medium';
  return 'low';
}

export function levelRank(level: SeverityLevel): number {
  return SEVERITY_LEVELS.indexOf(level);
}

function parseAll(texts: readonly string[]): Prefix[] {
  return texts.flatMap((t) => {
    const p = parsePrefix(t);
    return p ? [p] : [];
  });
}

export class RunbookSelector {
  private readonly groups: ReadonlyMap<string, Prefix[]>;
  /** Each runbook's `match.networks`, parsed once. */
  private readonly networks: ReadonlyMap<Runbook, Prefix[]>;

  constructor(
    private readonly runbooks: readonly Runbook[],
    hostGroups: readonly HostGroupPrefixes[],
    private readonly levels: SeverityThresholds,
  ) {
    this.groups = new Map(hostGroups.map((g) => [g.name, parseAll(g.prefixes)]));
    this.networks = new Map(runbooks.map((r) => [r, parseAll(r.match.networks)]));
  }

  select(incident: Incident): Runbook | undefined {
    return this.runbooks.find((runbook) => this.matches(runbook, incident));
  }

  matches(runbook: Runbook, incident: Incident): boolean {
    const m = runbook.match;
    const target = parsePrefix(incident.target);
    const inAny = (prefixes: readonly Prefix[]) =>
      target !== undefined && prefixes.some((p) => prefixCovers(p, target));
    if (m.networks.length > 0 && !inAny(this.networks.get(runbook) ?? parseAll(m.networks))) return false;
    if (m.hostGroups.length > 0 && !m.hostGroups.some((g) => inAny(this.groups.get(g) ?? []))) return false;
    if (m.families.length > 0 && !m.families.includes(incident.family)) return false;
    if (m.minSeverity !== undefined) {
      if (typeof m.minSeverity === 'number') {
        if (incident.severity < m.minSeverity) return false;
      } else if (levelRank(severityLevelOf(incident, this.levels)) < levelRank(m.minSeverity)) {
        return false;
      }
    }
    return true;
  }
}
