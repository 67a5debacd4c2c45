/**
 * Mitigation intents: what core decided should be in place, as plain data. Adapters render
 * them to their own syntax; they never change what an intent means.
 *
 * Four kinds, one per response tier: a host firewall rule on the attacked node, a FlowSpec rule,
 * an RTBH route, and the diversion of the covering prefix to a scrubbing provider.
 */
import type { AttackFamily, SeverityLevel } from '../incident/incident.js';
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
  /**
   * The upstream (mitigation.rtbh.upstreams[].name) whose communities and next hop this route
   * carries; absent when one route with the global communities serves every upstream.
   */
  upstream?: string;
}

/**
 * What the firewall on the attacked node does (the node adapter maps each to iptables, nftables,
 * ipset, tc...): drop listed sources, drop one protocol (optionally only some ports), or limit
 * the packet rate towards the target.
 */
export type FirewallAction =
  | { type: 'drop-source'; sources: string[] }
  | { type: 'drop-protocol'; protocol: number; sourcePorts?: number[]; destinationPorts?: number[] }
  | { type: 'rate-limit'; packetsPerSecond: number; protocol?: number; synOnly?: boolean };

/**
 * The incident as node firewall rules see it: what their triggers test and what fills the
 * parameters a rule leaves to the attack. Not part of the intent's id (two incidents on one host
 * still share one intent); a snapshot taken when the tier fired.
 */
export interface FirewallIncidentFacts {
  family: AttackFamily;
  /** Peak rate / threshold on the metric that fired hardest. */
  severity: number;
  severityLevel?: SeverityLevel;
  /** Peak packets and bits per second so far. */
  pps: number;
  bps: number;
  /** Top source addresses, largest first. */
  sources: string[];
  /** Reflector source ports, largest share first. */
  sourcePorts: number[];
  destinationPorts: number[];
  protocols: number[];
}

export interface FirewallIntent {
  kind: 'firewall';
  id: string;
  incidentId: string;
  ipVersion: IpVersion;
  /** The attacked host whose own firewall gets the rule: always /32 or /128. */
  target: string;
  action: FirewallAction;
  facts?: FirewallIncidentFacts;
}

export interface ScrubbingIntent {
  kind: 'scrubbing';
  id: string;
  incidentId: string;
  ipVersion: IpVersion;
  /** The covering prefix diverted to the scrubbing provider (default the /24 or /48). */
  prefix: string;
  /** Next hop towards the scrubbing centre for providers diverted by BGP; absent: the speaker's own. */
  nextHop?: string;
  /** Communities the provider asks for on the diversion announcement. */
  communities: string[];
}

export type MitigationIntent = FlowSpecIntent | BlackholeIntent | FirewallIntent | ScrubbingIntent;
export type IntentKind = MitigationIntent['kind'];

/** Every kind, in tier order (firewall is tier 1, scrubbing tier 4). */
export const INTENT_KINDS = [
  'firewall',
  'flowspec',
  'rtbh',
  'scrubbing',
] as const satisfies readonly IntentKind[];

/** An intent the safety guards refused, kept so it can be reported and audited. */
export interface RefusedIntent {
  intent: MitigationIntent;
  code: string;
  reason: string;
}
