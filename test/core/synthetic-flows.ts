/**
 * Hand-built flow batches for the core tests: rows written with setIPv4/setIPv6 the way a decoder
 * would, so counters and the detector are tested on the real columnar layout.
 */
import { FlowBatch, setIPv4, setIPv6 } from '../../core/flow/flow-batch.js';
import { parseAddress } from '../../core/net/address.js';

export interface SyntheticFlow {
  dst: string;
  src?: string;
  protocol?: number;
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: number;
  fragment?: number;
  packets: number;
  /** Packets as the exporter reported them before scaling; default `packets`. */
  sampledPackets?: number;
  samplingRate?: number;
  bytes?: number;
  /** endMs - startMs on the exporter's clock; 0 when absent. */
  durationMs?: number;
  arrivalMs: number;
  /** Exporter clock offset: the detector must not care. */
  exporterSkewMs?: number;
}

function writeAddress(column: Uint32Array, row: number, text: string): void {
  const addr = parseAddress(text);
  if (!addr) throw new Error(`not an address: ${text}`);
  if (addr.version === 4) {
    setIPv4(column, row, addr.words[3]);
    return;
  }
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  addr.words.forEach((w, i) => {
    view.setUint32(i * 4, w);
  });
  setIPv6(column, row, bytes, 0);
}

export function batchOf(flows: readonly SyntheticFlow[]): FlowBatch {
  const batch = new FlowBatch(Math.max(1, flows.length));
  for (const f of flows) {
    const row = batch.append();
    const v6 = f.dst.includes(':');
    batch.ipVersion[row] = v6 ? 6 : 4;
    writeAddress(batch.dstAddr, row, f.dst);
    writeAddress(batch.srcAddr, row, f.src ?? (v6 ? '2001:db8:ffff::1' : '192.0.2.1'));
    batch.protocol[row] = f.protocol ?? 17;
    batch.srcPort[row] = f.srcPort ?? 40000;
    batch.dstPort[row] = f.dstPort ?? 443;
    batch.tcpFlags[row] = f.tcpFlags ?? 0;
    if (f.fragment !== undefined) batch.fragment[row] = f.fragment;
    batch.packets[row] = f.packets;
    batch.sampledPackets[row] = f.sampledPackets ?? f.packets;
    batch.samplingRate[row] = f.samplingRate ?? 1;
    batch.bytes[row] = f.bytes ?? f.packets * 100;
    const exporterEnd = f.arrivalMs + (f.exporterSkewMs ?? -3_600_000);
    batch.endMs[row] = exporterEnd;
    batch.startMs[row] = exporterEnd - (f.durationMs ?? 0);
    batch.arrivalMs[row] = f.arrivalMs;
  }
  return batch;
}

/** Unix ms of a fixed instant (2026-11-21T14:19:00Z): tests read like wall-clock timelines. */
export const T0 = Date.UTC(2026, 10, 21, 14, 19, 0);
