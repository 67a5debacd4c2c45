/**
 * Builds raw packets for tests, layer by layer: Ethernet with any VLAN tags, MPLS, IPv4 (with
 * options and fragments), IPv6 (with extension headers), TCP, UDP, ICMP. Lengths are filled in
 * from the layers unless overridden, so a test can also forge a header that lies. Checksums are
 * left 0: nothing that reads these checks them.
 */
import { parseAddress } from '../../core/net/address.js';

export function addressBytes(text: string): Uint8Array {
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

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `n` bytes of a recognisable filler. */
export function payload(n: number, fill = 0x5a): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

export function tcp(srcPort: number, dstPort: number, flags: number, body: Uint8Array = new Uint8Array(0)) {
  const seg = new Uint8Array(20 + body.length);
  const v = new DataView(seg.buffer);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint32(4, 0x01020304);
  seg[12] = 0x50;
  seg[13] = flags;
  v.setUint16(14, 65535);
  seg.set(body, 20);
  return seg;
}

export function udp(srcPort: number, dstPort: number, body: Uint8Array = new Uint8Array(0)) {
  const seg = new Uint8Array(8 + body.length);
  const v = new DataView(seg.buffer);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint16(4, seg.length);
  seg.set(body, 8);
  return seg;
}

/** ICMP or ICMPv6 (same first bytes): type, code, checksum, 4 bytes of rest-of-header, body. */
export function icmp(type: number, code: number, body: Uint8Array = new Uint8Array(0)) {
  const seg = new Uint8Array(8 + body.length);
  seg[0] = type;
  seg[1] = code;
  seg.set(body, 8);
  return seg;
}

export interface Ipv4Spec {
  src: string;
  dst: string;
  protocol: number;
  body: Uint8Array;
  moreFragments?: boolean;
  /** In 8-byte units, as on the wire. */
  fragmentOffset?: number;
  dontFragment?: boolean;
  /** 32-bit words of options after the 20-byte header. */
  optionWords?: number;
  /** Overrides the total length field (forging TSO's 0, or a lie). */
  totalLength?: number;
  id?: number;
  tos?: number;
}

export function ipv4(spec: Ipv4Spec): Uint8Array {
  const ihl = 5 + (spec.optionWords ?? 0);
  const pkt = new Uint8Array(ihl * 4 + spec.body.length);
  const v = new DataView(pkt.buffer);
  v.setUint8(0, 0x40 | ihl);
  v.setUint8(1, spec.tos ?? 0);
  v.setUint16(2, spec.totalLength ?? pkt.length);
  v.setUint16(4, spec.id ?? 1);
  const flags = (spec.moreFragments ? 0x2000 : 0) | (spec.dontFragment ? 0x4000 : 0);
  v.setUint16(6, flags | (spec.fragmentOffset ?? 0));
  v.setUint8(8, 64);
  v.setUint8(9, spec.protocol);
  pkt.set(addressBytes(spec.src), 12);
  pkt.set(addressBytes(spec.dst), 16);
  // Options: NOPs (1), so a parser that read them as something else would show it.
  pkt.fill(1, 20, ihl * 4);
  pkt.set(spec.body, ihl * 4);
  return pkt;
}

export type Ipv6Extension =
  /** Hop-by-hop (0), routing (43), destination options (60): `units` extra 8-byte units. */
  | { kind: 'hop-by-hop' | 'routing' | 'destination'; units?: number }
  | { kind: 'fragment'; offset: number; more: boolean; id?: number }
  /** Authentication header: length in 4-byte units minus 2; `words` of ICV beyond the 12 bytes. */
  | { kind: 'ah'; words?: number };

const EXTENSION_NUMBER = { 'hop-by-hop': 0, routing: 43, destination: 60, fragment: 44, ah: 51 } as const;

export interface Ipv6Spec {
  src: string;
  dst: string;
  /** The upper-layer protocol after the extension headers. */
  protocol: number;
  body: Uint8Array;
  extensions?: Ipv6Extension[];
  /** Overrides the payload length field (0 forges a jumbogram). */
  payloadLength?: number;
}

export function ipv6(spec: Ipv6Spec): Uint8Array {
  const exts = spec.extensions ?? [];
  const parts: Uint8Array[] = [];
  exts.forEach((e, i) => {
    const nextExt = exts[i + 1];
    const next = nextExt ? EXTENSION_NUMBER[nextExt.kind] : spec.protocol;
    if (e.kind === 'fragment') {
      const h = new Uint8Array(8);
      const v = new DataView(h.buffer);
      h[0] = next;
      v.setUint16(2, (e.offset << 3) | (e.more ? 1 : 0));
      v.setUint32(4, e.id ?? 42);
      parts.push(h);
    } else if (e.kind === 'ah') {
      const words = e.words ?? 1;
      const h = new Uint8Array(12 + words * 4);
      h[0] = next;
      h[1] = (h.length >>> 2) - 2;
      parts.push(h);
    } else {
      const units = e.units ?? 0;
      const h = new Uint8Array(8 * (units + 1));
      h[0] = next;
      h[1] = units;
      // PadN over the rest, so the options parse as options.
      h[2] = 1;
      h[3] = h.length - 4;
      parts.push(h);
    }
  });
  const ext = concat(...parts);
  const first = exts[0];
  const pkt = new Uint8Array(40 + ext.length + spec.body.length);
  const v = new DataView(pkt.buffer);
  v.setUint32(0, 0x60000000);
  v.setUint16(4, spec.payloadLength ?? ext.length + spec.body.length);
  v.setUint8(6, first ? EXTENSION_NUMBER[first.kind] : spec.protocol);
  v.setUint8(7, 64);
  pkt.set(addressBytes(spec.src), 8);
  pkt.set(addressBytes(spec.dst), 24);
  pkt.set(ext, 40);
  pkt.set(spec.body, 40 + ext.length);
  return pkt;
}

export interface EthernetSpec {
  /** 802.1Q ids, outermost first; a QinQ outer tag uses `outerTpid`. */
  vlans?: number[];
  /** TPID of the outermost tag when there are two or more; default 0x88a8 (802.1ad). */
  outerTpid?: number;
  /** Defaults from the payload's version nibble (0x0800 / 0x86dd). */
  ethertype?: number;
  /** Pads the frame (without FCS) to this length, as the 60-byte Ethernet minimum does. */
  padTo?: number;
}

export function ethernet(payloadBytes: Uint8Array, spec: EthernetSpec = {}): Uint8Array {
  const vlans = spec.vlans ?? [];
  const head = new Uint8Array(14 + 4 * vlans.length);
  const v = new DataView(head.buffer);
  head.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
  let o = 12;
  vlans.forEach((vid, i) => {
    const tpid = i === 0 && vlans.length > 1 ? (spec.outerTpid ?? 0x88a8) : 0x8100;
    v.setUint16(o, tpid);
    v.setUint16(o + 2, vid & 0x0fff);
    o += 4;
  });
  const ethertype = spec.ethertype ?? (payloadBytes[0]! >>> 4 === 6 ? 0x86dd : 0x0800);
  v.setUint16(o, ethertype);
  const frame = concat(head, payloadBytes);
  if (spec.padTo === undefined || frame.length >= spec.padTo) return frame;
  return concat(frame, new Uint8Array(spec.padTo - frame.length));
}

/** An MPLS label stack (bottom-of-stack set on the last) before `inner`. */
export function mpls(labels: readonly number[], inner: Uint8Array): Uint8Array {
  const stack = new Uint8Array(4 * labels.length);
  const v = new DataView(stack.buffer);
  labels.forEach((label, i) => {
    v.setUint32(i * 4, (label << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64);
  });
  return concat(stack, inner);
}
