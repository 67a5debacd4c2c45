import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  narrowAddresses,
  type ReplacedEntry,
  restoreAddresses,
} from '../../../../adapters/node/cloud/address-narrowing.js';
import {
  type Cidr,
  contains,
  overlaps,
  parseRemoteCidr,
  parseSourceParam,
} from '../../../../adapters/node/cloud/cidr.js';

/** The addresses a list allows, as sorted disjoint [first, last] ranges of one family. */
type Ranges = Array<[bigint, bigint]>;

function rangesOf(cidrs: readonly Cidr[], version: 4 | 6): Ranges {
  const bits = version === 4 ? 32 : 128;
  const raw = cidrs
    .filter((c) => c.version === version)
    .map((c): [bigint, bigint] => [c.network, c.network + (1n << BigInt(bits - c.length)) - 1n])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Ranges = [];
  for (const [from, to] of raw) {
    const last = out[out.length - 1];
    if (last && from <= last[1] + 1n) last[1] = to > last[1] ? to : last[1];
    else out.push([from, to]);
  }
  return out;
}

const allowed = (list: readonly string[], version: 4 | 6): Ranges =>
  rangesOf(
    list.flatMap((t) => {
      const c = parseRemoteCidr(t);
      return c ? [c] : [];
    }),
    version,
  );

function subtract(ranges: Ranges, c: Cidr): Ranges {
  const bits = c.version === 4 ? 32 : 128;
  const [from, to] = [c.network, c.network + (1n << BigInt(bits - c.length)) - 1n];
  const out: Ranges = [];
  for (const [a, b] of ranges) {
    if (b < from || a > to) out.push([a, b]);
    else {
      if (a < from) out.push([a, from - 1n]);
      if (b > to) out.push([to + 1n, b]);
    }
  }
  return out;
}

function union(a: Ranges, b: Ranges): Ranges {
  const all = [...a, ...b].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: Ranges = [];
  for (const [from, to] of all) {
    const last = out[out.length - 1];
    if (last && from <= last[1] + 1n) last[1] = to > last[1] ? to : last[1];
    else out.push([from, to]);
  }
  return out;
}

function intersect(ranges: Ranges, c: Cidr): Ranges {
  const bits = c.version === 4 ? 32 : 128;
  const [from, to] = [c.network, c.network + (1n << BigInt(bits - c.length)) - 1n];
  return ranges.flatMap(
    ([a, b]): Ranges => (b < from || a > to ? [] : [[a > from ? a : from, b < to ? b : to]]),
  );
}

interface Applied {
  source: Cidr;
  before: string[];
  replaced: ReplacedEntry[];
  /** What the block took away, for the model. */
  removed: Ranges;
}

describe('narrowAddresses and restoreAddresses: examples', () => {
  const s1 = parseSourceParam('198.51.100.4');
  const s2 = parseSourceParam('203.0.113.0/24');

  it('narrows an allow-all entry in place and leaves other families and entries alone', () => {
    const r = narrowAddresses(['192.0.2.0/24', '0.0.0.0/0', '::/0'], s1);
    expect(r.addresses[0]).toBe('192.0.2.0/24');
    expect(r.addresses).toHaveLength(1 + 32 + 1);
    expect(r.addresses[r.addresses.length - 1]).toBe('::/0');
    expect(r.replaced).toEqual([
      { original: '0.0.0.0/0', pieces: r.addresses.slice(1, 33), root: '0.0.0.0/0' },
    ]);
  });

  it('removes entries inside the blocked prefix', () => {
    const r = narrowAddresses(['203.0.113.7', '203.0.113.128/25', '10.0.0.0/8'], s2);
    expect(r.addresses).toEqual(['10.0.0.0/8']);
    expect(r.replaced.map((x) => x.original)).toEqual(['203.0.113.7', '203.0.113.128/25']);
  });

  it('restores the exact original list when nothing else is blocked', () => {
    const before = ['192.0.2.0/24', '0.0.0.0/0', '::/0'];
    const r = narrowAddresses(before, s1);
    expect(restoreAddresses(r.addresses, before, r.replaced, s1)).toEqual({
      addresses: before,
      restored: true,
    });
    const inside = ['203.0.113.7', '10.0.0.0/8', '203.0.113.128/25'];
    const r2 = narrowAddresses(inside, s2);
    expect(restoreAddresses(r2.addresses, inside, r2.replaced, s2).addresses).toEqual(inside);
  });

  it('keeps a second block in place, in either undo order, and ends exactly at the original', () => {
    const original = ['0.0.0.0/0', '::/0'];
    const a = narrowAddresses(original, s1);
    // The second block is told the roots of the first, which is still in place.
    const b = narrowAddresses(
      a.addresses,
      s2,
      a.replaced.map((r) => r.root),
    );
    expect(b.replaced).toEqual([expect.objectContaining({ root: '0.0.0.0/0' })]);
    const onlyS2 = narrowAddresses(original, s2).addresses;
    const onlyS1 = a.addresses;

    // First in, first out.
    const afterS1 = restoreAddresses(b.addresses, original, a.replaced, s1).addresses;
    expect(afterS1).toEqual(onlyS2);
    expect(restoreAddresses(afterS1, a.addresses, b.replaced, s2).addresses).toEqual(original);

    // Last in, first out.
    const afterS2 = restoreAddresses(b.addresses, a.addresses, b.replaced, s2).addresses;
    expect(afterS2).toEqual(onlyS1);
    expect(restoreAddresses(afterS2, original, a.replaced, s1).addresses).toEqual(original);
  });

  it('does not fuse the operator’s own adjacent entries', () => {
    const original = ['10.0.0.0/9', '10.128.0.0/9'];
    const s = parseSourceParam('10.1.2.3');
    const r = narrowAddresses(original, s);
    expect(restoreAddresses(r.addresses, original, r.replaced, s).addresses).toEqual(original);
  });

  it('keeps an entry the operator nested inside a wider one', () => {
    const original = ['0.0.0.0/0', '198.51.100.0/24', '10.0.0.0/8'];
    const r = narrowAddresses(original, s1);
    expect(r.replaced.map((x) => x.original)).toEqual(['0.0.0.0/0', '198.51.100.0/24']);
    expect(restoreAddresses(r.addresses, original, r.replaced, s1).addresses).toEqual(original);
  });

  it('reports nothing to restore when the source is allowed again already', () => {
    const original = ['0.0.0.0/0'];
    const r = narrowAddresses(original, s1);
    expect(restoreAddresses(original, original, r.replaced, s1)).toEqual({
      addresses: original,
      restored: false,
    });
  });
});

/** Original lists and blocks inside 10.0.0.0/24 (plus wider entries), so overlaps are frequent. */
const entryArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ o: fc.integer({ min: 0, max: 255 }), l: fc.integer({ min: 24, max: 32 }) }),
  },
  { weight: 1, arbitrary: fc.constantFrom({ o: -1, l: 0 }, { o: -1, l: 8 }, { o: -1, l: 16 }) },
);
const toEntry = ({ o, l }: { o: number; l: number }): string => {
  if (o === -1) return l === 0 ? '0.0.0.0/0' : l === 8 ? '10.0.0.0/8' : '10.0.0.0/16';
  const c = parseRemoteCidr(`10.0.0.${o}/${l}`)!;
  return `10.0.0.${Number(c.network & 255n)}/${l}`;
};
const blockArb = fc
  .record({ o: fc.integer({ min: 0, max: 255 }), l: fc.integer({ min: 25, max: 32 }) })
  .map(({ o, l }) => parseRemoteCidr(`10.0.0.${o}/${l}`)!);

const scenario = fc.record({
  original: fc.uniqueArray(entryArb.map(toEntry), { minLength: 1, maxLength: 5 }),
  blocks: fc.array(blockArb, { minLength: 1, maxLength: 4 }),
  order: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
});

describe('narrowAddresses and restoreAddresses: properties', () => {
  it('no piece ever admits the blocked source, and pieces ∪ S ∪ untouched is the original set', () => {
    fc.assert(
      fc.property(scenario, ({ original, blocks }) => {
        const s = blocks[0]!;
        const r = narrowAddresses(original, s);
        for (const t of r.addresses) expect(overlaps(parseRemoteCidr(t)!, s)).toBe(false);
        const expected = subtract(allowed(original, 4), s);
        expect(allowed(r.addresses, 4)).toEqual(expected);
        // Adding S back where an entry covered it gives the original set again.
        const coveredBefore = original.some((t) => contains(parseRemoteCidr(t)!, s));
        if (coveredBefore)
          expect(union(allowed(r.addresses, 4), rangesOf([s], 4))).toEqual(allowed(original, 4));
      }),
      { numRuns: 400 },
    );
  });

  function run(original: string[], blocks: Cidr[], order: number[]): string[] {
    let list = [...original];
    let model = allowed(original, 4);
    const applied: Applied[] = [];
    for (const source of blocks) {
      const roots = applied.flatMap((a) => a.replaced.map((x) => x.root));
      const r = narrowAddresses(list, source, roots);
      applied.push({ source, before: list, replaced: r.replaced, removed: intersect(model, source) });
      list = r.addresses;
      model = subtract(model, source);
      expect(allowed(list, 4)).toEqual(model);
    }
    for (let i = 0; applied.length > 0; i++) {
      const [a] = applied.splice((order[i % order.length] ?? 0) % applied.length, 1);
      list = restoreAddresses(list, a!.before, a!.replaced, a!.source).addresses;
      model = union(model, a!.removed);
      expect(allowed(list, 4)).toEqual(model);
    }
    return list;
  }

  it('any apply order, then any undo order: each undo reopens exactly what its apply closed', () => {
    fc.assert(
      fc.property(scenario, ({ original, blocks, order }) => {
        const final = run(original, blocks, order);
        expect(allowed(final, 4)).toEqual(allowed(original, 4));
      }),
      { numRuns: 1500 },
    );
  });

  /** The usual rule: no entry nested in another. */
  const flatten = (original: string[]): string[] =>
    original.filter(
      (t, i) =>
        !original.some(
          (o, j) => j !== i && contains(parseRemoteCidr(o)!, parseRemoteCidr(t)!) && (o !== t || j < i),
        ),
    );
  const byAddress = (list: string[]): string[] =>
    [...list].sort((a, b) => {
      const x = parseRemoteCidr(a)!;
      const y = parseRemoteCidr(b)!;
      return x.network === y.network ? x.length - y.length : x.network < y.network ? -1 : 1;
    });

  it('entries in address order, none nested: all undone, in any order, is the original list verbatim', () => {
    fc.assert(
      fc.property(scenario, ({ original, blocks, order }) => {
        const flat = byAddress(flatten(original));
        expect(run(flat, blocks, order)).toEqual(flat);
      }),
      { numRuns: 1500 },
    );
  });

  it('applies and undos interleaved: the model holds at each step, all undone is the original list', () => {
    fc.assert(
      fc.property(scenario, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), (sc, coin) => {
        const original = byAddress(flatten(sc.original));
        let list = [...original];
        let model = allowed(original, 4);
        const active: Applied[] = [];
        const queue = [...sc.blocks];
        for (let step = 0; queue.length > 0 || active.length > 0; step++) {
          const undo = active.length > 0 && (queue.length === 0 || coin[step % coin.length]);
          if (undo) {
            const [a] = active.splice((sc.order[step % sc.order.length] ?? 0) % active.length, 1);
            list = restoreAddresses(list, a!.before, a!.replaced, a!.source).addresses;
            model = union(model, a!.removed);
          } else {
            const source = queue.shift()!;
            const r = narrowAddresses(
              list,
              source,
              active.flatMap((a) => a.replaced.map((x) => x.root)),
            );
            active.push({ source, before: list, replaced: r.replaced, removed: intersect(model, source) });
            list = r.addresses;
            model = subtract(model, source);
          }
          expect(allowed(list, 4)).toEqual(model);
        }
        expect(list).toEqual(original);
      }),
      { numRuns: 1500 },
    );
  });

  it('entries in any order, none nested: all undone gives back the same entries', () => {
    fc.assert(
      fc.property(scenario, ({ original, blocks, order }) => {
        const flat = flatten(original);
        expect([...run(flat, blocks, order)].sort()).toEqual([...flat].sort());
      }),
      { numRuns: 1500 },
    );
  });
});
