/**
 * Decodes what a real exporter sent through Floodgate's decoder table and sums it the way the
 * scenarios' ground truth is written: per destination and protocol, plus UDP source ports and
 * ICMP type/code per destination, and every record in order for comparing with tshark.
 */
import { createDecoderTable } from '../../collectors/registry.js';
import { ADDRESS_WORDS, FlowBatch } from '../../core/flow/flow-batch.js';
import { formatAddressWords } from '../../core/net/address.js';
import type { TsharkRecord } from './tshark-flows.js';
import type { ReceivedDatagram } from './udp-sink.js';

const PROTO_UDP = 17;

export interface Decoded {
  totals: Map<string, { packets: number; bytes: number }>;
  /** UDP packets by source port, per destination. */
  udpSourcePorts: Map<string, Map<number, number>>;
  /** ICMP type/code seen per destination. */
  icmp: Map<string, Set<string>>;
  /** Every record in decode order, for the tshark comparison. */
  records: TsharkRecord[];
  errors: Record<string, number>;
  notices: Record<string, number>;
}

export function decodeAll(datagrams: readonly ReceivedDatagram[]): Decoded {
  const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } });
  const batch = new FlowBatch(1024);
  const decoded: Decoded = {
    totals: new Map(),
    udpSourcePorts: new Map(),
    icmp: new Map(),
    records: [],
    errors: {},
    notices: {},
  };
  const drain = (b: FlowBatch): void => {
    for (let row = 0; row < b.length; row++) {
      const a = row * ADDRESS_WORDS;
      const dst = formatAddressWords(b.dstAddr, a);
      const protocol = b.protocol[row]!;
      const key = `${dst}/${protocol}`;
      const t = decoded.totals.get(key) ?? { packets: 0, bytes: 0 };
      t.packets += b.packets[row]!;
      t.bytes += b.bytes[row]!;
      decoded.totals.set(key, t);
      if (protocol === PROTO_UDP) {
        const ports = decoded.udpSourcePorts.get(dst) ?? new Map<number, number>();
        ports.set(b.srcPort[row]!, (ports.get(b.srcPort[row]!) ?? 0) + b.packets[row]!);
        decoded.udpSourcePorts.set(dst, ports);
      }
      if (protocol === 1 || protocol === 58) {
        const seen = decoded.icmp.get(dst) ?? new Set<string>();
        seen.add(`${b.icmpType[row]}/${b.icmpCode[row]}`);
        decoded.icmp.set(dst, seen);
      }
      decoded.records.push({
        src: formatAddressWords(b.srcAddr, a),
        dst,
        protocol,
        packets: b.packets[row]!,
        octets: b.bytes[row]!,
      });
    }
    b.clear();
  };
  for (const d of datagrams) table.decode(d.data, d.from, d.arrivalMs, batch, drain);
  drain(batch);
  const totals = table.snapshot().totals;
  decoded.errors = totals.errors;
  decoded.notices = totals.notices;
  return decoded;
}

export function expectedTotals(
  destinations: Record<string, { protocols: Record<string, { packets: number; bytes: number }> }>,
) {
  const expected: Record<string, { packets: number; bytes: number }> = {};
  for (const [dst, d] of Object.entries(destinations)) {
    for (const [proto, counted] of Object.entries(d.protocols)) expected[`${dst}/${proto}`] = counted;
  }
  return expected;
}

export function pick(decoded: Decoded, keys: readonly string[]) {
  return Object.fromEntries(keys.map((k) => [k, decoded.totals.get(k) ?? { packets: 0, bytes: 0 }]));
}
