/**
 * Which rules run where for one firewall intent: enabled rules whose trigger matches, on the nodes
 * in their scope that serve the target, unless the rule already ran for this target within its
 * cooldown. Pure: the caller keeps the cooldown memory and passes the time.
 */
import type { FirewallIncidentFacts } from '../mitigation/intent.js';
import { hostPrefix, parseAddress, parsePrefix, prefixCovers } from '../net/address.js';
import type { NodeRule } from './rule.js';
import { triggerMatches } from './trigger.js';

export interface NodeServing {
  name: string;
  /** Prefixes whose hosts the node carries; empty means every target. */
  serves: readonly string[];
}

export interface RuleSelection {
  rule: NodeRule;
  /** Names of the nodes to run on, in configuration order. */
  nodes: string[];
}

export interface SkippedRule {
  rule: NodeRule;
  reason: string;
}

export interface SelectionResult {
  run: RuleSelection[];
  skipped: SkippedRule[];
}

/** Last run of a rule against a target, unix ms; keyed by cooldownKey(). */
export type CooldownMemory = ReadonlyMap<string, number>;

export function cooldownKey(ruleId: string, target: string): string {
  return `${ruleId}|${target}`;
}

export function nodeServes(node: NodeServing, target: string): boolean {
  if (node.serves.length === 0) return true;
  const address = parseAddress(target.replace(/\/(32|128)$/, ''));
  if (!address) return false;
  const host = hostPrefix(address.words);
  return node.serves.some((text) => {
    const p = parsePrefix(text);
    return p !== undefined && prefixCovers(p, host);
  });
}

export function selectRules(
  rules: readonly NodeRule[],
  facts: FirewallIncidentFacts,
  target: string,
  nodes: readonly NodeServing[],
  lastRuns: CooldownMemory,
  nowMs: number,
): SelectionResult {
  const run: RuleSelection[] = [];
  const skipped: SkippedRule[] = [];
  for (const rule of rules) {
    if (!rule.enabled) continue;
    if (!triggerMatches(rule.trigger, facts)) continue;
    const last = lastRuns.get(cooldownKey(rule.id, target));
    const cooldownMs = rule.cooldownMinutes * 60_000;
    if (last !== undefined && nowMs - last < cooldownMs) {
      const left = Math.ceil((cooldownMs - (nowMs - last)) / 1000);
      skipped.push({
        rule,
        reason: `in cooldown for ${target}: ${left} s left of ${rule.cooldownMinutes} min`,
      });
      continue;
    }
    const inScope = rule.nodes === 'all' ? nodes : nodes.filter((n) => rule.nodes.includes(n.name));
    const serving = inScope.filter((n) => nodeServes(n, target)).map((n) => n.name);
    if (serving.length === 0) {
      skipped.push({ rule, reason: `no node in the rule's scope serves ${target}` });
      continue;
    }
    run.push({ rule, nodes: serving });
  }
  return { run, skipped };
}
