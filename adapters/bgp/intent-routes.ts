/**
 * From our intents (core/mitigation/intent.ts) to the shared route model and back.
 *
 * Forward, every FlowSpec match field becomes the component RFC 8955 defines for it, in type
 * order: ports and protocols as OR-ed `=` terms in ascending order, the packet-length range as
 * `=`, `<=`, `>=` or `>=&<=`, TCP flags as a "all set" term and a "none set" term AND-ed, a
 * fragment as one bitmask term. The terms use the same operators ExaBGP's text renderer writes,
 * so the same intent reaches a router as the same bytes through every adapter.
 *
 * Backward, a route read from a speaker becomes intent content only when it has exactly the
 * shape the forward mapping produces; anything else (another tool's route, an operator's
 * static) maps to undefined, so an adapter never claims a route it did not write.
 */
import { FloodgateError } from '../../core/errors.js';
import type {
  BlackholeIntent,
  FlowSpecAction,
  FlowSpecIntent,
  FlowSpecMatch,
  NumericRange,
} from '../../core/mitigation/intent.js';
import type { BlackholeContent, FlowSpecContent, IntentContent } from '../../core/mitigation/intent-id.js';
import {
  formatAddressWords,
  formatPrefix,
  type IpVersion,
  parseAddress,
  parsePrefix,
} from '../../core/net/address.js';
import { unencodable } from './bytes.js';
import { formatCommunity, parseCommunity } from './community.js';
import type { ExtendedCommunity } from './extended-community.js';
import { numeric } from './flowspec-operators.js';
import {
  type BitmaskTerm,
  FLOWSPEC_TYPE,
  type FlowSpecComponent,
  FRAGMENT_BITS,
  type NumericComponentType,
  type NumericTerm,
} from './flowspec-types.js';
import type { BgpRoute, BlackholeRoute, FlowSpecRoute } from './routes.js';

const TCP_FLAGS_ALL = 0x1ff;
const MAX_PACKET_LENGTH = 65535;

function checkedInteger(what: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw unencodable(what, value, `expected an integer 0-${max}`);
  return value;
}

function canonicalPrefix(what: string, text: string, version: IpVersion): string {
  const prefix = parsePrefix(text);
  if (!prefix || prefix.version !== version) {
    throw unencodable(what, text, `expected an IPv${version} prefix with its host bits clear`);
  }
  return formatPrefix(prefix);
}

function canonicalAddress(what: string, text: string, version: IpVersion): string {
  const address = parseAddress(text);
  if (!address || address.version !== version)
    throw unencodable(what, text, `expected an IPv${version} address`);
  return formatAddressWords(address.words);
}

function sortedUnique(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

function equalsTerms(what: string, values: readonly number[], max: number): NumericTerm[] {
  return sortedUnique(values).map((v) => numeric.eq(checkedInteger(what, v, max)));
}

function packetLengthTerms(range: NumericRange): NumericTerm[] {
  const min = checkedInteger('packet-length min', range.min, MAX_PACKET_LENGTH);
  const max = checkedInteger('packet-length max', range.max, MAX_PACKET_LENGTH);
  if (min > max) throw unencodable('packet-length', `${min}-${max}`, 'min must not exceed max');
  if (min === max) return [numeric.eq(min)];
  if (min === 0) return [numeric.le(max)];
  if (max === MAX_PACKET_LENGTH) return [numeric.ge(min)];
  return [numeric.ge(min), numeric.le(max, true)];
}

/** Flags that must all be set (match bit only when several), AND flags that must all be clear. */
function tcpFlagTerms(set: number, clear: number): BitmaskTerm[] {
  checkedInteger('tcp-flags set', set, TCP_FLAGS_ALL);
  checkedInteger('tcp-flags clear', clear, TCP_FLAGS_ALL);
  if ((set & clear) !== 0)
    throw unencodable('tcp-flags', { set, clear }, 'a flag cannot be both set and clear');
  const terms: BitmaskTerm[] = [];
  if (set !== 0) terms.push({ and: false, not: false, match: (set & (set - 1)) !== 0, value: set });
  if (clear !== 0) terms.push({ and: terms.length > 0, not: true, match: false, value: clear });
  return terms;
}

/** The components of a match, in type order. */
export function flowSpecComponents(match: FlowSpecMatch, version: IpVersion): FlowSpecComponent[] {
  const out: FlowSpecComponent[] = [
    {
      type: FLOWSPEC_TYPE.destinationPrefix,
      prefix: canonicalPrefix('FlowSpec destination', match.destination, version),
      offset: 0,
    },
  ];
  if (match.source !== undefined) {
    out.push({
      type: FLOWSPEC_TYPE.sourcePrefix,
      prefix: canonicalPrefix('FlowSpec source', match.source, version),
      offset: 0,
    });
  }
  if (match.protocols !== undefined && match.protocols.length > 0) {
    out.push({ type: FLOWSPEC_TYPE.ipProtocol, terms: equalsTerms('protocol', match.protocols, 255) });
  }
  if (match.destinationPorts !== undefined && match.destinationPorts.length > 0) {
    out.push({
      type: FLOWSPEC_TYPE.destinationPort,
      terms: equalsTerms('destination port', match.destinationPorts, 65535),
    });
  }
  if (match.sourcePorts !== undefined && match.sourcePorts.length > 0) {
    out.push({ type: FLOWSPEC_TYPE.sourcePort, terms: equalsTerms('source port', match.sourcePorts, 65535) });
  }
  const set = match.tcpFlagsSet ?? 0;
  const clear = match.tcpFlagsClear ?? 0;
  if (set !== 0 || clear !== 0) out.push({ type: FLOWSPEC_TYPE.tcpFlags, terms: tcpFlagTerms(set, clear) });
  if (match.packetLength !== undefined) {
    out.push({ type: FLOWSPEC_TYPE.packetLength, terms: packetLengthTerms(match.packetLength) });
  }
  if (match.fragment !== undefined) {
    const bit = FRAGMENT_BITS[match.fragment];
    if (bit === undefined)
      throw unencodable('fragment', match.fragment, Object.keys(FRAGMENT_BITS).join(', '));
    if (version === 6 && match.fragment === 'dont-fragment') {
      throw unencodable('fragment', match.fragment, 'IPv6 has no DF bit (RFC 8956 section 3.6)');
    }
    out.push({ type: FLOWSPEC_TYPE.fragment, terms: [{ and: false, not: false, match: false, value: bit }] });
  }
  return out;
}

/** "ASN:NN" (2- or 4-byte ASN) or "a.b.c.d:NN" as the redirect extended community. */
export function redirectCommunity(routeTarget: string): ExtendedCommunity {
  const ip = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(routeTarget);
  if (ip) {
    const value = Number(ip[2]);
    if (parseAddress(ip[1]!)?.version === 4 && value <= 0xffff) {
      return { type: 'redirect-ipv4', address: ip[1]!, value };
    }
  }
  const as = /^(\d{1,10}):(\d{1,10})$/.exec(routeTarget);
  const asn = Number(as?.[1]);
  const value = Number(as?.[2]);
  if (as && asn <= 0xffff && value <= 0xffffffff) return { type: 'redirect-as2', asn, value };
  if (as && asn <= 0xffffffff && value <= 0xffff) return { type: 'redirect-as4', asn, value };
  throw unencodable(
    'redirect route target',
    routeTarget,
    'expected ASN:NN (2-byte ASN with a 4-byte NN, or 4-byte ASN with a 2-byte NN) or IPv4:NN',
  );
}

/** The extended communities that carry an action (RFC 8955 section 7). */
export function actionCommunities(action: FlowSpecAction): ExtendedCommunity[] {
  switch (action.type) {
    case 'discard':
      return [{ type: 'traffic-rate-bytes', asn: 0, rate: 0 }];
    case 'rate-limit': {
      const rate = action.bytesPerSecond;
      if (!Number.isFinite(rate) || rate <= 0 || Math.fround(rate) === Number.POSITIVE_INFINITY) {
        throw unencodable(
          'rate-limit bytes/s',
          rate,
          'expected a positive rate that fits an IEEE-754 single',
        );
      }
      return [{ type: 'traffic-rate-bytes', asn: 0, rate }];
    }
    case 'redirect':
      return [redirectCommunity(action.routeTarget)];
    case 'mark':
      return [{ type: 'traffic-marking', dscp: checkedInteger('mark DSCP', action.dscp, 63) }];
    default: {
      const unknown: { type?: unknown } = action;
      throw unencodable('FlowSpec action', unknown.type, 'expected discard, rate-limit, redirect or mark');
    }
  }
}

export function flowSpecRouteFor(
  intent: Pick<FlowSpecIntent, 'ipVersion' | 'match' | 'action'>,
): FlowSpecRoute {
  return {
    kind: 'flowspec',
    nlri: { version: intent.ipVersion, components: flowSpecComponents(intent.match, intent.ipVersion) },
    actions: actionCommunities(intent.action),
  };
}

export function blackholeRouteFor(
  intent: Pick<BlackholeIntent, 'ipVersion' | 'prefix' | 'nextHop' | 'communities'>,
): BlackholeRoute {
  const prefix = parsePrefix(intent.prefix);
  const host = intent.ipVersion === 4 ? 32 : 128;
  if (!prefix || prefix.version !== intent.ipVersion || prefix.length !== host) {
    throw unencodable('RTBH prefix', intent.prefix, `expected an IPv${intent.ipVersion} /${host}`);
  }
  return {
    kind: 'rtbh',
    version: intent.ipVersion,
    prefix: formatPrefix(prefix),
    nextHop: canonicalAddress('RTBH next hop', intent.nextHop, intent.ipVersion),
    communities: sortedUnique(intent.communities.map(parseCommunity)),
  };
}

/** The route for a FlowSpec or RTBH intent; other kinds have no BGP route of this model. */
export function routeFor(intent: FlowSpecIntent | BlackholeIntent): BgpRoute {
  return intent.kind === 'flowspec' ? flowSpecRouteFor(intent) : blackholeRouteFor(intent);
}

// ---- backward: route -> intent content ----

function isEqualsOnly(terms: readonly NumericTerm[]): boolean {
  return terms.every((t) => !t.and && t.eq && !t.lt && !t.gt);
}

function rangeOf(terms: readonly NumericTerm[]): NumericRange | undefined {
  const [a, b] = terms;
  const is = (t: NumericTerm | undefined, lt: boolean, gt: boolean, eq: boolean) =>
    t !== undefined && t.lt === lt && t.gt === gt && t.eq === eq;
  if (terms.length === 1 && a) {
    if (is(a, false, false, true)) return { min: a.value, max: a.value };
    if (is(a, true, false, true)) return { min: 0, max: a.value };
    if (is(a, false, true, true)) return { min: a.value, max: MAX_PACKET_LENGTH };
  }
  if (terms.length === 2 && a && b && is(a, false, true, true) && is(b, true, false, true) && b.and) {
    return { min: a.value, max: b.value };
  }
  return undefined;
}

function tcpFlagsOf(terms: readonly BitmaskTerm[]): { set: number; clear: number } | undefined {
  let set = 0;
  let clear = 0;
  for (const [i, t] of terms.entries()) {
    if (!t.not && set === 0 && clear === 0 && i === 0 && (t.match || (t.value & (t.value - 1)) === 0)) {
      set = t.value;
    } else if (t.not && !t.match && clear === 0 && (i === 0 || t.and)) {
      clear = t.value;
    } else {
      return undefined;
    }
  }
  return set === 0 && clear === 0 ? undefined : { set, clear };
}

function actionOf(actions: readonly ExtendedCommunity[]): FlowSpecAction | undefined {
  if (actions.length !== 1) return undefined;
  const a = actions[0]!;
  switch (a.type) {
    case 'traffic-rate-bytes':
      return a.rate === 0 ? { type: 'discard' } : { type: 'rate-limit', bytesPerSecond: a.rate };
    case 'redirect-as2':
    case 'redirect-as4':
      return { type: 'redirect', routeTarget: `${a.asn}:${a.value}` };
    case 'redirect-ipv4':
      return { type: 'redirect', routeTarget: `${a.address}:${a.value}` };
    case 'traffic-marking':
      return { type: 'mark', dscp: a.dscp };
    default:
      return undefined;
  }
}

const FRAGMENT_BY_BIT = new Map<number, FlowSpecMatch['fragment']>(
  Object.entries(FRAGMENT_BITS).map(([name, bit]) => [bit, name as FlowSpecMatch['fragment']]),
);

function matchOf(route: FlowSpecRoute): FlowSpecMatch | undefined {
  let destination: string | undefined;
  const match: Omit<FlowSpecMatch, 'destination'> = {};
  for (const c of route.nlri.components) {
    if ('prefix' in c) {
      if (c.offset !== 0) return undefined;
      if (c.type === FLOWSPEC_TYPE.destinationPrefix) destination = c.prefix;
      else match.source = c.prefix;
      continue;
    }
    if (c.type === FLOWSPEC_TYPE.tcpFlags) {
      const flags = tcpFlagsOf(c.terms as BitmaskTerm[]);
      if (!flags) return undefined;
      if (flags.set !== 0) match.tcpFlagsSet = flags.set;
      if (flags.clear !== 0) match.tcpFlagsClear = flags.clear;
      continue;
    }
    if (c.type === FLOWSPEC_TYPE.fragment) {
      const [t, ...rest] = c.terms as BitmaskTerm[];
      const name = t && !t.not ? FRAGMENT_BY_BIT.get(t.value) : undefined;
      if (rest.length > 0 || !name) return undefined;
      match.fragment = name;
      continue;
    }
    const terms = c.terms as NumericTerm[];
    const type: NumericComponentType = c.type;
    if (type === FLOWSPEC_TYPE.packetLength) {
      const range = rangeOf(terms);
      if (!range) return undefined;
      match.packetLength = range;
      continue;
    }
    if (!isEqualsOnly(terms)) return undefined;
    const values = terms.map((t) => t.value);
    if (type === FLOWSPEC_TYPE.ipProtocol) match.protocols = values;
    else if (type === FLOWSPEC_TYPE.destinationPort) match.destinationPorts = values;
    else if (type === FLOWSPEC_TYPE.sourcePort) match.sourcePorts = values;
    else return undefined;
  }
  return destination === undefined ? undefined : { destination, ...match };
}

/** The intent content a FlowSpec route says, or undefined when it is not a route we write. */
export function flowSpecContentOf(route: FlowSpecRoute): FlowSpecContent | undefined {
  const match = matchOf(route);
  const action = actionOf(route.actions);
  if (!match || !action) return undefined;
  return { kind: 'flowspec', ipVersion: route.nlri.version, match, action };
}

export function blackholeContentOf(route: BlackholeRoute): BlackholeContent | undefined {
  const prefix = parsePrefix(route.prefix);
  if (!prefix || prefix.length !== (route.version === 4 ? 32 : 128)) return undefined;
  return {
    kind: 'rtbh',
    ipVersion: route.version,
    prefix: route.prefix,
    nextHop: route.nextHop,
    communities: route.communities.map(formatCommunity),
  };
}

export function contentOf(route: BgpRoute): IntentContent | undefined {
  return route.kind === 'flowspec' ? flowSpecContentOf(route) : blackholeContentOf(route);
}

/** Throws FG_ERR_ADAPTER_CAPABILITY for intent kinds that have no BGP route of this model. */
export function requireBgpKind(
  adapter: string,
  intent: { kind: string; id: string },
): asserts intent is FlowSpecIntent | BlackholeIntent {
  if (intent.kind === 'flowspec' || intent.kind === 'rtbh') return;
  throw new FloodgateError(
    'FG_ERR_ADAPTER_CAPABILITY',
    `adapter "${adapter}" announces FlowSpec and RTBH routes; ${intent.kind} intent ${intent.id} has no such form`,
    { adapter, intentId: intent.id, kind: intent.kind },
  );
}
