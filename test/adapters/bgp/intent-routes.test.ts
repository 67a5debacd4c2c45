import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../adapters/bgp/bytes.js';
import { BLACKHOLE } from '../../../adapters/bgp/community.js';
import { encodeExtendedCommunities } from '../../../adapters/bgp/extended-community.js';
import { decodeFlowSpecNlri, encodeFlowSpecNlri } from '../../../adapters/bgp/flowspec-nlri.js';
import {
  actionCommunities,
  blackholeContentOf,
  blackholeRouteFor,
  contentOf,
  flowSpecContentOf,
  flowSpecRouteFor,
  redirectCommunity,
} from '../../../adapters/bgp/intent-routes.js';
import type { FlowSpecRoute } from '../../../adapters/bgp/routes.js';
import type { FlowSpecAction, FlowSpecMatch } from '../../../core/mitigation/intent.js';
import { type FlowSpecContent, intentId } from '../../../core/mitigation/intent-id.js';

function nlriHex(content: FlowSpecContent): string {
  return toHex(encodeFlowSpecNlri(flowSpecRouteFor(content).nlri));
}

describe('FlowSpec intents as routes', () => {
  it('an NTP amplification rule: destination, UDP, source ports 53 and 123, in type order', () => {
    const content: FlowSpecContent = {
      kind: 'flowspec',
      ipVersion: 4,
      match: { destination: '203.0.113.5/32', protocols: [17], sourcePorts: [123, 53, 123] },
      action: { type: 'discard' },
    };
    // 01 20 cb007105 | 03 81 11 | 06 01 35 81 7b
    expect(nlriHex(content)).toBe(toHex(fromHex('0e 01 20 cb 00 71 05 03 81 11 06 01 35 81 7b')));
    expect(toHex(encodeExtendedCommunities(flowSpecRouteFor(content).actions))).toBe('8006000000000000');
  });

  it('a SYN flood rule: TCP flags SYN set (no match bit for one flag) AND ACK not set', () => {
    const content: FlowSpecContent = {
      kind: 'flowspec',
      ipVersion: 4,
      match: { destination: '203.0.113.7/32', protocols: [6], tcpFlagsSet: 0x02, tcpFlagsClear: 0x10 },
      action: { type: 'rate-limit', bytesPerSecond: 125000 },
    };
    expect(nlriHex(content)).toBe(toHex(fromHex('0e 01 20 cb 00 71 07 03 81 06 09 00 02 c2 10')));
    expect(toHex(encodeExtendedCommunities(flowSpecRouteFor(content).actions))).toBe('8006000047f42400');
  });

  it('several flags that must all be set use the match bit', () => {
    const route = flowSpecRouteFor({
      ipVersion: 4,
      match: { destination: '203.0.113.7/32', tcpFlagsSet: 0x12 },
      action: { type: 'discard' },
    });
    expect(route.nlri.components[1]).toEqual({
      type: 9,
      terms: [{ and: false, not: false, match: true, value: 0x12 }],
    });
  });

  it('packet lengths as =, <=, >= or >=&<=, and an IPv6 rule with next header and fragment', () => {
    const lengthTerms = (min: number, max: number) =>
      toHex(
        encodeFlowSpecNlri(
          flowSpecRouteFor({
            ipVersion: 4,
            match: { destination: '192.0.2.1/32', packetLength: { min, max } },
            action: { type: 'discard' },
          }).nlri,
        ).subarray(7),
      );
    expect(lengthTerms(500, 500)).toBe('0a91' + '01f4');
    expect(lengthTerms(0, 1500)).toBe('0a95' + '05dc');
    expect(lengthTerms(512, 65535)).toBe('0a93' + '0200');
    expect(lengthTerms(512, 1500)).toBe('0a130200d505dc');
    expect(
      nlriHex({
        kind: 'flowspec',
        ipVersion: 6,
        match: { destination: '2001:db8::5/128', protocols: [17], fragment: 'is-fragment' },
        action: { type: 'discard' },
      }),
    ).toBe(toHex(fromHex('19 01 80 00 20010db8000000000000000000000005 03 81 11 0c 80 02')));
  });

  it('actions: discard, rate-limit, redirect (2-byte AS, 4-byte AS, IPv4) and DSCP marking', () => {
    expect(actionCommunities({ type: 'discard' })).toEqual([{ type: 'traffic-rate-bytes', asn: 0, rate: 0 }]);
    expect(actionCommunities({ type: 'rate-limit', bytesPerSecond: 1e6 })).toEqual([
      { type: 'traffic-rate-bytes', asn: 0, rate: 1e6 },
    ]);
    expect(redirectCommunity('65000:100')).toEqual({ type: 'redirect-as2', asn: 65000, value: 100 });
    expect(redirectCommunity('4200000000:100')).toEqual({
      type: 'redirect-as4',
      asn: 4200000000,
      value: 100,
    });
    expect(redirectCommunity('192.0.2.1:7')).toEqual({
      type: 'redirect-ipv4',
      address: '192.0.2.1',
      value: 7,
    });
    expect(actionCommunities({ type: 'mark', dscp: 8 })).toEqual([{ type: 'traffic-marking', dscp: 8 }]);
  });

  it('refuses what has no faithful encoding', () => {
    const bad: { match?: Partial<FlowSpecMatch>; action?: FlowSpecAction; ipVersion?: 4 | 6 }[] = [
      { ipVersion: 6, match: { destination: '2001:db8::5/128', fragment: 'dont-fragment' } },
      { match: { sourcePorts: [70000] } },
      { match: { protocols: [256] } },
      { match: { packetLength: { min: 10, max: 5 } } },
      { match: { tcpFlagsSet: 0x02, tcpFlagsClear: 0x02 } },
      { match: { destination: '2001:db8::5/128' } },
      { action: { type: 'rate-limit', bytesPerSecond: 0 } },
      { action: { type: 'rate-limit', bytesPerSecond: 1e40 } },
      { action: { type: 'redirect', routeTarget: '70000:70000' } },
      { action: { type: 'redirect', routeTarget: 'target' } },
      { action: { type: 'mark', dscp: 64 } },
    ];
    for (const b of bad) {
      expect(() =>
        flowSpecRouteFor({
          ipVersion: b.ipVersion ?? 4,
          match: { destination: '203.0.113.5/32', ...b.match },
          action: b.action ?? { type: 'discard' },
        }),
      ).toThrow(/FG_ERR_WIRE_VALUE/);
    }
  });
});

const port = fc.integer({ min: 0, max: 65535 });
const arbitraryContent: fc.Arbitrary<FlowSpecContent> = fc
  .record({
    v6: fc.boolean(),
    host: fc.integer({ min: 1, max: 254 }),
    source: fc.option(fc.constantFrom('198.51.100.0/24', '198.51.100.7/32'), { nil: undefined }),
    protocols: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 3 }), {
      nil: undefined,
    }),
    sourcePorts: fc.option(fc.uniqueArray(port, { minLength: 1, maxLength: 4 }), { nil: undefined }),
    destinationPorts: fc.option(fc.uniqueArray(port, { minLength: 1, maxLength: 4 }), { nil: undefined }),
    packetLength: fc.option(
      fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 })).map(([a, b]) => ({
        min: Math.min(a, b),
        max: Math.max(a, b),
      })),
      { nil: undefined },
    ),
    flags: fc.option(
      fc
        .tuple(fc.integer({ min: 0, max: 0x1ff }), fc.integer({ min: 0, max: 0x1ff }))
        .map(([set, clear]) => ({
          set,
          clear: clear & ~set,
        })),
      { nil: undefined },
    ),
    fragment: fc.option(
      fc.constantFrom('is-fragment', 'first-fragment', 'last-fragment') as fc.Arbitrary<
        FlowSpecMatch['fragment']
      >,
      { nil: undefined },
    ),
    action: fc.oneof(
      fc.constant<FlowSpecAction>({ type: 'discard' }),
      fc
        .integer({ min: 1, max: 1 << 24 })
        .map((r): FlowSpecAction => ({ type: 'rate-limit', bytesPerSecond: r })),
      fc.integer({ min: 0, max: 63 }).map((dscp): FlowSpecAction => ({ type: 'mark', dscp })),
      fc
        .tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 0xffffffff }))
        .map(([a, n]): FlowSpecAction => ({ type: 'redirect', routeTarget: `${a}:${n}` })),
    ),
  })
  .map((r) => {
    const match: FlowSpecMatch = {
      destination: r.v6 ? `2001:db8::${r.host.toString(16)}/128` : `203.0.113.${r.host}/32`,
    };
    if (r.source && !r.v6) match.source = r.source;
    if (r.protocols) match.protocols = r.protocols;
    if (r.sourcePorts) match.sourcePorts = r.sourcePorts;
    if (r.destinationPorts) match.destinationPorts = r.destinationPorts;
    if (r.packetLength) match.packetLength = r.packetLength;
    if (r.flags && (r.flags.set !== 0 || r.flags.clear !== 0)) {
      if (r.flags.set) match.tcpFlagsSet = r.flags.set;
      if (r.flags.clear) match.tcpFlagsClear = r.flags.clear;
    }
    if (r.fragment) match.fragment = r.fragment;
    return { kind: 'flowspec', ipVersion: r.v6 ? 6 : 4, match, action: r.action };
  });

describe('routes back to intents', () => {
  it('any FlowSpec intent survives intent -> route -> bytes -> route -> intent with the same id', () => {
    fc.assert(
      fc.property(arbitraryContent, (content) => {
        const route = flowSpecRouteFor(content);
        const nlri = decodeFlowSpecNlri(encodeFlowSpecNlri(route.nlri), content.ipVersion).nlri;
        const back = flowSpecContentOf({ ...route, nlri });
        expect(back).toBeDefined();
        expect(intentId(back!)).toBe(intentId(content));
      }),
      { numRuns: 1500 },
    );
  });

  it('an RTBH intent: host prefix, canonical next hop, communities sorted as numbers', () => {
    const route = blackholeRouteFor({
      ipVersion: 6,
      prefix: '2001:DB8:0::66/128',
      nextHop: '100::1',
      communities: ['65535:666', '64500:1', '65535:666'],
    });
    expect(route).toEqual({
      kind: 'rtbh',
      version: 6,
      prefix: '2001:db8::66/128',
      nextHop: '100::1',
      communities: [0xfbf40001, BLACKHOLE],
    });
    const content = blackholeContentOf(route)!;
    expect(intentId(content)).toBe(
      intentId({
        kind: 'rtbh',
        ipVersion: 6,
        prefix: '2001:db8::66/128',
        nextHop: '100::1',
        communities: ['64500:1', '65535:666'],
      }),
    );
    expect(() =>
      blackholeRouteFor({ ipVersion: 4, prefix: '203.0.113.0/24', nextHop: '192.0.2.1', communities: [] }),
    ).toThrow(/FG_ERR_WIRE_VALUE/);
  });

  it('does not claim routes of shapes it never writes', () => {
    const base = flowSpecRouteFor({
      ipVersion: 4,
      match: { destination: '203.0.113.5/32', protocols: [17] },
      action: { type: 'discard' },
    });
    const variants: FlowSpecRoute[] = [
      { ...base, actions: [] },
      { ...base, actions: [...base.actions, { type: 'traffic-marking', dscp: 1 }] },
      { ...base, actions: [{ type: 'traffic-action', terminal: true, sample: false }] },
      { ...base, nlri: { version: 4, components: [base.nlri.components[1]!] } },
      {
        ...base,
        nlri: {
          version: 4,
          components: [
            base.nlri.components[0]!,
            { type: 4, terms: [{ and: false, lt: false, gt: false, eq: true, value: 80 }] },
          ],
        },
      },
      {
        ...base,
        nlri: {
          version: 4,
          components: [
            base.nlri.components[0]!,
            { type: 3, terms: [{ and: false, lt: false, gt: true, eq: false, value: 80 }] },
          ],
        },
      },
    ];
    for (const v of variants) expect(contentOf(v), JSON.stringify(v)).toBeUndefined();
    expect(
      blackholeContentOf({
        kind: 'rtbh',
        version: 4,
        prefix: '203.0.113.0/24',
        nextHop: '192.0.2.1',
        communities: [],
      }),
    ).toBeUndefined();
  });
});
