import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runbookSchema, runbooksConfigSchema } from '../../../core/escalation/config.js';

function issuesOf(input: unknown): string[] {
  const result = runbooksConfigSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('runbooks config', () => {
  it('defaults to the one runbook that reproduces the walking skeleton', () => {
    expect(runbooksConfigSchema.parse(undefined)).toEqual([
      {
        name: 'default',
        match: { networks: [], hostGroups: [], families: [] },
        mode: 'automatic',
        tiers: [
          {
            name: 'flowspec-and-rtbh',
            intents: ['flowspec', 'rtbh'],
            adapters: [],
            notify: [],
            holdDownSeconds: 0,
          },
        ],
        notify: [],
        cooldownSeconds: 300,
        ttl: { seconds: 0, maxSeconds: 86400, forgetAfterSeconds: 86400 },
      },
    ]);
  });

  it('reads a full runbook from YAML as from an object', () => {
    const yaml = `
- name: customers
  match: { hostGroups: [web], families: [tcp_syn_flood, udp_flood], minSeverity: high }
  mode: manual
  notify: [noc]
  ttl: { seconds: 300, maxSeconds: 3600 }
  tiers:
    - { name: host, intents: [firewall], adapters: [node], escalate: { afterSeconds: 30 }, holdDownSeconds: 300 }
    - { intents: [flowspec, rtbh], escalate: { bpsAbove: 10000000000, severityAtLeast: critical } }
    - { intents: [scrubbing], notify: [pager] }
`;
    const [runbook] = runbooksConfigSchema.parse(parseYaml(yaml));
    expect(runbook).toMatchObject({
      name: 'customers',
      match: {
        networks: [],
        hostGroups: ['web'],
        families: ['tcp_syn_flood', 'udp_flood'],
        minSeverity: 'high',
      },
      mode: 'manual',
      cooldownSeconds: 300,
      ttl: { seconds: 300, maxSeconds: 3600, forgetAfterSeconds: 86400 },
    });
    expect(runbook!.tiers[1]).toEqual({
      intents: ['flowspec', 'rtbh'],
      adapters: [],
      notify: [],
      holdDownSeconds: 0,
      escalate: { bpsAbove: 10_000_000_000, severityAtLeast: 'critical' },
    });
  });

  it('names the path of every mistake', () => {
    const tier = { intents: ['rtbh'] };
    expect(issuesOf([])).toEqual([
      ': lists no runbook: give at least one (an incident no runbook takes is only recorded)',
    ]);
    expect(
      issuesOf([
        { name: 'a', tiers: [tier] },
        { name: 'a', tiers: [tier] },
      ]),
    ).toEqual(['1.name: runbook a is already defined by runbooks[0]']);
    expect(issuesOf([{ name: 'a', tiers: [{ ...tier, escalate: { afterSeconds: 5 } }] }])).toEqual([
      '0.tiers.0.escalate: the last tier has nothing to escalate to; remove escalate or add a tier',
    ]);
    expect(issuesOf([{ name: 'a', tiers: [{ intents: ['blackhole'] }] }])[0]).toMatch(
      /^0\.tiers\.0\.intents\.0: /,
    );
    expect(issuesOf([{ name: 'a', tiers: [{ intents: ['rtbh', 'rtbh'] }] }])).toEqual([
      '0.tiers.0.intents: lists a kind twice',
    ]);
    expect(issuesOf([{ name: 'a', tiers: [{ intents: ['flowspec'], escalate: {} }, tier] }])).toEqual([
      '0.tiers.0.escalate: names no condition: give afterSeconds, ppsAbove, bpsAbove, severityAbove or severityAtLeast',
    ]);
    expect(issuesOf([{ name: 'a', mode: 'yolo', tiers: [tier] }])[0]).toMatch(/^0\.mode: /);
    expect(issuesOf([{ name: 'a', match: { families: ['ddos'] }, tiers: [tier] }])[0]).toMatch(
      /^0\.match\.families\.0: /,
    );
    expect(issuesOf([{ name: 'a', tiers: [] }])[0]).toMatch(/^0\.tiers: /);
    expect(issuesOf([{ name: 'A b', tiers: [tier] }])[0]).toMatch(/^0\.name: must be lower-case/);
    expect(runbookSchema.safeParse({ name: 'a', tiers: [tier], colour: 'red' }).success).toBe(false);
  });
});
