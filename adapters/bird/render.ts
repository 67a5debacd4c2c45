/**
 * Mitigation intents as BIRD 2 static routes: FlowSpec as `route flow4 { ... } { ... };` whose
 * action is an RFC 8955 extended community, RTBH as `route P blackhole { ... };` with its
 * communities and BGP next hop. Pure and deterministic.
 *
 * The flow match is written in the exact form BIRD prints it back in `show route` (component
 * order, `6,17` lists, `512..1500` ranges, `tcp flags 0x2/0x2 && 0x0/0x10`), so list() can find
 * a route by its text. Every value is re-validated and re-formatted, never pasted: a `;` or `}`
 * in an intent cannot reach BIRD's configuration.
 */
import { FloodgateError } from '../../core/errors.js';
import type {
  BlackholeIntent,
  FlowSpecAction,
  FlowSpecIntent,
  FlowSpecMatch,
  NumericRange,
} from '../../core/mitigation/intent.js';
import {
  formatAddressWords,
  formatPrefix,
  type IpVersion,
  parseAddress,
  parsePrefix,
} from '../../core/net/address.js';

function invalid(what: string, value: unknown, expected: string): FloodgateError {
  const shown = typeof value === 'string' ? `"${value}"` : String(value);
  return new FloodgateError(
    'FG_ERR_WIRE_VALUE',
    `${what} ${shown} cannot be rendered for BIRD: ${expected}`,
    { what, value },
  );
}

function int(what: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw invalid(what, value, `expected an integer 0-${max}`);
  return value;
}

function prefix(what: string, text: string, version: IpVersion): string {
  const p = parsePrefix(text);
  if (!p || p.version !== version)
    throw invalid(what, text, `expected an IPv${version} prefix with its host bits clear`);
  return formatPrefix(p);
}

function address(what: string, text: string, version: IpVersion): string {
  const a = parseAddress(text);
  if (!a || a.version !== version) throw invalid(what, text, `expected an IPv${version} address`);
  return formatAddressWords(a.words);
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function list(what: string, values: readonly number[], max: number): string {
  return [...new Set(values.map((v) => int(what, v, max)))].sort((a, b) => a - b).join(',');
}

function range(r: NumericRange): string {
  const min = int('packet length min', r.min, 65535);
  const max = int('packet length max', r.max, 65535);
  if (min > max) throw invalid('packet length', `${min}..${max}`, 'min must not exceed max');
  return min === max ? String(min) : `${min}..${max}`;
}

const FRAGMENTS: Readonly<Record<string, string>> = {
  'is-fragment': 'is_fragment',
  'first-fragment': 'first_fragment',
  'last-fragment': 'last_fragment',
  'dont-fragment': 'dont_fragment',
};

/** `flow4 { dst 203.0.113.5/32; proto 17; sport 123; }`: the network of the flow route. */
export function renderFlowNetwork(match: FlowSpecMatch, version: IpVersion): string {
  const parts = [`dst ${prefix('destination', match.destination, version)}`];
  if (match.source !== undefined) parts.push(`src ${prefix('source', match.source, version)}`);
  if (match.protocols !== undefined && match.protocols.length > 0) {
    parts.push(`${version === 4 ? 'proto' : 'next header'} ${list('protocol', match.protocols, 255)}`);
  }
  if (match.destinationPorts !== undefined && match.destinationPorts.length > 0) {
    parts.push(`dport ${list('destination port', match.destinationPorts, 65535)}`);
  }
  if (match.sourcePorts !== undefined && match.sourcePorts.length > 0) {
    parts.push(`sport ${list('source port', match.sourcePorts, 65535)}`);
  }
  const set = int('tcp flags set', match.tcpFlagsSet ?? 0, 0x1ff);
  const clear = int('tcp flags clear', match.tcpFlagsClear ?? 0, 0x1ff);
  if ((set & clear) !== 0)
    throw invalid('tcp flags', `set ${set} clear ${clear}`, 'a flag cannot be both set and clear');
  if (set !== 0 || clear !== 0) {
    // All of `set` present (match bit), none of `clear` (not bit): BIRD shows them as two terms.
    const terms: string[] = [];
    if (set !== 0) terms.push(`${hex(set)}/${hex(set)}`);
    if (clear !== 0) terms.push(`0x0/${hex(clear)}`);
    parts.push(`tcp flags ${terms.join(' && ')}`);
  }
  if (match.packetLength !== undefined) parts.push(`length ${range(match.packetLength)}`);
  if (match.fragment !== undefined) {
    const f = FRAGMENTS[match.fragment];
    if (f === undefined) throw invalid('fragment', match.fragment, Object.keys(FRAGMENTS).join(', '));
    parts.push(`fragment ${f}`);
  }
  return `flow${version} { ${parts.map((p) => `${p}; `).join('')}}`;
}

/** IEEE-754 single precision bits of a rate in bytes per second (RFC 8955 traffic-rate). */
export function float32Bits(value: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  return view.getUint32(0);
}

/** The action as an RFC 8955 extended community in BIRD's `(generic, high, low)` form. */
export function renderFlowAction(action: FlowSpecAction): string {
  switch (action.type) {
    case 'discard':
      return '(generic, 0x80060000, 0x0)';
    case 'rate-limit': {
      const rate = int('rate-limit bytes/s', action.bytesPerSecond, 1_000_000_000_000);
      return `(generic, 0x80060000, ${hex(float32Bits(rate))})`;
    }
    case 'redirect': {
      const m = /^(\d{1,10}):(\d{1,10})$/.exec(action.routeTarget);
      const asn = Number(m?.[1]);
      const value = Number(m?.[2]);
      if (!m || asn > 0xffffffff || value > 0xffffffff || (asn > 0xffff && value > 0xffff)) {
        throw invalid(
          'redirect route target',
          action.routeTarget,
          'expected ASN:NN with a 2-byte ASN or a 2-byte NN',
        );
      }
      // 0x8008: 2-octet AS + 4-octet value; 0x8208: 4-octet AS + 2-octet value.
      if (asn <= 0xffff) return `(generic, ${hex(0x80080000 + asn)}, ${hex(value)})`;
      return `(generic, ${hex(0x82080000 + (asn >>> 16))}, ${hex(((asn & 0xffff) << 16) | value)})`;
    }
    case 'mark':
      return `(generic, 0x80090000, ${hex(int('mark dscp', action.dscp, 63))})`;
    default: {
      const unknown: { type?: unknown } = action;
      throw invalid('action', String(unknown.type), 'expected discard, rate-limit, redirect or mark');
    }
  }
}

export interface BirdRouteText {
  /** The route's network as BIRD shows it: the key list() looks for. */
  network: string;
  /** The whole `route ...;` statement. */
  statement: string;
}

export function renderFlowRoute(intent: FlowSpecIntent): BirdRouteText {
  const network = renderFlowNetwork(intent.match, intent.ipVersion);
  return {
    network,
    statement: `route ${network} { bgp_ext_community.add(${renderFlowAction(intent.action)}); };`,
  };
}

function community(text: string): string {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  if (!m || Number(m[1]) > 0xffff || Number(m[2]) > 0xffff) {
    throw invalid('community', text, 'expected ASN:VALUE with both parts 0-65535');
  }
  return `(${Number(m[1])},${Number(m[2])})`;
}

/** RTBH: a blackhole static route carrying the communities and the BGP next hop to announce. */
export function renderBlackholeRoute(intent: BlackholeIntent): BirdRouteText {
  const network = prefix('RTBH prefix', intent.prefix, intent.ipVersion);
  const nextHop = address('RTBH next hop', intent.nextHop, intent.ipVersion);
  const attrs = [
    ...intent.communities.map((c) => `bgp_community.add(${community(c)});`),
    `bgp_next_hop = ${nextHop};`,
  ];
  return { network, statement: `route ${network} blackhole { ${attrs.join(' ')} };` };
}
