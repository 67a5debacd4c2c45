import { describe, expect, it } from 'vitest';
import { MAX_DATAGRAM, Mutator } from '../../bench/fuzz/mutate.js';
import { Rng } from '../../bench/fuzz/rng.js';

function seed(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

describe('fuzz generator', () => {
  it('repeats exactly from the same seed and differs from another', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xs = Array.from({ length: 8 }, () => a.u32());
    expect(Array.from({ length: 8 }, () => b.u32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.u32())).not.toEqual(xs);
    for (const x of xs) expect(Number.isInteger(x) && x >= 0 && x < 2 ** 32).toBe(true);
  });

  it('draws integers below the bound, covering all of them', () => {
    const rng = new Rng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const v = rng.below(7);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(7);
      seen.add(v);
    }
    expect(seen.size).toBe(7);
  });
});

describe('datagram mutator', () => {
  it('returns a new array and never touches the seed', () => {
    const m = new Mutator(new Rng(7));
    const original = seed(100, 0xaa);
    for (let i = 0; i < 2000; i++) {
      const out = m.mutate(original, [seed(50, 0x55)]);
      expect(out.buffer).not.toBe(original.buffer);
      expect(out.length).toBeLessThanOrEqual(MAX_DATAGRAM);
    }
    expect(original.every((b) => b === 0xaa)).toBe(true);
  });

  it('changes, cuts, grows and splices', () => {
    const m = new Mutator(new Rng(3));
    const original = seed(200, 0);
    let changed = 0;
    let shorter = 0;
    let longer = 0;
    let spliced = 0;
    for (let i = 0; i < 5000; i++) {
      const out = m.mutate(original, [seed(300, 0x77)]);
      if (out.length < 200) shorter += 1;
      if (out.length > 200) longer += 1;
      if (out.some((b) => b !== 0)) changed += 1;
      if (out.includes(0x77)) spliced += 1;
    }
    expect(changed).toBeGreaterThan(2500);
    expect(shorter).toBeGreaterThan(250);
    expect(longer).toBeGreaterThan(250);
    expect(spliced).toBeGreaterThan(100);
  });

  it('copes with empty and one-byte seeds', () => {
    const m = new Mutator(new Rng(9));
    // At most 4 mutations, each adding at most 64 bytes.
    for (let i = 0; i < 1000; i++) {
      expect(m.mutate(new Uint8Array(0), []).length).toBeLessThanOrEqual(4 * 64);
      expect(m.mutate(new Uint8Array([5]), []).length).toBeLessThanOrEqual(1 + 4 * 64);
    }
  });

  it('puts valid version fields in front of random bytes most of the time', () => {
    const m = new Mutator(new Rng(5));
    const prefix = new Uint8Array([0, 9, 0, 1]);
    let prefixed = 0;
    for (let i = 0; i < 1000; i++) {
      const out = m.random([prefix]);
      expect(out.length).toBeLessThan(1600);
      if (out.length >= 4 && out[0] === 0 && out[1] === 9 && out[2] === 0 && out[3] === 1) prefixed += 1;
    }
    expect(prefixed).toBeGreaterThan(500);
  });
});
