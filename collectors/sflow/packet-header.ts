/**
 * Parses the start of a sampled packet, as an sFlow agent copies it (typically the first 128
 * bytes of the frame), down to what a flow record needs: addresses, protocol, ports, TCP flags,
 * ICMP type and code, fragment state, and the IP packet length as the IP header states it.
 *
 * Layers understood: Ethernet II with any mix of up to 4 802.1Q / 802.1ad (QinQ) tags, MPLS
 * label stacks (IP found by the version nibble after the bottom label), IPv4 (options skipped,
 * fragments recognised: MF or a non-zero offset), IPv6 with its extension headers (hop-by-hop,
 * routing, fragment, destination options, AH, mobility, HIP, shim6, experimental), then TCP,
 * UDP, SCTP, DCCP, UDP-Lite ports, TCP flags, ICMP and ICMPv6 type and code.
 *
 * A header copy is cut short by design, so running out of bytes is never an error: the parse
 * keeps what it reached (addresses without ports, say) and reports through its result whether
 * it found an IP header at all. Every read is checked against `end`; loops are bounded.
 * Nothing is allocated: results go into a caller-owned `ParsedPacket` that is reused.
 */
import { FRAGMENT_NO, FRAGMENT_UNKNOWN, FRAGMENT_YES } from '../../core/flow/flow-batch.js';

/** sFlow header_protocol values this parser handles. */
export const HEADER_PROTOCOL_ETHERNET = 1;
export const HEADER_PROTOCOL_IPV4 = 11;
export const HEADER_PROTOCOL_IPV6 = 12;
export const HEADER_PROTOCOL_MPLS = 13;

/** What a parse found. */
export const HEADER_IP = 0;
/** The frame carries something other than IP (ARP, LLDP, an 802.3 LLC frame, ...). */
export const HEADER_NOT_IP = 1;
/** The bytes end before the IP source and destination addresses. */
export const HEADER_CUT_SHORT = 2;
/** A header_protocol this parser does not read (Token Ring, FDDI, PPP, 802.11, ...). */
export const HEADER_UNSUPPORTED = 3;
export type HeaderParseResult =
  | typeof HEADER_IP
  | typeof HEADER_NOT_IP
  | typeof HEADER_CUT_SHORT
  | typeof HEADER_UNSUPPORTED;

const ETHER_HEADER = 14;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
/** Pre-standard QinQ outer tag, still sent by some switches. */
const ETHERTYPE_QINQ_LEGACY = 0x9100;
const ETHERTYPE_MPLS = 0x8847;
const ETHERTYPE_MPLS_MULTICAST = 0x8848;

/** QinQ is 2 tags; 4 covers every real stack and bounds the walk. */
export const MAX_VLAN_TAGS = 4;
export const MAX_MPLS_LABELS = 16;
export const MAX_IPV6_EXTENSIONS = 16;

const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const IPV4_MORE_FRAGMENTS = 0x2000;
const IPV4_OFFSET_MASK = 0x1fff;

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_DCCP = 33;
const PROTO_IPV6_FRAGMENT = 44;
const PROTO_AH = 51;
const PROTO_ICMPV6 = 58;
const PROTO_SCTP = 132;
const PROTO_UDP_LITE = 136;

/** The result of one parse; reset and refilled for every sample, never reallocated. */
export class ParsedPacket {
  /** 4 or 6 once an IP header with both addresses was found, else 0. */
  ipVersion = 0;
  /** Bytes before the IP header: Ethernet, VLAN tags, MPLS labels; 0 for a bare IP header. */
  l2Length = 0;
  /**
   * The IP packet length as the IP header states it (IPv4 total length, IPv6 40 + payload
   * length). 0 when the header does not say: an IPv4 total length of 0 (segmentation offload)
   * or an IPv6 jumbogram.
   */
  ipLength = 0;
  /** Offsets of the source and destination addresses in the buffer (4 or 16 bytes each). */
  srcOffset = 0;
  dstOffset = 0;
  /**
   * The upper-layer protocol, after any IPv6 extension headers. When the bytes end inside the
   * extension chain, the last next-header value reached.
   */
  protocol = 0;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  icmpType = 0;
  icmpCode = 0;
  /** FRAGMENT_YES for any fragment (first or later), FRAGMENT_NO for a whole packet. */
  fragment = FRAGMENT_UNKNOWN;
  /** 802.1Q VLAN ids, outermost first; 0 when untagged. */
  outerVlan = 0;
  innerVlan = 0;
  vlanTags = 0;
  mplsLabels = 0;

  reset(): void {
    this.ipVersion = 0;
    this.l2Length = 0;
    this.ipLength = 0;
    this.srcOffset = 0;
    this.dstOffset = 0;
    this.protocol = 0;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.icmpType = 0;
    this.icmpCode = 0;
    this.fragment = FRAGMENT_UNKNOWN;
    this.outerVlan = 0;
    this.innerVlan = 0;
    this.vlanTags = 0;
    this.mplsLabels = 0;
  }
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/**
 * Parses `b[start, end)` as a header of the given sFlow header_protocol into `out` (which it
 * resets first). `end` must not exceed `b.length`.
 */
export function parseSampledHeader(
  headerProtocol: number,
  b: Uint8Array,
  start: number,
  end: number,
  out: ParsedPacket,
): HeaderParseResult {
  out.reset();
  switch (headerProtocol) {
    case HEADER_PROTOCOL_ETHERNET:
      return parseEthernet(b, start, end, out);
    case HEADER_PROTOCOL_IPV4:
      return parseIPv4(b, start, end, out);
    case HEADER_PROTOCOL_IPV6:
      return parseIPv6(b, start, end, out);
    case HEADER_PROTOCOL_MPLS:
      return parseMpls(b, start, start, end, out);
    default:
      return HEADER_UNSUPPORTED;
  }
}

/** An Ethernet II frame, tags and MPLS included. Sets `l2Length` when IP is found. */
export function parseEthernet(
  b: Uint8Array,
  start: number,
  end: number,
  out: ParsedPacket,
): HeaderParseResult {
  if (end - start < ETHER_HEADER) return HEADER_CUT_SHORT;
  let type = u16(b, start + 12);
  let o = start + ETHER_HEADER;
  while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_LEGACY) {
    if (out.vlanTags === MAX_VLAN_TAGS) return HEADER_NOT_IP;
    if (o + 4 > end) return HEADER_CUT_SHORT;
    const vid = u16(b, o) & 0x0fff;
    if (out.vlanTags === 0) out.outerVlan = vid;
    else if (out.vlanTags === 1) out.innerVlan = vid;
    out.vlanTags += 1;
    type = u16(b, o + 2);
    o += 4;
  }
  if (type === ETHERTYPE_IPV4) return atIp(parseIPv4(b, o, end, out), o - start, out);
  if (type === ETHERTYPE_IPV6) return atIp(parseIPv6(b, o, end, out), o - start, out);
  if (type === ETHERTYPE_MPLS || type === ETHERTYPE_MPLS_MULTICAST) return parseMpls(b, start, o, end, out);
  // An 802.3 length (an LLC header follows), ARP, LLDP, ...: not IP as far as flows go.
  return HEADER_NOT_IP;
}

/** An MPLS label stack starting at `o` (frame starting at `frameStart`), then IP. */
function parseMpls(
  b: Uint8Array,
  frameStart: number,
  o: number,
  end: number,
  out: ParsedPacket,
): HeaderParseResult {
  for (;;) {
    if (out.mplsLabels === MAX_MPLS_LABELS) return HEADER_NOT_IP;
    if (o + 4 > end) return HEADER_CUT_SHORT;
    const bottom = (b[o + 2]! & 1) === 1;
    out.mplsLabels += 1;
    o += 4;
    if (bottom) break;
  }
  if (o >= end) return HEADER_CUT_SHORT;
  // MPLS does not say what it carries; IP is recognised by its version nibble.
  const version = b[o]! >>> 4;
  if (version === 4) return atIp(parseIPv4(b, o, end, out), o - frameStart, out);
  if (version === 6) return atIp(parseIPv6(b, o, end, out), o - frameStart, out);
  return HEADER_NOT_IP;
}

function atIp(result: HeaderParseResult, l2Length: number, out: ParsedPacket): HeaderParseResult {
  if (result === HEADER_IP) out.l2Length = l2Length;
  return result;
}

/** An IPv4 header at `o`. Ports and flags only for a first (or whole) packet. */
export function parseIPv4(b: Uint8Array, o: number, end: number, out: ParsedPacket): HeaderParseResult {
  if (o + IPV4_HEADER > end) return end > o && b[o]! >>> 4 !== 4 ? HEADER_NOT_IP : HEADER_CUT_SHORT;
  const first = b[o]!;
  if (first >>> 4 !== 4) return HEADER_NOT_IP;
  out.ipVersion = 4;
  out.ipLength = u16(b, o + 2);
  const flagsOffset = u16(b, o + 6);
  const fragmentOffset = flagsOffset & IPV4_OFFSET_MASK;
  out.fragment =
    (flagsOffset & IPV4_MORE_FRAGMENTS) !== 0 || fragmentOffset !== 0 ? FRAGMENT_YES : FRAGMENT_NO;
  out.protocol = b[o + 9]!;
  out.srcOffset = o + 12;
  out.dstOffset = o + 16;
  const headerLength = (first & 0x0f) * 4;
  // A header length under 20 is malformed: keep the addresses, trust nothing after them.
  if (fragmentOffset === 0 && headerLength >= IPV4_HEADER) parseTransport(b, o + headerLength, end, out);
  return HEADER_IP;
}

/** Extension headers walked to the upper layer (RFC 7045's list, less ESP which hides what follows). */
function isIPv6Extension(next: number): boolean {
  return (
    next === 0 || // hop-by-hop options
    next === 43 || // routing
    next === PROTO_IPV6_FRAGMENT ||
    next === PROTO_AH ||
    next === 60 || // destination options
    next === 135 || // mobility
    next === 139 || // HIP
    next === 140 || // shim6
    next === 253 ||
    next === 254 // experimental
  );
}

/** An IPv6 header at `o`, then its extension headers. */
export function parseIPv6(b: Uint8Array, o: number, end: number, out: ParsedPacket): HeaderParseResult {
  if (o + IPV6_HEADER > end) return end > o && b[o]! >>> 4 !== 6 ? HEADER_NOT_IP : HEADER_CUT_SHORT;
  if (b[o]! >>> 4 !== 6) return HEADER_NOT_IP;
  out.ipVersion = 6;
  const payloadLength = u16(b, o + 4);
  out.ipLength = payloadLength === 0 ? 0 : IPV6_HEADER + payloadLength;
  out.srcOffset = o + 8;
  out.dstOffset = o + 24;
  out.fragment = FRAGMENT_NO;
  let next = b[o + 6]!;
  let p = o + IPV6_HEADER;
  for (let walked = 0; isIPv6Extension(next); walked++) {
    // Too long a chain, or the bytes end inside it: report the header we stopped at.
    if (walked === MAX_IPV6_EXTENSIONS) break;
    if (next === PROTO_IPV6_FRAGMENT) {
      if (p + 8 > end) break;
      const fragmentOffset = u16(b, p + 2) >>> 3;
      const more = (b[p + 3]! & 1) === 1;
      // An atomic fragment (offset 0, no more) is a whole packet (RFC 6946).
      out.fragment = fragmentOffset !== 0 || more ? FRAGMENT_YES : FRAGMENT_NO;
      next = b[p]!;
      p += 8;
      if (fragmentOffset !== 0) {
        // A later fragment: the upper-layer header is in the first one.
        out.protocol = next;
        return HEADER_IP;
      }
      continue;
    }
    if (p + 2 > end) break;
    const length = next === PROTO_AH ? (b[p + 1]! + 2) * 4 : (b[p + 1]! + 1) * 8;
    next = b[p]!;
    p += length;
  }
  out.protocol = next;
  if (!isIPv6Extension(next)) parseTransport(b, p, end, out);
  return HEADER_IP;
}

/** Ports, TCP flags, ICMP type and code, as far as the bytes go. `out.protocol` is set. */
function parseTransport(b: Uint8Array, p: number, end: number, out: ParsedPacket): void {
  switch (out.protocol) {
    case PROTO_TCP:
      if (p + 4 <= end) {
        out.srcPort = u16(b, p);
        out.dstPort = u16(b, p + 2);
      }
      if (p + 14 <= end) out.tcpFlags = b[p + 13]!;
      return;
    case PROTO_UDP:
    case PROTO_SCTP:
    case PROTO_DCCP:
    case PROTO_UDP_LITE:
      if (p + 4 <= end) {
        out.srcPort = u16(b, p);
        out.dstPort = u16(b, p + 2);
      }
      return;
    case PROTO_ICMP:
    case PROTO_ICMPV6:
      if (p + 2 <= end) {
        out.icmpType = b[p]!;
        out.icmpCode = b[p + 1]!;
      }
      return;
    default:
      return;
  }
}
