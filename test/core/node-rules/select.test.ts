/** Which node rules run where: triggers, enabled switch, scope, serving prefixes and cooldown. */
import { describe, expect, it } from 'vitest';
import type { FirewallIncidentFacts } from '../../../core/mitigation/intent.js';
import { nodeRuleInputSchema } from '../../../core/node-rules/rule.js';
import { cooldownKey, selectRules } from '../../../core/node-rules/select.js';
import { triggerMatches } from '../../../core/node-rules/trigger.js';
import { makeNodeRule } from './rule-fixture.js';

const facts: FirewallIncidentFacts = {
  family: 'ntp_amplification',
  severity: 4.2,
  severityLevel: 'high',
  pps: 250_000,
  bps: 2e9,
  sources: ['198.51.100.7'],
  sourcePorts: [123],
  destinationPorts: [],
  protocols: [17],
};

const rule = makeNodeRule;

const nodes = [
  { name: 'web1', serves: ['203.0.113.0/25'] },
  { name: 'web2', serves: ['203.0.113.128/25'] },
  { name: 'edge', serves: [] },
];

describe('node rule triggers', () => {
  it('pps-over compares the peak strictly', () => {
    expect(triggerMatches({ type: 'pps-over', pps: 249_999 }, facts)).toBe(true);
    expect(triggerMatches({ type: 'pps-over', pps: 250_000 }, facts)).toBe(false);
  });
  it('severity-at-least orders low < medium < high < critical', () => {
    expect(triggerMatches({ type: 'severity-at-least', level: 'medium' }, facts)).toBe(true);
    expect(triggerMatches({ type: 'severity-at-least', level: 'high' }, facts)).toBe(true);
    expect(triggerMatches({ type: 'severity-at-least', level: 'critical' }, facts)).toBe(false);
    const { severityLevel: _, ...unlevelled } = facts;
    expect(triggerMatches({ type: 'severity-at-least', level: 'low' }, unlevelled)).toBe(true);
    expect(triggerMatches({ type: 'severity-at-least', level: 'medium' }, unlevelled)).toBe(false);
  });
  it('family-in and any-incident', () => {
    expect(triggerMatches({ type: 'family-in', families: ['udp_flood', 'ntp_amplification'] }, facts)).toBe(
      true,
    );
    expect(triggerMatches({ type: 'family-in', families: ['tcp_syn_flood'] }, facts)).toBe(false);
    expect(triggerMatches({ type: 'any-incident' }, facts)).toBe(true);
  });
});

describe('selectRules', () => {
  it('runs enabled matching rules on the scoped nodes that serve the target', () => {
    const rules = [
      rule('all'),
      rule('only-web2', { nodes: ['web2', 'edge'] }),
      rule('off', { enabled: false }),
      rule('syn', { trigger: { type: 'family-in', families: ['tcp_syn_flood'] } }),
    ];
    const result = selectRules(rules, facts, '203.0.113.5', nodes, new Map(), 0);
    expect(result.run.map((r) => [r.rule.id, r.nodes])).toEqual([
      ['all', ['web1', 'edge']],
      ['only-web2', ['edge']],
    ]);
    expect(result.skipped).toEqual([]);
  });

  it('reports a rule whose scope serves nothing of the target', () => {
    const result = selectRules([rule('w2', { nodes: ['web2'] })], facts, '203.0.113.5', nodes, new Map(), 0);
    expect(result.run).toEqual([]);
    expect(result.skipped[0]?.reason).toBe("no node in the rule's scope serves 203.0.113.5");
  });

  it('holds a rule back for its cooldown per target, then lets it run again', () => {
    const r = rule('cool', { cooldownMinutes: 2 });
    const memory = new Map([[cooldownKey('cool', '203.0.113.5'), 1_000]]);
    const early = selectRules([r], facts, '203.0.113.5', nodes, memory, 1_000 + 119_000);
    expect(early.run).toEqual([]);
    expect(early.skipped[0]?.reason).toBe('in cooldown for 203.0.113.5: 1 s left of 2 min');
    expect(selectRules([r], facts, '203.0.113.9', nodes, memory, 2_000).run).toHaveLength(1);
    expect(selectRules([r], facts, '203.0.113.5', nodes, memory, 1_000 + 120_000).run).toHaveLength(1);
  });

  it('matches IPv6 targets against IPv6 serving prefixes', () => {
    const v6nodes = [{ name: 'v6', serves: ['2001:db8:1::/48'] }];
    expect(selectRules([rule('a')], facts, '2001:db8:1::5', v6nodes, new Map(), 0).run).toHaveLength(1);
    expect(selectRules([rule('a')], facts, '2001:db8:2::5', v6nodes, new Map(), 0).run).toHaveLength(0);
  });
});

describe('node rule input', () => {
  it('fills defaults: all nodes, 5 minute cooldown, enabled, risk not acknowledged', () => {
    const parsed = nodeRuleInputSchema.parse({
      id: 'drop-ntp',
      trigger: { type: 'family-in', families: ['ntp_amplification'] },
      action: { type: 'iptables.drop-udp-source-port', params: { port: 123 } },
    });
    expect(parsed).toMatchObject({ nodes: 'all', cooldownMinutes: 5, enabled: true, acknowledgeRisk: false });
  });
  it('refuses cooldowns outside 1..1440 minutes, unknown keys and bad ids', () => {
    const base = { id: 'x', trigger: { type: 'any-incident' }, action: { type: 'a.b', params: {} } };
    expect(nodeRuleInputSchema.safeParse({ ...base, cooldownMinutes: 0 }).success).toBe(false);
    expect(nodeRuleInputSchema.safeParse({ ...base, cooldownMinutes: 1441 }).success).toBe(false);
    expect(nodeRuleInputSchema.safeParse({ ...base, cooldownMinutes: 1440 }).success).toBe(true);
    expect(nodeRuleInputSchema.safeParse({ ...base, colour: 'red' }).success).toBe(false);
    expect(nodeRuleInputSchema.safeParse({ ...base, id: 'Bad Id' }).success).toBe(false);
    expect(nodeRuleInputSchema.safeParse({ ...base, id: '-x' }).success).toBe(false);
  });
});
