/**
 * The replay a sender loops over: captured datagrams with the number of flow records each
 * carries, counted once by Floodgate's own decoder table (in capture order, so template
 * datagrams come before the data they describe). The sender adds those counts up as it sends,
 * which is how a step knows exactly how many records left the sender.
 */
import { writeFileSync } from 'node:fs';
import { createDecoderTable } from '../../collectors/registry.js';
import { FlowBatch } from '../../core/flow/flow-batch.js';

/** sFlow v5 in the replay file's protocol field ("SF", then the version). */
export const SFLOW_V5_REPLAY = 0x5346_0005;

/** NetFlow/IPFIX version, or SFLOW_V5_REPLAY. */
export type ReplayVersion = 5 | 9 | 10 | typeof SFLOW_V5_REPLAY;

export interface Replay {
  version: ReplayVersion;
  datagrams: Buffer[];
  /** Data records in each datagram (0 for one that only carries templates). */
  records: number[];
  totalRecords: number;
  /** Average records per datagram over one loop of the replay. */
  recordsPerDatagram: number;
}

export function buildReplay(version: ReplayVersion, datagrams: readonly Buffer[]): Replay {
  const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } });
  const batch = new FlowBatch(4096);
  const clear = (b: FlowBatch): void => b.clear();
  const records = datagrams.map((d) => {
    const n = table.decode(d, '127.0.0.1', 0, batch, clear);
    batch.clear();
    return n;
  });
  const errors = table.snapshot().totals.errors;
  if (Object.keys(errors).length > 0) {
    throw new Error(
      `Floodgate could not decode the captured ${versionName(version)} datagrams: ${JSON.stringify(errors)}`,
    );
  }
  const totalRecords = records.reduce((a, b) => a + b, 0);
  if (totalRecords === 0) throw new Error(`the ${versionName(version)} capture holds no flow records`);
  return {
    version,
    datagrams: [...datagrams],
    records,
    totalRecords,
    recordsPerDatagram: totalRecords / datagrams.length,
  };
}

export function versionName(version: ReplayVersion): string {
  if (version === SFLOW_V5_REPLAY) return 'sFlow v5';
  return version === 5 ? 'NetFlow v5' : version === 9 ? 'NetFlow v9' : 'IPFIX';
}

/** The file format replay-sender.c reads (little-endian uint32 fields). */
export function encodeReplay(replay: Replay): Buffer {
  const size = 16 + replay.datagrams.reduce((n, d) => n + 8 + d.length, 0);
  const out = Buffer.alloc(size);
  out.write('FGRPLAY1', 0, 'latin1');
  out.writeUInt32LE(replay.version, 8);
  out.writeUInt32LE(replay.datagrams.length, 12);
  let at = 16;
  replay.datagrams.forEach((d, i) => {
    out.writeUInt32LE(d.length, at);
    out.writeUInt32LE(replay.records[i]!, at + 4);
    d.copy(out, at + 8);
    at += 8 + d.length;
  });
  return out;
}

export function writeReplay(path: string, replay: Replay): void {
  writeFileSync(path, encodeReplay(replay));
}
