/**
 * Writes classic pcap files for tests: IPv4/IPv6 UDP (and a TCP packet to be skipped) framed
 * for each link type the reader supports, in either byte order, with micro or nano stamps.
 * Checksums are left 0: the reader does not verify them.
 */
import { parseAddress } from '../../core/net/address.js';

export interface PcapPacket {
  tsMs: number;
  frame: Uint8Array;
}

export interface PcapOptions {
  linkType?: number;
  nanosecond?: boolean;
  littleEndian?: boolean;
  snaplen?: number;
}

export function writePcap(packets: readonly PcapPacket[], options: PcapOptions = {}): Uint8Array {
  const { linkType = 1, nanosecond = false, littleEndian = true, snaplen = 262_144 } = options;
  const size = 24 + packets.reduce((n, p) => n + 16 + p.frame.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, littleEndian);
  v.setUint16(4, 2, littleEndian);
  v.setUint16(6, 4, littleEndian);
  v.setUint32(16, snaplen, littleEndian);
  v.setUint32(20, linkType, littleEndian);
  let o = 24;
  for (const p of packets) {
    const secs = Math.floor(p.tsMs / 1000);
    const fracMs = p.tsMs - secs * 1000;
    v.setUint32(o, secs, littleEndian);
    v.setUint32(o + 4, Math.round(fracMs * (nanosecond ? 1_000_000 : 1_000)), littleEndian);
    v.setUint32(o + 8, p.frame.length, littleEndian);
    v.setUint32(o + 12, p.frame.length, littleEndian);
    out.set(p.frame, o + 16);
    o += 16 + p.frame.length;
  }
  return out;
}

function addressBytes(text: string): Uint8Array {
  const a = parseAddress(text);
  if (!a) throw new Error(`test helper: not an address: ${text}`);
  if (a.version === 4) {
    const w = a.words[3];
    return Uint8Array.of(w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255);
  }
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  a.words.forEach((w, i) => {
    v.setUint32(i * 4, w);
  });
  return out;
}

export interface UdpSpec {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

function udpSegment(spec: UdpSpec): Uint8Array {
  const seg = new Uint8Array(8 + spec.payload.length);
  const v = new DataView(seg.buffer);
  v.setUint16(0, spec.srcPort);
  v.setUint16(2, spec.dstPort);
  v.setUint16(4, seg.length);
  seg.set(spec.payload, 8);
  return seg;
}

/** An IPv4 packet; `fragmentOffset`/`moreFragments` make a fragment the reader must skip. */
export function ipv4Packet(
  spec: { src: string; dst: string; protocol: number; body: Uint8Array },
  options: { moreFragments?: boolean; fragmentOffset?: number; optionsWords?: number } = {},
): Uint8Array {
  const ihl = 5 + (options.optionsWords ?? 0);
  const pkt = new Uint8Array(ihl * 4 + spec.body.length);
  const v = new DataView(pkt.buffer);
  v.setUint8(0, 0x40 | ihl);
  v.setUint16(2, pkt.length);
  v.setUint16(6, (options.moreFragments ? 0x2000 : 0x4000) | (options.fragmentOffset ?? 0));
  v.setUint8(8, 64);
  v.setUint8(9, spec.protocol);
  pkt.set(addressBytes(spec.src), 12);
  pkt.set(addressBytes(spec.dst), 16);
  pkt.set(spec.body, ihl * 4);
  return pkt;
}

export function ipv4Udp(spec: UdpSpec, options: Parameters<typeof ipv4Packet>[1] = {}): Uint8Array {
  return ipv4Packet({ src: spec.src, dst: spec.dst, protocol: 17, body: udpSegment(spec) }, options);
}

/** An IPv6 packet, optionally with a hop-by-hop header and/or a fragment header before UDP. */
export function ipv6Udp(
  spec: UdpSpec,
  options: { hopByHop?: boolean; fragment?: 'atomic' | 'first' } = {},
): Uint8Array {
  const ext: number[] = [];
  const chain: number[] = [];
  if (options.hopByHop) chain.push(0);
  if (options.fragment) chain.push(44);
  const seg = udpSegment(spec);
  chain.forEach((kind, i) => {
    const next = chain[i + 1] ?? 17;
    if (kind === 0)
      ext.push(next, 0, 1, 4, 0, 0, 0, 0); // PadN option filling 8 bytes
    else ext.push(next, 0, 0, options.fragment === 'first' ? 1 : 0, 0, 0, 0, 42);
  });
  const pkt = new Uint8Array(40 + ext.length + seg.length);
  const v = new DataView(pkt.buffer);
  v.setUint8(0, 0x60);
  v.setUint16(4, ext.length + seg.length);
  v.setUint8(6, chain[0] ?? 17);
  v.setUint8(7, 64);
  pkt.set(addressBytes(spec.src), 8);
  pkt.set(addressBytes(spec.dst), 24);
  pkt.set(ext, 40);
  pkt.set(seg, 40 + ext.length);
  return pkt;
}

export function ipv4Tcp(src: string, dst: string): Uint8Array {
  const tcp = new Uint8Array(20);
  tcp[12] = 0x50;
  tcp[13] = 0x02; // SYN
  return ipv4Packet({ src, dst, protocol: 6, body: tcp });
}

/** Wraps an IP packet in the link layer `linkType` (1, 0, 101, 113, 228, 229, 276). */
export function frame(
  linkType: number,
  ip: Uint8Array,
  options: { vlan?: number; nullBigEndian?: boolean; padTo?: number } = {},
): Uint8Array {
  const v6 = ip[0]! >>> 4 === 6;
  const ethertype = v6 ? 0x86dd : 0x0800;
  let head: Uint8Array;
  switch (linkType) {
    case 0: {
      head = new Uint8Array(4);
      new DataView(head.buffer).setUint32(0, v6 ? 10 : 2, !options.nullBigEndian);
      break;
    }
    case 1: {
      const tag = options.vlan === undefined ? 0 : 4;
      head = new Uint8Array(14 + tag);
      const v = new DataView(head.buffer);
      head.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
      if (options.vlan !== undefined) {
        v.setUint16(12, 0x8100);
        v.setUint16(14, options.vlan);
      }
      v.setUint16(12 + tag, ethertype);
      break;
    }
    case 113: {
      head = new Uint8Array(16);
      new DataView(head.buffer).setUint16(14, ethertype);
      break;
    }
    case 276: {
      head = new Uint8Array(20);
      new DataView(head.buffer).setUint16(0, ethertype);
      break;
    }
    default:
      head = new Uint8Array(0);
  }
  const length = Math.max(head.length + ip.length, options.padTo ?? 0);
  const out = new Uint8Array(length);
  out.set(head, 0);
  out.set(ip, head.length);
  return out;
}
