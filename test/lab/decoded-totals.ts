/**
 * Decodes what a real exporter sent through Floodgate's decoder table and sums it the way the
 * scenarios' ground truth is written: per destination and protocol, plus UDP source ports and
 * ICMP type/code per destination, and every record in order for comparing with tshark.
 */
import { createDecoderTable, type DecoderTableConfig } from '../../collectors/registry.js';
import { ADDRESS_WORDS, FlowBatch } from '../../core/flow/flow-batch.js';
import { formatAddressWords } from '../../core/net/address.js';
import { flowRows } from '../helpers/flow-row.js';
import type { TsharkRecord } from './tshark-flows.js';
import type { TsharkSflowSample } from './tshark-sflow.js';
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

/** Decodes through a table with a default rate of 1 and the given `collectors.sampling`. */
export function decodeAll(
  datagrams: readonly ReceivedDatagram[],
  sampling?: DecoderTableConfig['sampling'],
): Decoded {
  const table = createDecoderTable({
    defaultSamplingRate: 1,
    exporters: { allow: [] },
    ...(sampling ? { sampling } : {}),
  });
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
        srcPort: b.srcPort[row]!,
        dstPort: b.dstPort[row]!,
        tcpFlags: b.tcpFlags[row]!,
        icmpType: b.icmpType[row]!,
        icmpCode: b.icmpCode[row]!,
        inputIf: b.inputIf[row]!,
        outputIf: b.outputIf[row]!,
        packets: b.packets[row]!,
        octets: b.bytes[row]!,
        startMs: b.startMs[row]!,
        endMs: b.endMs[row]!,
        sourceId: b.sourceId[row]!,
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

export type DecodedRow = ReturnType<typeof flowRows>[number];

export interface DecodedPerDatagram {
  /** Rows of each datagram, in datagram order. */
  perDatagram: DecodedRow[][];
  rows: DecodedRow[];
  errors: Record<string, number>;
  notices: Record<string, number>;
}

/**
 * Decodes each datagram on its own into rows, for exporters whose datagrams stand alone
 * (sFlow): the rows of datagram i can then be compared with what tshark makes of it.
 */
export function decodePerDatagram(
  datagrams: readonly ReceivedDatagram[],
  sampling?: DecoderTableConfig['sampling'],
): DecodedPerDatagram {
  const table = createDecoderTable({
    defaultSamplingRate: 1,
    exporters: { allow: [] },
    ...(sampling ? { sampling } : {}),
  });
  const perDatagram: DecodedRow[][] = [];
  const batch = new FlowBatch(512);
  const noSink = () => {
    throw new Error('a datagram of more than 512 records');
  };
  for (const d of datagrams) {
    table.decode(d.data, d.from, d.arrivalMs, batch, noSink);
    perDatagram.push(flowRows(batch));
    batch.clear();
  }
  const totals = table.snapshot().totals;
  return { perDatagram, rows: perDatagram.flat(), errors: totals.errors, notices: totals.notices };
}

/** Packets and bytes summed per key of a row ("dst/proto" for the ground truths). */
export function totalsBy(
  rows: readonly DecodedRow[],
  key: (r: DecodedRow) => string,
): Record<string, { packets: number; bytes: number }> {
  const out: Record<string, { packets: number; bytes: number }> = {};
  for (const r of rows) {
    const k = key(r);
    const t = out[k] ?? { packets: 0, bytes: 0 };
    t.packets += r.packets!;
    t.bytes += r.bytes!;
    out[k] = t;
  }
  return out;
}

/**
 * A decoded sFlow row as the fields tshark states per sample (tshark-sflow.ts), frame fields
 * aside: one row is one sampled packet, so its IP length is bytes / sampling rate.
 */
export function sflowFields(r: DecodedRow): Omit<TsharkSflowSample, 'frameLength' | 'stripped'> {
  return {
    sourceId: r.sourceId!,
    samplingRate: r.samplingRate!,
    inputIf: r.inputIf!,
    outputIf: r.outputIf!,
    src: r.srcAddr,
    dst: r.dstAddr,
    protocol: r.protocol!,
    ipLength: r.bytes! / r.samplingRate!,
    srcPort: r.srcPort!,
    dstPort: r.dstPort!,
    tcpFlags: r.tcpFlags!,
    icmpType: r.icmpType!,
    icmpCode: r.icmpCode!,
  };
}
