/**
 * What the detector reports: an attack on one target, from the moment it crosses a threshold
 * until it has stayed below for the hold-down. Plain data, so it can be stored, sent over the
 * API and replayed.
 */
import type { IpVersion } from '../net/address.js';

export const ATTACK_FAMILIES = [
  'udp_flood',
  'tcp_syn_flood',
  'tcp_ack_rst_flood',
  'icmp_flood',
  'fragment_flood',
  'gre_flood',
  'dns_amplification',
  'ntp_amplification',
  'memcached_amplification',
  'ssdp_amplification',
  'cldap_amplification',
  'chargen_amplification',
  'snmp_amplification',
  'carpet_bombing',
  'mixed',
] as const;
export type AttackFamily = (typeof ATTACK_FAMILIES)[number];

/** Well-known reflector source ports and the amplification family each one means. */
export const AMPLIFICATION_PORTS: Readonly<Record<number, AttackFamily>> = {
  53: 'dns_amplification',
  123: 'ntp_amplification',
  11211: 'memcached_amplification',
  1900: 'ssdp_amplification',
  389: 'cldap_amplification',
  19: 'chargen_amplification',
  161: 'snmp_amplification',
};

export interface Rates {
  /** Packets per second. */
  pps: number;
  /** Bits per second. */
  bps: number;
}

export interface Fingerprint {
  /** IP protocol numbers carrying most of the attack, largest share first. */
  protocols: number[];
  /** Reflector source ports (amplification) carrying most of the attack, largest share first. */
  sourcePorts: number[];
  /** Destination ports carrying most of the attack, largest share first (empty when unknown). */
  destinationPorts: number[];
  /** Share of packets that were TCP with SYN set and ACK clear, 0..1. */
  synShare: number;
  /** Mean packet size in bytes over the evaluation window. */
  meanPacketBytes: number;
}

export type IncidentState = 'open' | 'closed';

export interface Incident {
  /** Stable id, e.g. "inc-20261121T141900Z-203.0.113.5". */
  id: string;
  state: IncidentState;
  ipVersion: IpVersion;
  /** The attacked address as text ("203.0.113.5", "2001:db8::5"). */
  target: string;
  /** The monitored network whose thresholds fired, as configured ("203.0.113.0/24"). */
  network: string;
  family: AttackFamily;
  /** 0..1: how clearly the traffic matches the family. */
  confidence: number;
  /** How far over threshold it went: peak rate / threshold, on the metric that fired hardest. */
  severity: number;
  /** Which thresholds were crossed when the incident opened ("pps", "bps"). */
  triggers: string[];
  thresholds: Rates;
  current: Rates;
  peak: Rates;
  fingerprint: Fingerprint;
  openedAtMs: number;
  /** Last time the target was over a threshold. */
  lastOverAtMs: number;
  closedAtMs: number | null;
}

export type IncidentEvent =
  | { type: 'opened'; atMs: number; incident: Incident }
  | { type: 'updated'; atMs: number; incident: Incident }
  | { type: 'closed'; atMs: number; incident: Incident };
