/**
 * Builds NetFlow v5 datagrams for tests: every header and record field settable, sensible
 * defaults for the rest, and a `count` override to forge datagrams whose header lies.
 */
import { parseIPv4 } from '../../core/net/address.js';

export interface V5Header {
  sysUptime: number;
  unixSecs: number;
  unixNsecs: number;
  flowSequence: number;
  engineType: number;
  engineId: number;
  /** The raw 16-bit field: mode in the top 2 bits, interval in the low 14. */
  samplingInterval: number;
}

export interface V5Record {
  srcAddr: string;
  dstAddr: string;
  nextHop: string;
  input: number;
  output: number;
  packets: number;
  bytes: number;
  /** sysUptime at the first and last packet, ms. */
  first: number;
  last: number;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  protocol: number;
  tos: number;
  srcAs: number;
  dstAs: number;
  srcMask: number;
  dstMask: number;
}

export const defaultV5Header: V5Header = {
  sysUptime: 3_600_000,
  unixSecs: 1_700_000_000,
  unixNsecs: 250_000_000,
  flowSequence: 1,
  engineType: 0,
  engineId: 0,
  samplingInterval: 0,
};

export const defaultV5Record: V5Record = {
  srcAddr: '198.51.100.7',
  dstAddr: '203.0.113.10',
  nextHop: '0.0.0.0',
  input: 1,
  output: 2,
  packets: 10,
  bytes: 5000,
  first: 3_590_000,
  last: 3_599_000,
  srcPort: 123,
  dstPort: 40000,
  tcpFlags: 0,
  protocol: 17,
  tos: 0,
  srcAs: 0,
  dstAs: 0,
  srcMask: 0,
  dstMask: 0,
};

function ipv4(text: string): number {
  const v = parseIPv4(text);
  if (v === undefined) throw new Error(`test helper: not an IPv4 address: ${text}`);
  return v;
}

export function encodeNetflowV5(
  header: Partial<V5Header> = {},
  records: readonly Partial<V5Record>[] = [{}],
  options: { count?: number; version?: number } = {},
): Uint8Array {
  const h = { ...defaultV5Header, ...header };
  const out = new Uint8Array(24 + 48 * records.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, options.version ?? 5);
  v.setUint16(2, options.count ?? records.length);
  v.setUint32(4, h.sysUptime >>> 0);
  v.setUint32(8, h.unixSecs >>> 0);
  v.setUint32(12, h.unixNsecs >>> 0);
  v.setUint32(16, h.flowSequence >>> 0);
  v.setUint8(20, h.engineType);
  v.setUint8(21, h.engineId);
  v.setUint16(22, h.samplingInterval);
  records.forEach((partial, i) => {
    const r = { ...defaultV5Record, ...partial };
    const o = 24 + 48 * i;
    v.setUint32(o, ipv4(r.srcAddr));
    v.setUint32(o + 4, ipv4(r.dstAddr));
    v.setUint32(o + 8, ipv4(r.nextHop));
    v.setUint16(o + 12, r.input);
    v.setUint16(o + 14, r.output);
    v.setUint32(o + 16, r.packets >>> 0);
    v.setUint32(o + 20, r.bytes >>> 0);
    v.setUint32(o + 24, r.first >>> 0);
    v.setUint32(o + 28, r.last >>> 0);
    v.setUint16(o + 32, r.srcPort);
    v.setUint16(o + 34, r.dstPort);
    v.setUint8(o + 36, 0);
    v.setUint8(o + 37, r.tcpFlags);
    v.setUint8(o + 38, r.protocol);
    v.setUint8(o + 39, r.tos);
    v.setUint16(o + 40, r.srcAs);
    v.setUint16(o + 42, r.dstAs);
    v.setUint8(o + 44, r.srcMask);
    v.setUint8(o + 45, r.dstMask);
    v.setUint16(o + 46, 0);
  });
  return out;
}
