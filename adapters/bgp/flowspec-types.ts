/**
 * The FlowSpec model every BGP adapter shares: an NLRI as typed values, one per RFC 8955/8956
 * component, close enough to the wire that encode/decode are exact inverses, and plain JSON so
 * it can sit in receipts and test fixtures.
 */
import type { IpVersion } from '../../core/net/address.js';

/** Component type codes (RFC 8955 section 4.2.2, RFC 8956 section 3). */
export const FLOWSPEC_TYPE = {
  destinationPrefix: 1,
  sourcePrefix: 2,
  /** IPv4: IP protocol; IPv6: the last next header (RFC 8956 section 3.3). */
  ipProtocol: 3,
  port: 4,
  destinationPort: 5,
  sourcePort: 6,
  icmpType: 7,
  icmpCode: 8,
  tcpFlags: 9,
  packetLength: 10,
  dscp: 11,
  fragment: 12,
  /** IPv6 only (RFC 8956 section 3.7). */
  flowLabel: 13,
} as const;

export type PrefixComponentType = 1 | 2;
export type NumericComponentType = 3 | 4 | 5 | 6 | 7 | 8 | 10 | 11 | 13;
export type BitmaskComponentType = 9 | 12;

/** Bytes a value may take on the wire, from the operator's len field. */
export type ValueLength = 1 | 2 | 4 | 8;

/**
 * One {operator, value} pair of a numeric component (`e a len len 0 lt gt eq`). The end-of-list
 * bit is not stored: the encoder sets it on the last term. `and` false ORs the term with the
 * result so far; the first term's `and` is always false on the wire (RFC 8955 section 4.2.1.1).
 * lt+gt+eq all false is "false", all true is "true" (GoBGP's constants for those are inverted:
 * never rely on them).
 */
export interface NumericTerm {
  and: boolean;
  lt: boolean;
  gt: boolean;
  eq: boolean;
  value: number;
  /** Value bytes; absent means the fewest that hold the value. Decoders set it only when wider. */
  length?: ValueLength;
}

/**
 * One {operator, value} pair of a bitmask component (`e a len len 0 0 not m`): with `match`,
 * (data AND value) == value; without, (data AND value) != 0; `not` negates either.
 */
export interface BitmaskTerm {
  and: boolean;
  not: boolean;
  match: boolean;
  value: number;
  length?: ValueLength;
}

export interface PrefixComponent {
  type: PrefixComponentType;
  /**
   * Canonical text with host bits clear, e.g. "203.0.113.0/24" or "::1234:5678:9a00:0/104".
   * With an IPv6 offset, the bits before the offset are "don't care" and must be zero here.
   */
  prefix: string;
  /** IPv6 only (RFC 8956 section 3.1): address bits skipped before matching starts; 0 for IPv4. */
  offset: number;
}

export interface NumericComponent {
  type: NumericComponentType;
  terms: NumericTerm[];
}

export interface BitmaskComponent {
  type: BitmaskComponentType;
  terms: BitmaskTerm[];
}

export type FlowSpecComponent = PrefixComponent | NumericComponent | BitmaskComponent;

/** One FlowSpec NLRI: components in strictly increasing type order, each at most once. */
export interface FlowSpecNlri {
  version: IpVersion;
  components: FlowSpecComponent[];
}

/** Fragment bitmask bits (RFC 8955 section 4.2.2.12); DF is not used for IPv6 (RFC 8956 3.6). */
export const FRAGMENT_BITS = {
  'dont-fragment': 0x01,
  'is-fragment': 0x02,
  'first-fragment': 0x04,
  'last-fragment': 0x08,
} as const;

export function isPrefixType(type: number): type is PrefixComponentType {
  return type === 1 || type === 2;
}

export function isBitmaskType(type: number): type is BitmaskComponentType {
  return type === 9 || type === 12;
}

/** Types a family knows: 1-12 for IPv4, 1-13 for IPv6; anything else makes the NLRI malformed. */
export function isKnownType(type: number, version: IpVersion): boolean {
  return Number.isInteger(type) && type >= 1 && type <= (version === 4 ? 12 : 13);
}
