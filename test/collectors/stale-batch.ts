/**
 * For the decoders that reserve rows without zeroing them (FlowBatch.reserve) and write every
 * column themselves: a batch full of stale values, and every column of its rows as plain
 * numbers. Decoding into a stale batch must give what decoding into a fresh one gives; the
 * columns are found by looking at the batch, so one added to FlowBatch later is covered too.
 */
import { FlowBatch } from '../../core/flow/flow-batch.js';

type Column = Uint8Array | Uint16Array | Uint32Array | Float64Array;

function columns(batch: FlowBatch): [string, Column][] {
  return Object.entries(batch).filter((e): e is [string, Column] => ArrayBuffer.isView(e[1]));
}

/** A batch whose every column holds 0xab in every row. */
export function staleBatch(capacity: number): FlowBatch {
  const batch = new FlowBatch(capacity);
  for (const [, column] of columns(batch)) column.fill(0xab);
  return batch;
}

/** Every column of the first `rows` rows, keyed by column name. */
export function dumpRows(batch: FlowBatch, rows = batch.length): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, column] of columns(batch)) {
    const width = column.length / batch.capacity;
    out[name] = Array.from(column.subarray(0, rows * width));
  }
  return out;
}
