import { describe, expect, it } from 'vitest';
import {
  ADDRESS_WORDS,
  FlowBatch,
  FRAGMENT_UNKNOWN,
  setIPv4,
  setIPv6,
} from '../../../core/flow/flow-batch.js';

type Column = Uint8Array | Uint16Array | Uint32Array | Float64Array;

function columns(batch: FlowBatch): [string, Column][] {
  return Object.entries(batch).filter((e): e is [string, Column] => ArrayBuffer.isView(e[1]));
}

function fillStale(batch: FlowBatch): void {
  for (const [, column] of columns(batch)) column.fill(0xab);
}

describe('FlowBatch', () => {
  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new FlowBatch(0)).toThrow(RangeError);
    expect(() => new FlowBatch(1.5)).toThrow(RangeError);
  });

  it('append zeroes every column of the row it reserves, sampling rate 1', () => {
    const batch = new FlowBatch(4);
    fillStale(batch);
    const row = batch.append();
    expect(row).toBe(0);
    for (const [name, column] of columns(batch)) {
      const width = column.length / batch.capacity;
      const expected = name === 'samplingRate' ? 1 : name === 'fragment' ? FRAGMENT_UNKNOWN : 0;
      expect(Array.from(column.subarray(0, width)), name).toEqual(new Array(width).fill(expected));
      // The next row is untouched.
      expect(column[width], name).toBe(0xab);
    }
    expect(batch.length).toBe(1);
  });

  it('reserve hands out rows without touching them, and -1 when full', () => {
    const batch = new FlowBatch(2);
    fillStale(batch);
    expect(batch.reserve()).toBe(0);
    expect(batch.append()).toBe(1);
    expect(batch.full).toBe(true);
    expect(batch.reserve()).toBe(-1);
    expect(batch.append()).toBe(-1);
    expect(batch.length).toBe(2);
    expect(batch.protocol[0]).toBe(0xab);
    expect(batch.protocol[1]).toBe(0);
    batch.unappend();
    expect(batch.length).toBe(1);
    batch.clear();
    expect(batch.length).toBe(0);
    expect(batch.reserve()).toBe(0);
  });

  it('stores IPv4 mapped and IPv6 as four words', () => {
    const batch = new FlowBatch(2);
    setIPv4(batch.srcAddr, 1, 0xc0000201);
    expect(Array.from(batch.srcAddr.subarray(ADDRESS_WORDS, 2 * ADDRESS_WORDS))).toEqual([
      0, 0, 0xffff, 0xc0000201,
    ]);
    const v6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]);
    setIPv6(batch.dstAddr, 0, v6, 0);
    expect(Array.from(batch.dstAddr.subarray(0, ADDRESS_WORDS))).toEqual([0x20010db8, 0, 0, 1]);
  });
});
