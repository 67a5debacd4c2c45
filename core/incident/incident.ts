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
  'rpcbind_amplification',
  'ws_discovery_amplification',
  'dvr_amplification',
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
  /** portmap / rpcbind answering DUMP requests. */
  111: 'rpcbind_amplification',
  /** WS-Discovery (ONVIF cameras, printers) answering probes. */
  3702: 'ws_discovery_amplification',
  /** DHDiscover, the discovery service of many DVRs and IP cameras. */
  37810: 'dvr_amplification',
};

export interface Rates {
  /** Packets per second. */
  pps: number;
  /** Bits per second. */
  bps: number;
}

/** An address and the packets seen from (or to) it; counts are lower bounds (space-saving). */
export interface AddressPackets {
  address: string;
  packets: number;
}

/** Whether the attack's source addresses look forged, and why. */
export interface SpoofingAssessment {
  likely: boolean;
  /** Share of packets from bogon sources (reserved, private, documentation, multicast). */
  bogonShare: number;
  /** Packets per distinct source over the breakdown window (after sampling is scaled up). */
  packetsPerSource: number;
  /** The rule that decided, in words. */
  reason: string;
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
  /** Share of packets per traffic class (tcp, udp, icmp, gre, other, syn, ackRst, fragment, amplification). */
  shares?: Record<string, number>;
  /** Top source addresses (from the target's focus slot; absent when it had none). */
  topSources?: AddressPackets[];
  /** Top source ports of TCP and UDP, any port (focus slot). */
  topSourcePorts?: number[];
  /** Most frequent TCP flag combinations ("S", "A", "AR", letters of CEUAPRSF) with their share of TCP packets. */
  tcpFlags?: { flags: string; share: number }[];
  /**
   * Packet sizes in bytes (IP length, each flow record's mean): [p10, p90] is a range holding at
   * least 80% of the attack's packets (bucket edges, safe for a packet-length filter), p50 the
   * middle of the median's bucket. 32-byte buckets when the target was watched closely, else
   * coarse ones (0-64, 65-128, 129-256, 257-512, 513-1024, 1025-1500, above).
   */
  packetSizes?: { p10: number; p50: number; p90: number };
  /** Estimated distinct source addresses. */
  distinctSources?: number;
  spoofing?: SpoofingAssessment;
  /** Carpet bombing and outbound incidents: estimated distinct destination hosts hit, and the most hit ones. */
  distinctTargets?: number;
  topTargets?: AddressPackets[];
}

/** How much raw evidence an incident rests on: the evidence guard. */
export interface Evidence {
  /** Flow records behind the breakdown window. */
  records: number;
  /** Packets as the exporters reported them, before scaling by the sampling rate. */
  sampledPackets: number;
  /** Effective sampling rate: scaled packets / sampled packets (1 = unsampled). */
  samplingRate: number;
  /** False when records or sampled packets are below the configured minimum. */
  sufficient: boolean;
  /** Why the evidence is thin, when it is. */
  note?: string;
}

export type SeverityLevel = 'low' | 'medium' | 'high' | 'critical';

export type TrafficDirection = 'inbound' | 'outbound';

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
  /** Which rules were crossed when the incident opened ("pps", "bps", "flows", "syn.pps", "dynamic.bps", "totals.pps"). */
  triggers: string[];
  thresholds: Rates;
  current: Rates;
  peak: Rates;
  fingerprint: Fingerprint;
  openedAtMs: number;
  /** Last time the target was over a threshold. */
  lastOverAtMs: number;
  closedAtMs: number | null;
  /** A host, or a whole prefix (carpet bombing: `target` is then "203.0.113.0/24"). */
  targetKind?: 'host' | 'prefix';
  /**
   * Inbound: the target receives the attack (absent means inbound). Outbound: the target, a host
   * of the monitored networks, sends it (a compromised server, a service of ours abused as a
   * reflector); its triggers are named "outbound.pps" etc. and the fingerprint's `topTargets`
   * and `distinctTargets` name whom it hits.
   */
  direction?: TrafficDirection;
  /** `severity` against the configured levels. */
  severityLevel?: SeverityLevel;
  /** The attack's components with their share of packets, largest first (what "mixed" and carpet bombing are made of). */
  vectors?: { family: AttackFamily; share: number }[];
  /** The threshold behind each trigger ("syn.pps": 1000, "dynamic.pps": 31000). */
  triggerThresholds?: Record<string, number>;
  /** Flow records per second: now, at the peak, and the whole-traffic flows threshold (0 = none). */
  flows?: { current: number; peak: number; threshold: number };
  evidence?: Evidence;
  /** Times the target went over again while the incident was in its hold-down. */
  retriggers?: number;
}

export type IncidentEvent =
  | { type: 'opened'; atMs: number; incident: Incident }
  | { type: 'updated'; atMs: number; incident: Incident }
  | { type: 'closed'; atMs: number; incident: Incident };
