/**
 * Reads UDP datagrams out of a classic pcap file (libpcap format, either byte order, micro- or
 * nanosecond stamps) so that captured exporter traffic can be replayed into the decoders by
 * tests and by `floodgate decode`. Captures come from anywhere, so every length is checked
 * against the bytes present: a damaged file stops the iteration and leaves a WireError in
 * `error`, it never throws out of the loop.
 */
import { readFile } from 'node:fs/promises';
import { WireError } from '../../core/errors.js';
import { formatAddressWords } from '../../core/net/address.js';

export interface UdpDatagram {
  /** Capture time, Unix ms (fractional: sub-millisecond stamps are kept). */
  tsMs: number;
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
  /** The UDP payload, a view into the file's bytes (no copy). */
  payload: Uint8Array;
}

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;
const MAGIC_PCAPNG = 0x0a0d0d0a;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = new Set([0x8100, 0x88a8, 0x9100]);
/** BSD loopback address families for IPv6 differ per OS (Linux, NetBSD/OpenBSD, FreeBSD, macOS). */
const AF_INET = 2;
const AF_INET6 = new Set([10, 24, 28, 30]);

const IPPROTO_UDP = 17;
/** IPv6 extension headers walked to reach UDP. */
const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;
const IPV6_DEST_OPTS = 60;

function u16be(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Why a packet yielded no datagram; counted in `skipped`. */
type SkipReason =
  | 'not-ip'
  | 'not-udp'
  | 'fragment'
  | 'short-packet'
  | 'bad-ip-header'
  | 'bad-udp-length'
  | 'snapped'
  | 'unknown-link-family';

export class PcapReader implements Iterable<UdpDatagram> {
  /** Set when the file is not a readable pcap or ends in the middle of a record. */
  error: WireError | undefined;
  linkType = -1;
  nanosecond = false;
  littleEndian = true;
  snaplen = 0;
  /** Counts from the last iteration. */
  packets = 0;
  datagrams = 0;
  readonly skipped = new Map<SkipReason, number>();

  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly headerError: WireError | undefined;

  constructor(
    bytes: Uint8Array,
    readonly source = 'pcap',
  ) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.headerError = this.readHeader();
    this.error = this.headerError;
  }

  private fail(code: 'FG_ERR_WIRE_TRUNCATED' | 'FG_ERR_WIRE_VALUE', message: string, offset: number) {
    return new WireError(code, `${this.source}: ${message}`, offset, { file: this.source });
  }

  private readHeader(): WireError | undefined {
    if (this.bytes.length < GLOBAL_HEADER) {
      return this.fail('FG_ERR_WIRE_TRUNCATED', `${this.bytes.length} bytes, shorter than a pcap header`, 0);
    }
    const le = this.view.getUint32(0, true);
    const be = this.view.getUint32(0, false);
    if (le === MAGIC_MICRO || le === MAGIC_NANO) {
      this.littleEndian = true;
      this.nanosecond = le === MAGIC_NANO;
    } else if (be === MAGIC_MICRO || be === MAGIC_NANO) {
      this.littleEndian = false;
      this.nanosecond = be === MAGIC_NANO;
    } else if (be === MAGIC_PCAPNG) {
      return this.fail(
        'FG_ERR_WIRE_VALUE',
        'pcapng is not supported; convert with `editcap -F pcap IN OUT`',
        0,
      );
    } else {
      return this.fail(
        'FG_ERR_WIRE_VALUE',
        `not a pcap file (magic 0x${be.toString(16).padStart(8, '0')})`,
        0,
      );
    }
    this.snaplen = this.view.getUint32(16, this.littleEndian);
    // The top bits of the link-type field may carry FCS information.
    this.linkType = this.view.getUint32(20, this.littleEndian) & 0x0fffffff;
    const known = [
      LINKTYPE_NULL,
      LINKTYPE_ETHERNET,
      LINKTYPE_RAW,
      LINKTYPE_LINUX_SLL,
      LINKTYPE_IPV4,
      LINKTYPE_IPV6,
      LINKTYPE_LINUX_SLL2,
    ];
    if (!known.includes(this.linkType)) {
      return this.fail('FG_ERR_WIRE_VALUE', `link type ${this.linkType} is not supported`, 20);
    }
    return undefined;
  }

  *[Symbol.iterator](): Iterator<UdpDatagram> {
    this.error = this.headerError;
    this.packets = 0;
    this.datagrams = 0;
    this.skipped.clear();
    if (this.error) return;
    const b = this.bytes;
    const le = this.littleEndian;
    const fracDivisor = this.nanosecond ? 1_000_000 : 1_000;
    let o = GLOBAL_HEADER;
    while (o < b.length) {
      if (b.length - o < RECORD_HEADER) {
        this.error = this.fail(
          'FG_ERR_WIRE_TRUNCATED',
          `record header at byte ${o} cut short after ${b.length - o} of 16 bytes`,
          o,
        );
        return;
      }
      const secs = this.view.getUint32(o, le);
      const frac = this.view.getUint32(o + 4, le);
      const captured = this.view.getUint32(o + 8, le);
      const start = o + RECORD_HEADER;
      if (captured > b.length - start) {
        this.error = this.fail(
          'FG_ERR_WIRE_TRUNCATED',
          `packet ${this.packets + 1} claims ${captured} bytes, only ${b.length - start} remain`,
          o + 8,
        );
        return;
      }
      o = start + captured;
      this.packets += 1;
      const datagram = this.udpIn(b.subarray(start, start + captured), secs * 1000 + frac / fracDivisor);
      if (typeof datagram === 'string') {
        this.skipped.set(datagram, (this.skipped.get(datagram) ?? 0) + 1);
        continue;
      }
      this.datagrams += 1;
      yield datagram;
    }
  }

  /** The UDP datagram a link-layer frame carries, or why there is none. */
  private udpIn(frame: Uint8Array, tsMs: number): UdpDatagram | SkipReason {
    let ip: Uint8Array;
    switch (this.linkType) {
      case LINKTYPE_NULL: {
        if (frame.length < 4) return 'short-packet';
        // The family is in the capturing host's byte order, which the file does not record.
        let family = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0, true);
        if (family > 0xffff) family = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0, false);
        if (family !== AF_INET && !AF_INET6.has(family)) return 'unknown-link-family';
        ip = frame.subarray(4);
        break;
      }
      case LINKTYPE_ETHERNET: {
        let at = 12;
        if (frame.length < at + 2) return 'short-packet';
        let type = u16be(frame, at);
        while (ETHERTYPE_VLAN.has(type)) {
          at += 4;
          if (frame.length < at + 2) return 'short-packet';
          type = u16be(frame, at);
        }
        if (type !== ETHERTYPE_IPV4 && type !== ETHERTYPE_IPV6) return 'not-ip';
        ip = frame.subarray(at + 2);
        break;
      }
      case LINKTYPE_LINUX_SLL: {
        if (frame.length < 16) return 'short-packet';
        const type = u16be(frame, 14);
        if (type !== ETHERTYPE_IPV4 && type !== ETHERTYPE_IPV6) return 'not-ip';
        ip = frame.subarray(16);
        break;
      }
      case LINKTYPE_LINUX_SLL2: {
        if (frame.length < 20) return 'short-packet';
        const type = u16be(frame, 0);
        if (type !== ETHERTYPE_IPV4 && type !== ETHERTYPE_IPV6) return 'not-ip';
        ip = frame.subarray(20);
        break;
      }
      default:
        ip = frame; // RAW, IPV4, IPV6: the IP header comes first.
    }
    if (ip.length < 1) return 'short-packet';
    const version = ip[0]! >>> 4;
    if (version === 4) return ipv4Udp(ip, tsMs);
    if (version === 6) return ipv6Udp(ip, tsMs);
    return 'not-ip';
  }
}

function ipv4Udp(ip: Uint8Array, tsMs: number): UdpDatagram | SkipReason {
  if (ip.length < 20) return 'short-packet';
  const headerLen = (ip[0]! & 0x0f) * 4;
  const totalLen = u16be(ip, 2);
  if (headerLen < 20 || totalLen < headerLen) return 'bad-ip-header';
  if (ip[9] !== IPPROTO_UDP) return 'not-udp';
  if ((u16be(ip, 6) & 0x3fff) !== 0) return 'fragment'; // more-fragments flag or an offset
  // Ethernet pads short frames: the IP total length, not the frame, says where the packet ends.
  const packet = ip.subarray(0, Math.min(totalLen, ip.length));
  return udpIn(packet, headerLen, totalLen - headerLen, tsMs, ipv4Text(ip, 12), ipv4Text(ip, 16));
}

function ipv6Udp(ip: Uint8Array, tsMs: number): UdpDatagram | SkipReason {
  if (ip.length < 40) return 'short-packet';
  const payloadLen = u16be(ip, 4);
  const packet = ip.subarray(0, Math.min(40 + payloadLen, ip.length));
  let next = ip[6]!;
  let at = 40;
  for (;;) {
    if (next === IPPROTO_UDP) break;
    if (next === IPV6_HOP_BY_HOP || next === IPV6_ROUTING || next === IPV6_DEST_OPTS || next === IPV6_AH) {
      if (packet.length < at + 2) return 'short-packet';
      const len = next === IPV6_AH ? (packet[at + 1]! + 2) * 4 : (packet[at + 1]! + 1) * 8;
      next = packet[at]!;
      at += len;
      continue;
    }
    if (next === IPV6_FRAGMENT) {
      if (packet.length < at + 8) return 'short-packet';
      // Offset 0 and no more fragments is an atomic fragment: the whole packet is here.
      if ((u16be(packet, at + 2) & 0xfff9) !== 0) return 'fragment';
      next = packet[at]!;
      at += 8;
      continue;
    }
    return 'not-udp';
  }
  if (40 + payloadLen < at) return 'bad-ip-header';
  return udpIn(packet, at, 40 + payloadLen - at, tsMs, ipv6Text(ip, 8), ipv6Text(ip, 24));
}

/** `claimed` is the UDP segment length the IP header implies. */
function udpIn(
  packet: Uint8Array,
  at: number,
  claimed: number,
  tsMs: number,
  srcAddr: string,
  dstAddr: string,
): UdpDatagram | SkipReason {
  if (packet.length < at + 8) return claimed >= 8 ? 'snapped' : 'short-packet';
  const udpLen = u16be(packet, at + 4);
  if (udpLen < 8 || udpLen > claimed) return 'bad-udp-length';
  if (packet.length < at + udpLen) return 'snapped';
  return {
    tsMs,
    srcAddr,
    srcPort: u16be(packet, at),
    dstAddr,
    dstPort: u16be(packet, at + 2),
    payload: packet.subarray(at + 8, at + udpLen),
  };
}

function ipv4Text(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function ipv6Text(b: Uint8Array, o: number): string {
  const words: number[] = [];
  for (let w = 0; w < 4; w++) {
    const p = o + w * 4;
    words.push(((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0);
  }
  return formatAddressWords(words);
}

export async function readPcapFile(path: string): Promise<PcapReader> {
  return new PcapReader(await readFile(path), path);
}
