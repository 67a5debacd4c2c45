/**
 * Names the attack from what a host's traffic is made of. Rules, in order, each on shares of the
 * host's packets over the breakdown window (DOMINANT = 0.5):
 *
 * 1. UDP dominates and one reflector source port (AMPLIFICATION_PORTS) carries a dominant share
 *    of the UDP packets: that port's amplification family.
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
 */
import type { AttackFamily, Fingerprint, Rates } from '../incident/incident.js';
import { AMPLIFICATION_PORTS } from '../incident/incident.js';
import type { IpVersion } from '../net/address.js';
import {
  IPPROTO_GRE,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type TrafficBreakdown,
} from '../traffic/breakdown.js';

/** A share at or above this decides a rule. */
export const DOMINANT_SHARE = 0.5;
/** Protocols and ports under this share of packets are left out of the fingerprint. */
export const FINGERPRINT_MIN_SHARE = 0.1;
const FINGERPRINT_MAX_PORTS = 4;

export interface Classification {
  family: AttackFamily;
  /** 0..1, see the rules above. */
  confidence: number;
  fingerprint: Fingerprint;
}

export function classify(
  breakdown: TrafficBreakdown,
  ipVersion: IpVersion,
  meanPacketBytes: number,
): Classification {
  const fingerprint = fingerprintOf(breakdown, ipVersion, meanPacketBytes);
  const decided = decide(breakdown);
  return { family: decided.family, confidence: round3(decided.confidence), fingerprint };
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

function fingerprintOf(b: TrafficBreakdown, ipVersion: IpVersion, meanPacketBytes: number): Fingerprint {
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
  return {
    protocols,
    sourcePorts: ports(b.udpReflectorPorts),
    destinationPorts: ports(b.topDestinationPorts),
    synShare: total > 0 ? round3(b.tcpSynOnly / total) : 0,
    meanPacketBytes: Math.round(meanPacketBytes),
  };
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

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
