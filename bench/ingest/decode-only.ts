/**
 * The decoder table alone on the replayed datagrams, in this process, no socket: how many
 * records per second decoding takes on one core. Next to the ingest figures it tells how much
 * of the collector's time goes to decoding and how much to receiving datagrams.
 */
import { createDecoderTable } from '../../collectors/registry.js';
import { FlowBatch } from '../../core/flow/flow-batch.js';
import type { Replay } from './replay-file.js';

export interface DecodeOnly {
  recordsPerSecond: number;
  datagramsPerSecond: number;
  /** Microseconds of decoding per datagram. */
  microsPerDatagram: number;
}

export function measureDecodeOnly(replay: Replay, seconds: number): DecodeOnly {
  const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } });
  const batch = new FlowBatch(8192);
  let records = 0;
  const count = (b: FlowBatch): void => {
    records += b.length;
    b.clear();
  };
  let datagrams = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  // Whole loops over the replay, so template datagrams keep their share.
  while (elapsed < budget) {
    for (const d of replay.datagrams) {
      table.decode(d, '127.0.0.1', 0, batch, count);
      if (batch.length > 0) count(batch);
    }
    datagrams += replay.datagrams.length;
    elapsed = process.hrtime.bigint() - start;
  }
  const secondsTaken = Number(elapsed) / 1e9;
  return {
    recordsPerSecond: Math.round(records / secondsTaken),
    datagramsPerSecond: Math.round(datagrams / secondsTaken),
    microsPerDatagram: (secondsTaken * 1e6) / datagrams,
  };
}
