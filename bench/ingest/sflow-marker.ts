/**
 * sFlow v5 marker datagrams for sfacctd: flow samples (1 in 1) whose raw packet header is an
 * Ethernet + IPv4 header of IP protocol 253 (reserved for experiments, RFC 3692), which no
 * replayed capture contains. They play the part marker.ts's NetFlow v5 markers play for
 * nfacctd: once one shows up in the print plugin's output, every sample sent before it has
 * been stored.
 */
import { MARKER_PROTOCOL } from './marker.js';

export const SFLOW_MARKER_SAMPLES = 30;

const HEADER_BYTES = 28;
const ETHERNET_BYTES = 14;
const IPV4_BYTES = 20;
/** Ethernet + IPv4 header, padded to a multiple of 4 as XDR wants. */
const COPIED_BYTES = ETHERNET_BYTES + IPV4_BYTES;
const COPIED_PADDED = (COPIED_BYTES + 3) & ~3;
/** The sampled packet: a 46-byte IP packet, the smallest that fills a 64-byte frame with its FCS. */
const IP_LENGTH = 46;
const FRAME_LENGTH = ETHERNET_BYTES + IP_LENGTH + 4;
/** Raw packet header record: protocol, frame length, stripped, header length, then the bytes. */
const RECORD_BODY = 16 + COPIED_PADDED;
/** Compact flow sample: 8 words, then one record (format and length words + body). */
const SAMPLE_BODY = 32 + 8 + RECORD_BODY;
const SAMPLE_BYTES = 8 + SAMPLE_BODY;

function ipv4Checksum(d: Buffer, at: number): number {
  let sum = 0;
  for (let i = 0; i < IPV4_BYTES; i += 2) sum += d.readUInt16BE(at + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function sflowMarkerDatagram(sequence: number, nowMs: number): Buffer {
  const n = SFLOW_MARKER_SAMPLES;
  const d = Buffer.alloc(HEADER_BYTES + n * SAMPLE_BYTES);
  d.writeUInt32BE(5, 0); // version
  d.writeUInt32BE(1, 4); // agent address type: IPv4
  d.writeUInt32BE(0xc000_0201, 8); // agent 192.0.2.1
  d.writeUInt32BE(0, 12); // sub-agent id
  d.writeUInt32BE(Math.floor(sequence / n) >>> 0, 16); // datagram sequence
  d.writeUInt32BE((nowMs % 0x1_0000_0000) >>> 0, 20); // uptime, ms
  d.writeUInt32BE(n, 24);
  for (let i = 0; i < n; i++) {
    let o = HEADER_BYTES + i * SAMPLE_BYTES;
    d.writeUInt32BE(1, o); // enterprise 0, format 1: flow sample
    d.writeUInt32BE(SAMPLE_BODY, o + 4);
    o += 8;
    d.writeUInt32BE((sequence + i) >>> 0, o); // sample sequence
    d.writeUInt32BE(1, o + 4); // source id: ifIndex 1
    d.writeUInt32BE(1, o + 8); // sampling rate
    d.writeUInt32BE((sequence + i + 1) >>> 0, o + 12); // sample pool
    d.writeUInt32BE(0, o + 16); // drops
    d.writeUInt32BE(1, o + 20); // input
    d.writeUInt32BE(2, o + 24); // output
    d.writeUInt32BE(1, o + 28); // one record
    o += 32;
    d.writeUInt32BE(1, o); // enterprise 0, format 1: raw packet header
    d.writeUInt32BE(RECORD_BODY, o + 4);
    o += 8;
    d.writeUInt32BE(1, o); // header protocol: Ethernet
    d.writeUInt32BE(FRAME_LENGTH, o + 4);
    d.writeUInt32BE(4, o + 8); // stripped: the FCS
    d.writeUInt32BE(COPIED_BYTES, o + 12);
    o += 16;
    d.writeUInt32BE(0x0200_0000, o); // destination MAC 02:00:00:00:00:02
    d.writeUInt16BE(0x0002, o + 4);
    d.writeUInt32BE(0x0200_0000, o + 6); // source MAC 02:00:00:00:00:01
    d.writeUInt16BE(0x0001, o + 10);
    d.writeUInt16BE(0x0800, o + 12); // IPv4
    const ip = o + ETHERNET_BYTES;
    d[ip] = 0x45;
    d.writeUInt16BE(IP_LENGTH, ip + 2);
    d.writeUInt16BE((sequence + i) & 0xffff, ip + 4); // identification
    d[ip + 8] = 64; // TTL
    d[ip + 9] = MARKER_PROTOCOL;
    d.writeUInt32BE(0xc000_0201, ip + 12); // 192.0.2.1
    d.writeUInt32BE(0xc000_0202, ip + 16); // 192.0.2.2
    d.writeUInt16BE(ipv4Checksum(d, ip), ip + 10);
  }
  return d;
}
