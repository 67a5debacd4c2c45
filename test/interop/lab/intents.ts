/**
 * The intents the interop lab puts through each speaker: FlowSpec for IPv4 and IPv6 with each
 * action (discard, rate-limit, redirect, mark) and a spread of match components, and RTBH for
 * both families with communities. Documentation addresses only.
 */
import type { MitigationIntent } from '../../../core/mitigation/intent.js';
import { type IntentContent, intentId } from '../../../core/mitigation/intent-id.js';

function withId(content: IntentContent): MitigationIntent {
  return { ...content, id: intentId(content), incidentId: 'inc-interop' } as MitigationIntent;
}

export const FLOW4 = {
  discard: withId({
    kind: 'flowspec',
    ipVersion: 4,
    match: { destination: '203.0.113.5/32', protocols: [17], sourcePorts: [123] },
    action: { type: 'discard' },
  }),
  rateLimit: withId({
    kind: 'flowspec',
    ipVersion: 4,
    match: { destination: '203.0.113.6/32', protocols: [6], tcpFlagsSet: 0x02, tcpFlagsClear: 0x10 },
    action: { type: 'rate-limit', bytesPerSecond: 125_000 },
  }),
  redirect: withId({
    kind: 'flowspec',
    ipVersion: 4,
    match: { destination: '203.0.113.7/32', protocols: [6, 17], destinationPorts: [53] },
    action: { type: 'redirect', routeTarget: '65000:100' },
  }),
  mark: withId({
    kind: 'flowspec',
    ipVersion: 4,
    match: {
      destination: '203.0.113.8/32',
      source: '198.51.100.0/24',
      packetLength: { min: 512, max: 1500 },
      fragment: 'is-fragment',
    },
    action: { type: 'mark', dscp: 10 },
  }),
} as const;

export const FLOW6 = {
  discard: withId({
    kind: 'flowspec',
    ipVersion: 6,
    match: {
      destination: '2001:db8::5/128',
      protocols: [17],
      sourcePorts: [53],
      packetLength: { min: 512, max: 65535 },
    },
    action: { type: 'discard' },
  }),
  rateLimit: withId({
    kind: 'flowspec',
    ipVersion: 6,
    match: { destination: '2001:db8::6/128', protocols: [58] },
    action: { type: 'rate-limit', bytesPerSecond: 1000 },
  }),
  redirect: withId({
    kind: 'flowspec',
    ipVersion: 6,
    match: {
      destination: '2001:db8::7/128',
      source: '2001:db8:bad::/48',
      protocols: [6],
      destinationPorts: [80, 443],
    },
    action: { type: 'redirect', routeTarget: '65000:200' },
  }),
  mark: withId({
    kind: 'flowspec',
    ipVersion: 6,
    match: { destination: '2001:db8::8/128', protocols: [17] },
    action: { type: 'mark', dscp: 46 },
  }),
} as const;

export const RTBH4 = withId({
  kind: 'rtbh',
  ipVersion: 4,
  prefix: '203.0.113.66/32',
  nextHop: '192.0.2.1',
  communities: ['65535:666', '65000:1'],
});

export const RTBH6 = withId({
  kind: 'rtbh',
  ipVersion: 6,
  prefix: '2001:db8::66/128',
  nextHop: '100::1',
  communities: ['65535:666'],
});

/** The RFC 8955 extended community each action arrives as, in BIRD's `(generic, high, low)` numbers. */
export const ACTION_COMMUNITY = {
  discard: [0x80060000, 0x0],
  rateLimit125k: [0x80060000, 0x47f42400],
  rateLimit1k: [0x80060000, 0x447a0000],
  redirect65000_100: [0x8008fde8, 100],
  redirect65000_200: [0x8008fde8, 200],
  mark10: [0x80090000, 10],
  mark46: [0x80090000, 46],
} as const;
