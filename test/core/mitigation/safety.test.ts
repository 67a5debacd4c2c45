import { describe, expect, it } from 'vitest';
import type { BlackholeIntent, FlowSpecIntent } from '../../../core/mitigation/intent.js';
import { checkCap, checkIntentSafety, guardIntents } from '../../../core/mitigation/safety.js';

function rtbh(prefix: string, nextHop = '192.0.2.1', ipVersion: 4 | 6 = 4): BlackholeIntent {
  return {
    kind: 'rtbh',
    id: `bh-${prefix}`,
    incidentId: 'inc-1',
    ipVersion,
    prefix,
    nextHop,
    communities: ['65535:666'],
  };
}

function flowspec(destination: string, ipVersion: 4 | 6 = 4, source?: string): FlowSpecIntent {
  return {
    kind: 'flowspec',
    id: `fs-${destination}`,
    incidentId: 'inc-1',
    ipVersion,
    match: source === undefined ? { destination, protocols: [17] } : { destination, source, protocols: [17] },
    action: { type: 'discard' },
  };
}

const open = { protectedPrefixes: [] };

describe('checkIntentSafety', () => {
  it('lets host routes outside protected prefixes through', () => {
    const config = { protectedPrefixes: ['198.51.100.0/24', '2001:db8:53::/48'] };
    expect(checkIntentSafety(rtbh('203.0.113.5/32'), config)).toBeUndefined();
    expect(checkIntentSafety(rtbh('2001:db8::5/128', '100::1', 6), config)).toBeUndefined();
    expect(checkIntentSafety(flowspec('203.0.113.0/24'), config)).toBeUndefined();
  });

  it('refuses a target inside a protected prefix with a reason naming the entry', () => {
    const config = { protectedPrefixes: ['203.0.113.0/24'] };
    expect(checkIntentSafety(rtbh('203.0.113.5/32'), config)).toEqual({
      intent: rtbh('203.0.113.5/32'),
      code: 'FG_ERR_SAFETY_PROTECTED',
      reason: '203.0.113.5/32 lies in protected prefix 203.0.113.0/24 (mitigation.protectedPrefixes[0])',
    });
    const v6 = checkIntentSafety(flowspec('2001:db8:53::1/128', 6), {
      protectedPrefixes: ['10.0.0.0/8', '2001:db8:53::/48'],
    });
    expect(v6?.reason).toBe(
      '2001:db8:53::1/128 lies in protected prefix 2001:db8:53::/48 (mitigation.protectedPrefixes[1])',
    );
  });

  it('refuses a target that covers a protected host', () => {
    const refused = checkIntentSafety(flowspec('203.0.113.0/24'), { protectedPrefixes: ['203.0.113.53/32'] });
    expect(refused?.code).toBe('FG_ERR_SAFETY_PROTECTED');
    expect(refused?.reason).toBe(
      '203.0.113.0/24 covers protected prefix 203.0.113.53/32 (mitigation.protectedPrefixes[0])',
    );
  });

  it('fails closed on a protected entry it cannot read', () => {
    const refused = checkIntentSafety(rtbh('203.0.113.5/32'), { protectedPrefixes: ['203.0.113.0/33'] });
    expect(refused?.code).toBe('FG_ERR_SAFETY_PROTECTED');
    expect(refused?.reason).toContain('mitigation.protectedPrefixes[0]');
  });

  it('never announces a default route', () => {
    for (const intent of [
      rtbh('0.0.0.0/0'),
      flowspec('0.0.0.0/0'),
      flowspec('::/0', 6),
      rtbh('::/0', '100::1', 6),
    ]) {
      const refused = checkIntentSafety(intent, open);
      expect(refused?.code).toBe('FG_ERR_SAFETY_DEFAULT_ROUTE');
      expect(refused?.reason).toMatch(/is a default route/);
    }
  });

  it('blackholes single hosts only', () => {
    const v4 = checkIntentSafety(rtbh('203.0.113.0/31'), open);
    expect(v4?.code).toBe('FG_ERR_SAFETY_PREFIX_LENGTH');
    expect(v4?.reason).toBe(
      'RTBH route 203.0.113.0/31 is shorter than /32: only single hosts are blackholed, never whole networks',
    );
    expect(checkIntentSafety(rtbh('2001:db8::/64', '100::1', 6), open)?.code).toBe(
      'FG_ERR_SAFETY_PREFIX_LENGTH',
    );
  });

  it('refuses targets and next hops that are not of the intent family', () => {
    const cases = [
      rtbh('203.0.113.5/33'),
      rtbh('203.0.113.5/24'),
      rtbh('2001:db8::5/128'),
      rtbh('203.0.113.5/32', '100::1'),
      rtbh('2001:db8::5/128', '192.0.2.1', 6),
      flowspec('2001:db8::5/128', 4),
      flowspec('203.0.113.5/32', 4, '2001:db8::/32'),
    ];
    for (const intent of cases)
      expect(checkIntentSafety(intent, open)?.code).toBe('FG_ERR_SAFETY_INVALID_TARGET');
    expect(checkIntentSafety(rtbh('203.0.113.5/32', '100::1'), open)?.reason).toBe(
      'RTBH next hop "100::1" is not an IPv4 address for route 203.0.113.5/32 (mitigation.rtbh.nextHopV4)',
    );
  });
});

describe('checkCap', () => {
  const caps = { firewall: 5, flowspec: 2, rtbh: 1, scrubbing: 1 };

  it('allows intents while the active count is below the cap', () => {
    expect(checkCap(flowspec('203.0.113.5/32'), 1, caps)).toBeUndefined();
    expect(checkCap(rtbh('203.0.113.5/32'), 0, caps)).toBeUndefined();
  });

  it('refuses the intent that would exceed the cap, naming the setting', () => {
    expect(checkCap(flowspec('203.0.113.5/32'), 2, caps)).toEqual({
      intent: flowspec('203.0.113.5/32'),
      code: 'FG_ERR_SAFETY_CAP',
      reason:
        '203.0.113.5/32: 2 FlowSpec rules are already active and the cap is 2 (mitigation.caps.flowspec); withdraw some or raise the cap',
    });
    expect(checkCap(rtbh('203.0.113.5/32'), 1, caps)?.reason).toContain('(mitigation.caps.rtbh)');
    expect(checkCap(rtbh('203.0.113.5/32'), 0, { ...caps, rtbh: 0 })?.code).toBe('FG_ERR_SAFETY_CAP');
  });
});

describe('guardIntents', () => {
  it('splits accepted from refused and keeps one of each id', () => {
    const a = rtbh('203.0.113.5/32');
    const b = rtbh('198.51.100.7/32');
    const result = guardIntents([a, b, { ...a, incidentId: 'inc-2' }, b], {
      protectedPrefixes: ['198.51.100.0/24'],
    });
    expect(result.intents).toEqual([a]);
    expect(result.refused.map((r) => r.intent)).toEqual([b]);
  });
});
