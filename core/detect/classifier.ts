/**
 * Names the attack from what a target's traffic is made of, and describes it (the fingerprint
 * the planner turns into FlowSpec). Rules, in order, each on shares of the target's packets over
 * the breakdown window (DOMINANT = 0.5):
 *
 * 1. UDP dominates and one reflector source port carries a dominant share of the UDP packets:
 *    that port's amplification family (AMPLIFICATION_PORTS: DNS, NTP, memcached, SSDP, CLDAP,
 *    chargen, SNMP, rpcbind, WS-Discovery, DVR discovery).
 * 2. Fragments dominate: fragment_flood (before the protocol rules, because a fragment flood is
 *    mostly UDP or ICMP and a per-protocol rule would hide what makes it filterable).
 * 3. TCP dominates: tcp_syn_flood when SYN-without-ACK dominates the TCP packets,
 *    tcp_ack_rst_flood when ACK/RST-only (no SYN, FIN or PSH) does, else mixed.
 * 4. UDP dominates: udp_flood. 5. ICMP: icmp_flood. 6. GRE: gre_flood.
 * 7. Otherwise mixed.
 *
 * Confidence is the share of all packets the family explains (for amplification: the reflector
 * port's packets; for a SYN flood: the SYN-only packets); for mixed, 1 - the largest protocol
 * share, i.e. how far the traffic is from having any dominant kind.
 *
 * Vectors are the components with at least FINGERPRINT_MIN_SHARE of the packets: each
 * amplification port, SYN-only, ACK/RST-only, fragments, the rest of UDP, ICMP and GRE.
 *
 * Spoofing: the sources look forged when at least half of the packets come from bogons, or,
 * unless the traffic is reflected (reflectors are real hosts: the victim's address was what was
 * forged), when there are at least SPOOF_MIN_SOURCES distinct sources sending at most
 * SPOOF_MAX_PACKETS_PER_SOURCE packets each over the window (random forged sources rarely
 * repeat; bots do).
 */
import type {
  AddressPackets,
  AttackFamily,
  Fingerprint,
  Rates,
  SpoofingAssessment,
} from '../incident/incident.js';
import { AMPLIFICATION_PORTS } from '../incident/incident.js';
import type { IpVersion } from '../net/address.js';
import {
  IPPROTO_GRE,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SIZE_BUCKET_LIMITS,
  type TrafficBreakdown,
} from '../traffic/breakdown.js';
import type { FocusReport } from '../traffic/focus.js';

/** A share at or above this decides a rule. */
export const DOMINANT_SHARE = 0.5;
/** Protocols, ports and vectors under this share of packets are left out of the fingerprint. */
export const FINGERPRINT_MIN_SHARE = 0.1;
export const SPOOF_MIN_SOURCES = 1000;
export const SPOOF_MAX_PACKETS_PER_SOURCE = 3;
const FINGERPRINT_MAX_PORTS = 4;
const FINGERPRINT_MAX_SOURCES = 8;

export interface Classification {
  family: AttackFamily;
  /** 0..1, see the rules above. */
  confidence: number;
  fingerprint: Fingerprint;
  vectors: { family: AttackFamily; share: number }[];
}

/**
 * Classifies a target's traffic. `focus` (when the target had a focus slot) adds top sources,
 * source ports, TCP flags and finer packet sizes.
 */
export function classify(
  breakdown: TrafficBreakdown,
  ipVersion: IpVersion,
  meanPacketBytes: number,
  focus?: FocusReport,
): Classification {
  const fingerprint = fingerprintOf(breakdown, ipVersion, meanPacketBytes, focus);
  const decided = decide(breakdown);
  return {
    family: decided.family,
    confidence: round3(decided.confidence),
    fingerprint,
    vectors: vectorsOf(breakdown),
  };
}

function decide(b: TrafficBreakdown): { family: AttackFamily; confidence: number } {
  const total = b.packets;
  if (!(total > 0)) return { family: 'mixed', confidence: 0 };
  const share = (n: number) => n / total;

  const reflector = b.udpReflectorPorts[0];
  if (share(b.udp) >= DOMINANT_SHARE && reflector && reflector.packets / b.udp >= DOMINANT_SHARE) {
    const family = AMPLIFICATION_PORTS[reflector.port];
    if (family) return { family, confidence: share(reflector.packets) };
  }
  if (share(b.fragments) >= DOMINANT_SHARE)
    return { family: 'fragment_flood', confidence: share(b.fragments) };
  if (share(b.tcp) >= DOMINANT_SHARE) {
    if (b.tcpSynOnly / b.tcp >= DOMINANT_SHARE)
      return { family: 'tcp_syn_flood', confidence: share(b.tcpSynOnly) };
    if (b.tcpAckRstOnly / b.tcp >= DOMINANT_SHARE) {
      return { family: 'tcp_ack_rst_flood', confidence: share(b.tcpAckRstOnly) };
    }
    return { family: 'mixed', confidence: 1 - share(b.tcp) };
  }
  if (share(b.udp) >= DOMINANT_SHARE) return { family: 'udp_flood', confidence: share(b.udp) };
  if (share(b.icmp) >= DOMINANT_SHARE) return { family: 'icmp_flood', confidence: share(b.icmp) };
  if (share(b.gre) >= DOMINANT_SHARE) return { family: 'gre_flood', confidence: share(b.gre) };
  const largest = Math.max(b.tcp, b.udp, b.icmp, b.gre, b.other);
  return { family: 'mixed', confidence: 1 - share(largest) };
}

function vectorsOf(b: TrafficBreakdown): { family: AttackFamily; share: number }[] {
  const total = b.packets;
  if (!(total > 0)) return [];
  const parts: { family: AttackFamily; packets: number }[] = [];
  let amplified = 0;
  for (const { port, packets } of b.udpReflectorPorts) {
    const family = AMPLIFICATION_PORTS[port];
    if (!family) continue;
    parts.push({ family, packets });
    amplified += packets;
  }
  parts.push({ family: 'tcp_syn_flood', packets: b.tcpSynOnly });
  parts.push({ family: 'tcp_ack_rst_flood', packets: b.tcpAckRstOnly });
  parts.push({ family: 'fragment_flood', packets: b.fragments });
  // Fragments are mostly UDP: count them once.
  parts.push({ family: 'udp_flood', packets: Math.max(0, b.udp - amplified - b.fragments) });
  parts.push({ family: 'icmp_flood', packets: b.icmp });
  parts.push({ family: 'gre_flood', packets: b.gre });
  return parts
    .map((p) => ({ family: p.family, share: round3(p.packets / total) }))
    .filter((p) => p.share >= FINGERPRINT_MIN_SHARE)
    .sort((x, y) => y.share - x.share);
}

const FLAG_LETTERS = 'CEUAPRSF';

/** TCP flags as letters, high bit first: 0x02 "S", 0x12 "AS", 0x14 "AR". */
export function tcpFlagLetters(flags: number): string {
  let out = '';
  for (let bit = 7; bit >= 0; bit--) if ((flags & (1 << bit)) !== 0) out += FLAG_LETTERS[7 - bit];
  return out === '' ? '-' : out;
}

function spoofingOf(b: TrafficBreakdown, distinctSources: number): SpoofingAssessment {
  const bogonShare = b.packets > 0 ? round3(b.bogonSourcePackets / b.packets) : 0;
  const packetsPerSource = distinctSources > 0 ? round3(b.packets / distinctSources) : 0;
  if (bogonShare >= DOMINANT_SHARE) {
    return {
      likely: true,
      bogonShare,
      packetsPerSource,
      reason: `${Math.round(bogonShare * 100)}% of packets come from reserved or private sources`,
    };
  }
  if (b.packets > 0 && b.amplification / b.packets >= DOMINANT_SHARE) {
    return {
      likely: false,
      bogonShare,
      packetsPerSource,
      reason: 'reflected traffic: it comes from real reflectors (the victim address was what was forged)',
    };
  }
  if (distinctSources >= SPOOF_MIN_SOURCES && packetsPerSource <= SPOOF_MAX_PACKETS_PER_SOURCE) {
    return {
      likely: true,
      bogonShare,
      packetsPerSource,
      reason: `about ${distinctSources} distinct sources sending ${packetsPerSource} packets each: random forged sources`,
    };
  }
  return {
    likely: false,
    bogonShare,
    packetsPerSource,
    reason:
      distinctSources >= SPOOF_MIN_SOURCES
        ? `many sources (about ${distinctSources}) but each repeats (${packetsPerSource} packets): real hosts or reflectors`
        : `few sources (about ${distinctSources})`,
  };
}

/** Like the focus's sizes (focus.ts sizePercentiles), from the breakdown's coarse buckets. */
function coarsePacketSizes(b: TrafficBreakdown): { p10: number; p50: number; p90: number } {
  const total = b.packetSizes.reduce((s, n) => s + n, 0);
  if (!(total > 0)) return { p10: 0, p50: 0, p90: 0 };
  const bucketAt = (q: number) => {
    let seen = 0;
    for (let i = 0; i < b.packetSizes.length; i++) {
      seen += b.packetSizes[i]!;
      if (seen >= q * total) return i;
    }
    return b.packetSizes.length - 1;
  };
  const lower = (i: number) => (i === 0 ? 0 : SIZE_BUCKET_LIMITS[i - 1]! + 1);
  const upper = (i: number) => {
    const limit = SIZE_BUCKET_LIMITS[i]!;
    return Number.isFinite(limit) ? limit : 65535;
  };
  const middle = bucketAt(0.5);
  return {
    p10: lower(bucketAt(0.1)),
    p50: Math.round((lower(middle) + Math.min(upper(middle), 9000)) / 2),
    p90: upper(bucketAt(0.9)),
  };
}

const CLASS_NAMES = ['tcp', 'udp', 'icmp', 'gre', 'other', 'syn', 'ackRst', 'fragment', 'amplification'];

function fingerprintOf(
  b: TrafficBreakdown,
  ipVersion: IpVersion,
  meanPacketBytes: number,
  focus: FocusReport | undefined,
): Fingerprint {
  const total = b.packets;
  const significant = (n: number) => total > 0 && n / total >= FINGERPRINT_MIN_SHARE;
  const protocols = [
    { protocol: IPPROTO_TCP, packets: b.tcp },
    { protocol: IPPROTO_UDP, packets: b.udp },
    { protocol: ipVersion === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, packets: b.icmp },
    { protocol: IPPROTO_GRE, packets: b.gre },
  ]
    .filter((p) => significant(p.packets))
    .sort((x, y) => y.packets - x.packets)
    .map((p) => p.protocol);
  const ports = (list: readonly { port: number; packets: number }[]) =>
    list
      .filter((p) => significant(p.packets))
      .slice(0, FINGERPRINT_MAX_PORTS)
      .map((p) => p.port);
  const shares: Record<string, number> = {};
  b.classes.forEach((c, i) => {
    shares[CLASS_NAMES[i]!] = total > 0 ? round3(c.packets / total) : 0;
  });
  const watched = focus !== undefined && focus.records > 0;
  const distinctSources = watched ? focus.distinctSources : b.distinctSources;
  const fingerprint: Fingerprint = {
    protocols,
    sourcePorts: ports(b.udpReflectorPorts),
    destinationPorts: ports(b.topDestinationPorts),
    synShare: total > 0 ? round3(b.tcpSynOnly / total) : 0,
    meanPacketBytes: Math.round(meanPacketBytes),
    shares,
    packetSizes: watched ? focus.packetSizes : coarsePacketSizes(b),
    distinctSources,
    spoofing: spoofingOf(b, b.distinctSources),
  };
  if (watched) {
    const focusShare = (packets: number) =>
      focus.packets > 0 && packets / focus.packets >= FINGERPRINT_MIN_SHARE;
    fingerprint.topSources = focus.topSources.slice(0, FINGERPRINT_MAX_SOURCES).map(roundPackets);
    fingerprint.topSourcePorts = focus.topSourcePorts
      .filter((p) => focusShare(p.packets))
      .slice(0, FINGERPRINT_MAX_PORTS)
      .map((p) => p.key);
    const tcpPackets = focus.tcpFlags.reduce((s, f) => s + f.packets, 0);
    fingerprint.tcpFlags = focus.tcpFlags
      .map((f) => ({
        flags: tcpFlagLetters(f.key),
        share: tcpPackets > 0 ? round3(f.packets / tcpPackets) : 0,
      }))
      .filter((f) => f.share >= FINGERPRINT_MIN_SHARE);
  }
  return fingerprint;
}

/** The destinations side of a prefix target's focus: how many hosts are hit, and the most hit. */
export function targetsOf(focus: FocusReport | undefined): {
  distinctTargets?: number;
  topTargets?: AddressPackets[];
} {
  if (!focus || focus.records === 0) return {};
  return {
    distinctTargets: focus.distinctDestinations,
    topTargets: focus.topDestinations.slice(0, FINGERPRINT_MAX_SOURCES).map(roundPackets),
  };
}

function roundPackets(a: { address: string; packets: number }): AddressPackets {
  return { address: a.address, packets: Math.round(a.packets) };
}

/**
 * How far over threshold a target went: peak / threshold on the metric that went furthest over
 * (disabled metrics, threshold 0, are skipped). 0 when no metric is enabled.
 */
export function severityOf(peak: Rates, thresholds: Rates): number {
  let severity = 0;
  if (thresholds.pps > 0) severity = Math.max(severity, peak.pps / thresholds.pps);
  if (thresholds.bps > 0) severity = Math.max(severity, peak.bps / thresholds.bps);
  return round3(severity);
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
