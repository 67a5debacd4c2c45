import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HostTable } from '../../../core/traffic/host-table.js';

/** A 4-word column holding one address at row 0. */
function col(w0: number, w1: number, w2: number, w3: number): Uint32Array {
  return Uint32Array.of(w0, w1, w2, w3);
}
const v4 = (addr: number) => col(0, 0, 0xffff, addr >>> 0);

describe('HostTable', () => {
  it('inserts and finds IPv4 and IPv6 hosts by their four words', () => {
    const table = new HostTable({ capacity: 8 });
    const a = v4(0xcb007105); // 203.0.113.5
    const b = col(0x20010db8, 0, 0, 5); // 2001:db8::5
    expect(table.lookupRow(a, 0)).toBe(-1);
    const idA = table.insertRow(a, 0);
    const idB = table.insertRow(b, 0);
    expect(idA).toBeGreaterThanOrEqual(0);
    expect(idB).not.toBe(idA);
    expect(table.lookupRow(a, 0)).toBe(idA);
    expect(table.lookupRow(b, 0)).toBe(idB);
    expect(table.lookupRow(v4(0xcb007106), 0)).toBe(-1);
    expect(table.size).toBe(2);
    expect([...table.keys.subarray(idB * 4, idB * 4 + 4)]).toEqual([0x20010db8, 0, 0, 5]);
  });

  it('reads the key at any row of a column', () => {
    const table = new HostTable({ capacity: 4 });
    const column = new Uint32Array(12);
    column.set([0, 0, 0xffff, 1, 0, 0, 0xffff, 2, 0, 0, 0xffff, 3]);
    const id = table.insertRow(column, 2);
    expect(table.lookupRow(v4(3), 0)).toBe(id);
    expect(table.lookupRow(column, 1)).toBe(-1);
  });

  it('refuses new hosts when full, counts the overflow and keeps existing hosts', () => {
    const table = new HostTable({ capacity: 3 });
    const before = table.bytesAllocated;
    for (let i = 0; i < 3; i++) expect(table.insertRow(v4(i), 0)).toBe(i);
    expect(table.insertRow(v4(100), 0)).toBe(-1);
    expect(table.insertRow(v4(101), 0)).toBe(-1);
    expect(table.overflow).toBe(2);
    expect(table.size).toBe(3);
    for (let i = 0; i < 3; i++) expect(table.lookupRow(v4(i), 0)).toBe(i);
    expect(table.bytesAllocated).toBe(before);
  });

  it('evicts hosts idle since the cutoff, keeps pinned ones, and reuses the freed slots', () => {
    const table = new HostTable({ capacity: 4 });
    for (let i = 0; i < 4; i++) {
      const id = table.insertRow(v4(i), 0);
      table.lastSeenMs[id] = i < 2 ? 1_000 : 50_000;
    }
    table.setPinned(0, true);
    expect(table.evictIdle(10_000)).toBe(1); // host 1 only: host 0 is pinned
    expect(table.lookupRow(v4(0), 0)).toBe(0);
    expect(table.lookupRow(v4(1), 0)).toBe(-1);
    expect(table.size).toBe(3);
    expect(table.insertRow(v4(9), 0)).toBe(1);
    expect(table.insertRow(v4(10), 0)).toBe(-1);
  });

  it('stays consistent with a Map through any sequence of inserts and removals (backward shift)', () => {
    // A tiny table and few distinct keys force long probe runs that wrap around the index.
    const op = fc.record({ insert: fc.boolean(), key: fc.integer({ min: 0, max: 40 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.integer(), (ops, seed) => {
        const table = new HostTable({ capacity: 16, seed });
        const model = new Map<number, number>();
        let overflow = 0;
        for (const { insert, key } of ops) {
          const c = v4(key * 0x01000193);
          const found = table.lookupRow(c, 0);
          expect(found).toBe(model.get(key) ?? -1);
          if (insert && found < 0) {
            const id = table.insertRow(c, 0);
            if (model.size === 16) {
              expect(id).toBe(-1);
              overflow += 1;
            } else {
              model.set(key, id);
            }
          } else if (!insert && found >= 0) {
            table.remove(found);
            model.delete(key);
          }
        }
        expect(table.size).toBe(model.size);
        expect(table.overflow).toBe(overflow);
        for (const [key, id] of model) expect(table.lookupRow(v4(key * 0x01000193), 0)).toBe(id);
      }),
      { numRuns: 300 },
    );
  });
});
