/** A saved node rule for tests: any incident, every node, 5 minute cooldown, enabled; override what matters. */
import type { NodeRule } from '../../../core/node-rules/rule.js';

export function makeNodeRule(id: string, over: Partial<NodeRule> = {}): NodeRule {
  return {
    id,
    description: '',
    trigger: { type: 'any-incident' },
    action: { type: 'iptables.drop-source', params: {} },
    nodes: 'all',
    cooldownMinutes: 5,
    enabled: true,
    riskAcknowledged: false,
    createdAtMs: 0,
    updatedAtMs: 0,
    updatedBy: 'operator:test',
    ...over,
  };
}
