import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Cidr,
  complement,
  contains,
  formatCidr,
  isCovered,
  minimalCover,
  overlaps,
  parseRemoteCidr,
  parseSourceParam,
} from '../../../../adapters/node/cloud/cidr.js';
import { isFloodgateError } from '../../../../core/errors.js';

const size = (c: Cidr): bigint => 1n << BigInt((c.version === 4 ? 32 : 128) - c.length);

/** A random prefix of a family, and a random prefix inside it. */
const outerAndHole = fc
  .constantFrom<4 | 6>(4, 6)
  .chain((version) => {
    const bits = version === 4 ? 32 : 128;
    return fc.record({
      version: fc.constant(version),
      address: fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }),
      outerLength: fc.integer({ min: 0, max: bits }),
      extra: fc.integer({ min: 0, max: bits }),
    });
  })
  .map(({ version, address, outerLength, extra }) => {
    const bits = version === 4 ? 32 : 128;
    const holeLength = Math.min(bits, outerLength + extra);
    const mask = (len: number) => ~((1n << BigInt(bits - len)) - 1n);
    const outer: Cidr = { version, network: address & mask(outerLength), length: outerLength };
    const hole: Cidr = { version, network: address & mask(holeLength), length: holeLength };
    return { outer, hole };
  });

describe('parseSourceParam', () => {
  it('accepts IPv4 and IPv6 addresses and prefixes in canonical form', () => {
    expect(formatCidr(parseSourceParam('198.51.100.4'))).toBe('198.51.100.4/32');
    expect(formatCidr(parseSourceParam('198.51.100.0/24'))).toBe('198.51.100.0/24');
    expect(formatCidr(parseSourceParam('2001:DB8:0::5'))).toBe('2001:db8::5/128');
    expect(formatCidr(parseSourceParam('2001:db8:5::/48'))).toBe('2001:db8:5::/48');
  });

  it.each([
    ['198.51.100.4;rm -rf /', 'shell metacharacters'],
    ['$(id)', 'command substitution'],
    ['198.51.100.7/24', 'host bits beyond the prefix'],
    ['0.0.0.0/0', 'a /0'],
    ['::/0', 'a /0'],
    ['198.51.100.4/33', 'a length over 32'],
    ['01.2.3.4', 'leading zeros'],
    ['fe80::1%eth0', 'a zone index'],
    ['::ffff:198.51.100.4', 'an IPv4-mapped address'],
    ['example.com', 'a host name'],
    ['', 'nothing'],
  ])('refuses %j (%s) with FG_ERR_NODE_PARAM', (value) => {
    let caught: unknown;
    try {
      parseSourceParam(value);
    } catch (e) {
      caught = e;
    }
    expect(isFloodgateError(caught) && caught.code).toBe('FG_ERR_NODE_PARAM');
  });

  it('reads provider entries tolerantly: bare addresses, host bits cleared, non-addresses undefined', () => {
    expect(formatCidr(parseRemoteCidr('10.1.2.3/8')!)).toBe('10.0.0.0/8');
    expect(formatCidr(parseRemoteCidr('198.51.100.4')!)).toBe('198.51.100.4/32');
    expect(parseRemoteCidr('my-tag')).toBeUndefined();
  });
});

describe('complement', () => {
  it('carves 198.51.100.4 out of 0.0.0.0/0 into 32 sorted prefixes', () => {
    const pieces = complement(parseRemoteCidr('0.0.0.0/0')!, parseSourceParam('198.51.100.4')).map(
      formatCidr,
    );
    expect(pieces).toHaveLength(32);
    expect(pieces[0]).toBe('0.0.0.0/1');
    expect(pieces).toContain('198.51.100.5/32');
    expect(pieces).toContain('128.0.0.0/2');
  });

  it('property: pieces ∪ {hole} is exactly the outer prefix and no piece touches the hole', () => {
    fc.assert(
      fc.property(outerAndHole, ({ outer, hole }) => {
        const pieces = complement(outer, hole);
        expect(pieces).toHaveLength(hole.length - outer.length);
        for (const p of pieces) {
          expect(contains(outer, p)).toBe(true);
          expect(overlaps(p, hole)).toBe(false);
        }
        for (let i = 0; i < pieces.length; i++) {
          for (let j = i + 1; j < pieces.length; j++) expect(overlaps(pieces[i]!, pieces[j]!)).toBe(false);
        }
        // Disjoint and inside: equal sizes mean equal sets.
        expect(pieces.reduce((n, p) => n + size(p), 0n) + size(hole)).toBe(size(outer));
        expect(minimalCover([...pieces, hole]).map(formatCidr)).toEqual([formatCidr(outer)]);
        expect(isCovered(hole, pieces)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('isCovered', () => {
  it('property: agrees with address-by-address checking inside a /24', () => {
    const prefixIn24 = fc
      .record({ offset: fc.integer({ min: 0, max: 255 }), length: fc.integer({ min: 24, max: 32 }) })
      .map(({ offset, length }) => parseRemoteCidr(`10.0.0.${offset}/${length}`)!);
    fc.assert(
      fc.property(prefixIn24, fc.array(prefixIn24, { maxLength: 8 }), (block, entries) => {
        let all = true;
        for (let a = block.network; a < block.network + size(block); a++) {
          if (!entries.some((e) => contains(e, { version: 4, network: a, length: 32 }))) all = false;
        }
        expect(isCovered(block, entries)).toBe(all);
      }),
      { numRuns: 300 },
    );
  });
});
