/**
 * Mitigation intents: what core decided should be in place, as plain data. Adapters render
 * them to their own syntax; they never change what an intent means.
 */
import type { IpVersion } from '../net/address.js';

/** A numeric FlowSpec match: a list of ranges OR-ed together (RFC 8955 numeric operators). */
export interface NumericRange {
  min: number;
  max: number;
}

export interface FlowSpecMatch {
  /** Destination prefix, e.g. "203.0.113.5/32" or "2001:db8::5/128". */
  destination: string;
  source?: string;
  /** IP protocol numbers (IPv6: last next header). */
  protocols?: number[];
  sourcePorts?: number[];
  destinationPorts?: number[];
  packetLength?: NumericRange;
  /** TCP flags that must be set (bit values as in the TCP header, e.g. SYN = 0x02). */
  tcpFlagsSet?: number;
  /** TCP flags that must be clear. */
  tcpFlagsClear?: number;
  fragment?: 'is-fragment' | 'first-fragment' | 'last-fragment' | 'dont-fragment';
}

export type FlowSpecAction =
  | { type: 'discard' }
  | { type: 'rate-limit'; bytesPerSecond: number }
  | { type: 'redirect'; routeTarget: string }
  | { type: 'mark'; dscp: number };

export interface FlowSpecIntent {
  kind: 'flowspec';
  /** Deterministic id from the intent's content: equal intents have equal ids. */
  id: string;
  incidentId: string;
  ipVersion: IpVersion;
  match: FlowSpecMatch;
  action: FlowSpecAction;
}

export interface BlackholeIntent {
  kind: 'rtbh';
  id: string;
  incidentId: string;
  ipVersion: IpVersion;
  /** Always a host prefix: /32 or /128. */
  prefix: string;
  nextHop: string;
  /** Standard communities "ASN:VALUE", e.g. "65535:666" (RFC 7999 BLACKHOLE). */
  communities: string[];
}

export type MitigationIntent = FlowSpecIntent | BlackholeIntent;
export type IntentKind = MitigationIntent['kind'];

/** An intent the safety guards refused, kept so it can be reported and audited. */
export interface RefusedIntent {
  intent: MitigationIntent;
  code: string;
  reason: string;
}
