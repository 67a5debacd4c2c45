/** BIRD static routes from intents: the flow match in BIRD's own display form, actions as RFC 8955 extended communities. */
import { describe, expect, it } from 'vitest';
import {
  float32Bits,
  renderBlackholeRoute,
  renderFlowAction,
  renderFlowNetwork,
  renderFlowRoute,
} from '../../../adapters/bird/render.js';
import type { FlowSpecIntent } from '../../../core/mitigation/intent.js';

describe('BIRD rendering', () => {
  it('writes every match component in BIRD order and form', () => {
    expect(
      renderFlowNetwork(
        {
          destination: '203.0.113.5/32',
          source: '198.51.100.0/24',
          protocols: [17, 6, 17],
          destinationPorts: [53],
          sourcePorts: [123, 53],
          tcpFlagsSet: 0x02,
          tcpFlagsClear: 0x10,
          packetLength: { min: 512, max: 1500 },
          fragment: 'is-fragment',
        },
        4,
      ),
    ).toBe(
      'flow4 { dst 203.0.113.5/32; src 198.51.100.0/24; proto 6,17; dport 53; sport 53,123; tcp flags 0x2/0x2 && 0x0/0x10; length 512..1500; fragment is_fragment; }',
    );
    expect(
      renderFlowNetwork(
        {
          destination: '2001:DB8::5/128',
          protocols: [58],
          packetLength: { min: 100, max: 100 },
          tcpFlagsClear: 0x14,
        },
        6,
      ),
    ).toBe('flow6 { dst 2001:db8::5/128; next header 58; tcp flags 0x0/0x14; length 100; }');
    expect(renderFlowNetwork({ destination: '203.0.113.0/24', fragment: 'dont-fragment' }, 4)).toBe(
      'flow4 { dst 203.0.113.0/24; fragment dont_fragment; }',
    );
  });

  it('encodes each action as its extended community', () => {
    expect(renderFlowAction({ type: 'discard' })).toBe('(generic, 0x80060000, 0x0)');
    expect(renderFlowAction({ type: 'rate-limit', bytesPerSecond: 125_000 })).toBe(
      '(generic, 0x80060000, 0x47f42400)',
    );
    expect(renderFlowAction({ type: 'rate-limit', bytesPerSecond: 0 })).toBe('(generic, 0x80060000, 0x0)');
    expect(renderFlowAction({ type: 'redirect', routeTarget: '65000:100' })).toBe(
      '(generic, 0x8008fde8, 0x64)',
    );
    // A 4-byte ASN: 0x8208, the ASN across both words, a 2-byte value.
    expect(renderFlowAction({ type: 'redirect', routeTarget: '4200000000:7' })).toBe(
      '(generic, 0x8208fa56, 0xea000007)',
    );
    expect(renderFlowAction({ type: 'mark', dscp: 46 })).toBe('(generic, 0x80090000, 0x2e)');
    expect(float32Bits(1000)).toBe(0x447a0000);
  });

  it('writes RTBH as a blackhole route with communities and the next hop', () => {
    const route = renderBlackholeRoute({
      kind: 'rtbh',
      id: 'bh4-x',
      incidentId: 'i',
      ipVersion: 4,
      prefix: '203.0.113.66/32',
      nextHop: '192.0.2.1',
      communities: ['65535:666', '65000:1'],
    });
    expect(route).toEqual({
      network: '203.0.113.66/32',
      statement:
        'route 203.0.113.66/32 blackhole { bgp_community.add((65535,666)); bgp_community.add((65000,1)); bgp_next_hop = 192.0.2.1; };',
    });
  });

  it('refuses values that do not parse instead of pasting them', () => {
    const flow = (match: FlowSpecIntent['match']): FlowSpecIntent => ({
      kind: 'flowspec',
      id: 'f',
      incidentId: 'i',
      ipVersion: 4,
      match,
      action: { type: 'discard' },
    });
    expect(() => renderFlowRoute(flow({ destination: '203.0.113.5/32; } protocol static evil {' }))).toThrow(
      /FG_ERR_WIRE_VALUE/,
    );
    expect(() => renderFlowRoute(flow({ destination: '2001:db8::/64' }))).toThrow(/IPv4 prefix/);
    expect(() => renderFlowRoute(flow({ destination: '203.0.113.5/32', sourcePorts: [70000] }))).toThrow(
      /0-65535/,
    );
    expect(() =>
      renderFlowRoute(flow({ destination: '203.0.113.5/32', tcpFlagsSet: 2, tcpFlagsClear: 2 })),
    ).toThrow(/both set and clear/);
    expect(() => renderFlowAction({ type: 'redirect', routeTarget: '70000:70000' })).toThrow(/2-byte/);
    expect(() =>
      renderBlackholeRoute({
        kind: 'rtbh',
        id: 'b',
        incidentId: 'i',
        ipVersion: 4,
        prefix: '203.0.113.66/32',
        nextHop: '192.0.2.1',
        communities: ['1:2); evil'],
      }),
    ).toThrow(/community/);
  });
});
