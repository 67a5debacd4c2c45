import { describe, expect, it } from 'vitest';
import {
  largeSketchAdd,
  largeSketchEstimate,
  SMALL_SKETCH_BYTES,
  smallSketchAdd,
  smallSketchEstimate,
} from '../../../core/traffic/distinct-count.js';
import { hashWords } from '../../../core/traffic/hash.js';

const hashOf = (i: number, seed: number) => hashWords(0, 0, 0xffff, i, seed);

describe('distinct counts', () => {
  it('small sketch: within its 18% standard error on average, exact-ish when tiny, saturating near a million', () => {
    for (const n of [1, 10, 100, 1000, 10_000, 100_000]) {
      let relativeError = 0;
      const runs = 20;
      for (let seed = 0; seed < runs; seed++) {
        const regs = new Uint8Array(SMALL_SKETCH_BYTES);
        for (let i = 0; i < n; i++) smallSketchAdd(regs, 0, hashOf(i, seed));
        relativeError += Math.abs(smallSketchEstimate(regs, 0, -1) - n) / n;
      }
      expect(relativeError / runs).toBeLessThan(0.2);
    }
  });

  it('small sketch: two generations estimate their union', () => {
    const regs = new Uint8Array(2 * SMALL_SKETCH_BYTES);
    for (let i = 0; i < 500; i++) smallSketchAdd(regs, 0, hashOf(i, 7));
    for (let i = 250; i < 1000; i++) smallSketchAdd(regs, SMALL_SKETCH_BYTES, hashOf(i, 7));
    const union = smallSketchEstimate(regs, 0, SMALL_SKETCH_BYTES);
    expect(Math.abs(union - 1000) / 1000).toBeLessThan(0.5);
  });

  it('large sketch (512 registers): within 15% from 10 to a million', () => {
    for (const n of [10, 1000, 50_000, 1_000_000]) {
      const regs = new Uint8Array(512);
      for (let i = 0; i < n; i++) largeSketchAdd(regs, 0, 9, hashOf(i, 3));
      expect(Math.abs(largeSketchEstimate(regs, 0, -1, 9) - n) / n).toBeLessThan(0.15);
    }
  });
});
