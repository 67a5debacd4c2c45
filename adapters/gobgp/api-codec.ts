/**
 * The shared route model (adapters/bgp) as GoBGP 3.x API messages and back: the objects
 * @grpc/proto-loader encodes with our gobgp.proto, `google.protobuf.Any` values written as
 * `{ '@type': 'type.googleapis.com/apipb.X', ...fields }`.
 *
 * Traps handled here (see shared/reference/bgp-lab.md):
 * - a FlowSpec operator goes as the whole RFC 8955 operator byte, end-of-list bit included, taken
 *   from the shared encoder, never GoBGP's TRUE/FALSE constants (inverted against the RFC);
 * - a FlowSpec path must carry a next hop, given as MpReachNLRIAttribute with 0.0.0.0 or ::;
 * - action communities GoBGP has no message for (traffic-rate-packets) go as UnknownExtended
 *   holding the exact 8 bytes of the shared encoder.
 */
import { FloodgateError } from '../../core/errors.js';
import {
  formatAddressWords,
  formatPrefix,
  type IpVersion,
  parseAddress,
  parsePrefix,
} from '../../core/net/address.js';
import { toHex } from '../bgp/bytes.js';
import {
  decodeExtendedCommunity,
  type ExtendedCommunity,
  encodeExtendedCommunity,
} from '../bgp/extended-community.js';
import { encodeFlowSpecNlri } from '../bgp/flowspec-nlri.js';
import { bitmaskOperator, bitmaskTermOf, numericOperator, numericTermOf } from '../bgp/flowspec-operators.js';
import {
  type BitmaskTerm,
  type FlowSpecComponent,
  isBitmaskType,
  isKnownType,
  isPrefixType,
  type NumericComponentType,
  type NumericTerm,
} from '../bgp/flowspec-types.js';
import type { BgpRoute, BlackholeRoute, FlowSpecRoute } from '../bgp/routes.js';

const TYPE_PREFIX = 'type.googleapis.com/apipb.';

/** An Any as proto-loader reads and writes it with `json: true`. */
export interface ApiAny {
  '@type': string;
  [field: string]: unknown;
}

export interface ApiFamily {
  afi: 'AFI_IP' | 'AFI_IP6';
  safi: 'SAFI_UNICAST' | 'SAFI_FLOW_SPEC_UNICAST';
}

/** The Path fields the adapter writes and reads. */
export interface ApiPath {
  nlri: ApiAny;
  pattrs: ApiAny[];
  family: ApiFamily;
  is_withdraw?: boolean;
  neighbor_ip?: string;
  is_from_external?: boolean;
  age?: { seconds?: number; nanos?: number } | null;
}

export type FamilyName = 'ipv4-unicast' | 'ipv6-unicast' | 'ipv4-flowspec' | 'ipv6-flowspec';

export const FAMILIES: Readonly<Record<FamilyName, ApiFamily>> = {
  'ipv4-unicast': { afi: 'AFI_IP', safi: 'SAFI_UNICAST' },
  'ipv6-unicast': { afi: 'AFI_IP6', safi: 'SAFI_UNICAST' },
  'ipv4-flowspec': { afi: 'AFI_IP', safi: 'SAFI_FLOW_SPEC_UNICAST' },
  'ipv6-flowspec': { afi: 'AFI_IP6', safi: 'SAFI_FLOW_SPEC_UNICAST' },
};

function any(type: string, fields: Record<string, unknown>): ApiAny {
  return { '@type': `${TYPE_PREFIX}${type}`, ...fields };
}

function typeOf(value: ApiAny | undefined): string | undefined {
  const url = value?.['@type'];
  return typeof url === 'string' && url.startsWith(TYPE_PREFIX) ? url.slice(TYPE_PREFIX.length) : undefined;
}

export function familyName(route: BgpRoute): FamilyName {
  if (route.kind === 'flowspec') return route.nlri.version === 4 ? 'ipv4-flowspec' : 'ipv6-flowspec';
  return route.version === 4 ? 'ipv4-unicast' : 'ipv6-unicast';
}

/** A stable key for the NLRI (gobgpd identifies a local path by its NLRI alone). */
export function routeKey(route: BgpRoute): string {
  return route.kind === 'flowspec'
    ? `${familyName(route)} ${toHex(encodeFlowSpecNlri(route.nlri))}`
    : `${familyName(route)} ${route.prefix}`;
}

// ---- model -> API ----

function splitPrefix(text: string): { prefix: string; prefix_len: number } {
  const slash = text.lastIndexOf('/');
  return { prefix: text.slice(0, slash), prefix_len: Number(text.slice(slash + 1)) };
}

function componentAny(c: FlowSpecComponent): ApiAny {
  if ('prefix' in c)
    return any('FlowSpecIPPrefix', { type: c.type, ...splitPrefix(c.prefix), offset: c.offset });
  const bitmask = isBitmaskType(c.type);
  const items = c.terms.map((term, i) => {
    const first = i === 0;
    const last = i === c.terms.length - 1;
    const op = bitmask
      ? bitmaskOperator(term as BitmaskTerm, first, last, `GoBGP FlowSpec type ${c.type}`)
      : numericOperator(term as NumericTerm, first, last, `GoBGP FlowSpec type ${c.type}`);
    return { op, value: term.value };
  });
  return any('FlowSpecComponent', { type: c.type, items });
}

function nlriAny(route: BgpRoute): ApiAny {
  if (route.kind === 'flowspec')
    return any('FlowSpecNLRI', { rules: route.nlri.components.map(componentAny) });
  return any('IPAddressPrefix', splitPrefix(route.prefix));
}

export function extendedCommunityAny(c: ExtendedCommunity): ApiAny {
  switch (c.type) {
    case 'traffic-rate-bytes':
      return any('TrafficRateExtended', { asn: c.asn, rate: c.rate });
    case 'traffic-action':
      return any('TrafficActionExtended', { terminal: c.terminal, sample: c.sample });
    case 'redirect-as2':
      return any('RedirectTwoOctetAsSpecificExtended', { asn: c.asn, local_admin: c.value });
    case 'redirect-ipv4':
      return any('RedirectIPv4AddressSpecificExtended', { address: c.address, local_admin: c.value });
    case 'redirect-as4':
      return any('RedirectFourOctetAsSpecificExtended', { asn: c.asn, local_admin: c.value });
    case 'traffic-marking':
      return any('TrafficRemarkExtended', { dscp: c.dscp });
    default: {
      // The exact bytes of the shared encoder; GoBGP re-emits an UnknownExtended unchanged.
      const bytes = encodeExtendedCommunity(c);
      return any('UnknownExtended', { type: bytes[0], value: Buffer.from(bytes.subarray(1)) });
    }
  }
}

const ORIGIN_IGP = any('OriginAttribute', { origin: 0 });

/** The path AddPath announces. */
export function pathFor(route: BgpRoute): ApiPath {
  const family = FAMILIES[familyName(route)];
  const nlri = nlriAny(route);
  const pattrs: ApiAny[] = [ORIGIN_IGP];
  if (route.kind === 'flowspec') {
    const nextHop = route.nlri.version === 4 ? '0.0.0.0' : '::';
    pattrs.push(any('MpReachNLRIAttribute', { family, next_hops: [nextHop], nlris: [nlri] }));
    if (route.actions.length > 0) {
      pattrs.push(
        any('ExtendedCommunitiesAttribute', { communities: route.actions.map(extendedCommunityAny) }),
      );
    }
  } else {
    if (route.version === 4) pattrs.push(any('NextHopAttribute', { next_hop: route.nextHop }));
    else pattrs.push(any('MpReachNLRIAttribute', { family, next_hops: [route.nextHop], nlris: [nlri] }));
    if (route.communities.length > 0)
      pattrs.push(any('CommunitiesAttribute', { communities: route.communities }));
  }
  return { nlri, pattrs, family };
}

/** The path DeletePath withdraws: gobgpd finds the local path by family and NLRI. */
export function withdrawPathFor(route: BgpRoute): ApiPath {
  return { nlri: nlriAny(route), pattrs: [], family: FAMILIES[familyName(route)], is_withdraw: true };
}

// ---- API -> model ----

function malformed(what: string, value: unknown): FloodgateError {
  return new FloodgateError(
    'FG_ERR_WIRE_VALUE',
    `gobgpd returned ${what} this adapter cannot read: ${JSON.stringify(value)}`,
    {
      what,
    },
  );
}

function versionOf(family: ApiFamily | undefined): IpVersion | undefined {
  if (family?.afi === 'AFI_IP') return 4;
  if (family?.afi === 'AFI_IP6') return 6;
  return undefined;
}

function canonicalPrefix(prefix: unknown, length: unknown, version: IpVersion): string | undefined {
  const parsed = parsePrefix(`${String(prefix)}/${String(length)}`);
  return parsed && parsed.version === version ? formatPrefix(parsed) : undefined;
}

function canonicalAddress(text: string): string {
  const address = parseAddress(text);
  return address ? formatAddressWords(address.words) : text;
}

function componentOf(rule: ApiAny, version: IpVersion): FlowSpecComponent | undefined {
  const kind = typeOf(rule);
  const type = Number(rule.type);
  if (!isKnownType(type, version)) return undefined;
  if (kind === 'FlowSpecIPPrefix' && isPrefixType(type)) {
    const prefix = canonicalPrefix(rule.prefix, rule.prefix_len, version);
    if (prefix === undefined) return undefined;
    return { type, prefix, offset: Number(rule.offset ?? 0) };
  }
  if (kind !== 'FlowSpecComponent' || isPrefixType(type)) return undefined;
  const items = Array.isArray(rule.items) ? (rule.items as { op?: unknown; value?: unknown }[]) : [];
  if (items.length === 0) return undefined;
  const bitmask = isBitmaskType(type);
  const terms: (NumericTerm | BitmaskTerm)[] = [];
  for (const [i, item] of items.entries()) {
    const op = Number(item.op ?? 0);
    const value = Number(item.value ?? 0);
    if (!Number.isSafeInteger(value) || value < 0) return undefined;
    const term = bitmask ? bitmaskTermOf(op, value, i === 0) : numericTermOf(op, value, i === 0);
    if (!term) return undefined;
    terms.push(term);
  }
  return bitmask
    ? { type: type as 9 | 12, terms: terms as BitmaskTerm[] }
    : { type: type as NumericComponentType, terms: terms as NumericTerm[] };
}

export function extendedCommunityOf(value: ApiAny): ExtendedCommunity | undefined {
  const num = (v: unknown) => Number(v ?? 0);
  switch (typeOf(value)) {
    case 'TrafficRateExtended':
      return { type: 'traffic-rate-bytes', asn: num(value.asn), rate: num(value.rate) };
    case 'TrafficActionExtended':
      return { type: 'traffic-action', terminal: value.terminal === true, sample: value.sample === true };
    case 'RedirectTwoOctetAsSpecificExtended':
      return { type: 'redirect-as2', asn: num(value.asn), value: num(value.local_admin) };
    case 'RedirectIPv4AddressSpecificExtended':
      return { type: 'redirect-ipv4', address: String(value.address ?? ''), value: num(value.local_admin) };
    case 'RedirectFourOctetAsSpecificExtended':
      return { type: 'redirect-as4', asn: num(value.asn), value: num(value.local_admin) };
    case 'TrafficRemarkExtended':
      return { type: 'traffic-marking', dscp: num(value.dscp) };
    case 'UnknownExtended': {
      const rest = value.value;
      const bytes = typeof rest === 'string' ? Buffer.from(rest, 'base64') : (rest as Uint8Array | undefined);
      if (bytes?.length !== 7) return undefined;
      return decodeExtendedCommunity(new Uint8Array([num(value.type), ...bytes]));
    }
    default:
      return undefined;
  }
}

function attribute(path: ApiPath, type: string): ApiAny | undefined {
  return path.pattrs.find((a) => typeOf(a) === type);
}

/**
 * The route a path holds, or undefined when it is not a FlowSpec or unicast path of a shape the
 * model can hold (then it is not one of ours). Throws FG_ERR_WIRE_VALUE only for a path whose
 * family it cannot even tell.
 */
export function routeOfPath(path: ApiPath): BgpRoute | undefined {
  const version = versionOf(path.family);
  if (version === undefined) throw malformed('a path of an unknown family', path.family);
  const nlriType = typeOf(path.nlri);
  if (nlriType === 'FlowSpecNLRI' && path.family.safi === 'SAFI_FLOW_SPEC_UNICAST') {
    const rules = Array.isArray(path.nlri.rules) ? (path.nlri.rules as ApiAny[]) : [];
    const components: FlowSpecComponent[] = [];
    for (const rule of rules) {
      const c = componentOf(rule, version);
      if (!c) return undefined;
      components.push(c);
    }
    components.sort((a, b) => a.type - b.type);
    const ext = attribute(path, 'ExtendedCommunitiesAttribute');
    const actions: ExtendedCommunity[] = [];
    for (const c of (ext?.communities as ApiAny[] | undefined) ?? []) {
      const action = extendedCommunityOf(c);
      if (!action) return undefined;
      actions.push(action);
    }
    const route: FlowSpecRoute = { kind: 'flowspec', nlri: { version, components }, actions };
    return route;
  }
  if (nlriType === 'IPAddressPrefix' && path.family.safi === 'SAFI_UNICAST') {
    const prefix = canonicalPrefix(path.nlri.prefix, path.nlri.prefix_len, version);
    const mpReach = attribute(path, 'MpReachNLRIAttribute');
    const nextHop =
      version === 4
        ? attribute(path, 'NextHopAttribute')?.next_hop
        : (mpReach?.next_hops as string[] | undefined)?.[0];
    if (prefix === undefined || typeof nextHop !== 'string') return undefined;
    const communities = (attribute(path, 'CommunitiesAttribute')?.communities as number[] | undefined) ?? [];
    const route: BlackholeRoute = {
      kind: 'rtbh',
      version,
      prefix,
      nextHop: canonicalAddress(nextHop),
      communities: [...new Set(communities.map(Number))].sort((a, b) => a - b),
    };
    return route;
  }
  return undefined;
}
