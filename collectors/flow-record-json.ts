/**
 * One FlowBatch row as a plain JSON object, with the field names docs/collectors.md uses. For
 * operators' tools (`floodgate decode`) and the API, never for the hot path: it allocates.
 */
import { ADDRESS_WORDS, type FlowBatch, FRAGMENT_NO, FRAGMENT_YES } from '../core/flow/flow-batch.js';
import { formatAddressWords } from '../core/net/address.js';

export interface FlowRecordJson {
  exporter: string;
  sourceId: number;
  ipVersion: number;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  protocol: number;
  tcpFlags: number;
  icmpType: number;
  icmpCode: number;
  fragment: 'yes' | 'no' | 'unknown';
  inputIf: number;
  outputIf: number;
  packets: number;
  bytes: number;
  sampledPackets: number;
  samplingRate: number;
  startMs: number;
  endMs: number;
  arrivalMs: number;
}

export function flowRecordJson(b: FlowBatch, row: number): FlowRecordJson {
  const a = row * ADDRESS_WORDS;
  const fragment = b.fragment[row];
  return {
    exporter: formatAddressWords(b.exporterAddr, a),
    sourceId: b.sourceId[row]!,
    ipVersion: b.ipVersion[row]!,
    srcAddr: formatAddressWords(b.srcAddr, a),
    dstAddr: formatAddressWords(b.dstAddr, a),
    srcPort: b.srcPort[row]!,
    dstPort: b.dstPort[row]!,
    protocol: b.protocol[row]!,
    tcpFlags: b.tcpFlags[row]!,
    icmpType: b.icmpType[row]!,
    icmpCode: b.icmpCode[row]!,
    fragment: fragment === FRAGMENT_YES ? 'yes' : fragment === FRAGMENT_NO ? 'no' : 'unknown',
    inputIf: b.inputIf[row]!,
    outputIf: b.outputIf[row]!,
    packets: b.packets[row]!,
    bytes: b.bytes[row]!,
    sampledPackets: b.sampledPackets[row]!,
    samplingRate: b.samplingRate[row]!,
    startMs: b.startMs[row]!,
    endMs: b.endMs[row]!,
    arrivalMs: b.arrivalMs[row]!,
  };
}
