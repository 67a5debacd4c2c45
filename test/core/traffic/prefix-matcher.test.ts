import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Prefix, parseAddress, parsePrefix, prefixContainsRow } from '../../../core/net/address.js';
import { PrefixMatcher } from '../../../core/traffic/prefix-matcher.js';

function prefixes(...texts: string[]): Prefix[] {
  return texts.map((t) => {
    const p = parsePrefix(t);
    if (!p) throw new Error(t);
    return p;
  });
}

function column(text: string): Uint32Array {
  const a = parseAddress(text);
  if (!a) throw new Error(text);
  return Uint32Array.from(a.words);
}

describe('PrefixMatcher', () => {
  const list = prefixes(
    '10.0.0.0/8',
    '10.1.0.0/16',
    '10.1.2.0/23',
    '10.1.2.128/25',
    '2001:db8::/32',
    '2001:db8:1::/48',
  );
  const matcher = new PrefixMatcher(list);

  it('returns the longest matching prefix', () => {
    expect(matcher.matchRow(column('10.9.9.9'), 0)).toBe(0);
    expect(matcher.matchRow(column('10.1.9.9'), 0)).toBe(1);
    expect(matcher.matchRow(column('10.1.3.1'), 0)).toBe(2);
    expect(matcher.matchRow(column('10.1.2.127'), 0)).toBe(2);
    expect(matcher.matchRow(column('10.1.2.200'), 0)).toBe(3);
    expect(matcher.matchRow(column('2001:db8:1::5'), 0)).toBe(5);
    expect(matcher.matchRow(column('2001:db8:2::5'), 0)).toBe(4);
  });

  it('returns -1 outside every prefix', () => {
    expect(matcher.matchRow(column('11.0.0.1'), 0)).toBe(-1);
    expect(matcher.matchRow(column('2001:db9::1'), 0)).toBe(-1);
  });

  it('keeps the families apart: ::/0 does not match IPv4, 0.0.0.0/0 does not match IPv6', () => {
    const v6only = new PrefixMatcher(prefixes('::/0'));
    expect(v6only.matchRow(column('192.0.2.1'), 0)).toBe(-1);
    expect(v6only.matchRow(column('2001:db8::1'), 0)).toBe(0);
    const both = new PrefixMatcher(prefixes('0.0.0.0/0', '::/0'));
    expect(both.matchRow(column('192.0.2.1'), 0)).toBe(0);
    expect(both.matchRow(column('2001:db8::1'), 0)).toBe(1);
  });

  it('agrees with a linear longest-prefix scan on random prefixes and addresses', () => {
    const v4Prefix = fc
      .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
      .map(([a, len]): Prefix => {
        const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
        return { version: 4, words: [0, 0, 0xffff, (a & mask) >>> 0], length: len };
      });
    const v6Prefix = fc
      .tuple(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 64 }),
      )
      .map(([w0, w1, len]): Prefix => {
        const m0 = len === 0 ? 0 : len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
        const m1 = len <= 32 ? 0 : len === 64 ? 0xffffffff : (0xffffffff << (64 - len)) >>> 0;
        return { version: 6, words: [(w0 & m0) >>> 0, (w1 & m1) >>> 0, 0, 0], length: len };
      });
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.oneof(v4Prefix, v6Prefix), {
          maxLength: 30,
          selector: (p) => `${p.version}/${p.words.join('.')}/${p.length}`,
        }),
        fc.array(fc.nat({ max: 29 })),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 0xffffffff }), fc.boolean())),
        (list, near, randomAddrs) => {
          const m = new PrefixMatcher(list);
          const probes: number[][] = randomAddrs.map(([a, b, isV4]) =>
            isV4 ? [0, 0, 0xffff, b] : [a >>> 0, b, 0, 1],
          );
          // Addresses just inside each prefix, so that matches are actually exercised.
          for (const i of near) {
            const p = list[i % Math.max(1, list.length)];
            if (p) probes.push([...p.words.slice(0, 3), (p.words[3] | 1) >>> 0]);
          }
          for (const words of probes) {
            const c = Uint32Array.from(words);
            let expected = -1;
            list.forEach((p, i) => {
              if (prefixContainsRow(p, c, 0) && (expected < 0 || p.length > list[expected]!.length))
                expected = i;
            });
            const isMapped = words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
            if (expected >= 0 && (list[expected]!.version === 4) !== isMapped) {
              // Only an IPv6 prefix covering ::ffff:0:0/96 can "contain" a mapped address; the
              // matcher deliberately keeps families apart, so look for the best same-family one.
              expected = -1;
              list.forEach((p, i) => {
                const sameFamily = (p.version === 4) === isMapped;
                if (
                  sameFamily &&
                  prefixContainsRow(p, c, 0) &&
                  (expected < 0 || p.length > list[expected]!.length)
                ) {
                  expected = i;
                }
              });
            }
            expect(m.matchRow(c, 0)).toBe(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
