/** Reads one FlowBatch row back as a plain object, for deep-equality assertions. */
import { ADDRESS_WORDS, type FlowBatch } from '../../core/flow/flow-batch.js';
import { formatAddressWords } from '../../core/net/address.js';

export function flowRow(b: FlowBatch, row: number) {
  const a = row * ADDRESS_WORDS;
  return {
    ipVersion: b.ipVersion[row],
    exporter: formatAddressWords(b.exporterAddr, a),
    sourceId: b.sourceId[row],
    srcAddr: formatAddressWords(b.srcAddr, a),
    dstAddr: formatAddressWords(b.dstAddr, a),
    srcPort: b.srcPort[row],
    dstPort: b.dstPort[row],
    protocol: b.protocol[row],
    tcpFlags: b.tcpFlags[row],
    icmpType: b.icmpType[row],
    icmpCode: b.icmpCode[row],
    fragment: b.fragment[row],
    inputIf: b.inputIf[row],
    outputIf: b.outputIf[row],
    packets: b.packets[row],
    bytes: b.bytes[row],
    sampledPackets: b.sampledPackets[row],
    samplingRate: b.samplingRate[row],
    startMs: b.startMs[row],
    endMs: b.endMs[row],
    arrivalMs: b.arrivalMs[row],
  };
}

export function flowRows(b: FlowBatch) {
  return Array.from({ length: b.length }, (_, i) => flowRow(b, i));
}
