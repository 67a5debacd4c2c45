import { describe, expect, it } from 'vitest';
import { detectionConfigSchema } from '../../../core/detect/config.js';
import { resolveNetworks } from '../../../core/detect/thresholds.js';

describe('detectionConfigSchema', () => {
  it('has the documented defaults', () => {
    expect(detectionConfigSchema.parse({})).toEqual({
      networks: [{ prefix: '0.0.0.0/0' }, { prefix: '::/0' }],
      thresholds: { pps: 20000, bps: 1000000000 },
      hostGroups: [],
      hosts: [],
      windowSeconds: 3,
      openAfterSeconds: 1,
      holdDownSeconds: 60,
      severityLevels: { medium: 2, high: 5, critical: 10 },
      evidence: { minRecords: 10, minSampledPackets: 100 },
      focus: { capacity: 1024, ratio: 0.5 },
      baseline: {
        enabled: true,
        windowSeconds: 604800,
        sliceSeconds: 86400,
        percentile: 99,
        multiplier: 3,
        floor: { pps: 10000, bps: 500000000 },
        networkFloor: { pps: 100000, bps: 5000000000 },
        learningSeconds: 86400,
        hostCapacity: 65536,
      },
      hostCapacity: 262144,
      outboundHostCapacity: 65536,
      hostIdleSeconds: 120,
    });
  });

  it('lets an omitted global threshold disable its metric', () => {
    expect(detectionConfigSchema.parse({ thresholds: { pps: 5000 } }).thresholds).toEqual({ pps: 5000 });
  });

  it('names the path of each error', () => {
    const r = detectionConfigSchema.safeParse({
      networks: [{ prefix: '203.0.113.1/24' }, { prefix: '10.0.0.0/8', thresholds: { pps: -1 } }],
      windowSeconds: 60,
      extra: true,
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['networks.0.prefix', 'networks.1.thresholds.pps', 'windowSeconds', '']),
    );
  });

  it('refuses the same prefix twice, however it is written', () => {
    const r = detectionConfigSchema.safeParse({
      networks: [{ prefix: '2001:db8::/32' }, { prefix: '2001:0db8::/32' }],
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['networks', 1, 'prefix']);
  });
});

describe('resolveNetworks', () => {
  it('takes each metric from the most specific network that sets it, else the global value', () => {
    const config = detectionConfigSchema.parse({
      thresholds: { pps: 20000, bps: 1e9 },
      networks: [
        { prefix: '10.0.0.0/8', name: 'core', thresholds: { pps: 5000 } },
        { prefix: '10.1.0.0/16', thresholds: { bps: 2e8 } },
        { prefix: '10.1.2.0/24', thresholds: { pps: null } },
        { prefix: '192.0.2.0/24' },
        { prefix: '2001:db8::/32', thresholds: { bps: null } },
      ],
    });
    expect(resolveNetworks(config).map((n) => [n.text, n.name, n.thresholds])).toEqual([
      ['10.0.0.0/8', 'core', { pps: 5000, bps: 1e9 }],
      ['10.1.0.0/16', undefined, { pps: 5000, bps: 2e8 }],
      ['10.1.2.0/24', undefined, { pps: 0, bps: 2e8 }],
      ['192.0.2.0/24', undefined, { pps: 20000, bps: 1e9 }],
      ['2001:db8::/32', undefined, { pps: 20000, bps: 0 }],
    ]);
  });
});
