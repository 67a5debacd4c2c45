/**
 * A threshold rule is one metric (pps, bps, flows/s) of either the whole traffic or one traffic
 * class. Rules are numbered so that a resolved set of thresholds is a flat Float64Array the
 * per-step evaluation reads without objects: rule = group * 3 + metric, group 0 being the whole
 * traffic and groups 1.. the classes of TRAFFIC_CLASS_NAMES.
 */
import {
  CLASS_ACK_RST,
  CLASS_AMPLIFICATION,
  CLASS_FRAGMENT,
  CLASS_GRE,
  CLASS_ICMP,
  CLASS_SYN,
  CLASS_TCP,
  CLASS_UDP,
} from '../traffic/breakdown.js';
import { METRIC_NAMES, type RuleSettings, TRAFFIC_CLASS_NAMES } from './config.js';

export const METRICS = METRIC_NAMES.length;
export const RULE_GROUPS = 1 + TRAFFIC_CLASS_NAMES.length;
export const RULE_COUNT = RULE_GROUPS * METRICS;

/** The breakdown class (core/traffic/breakdown.ts) each class group counts, in TRAFFIC_CLASS_NAMES order. */
const GROUP_CLASS: readonly number[] = [
  CLASS_TCP,
  CLASS_UDP,
  CLASS_ICMP,
  CLASS_GRE,
  CLASS_SYN,
  CLASS_ACK_RST,
  CLASS_FRAGMENT,
  CLASS_AMPLIFICATION,
];

/** Breakdown class of each rule, -1 for whole-traffic rules. */
export const RULE_CLASS: Int8Array = Int8Array.from({ length: RULE_COUNT }, (_, r) => {
  const group = Math.floor(r / METRICS);
  return group === 0 ? -1 : GROUP_CLASS[group - 1]!;
});

/** Metric of each rule: 0 pps, 1 bps, 2 flows (the order of second-ring.ts METRIC_*). */
export function ruleMetric(rule: number): number {
  return rule % METRICS;
}

/** Rules of the whole traffic (0..METRICS-1) come first; the class rules follow. */
export function isClassRule(rule: number): boolean {
  return rule >= METRICS;
}

/** Per rule, the given settings' values (0 where unset or null): floors, network totals. */
export function ruleValues(settings: RuleSettings | undefined): Float64Array {
  const out = new Float64Array(RULE_COUNT);
  for (let r = 0; r < RULE_COUNT; r++) out[r] = settingFor(settings, r) ?? 0;
  return out;
}

/** "pps", "bps", "flows" for the whole traffic; "syn.pps", "amplification.bps", ... per class. */
export const RULE_NAMES: readonly string[] = Array.from({ length: RULE_COUNT }, (_, r) => {
  const group = Math.floor(r / METRICS);
  const metric = METRIC_NAMES[r % METRICS]!;
  return group === 0 ? metric : `${TRAFFIC_CLASS_NAMES[group - 1]!}.${metric}`;
});

/**
 * The value a settings object gives a rule: a number, null (disabled here), or undefined (not
 * said here, ask the next one). Pass `settings.outbound` for the outbound rules.
 */
export function settingFor(settings: RuleSettings | undefined, rule: number): number | null | undefined {
  if (!settings) return undefined;
  const group = Math.floor(rule / METRICS);
  const metric = METRIC_NAMES[rule % METRICS]!;
  if (group === 0) return settings[metric];
  const perClass = settings[TRAFFIC_CLASS_NAMES[group - 1]!];
  return perClass?.[metric];
}
