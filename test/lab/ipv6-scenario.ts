/**
 * An IPv6 attack capture with its ground truth, for exporters that must carry IPv6 flows
 * (make-scenario.py writes IPv4 only): an NTP-reflection-like UDP flood from many sources,
 * a SYN flood, an ICMPv6 echo flood, one benign UDP stream, and IPv6 filler at the end that
 * the truth leaves out (exporters reading a pcap may lose or repeat the last flows).
 * Packets are built byte by byte; checksums stay 0 because exporters do not verify them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAddress } from '../../core/net/address.js';
import { frame, writePcap } from '../helpers/pcap-writer.js';

export const V6_NTP_TARGET = '2001:db8:feed::10';
export const V6_SYN_TARGET = '2001:db8:feed::20';
export const V6_ICMP_TARGET = '2001:db8:feed::40';
export const V6_STREAM_TARGET = '2001:db8:feed::60';
export const V6_FILLER_TARGET = '2001:db8:ffff::202';

const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;

export interface V6Truth {
  /** "dst/proto" -> packets and bytes (IPv6 header included, as NetFlow counts octets). */
  totals: Record<string, { packets: number; bytes: number }>;
  /** UDP packets to the NTP target by source port. */
  ntpSourcePorts: Record<string, number>;
  packets: number;
  flows: number;
}

function addressBytes(text: string): Uint8Array {
  const a = parseAddress(text);
  if (a?.version !== 6) throw new Error(`ipv6-scenario: not an IPv6 address: ${text}`);
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  a.words.forEach((w, i) => {
    v.setUint32(i * 4, w);
  });
  return out;
}

function ipv6(src: string, dst: string, next: number, body: Uint8Array): Uint8Array {
  const p = new Uint8Array(40 + body.length);
  const v = new DataView(p.buffer);
  v.setUint32(0, 0x6000_0000);
  v.setUint16(4, body.length);
  p[6] = next;
  p[7] = 64;
  p.set(addressBytes(src), 8);
  p.set(addressBytes(dst), 24);
  p.set(body, 40);
  return p;
}

function udp(srcPort: number, dstPort: number, payload: number): Uint8Array {
  const b = new Uint8Array(8 + payload);
  const v = new DataView(b.buffer);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint16(4, b.length);
  return b;
}

function tcpSyn(srcPort: number, dstPort: number, seq: number): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint32(4, seq >>> 0);
  b[12] = 0x50;
  b[13] = 0x02;
  v.setUint16(14, 64_240);
  return b;
}

function echoRequest(id: number, seq: number, payload: number): Uint8Array {
  const b = new Uint8Array(8 + payload);
  const v = new DataView(b.buffer);
  b[0] = 128;
  v.setUint16(4, id);
  v.setUint16(6, seq);
  return b;
}

/** A small deterministic generator, so the capture is the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function host(prefix: string, n: number): string {
  return `${prefix}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
}

/** Writes the capture into `dir`; packet times run from `startMs` over about 2 s. */
export function makeIpv6Scenario(dir: string, startMs: number): { pcapPath: string; truth: V6Truth } {
  const random = rng(6);
  const packets: { tsMs: number; ip: Uint8Array; dst: string; proto: number; srcPort?: number }[] = [];
  const flows = new Set<string>();
  const add = (tsMs: number, src: string, dst: string, proto: number, body: Uint8Array, sp = 0, dp = 0) => {
    packets.push({ tsMs, ip: ipv6(src, dst, proto, body), dst, proto, srcPort: sp });
    flows.add(`${src}|${dst}|${proto}|${sp}|${dp}`);
  };
  for (let i = 0; i < 3000; i++) {
    const src = host('2001:db8:100::', Math.floor(random() * 800) + 1);
    const dp = 1024 + Math.floor(random() * 60_000);
    add(startMs + i * 0.6, src, V6_NTP_TARGET, PROTO_UDP, udp(123, dp, 420), 123, dp);
  }
  for (let i = 0; i < 2000; i++) {
    const src = host('2001:db8:200::', i + 1);
    const sp = 1024 + Math.floor(random() * 60_000);
    add(startMs + i * 0.9, src, V6_SYN_TARGET, PROTO_TCP, tcpSyn(sp, 80, random() * 2 ** 32), sp, 80);
  }
  for (let i = 0; i < 600; i++) {
    const src = host('2001:db8:300::', (i % 50) + 1);
    add(startMs + i * 3, src, V6_ICMP_TARGET, PROTO_ICMPV6, echoRequest(i % 50, i, 56), 0, 128 * 256);
  }
  for (let i = 0; i < 100; i++) {
    add(
      startMs + i * 20,
      '2001:db8:400::9',
      V6_STREAM_TARGET,
      PROTO_UDP,
      udp(40_000, 5004, 160),
      40_000,
      5004,
    );
  }
  packets.sort((a, b) => a.tsMs - b.tsMs);

  const truth: V6Truth = { totals: {}, ntpSourcePorts: {}, packets: 0, flows: flows.size };
  for (const p of packets) {
    const key = `${p.dst}/${p.proto}`;
    const t = truth.totals[key] ?? { packets: 0, bytes: 0 };
    truth.totals[key] = t;
    t.packets += 1;
    t.bytes += p.ip.length;
    if (p.dst === V6_NTP_TARGET && p.proto === PROTO_UDP) {
      const port = String(p.srcPort);
      truth.ntpSourcePorts[port] = (truth.ntpSourcePorts[port] ?? 0) + 1;
    }
  }
  // Filler after the scenario: whatever goes wrong at end of file falls on it.
  const endMs = packets[packets.length - 1]!.tsMs + 50;
  for (let i = 0; i < 3000; i++) {
    const src = host('2001:db8:ffff::', (i % 300) + 1);
    add(endMs + i / 30, src, V6_FILLER_TARGET, PROTO_UDP, udp(20_000 + (i % 300), 9, 16));
  }
  truth.packets = packets.length;
  truth.flows = flows.size;

  const pcapPath = join(dir, 'ipv6-scenario.pcap');
  writeFileSync(pcapPath, writePcap(packets.map((p) => ({ tsMs: p.tsMs, frame: frame(1, p.ip) }))));
  return { pcapPath, truth };
}
