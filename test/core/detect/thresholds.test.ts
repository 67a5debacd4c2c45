import { describe, expect, it } from 'vitest';
import { detectionConfigSchema } from '../../../core/detect/config.js';
import { RULE_COUNT, RULE_NAMES } from '../../../core/detect/rules.js';
import { planDetection } from '../../../core/detect/thresholds.js';
import { formatPrefix } from '../../../core/net/address.js';

/** The named, enabled rules of the profile whose leaf is `prefix`. */
function profileOf(plan: ReturnType<typeof planDetection>, prefix: string): Record<string, number> {
  const i = plan.leaves.findIndex((l) => formatPrefix(l.prefix) === prefix);
  if (i < 0) throw new Error(`no leaf ${prefix}`);
  const out: Record<string, number> = {};
  for (let r = 0; r < RULE_COUNT; r++) {
    const v = plan.profiles[i * RULE_COUNT + r]!;
    if (v > 0) out[RULE_NAMES[r]!] = v;
  }
  return out;
}

describe('planDetection', () => {
  const config = detectionConfigSchema.parse({
    thresholds: { pps: 20000, bps: 1e9, syn: { pps: 5000 }, amplification: { bps: 1e8 } },
    networks: [
      { prefix: '203.0.113.0/24', thresholds: { pps: 10000, fragment: { pps: 1000 } } },
      { prefix: '203.0.113.128/25', thresholds: { syn: { pps: null } } },
      { prefix: '2001:db8::/32', totals: { pps: 50000 } },
    ],
    hostGroups: [
      {
        name: 'dns',
        prefixes: ['203.0.113.52/30', '2001:db8:53::/48'],
        thresholds: { udp: { pps: 40000 }, pps: 50000 },
      },
    ],
    hosts: [{ address: '203.0.113.53', thresholds: { pps: 80000, amplification: { bps: null } } }],
  });
  const plan = planDetection(config);

  it('makes one leaf per distinct prefix, each in its longest network', () => {
    expect(plan.leaves.map((l) => [formatPrefix(l.prefix), l.network])).toEqual([
      ['203.0.113.0/24', 0],
      ['203.0.113.128/25', 1],
      ['2001:db8::/32', 2],
      ['203.0.113.52/30', 0],
      ['2001:db8:53::/48', 2],
      ['203.0.113.53/32', 0],
    ]);
  });

  it('resolves each rule from host, then group, then networks closest first, then global', () => {
    expect(profileOf(plan, '203.0.113.0/24')).toEqual({
      pps: 10000,
      bps: 1e9,
      'syn.pps': 5000,
      'fragment.pps': 1000,
      'amplification.bps': 1e8,
    });
    // null disables syn.pps for the /25; the rest comes from the /24 and the globals.
    expect(profileOf(plan, '203.0.113.128/25')).toEqual({
      pps: 10000,
      bps: 1e9,
      'fragment.pps': 1000,
      'amplification.bps': 1e8,
    });
    expect(profileOf(plan, '203.0.113.52/30')).toEqual({
      pps: 50000,
      bps: 1e9,
      'udp.pps': 40000,
      'syn.pps': 5000,
      'fragment.pps': 1000,
      'amplification.bps': 1e8,
    });
    expect(profileOf(plan, '203.0.113.53/32')).toEqual({
      pps: 80000,
      bps: 1e9,
      'udp.pps': 40000,
      'syn.pps': 5000,
      'fragment.pps': 1000,
    });
    expect(plan.profileOrigins[5]).toBe('host 203.0.113.53');
    expect(plan.profileOrigins[3]).toBe('group dns');
  });

  it('keeps totals per network, never inherited, and never for a /0', () => {
    expect(plan.networks.map((n) => [n.text, n.watchTotals, n.totals[0]])).toEqual([
      ['203.0.113.0/24', false, 0],
      ['203.0.113.128/25', false, 0],
      ['2001:db8::/32', true, 50000],
    ]);
    const wildcard = planDetection(
      detectionConfigSchema.parse({ networks: [{ prefix: '0.0.0.0/0', totals: { pps: 1 } }] }),
    );
    expect(wildcard.networks[0]!.watchTotals).toBe(false);
    expect(plan.networks[1]!.thresholds).toEqual({ pps: 10000, bps: 1e9 });
  });
});

describe('detectionConfigSchema: groups, hosts, baselines', () => {
  it('refuses groups and hosts outside the monitored networks, duplicates, and bad baseline slices', () => {
    const r = detectionConfigSchema.safeParse({
      networks: [{ prefix: '203.0.113.0/24' }],
      hostGroups: [
        { name: 'a', prefixes: ['198.51.100.0/24'] },
        { name: 'a', prefixes: ['203.0.113.0/25'] },
        { name: 'b', prefixes: ['203.0.113.0/25'] },
      ],
      hosts: [
        { address: '203.0.113.9', thresholds: { pps: 1 } },
        { address: '203.0.113.9', thresholds: { pps: 2 } },
        { address: '192.0.2.1', thresholds: {} },
      ],
      baseline: { windowSeconds: 86400, sliceSeconds: 7000 },
      severityLevels: { medium: 5, high: 2, critical: 10 },
    });
    expect(r.success).toBe(false);
    const issues = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^hostGroups\.0\.prefixes\.0: 198\.51\.100\.0\/24 lies in no monitored network/,
        ),
        expect.stringMatching(/^hostGroups\.1\.name: host group a is already defined/),
        expect.stringMatching(
          /^hostGroups\.2\.prefixes\.0: 203\.0\.113\.0\/25 already belongs to host group a/,
        ),
        expect.stringMatching(/^hosts\.1\.address: 203\.0\.113\.9 is already listed by hosts\[0\]/),
        expect.stringMatching(/^hosts\.2\.address: 192\.0\.2\.1 lies in no monitored network/),
        expect.stringMatching(/^baseline\.sliceSeconds: must divide windowSeconds/),
        expect.stringMatching(/^severityLevels: levels must be in order/),
      ]),
    );
  });

  it('accepts class thresholds and refuses an unknown class by name', () => {
    expect(
      detectionConfigSchema.safeParse({ thresholds: { syn: { pps: 1000 }, fragment: { flows: 10 } } })
        .success,
    ).toBe(true);
    const bad = detectionConfigSchema.safeParse({ thresholds: { synflood: { pps: 1 } } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['thresholds']);
  });
});
