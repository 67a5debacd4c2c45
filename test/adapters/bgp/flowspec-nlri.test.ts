import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../adapters/bgp/bytes.js';
import {
  decodeFlowSpecNlri,
  decodeFlowSpecNlris,
  encodeFlowSpecNlri,
} from '../../../adapters/bgp/flowspec-nlri.js';
import { numeric } from '../../../adapters/bgp/flowspec-operators.js';
import type { FlowSpecNlri } from '../../../adapters/bgp/flowspec-types.js';
import { isFloodgateError } from '../../../core/errors.js';
import { arbitraryNlri } from './arbitraries.js';

/** Byte-exact vectors: the RFCs' own examples, then BIRD's for a non-byte-aligned IPv6 offset. */
const VECTORS: { name: string; hex: string; nlri: FlowSpecNlri }[] = [
  {
    name: 'RFC 8955 4.2.3 example 1: to 192.0.2.0/24, TCP, port 25',
    hex: '0b 01 18 c0 00 02 03 81 06 04 81 19',
    nlri: {
      version: 4,
      components: [
        { type: 1, prefix: '192.0.2.0/24', offset: 0 },
        { type: 3, terms: [numeric.eq(6)] },
        { type: 4, terms: [numeric.eq(25)] },
      ],
    },
  },
  {
    name: 'RFC 8955 example 2: to 192.0.2.0/24 from 203.0.113.0/24, port [137, 139] or 8080',
    hex: '12 01 18 c0 00 02 02 18 cb 00 71 04 03 89 45 8b 91 1f 90',
    nlri: {
      version: 4,
      components: [
        { type: 1, prefix: '192.0.2.0/24', offset: 0 },
        { type: 2, prefix: '203.0.113.0/24', offset: 0 },
        { type: 4, terms: [numeric.ge(137), numeric.le(139, true), numeric.eq(8080)] },
      ],
    },
  },
  {
    name: 'RFC 8955 example 3: to 192.0.2.1/32, fragment DF or FF',
    hex: '09 01 20 c0 00 02 01 0c 80 05',
    nlri: {
      version: 4,
      components: [
        { type: 1, prefix: '192.0.2.1/32', offset: 0 },
        { type: 12, terms: [{ and: false, not: false, match: false, value: 0x05 }] },
      ],
    },
  },
  {
    name: 'RFC 8956 3.8.1: to 2001:db8::/32 from ::1234:5678:9a00:0/64-104, next header TCP',
    hex: '12 01 20 00 20 01 0d b8 02 68 40 12 34 56 78 9a 03 81 06',
    nlri: {
      version: 6,
      components: [
        { type: 1, prefix: '2001:db8::/32', offset: 0 },
        { type: 2, prefix: '::1234:5678:9a00:0/104', offset: 64 },
        { type: 3, terms: [numeric.eq(6)] },
      ],
    },
  },
  {
    name: 'RFC 8956 3.8.2: to ::1234:5678:9a00:0/65-104 (offset not on a byte boundary)',
    hex: '08 01 68 41 24 68 ac f1 34',
    nlri: {
      version: 6,
      components: [{ type: 1, prefix: '::1234:5678:9a00:0/104', offset: 65 }],
    },
  },
  {
    name: 'IPv6 offset 60, pattern shifted by 4 bits (BIRD test vector)',
    hex: '09 02 68 3c 11 23 45 67 89 80',
    nlri: {
      version: 6,
      components: [{ type: 2, prefix: '::1:1234:5678:9800:0/104', offset: 60 }],
    },
  },
  {
    name: 'IPv6 flow label (4-byte value) and TCP flags SYN set, ACK clear',
    hex: '1e 01 80 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 05 09 00 02 c2 10 0d a1 00 01 23 45',
    nlri: {
      version: 6,
      components: [
        { type: 1, prefix: '2001:db8::5/128', offset: 0 },
        {
          type: 9,
          terms: [
            { and: false, not: false, match: false, value: 0x02 },
            { and: true, not: true, match: false, value: 0x10 },
          ],
        },
        { type: 13, terms: [numeric.eq(0x12345)] },
      ],
    },
  },
];

describe('FlowSpec NLRI encoding', () => {
  for (const v of VECTORS) {
    it(`encodes and decodes byte for byte: ${v.name}`, () => {
      const bytes = fromHex(v.hex);
      expect(toHex(encodeFlowSpecNlri(v.nlri))).toBe(toHex(bytes));
      const decoded = decodeFlowSpecNlri(bytes, v.nlri.version);
      expect(decoded.nlri).toEqual(v.nlri);
      expect(decoded.end).toBe(bytes.length);
    });
  }

  it('fixes the vector lengths: the IPv6 flow-label vector is what the length byte says', () => {
    const v = VECTORS[6]!;
    const bytes = fromHex(v.hex);
    expect(bytes[0]).toBe(bytes.length - 1);
  });

  it('uses the 2-byte 0xFnnn length from 240 bytes on, and reads it back', () => {
    const ports = Array.from({ length: 80 }, (_, i) => numeric.eq(1000 + i));
    const nlri: FlowSpecNlri = {
      version: 4,
      components: [
        { type: 1, prefix: '203.0.113.5/32', offset: 0 },
        { type: 5, terms: ports },
      ],
    };
    const bytes = encodeFlowSpecNlri(nlri);
    const valueLength = 6 + 1 + 80 * 3;
    expect(valueLength).toBeGreaterThanOrEqual(240);
    expect(bytes[0]).toBe(0xf0 | (valueLength >> 8));
    expect(bytes[1]).toBe(valueLength & 0xff);
    expect(bytes.length).toBe(2 + valueLength);
    expect(decodeFlowSpecNlri(bytes, 4).nlri).toEqual(nlri);
  });

  it('writes 239 bytes with a 1-byte length and 240 with two', () => {
    // dst /32 (6 bytes) + type byte + N one-byte terms (2 bytes each) + one padding choice.
    const make = (terms: number, wide: boolean): FlowSpecNlri => ({
      version: 4,
      components: [
        { type: 1, prefix: '203.0.113.5/32', offset: 0 },
        {
          type: 10,
          terms: [
            ...Array.from({ length: terms }, (_, i) => numeric.eq(i)),
            ...(wide ? [{ ...numeric.eq(1), length: 2 as const }] : [numeric.eq(1)]),
          ],
        },
      ],
    });
    const short = encodeFlowSpecNlri(make(115, false)); // 6 + 1 + 116 * 2 = 239
    expect(short[0]).toBe(239);
    expect(short.length).toBe(240);
    const long = encodeFlowSpecNlri(make(115, true)); // one term one byte wider: 240
    expect([long[0], long[1]]).toEqual([0xf0, 0xf0]);
    expect(decodeFlowSpecNlri(long, 4).nlri).toEqual(make(115, true));
  });

  it('keeps a wider-than-needed value length only where the input had one', () => {
    const bytes = fromHex('07 01 08 0a 03 91 00 06'); // protocol =6 written in 2 bytes
    const { nlri } = decodeFlowSpecNlri(bytes, 4);
    expect(nlri.components[1]).toEqual({ type: 3, terms: [{ ...numeric.eq(6), length: 2 }] });
    expect(toHex(encodeFlowSpecNlri(nlri))).toBe(toHex(bytes));
  });

  it('treats an AND bit on the first operator as unset (RFC 8955 4.2.1.1)', () => {
    const { nlri } = decodeFlowSpecNlri(fromHex('06 01 08 0a 03 c1 06'), 4);
    expect(nlri.components[1]).toEqual({ type: 3, terms: [numeric.eq(6)] });
  });

  it('decodes several NLRIs from one MP_REACH NLRI field', () => {
    const a = VECTORS[0]!;
    const b = VECTORS[2]!;
    const field = new Uint8Array([...fromHex(a.hex), ...fromHex(b.hex)]);
    expect(decodeFlowSpecNlris(field, 4)).toEqual([a.nlri, b.nlri]);
  });

  it('round-trips any valid NLRI: decode(encode(x)) equals x and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(arbitraryNlri(), (nlri) => {
        const bytes = encodeFlowSpecNlri(nlri);
        const back = decodeFlowSpecNlri(bytes, nlri.version);
        expect(back.nlri).toEqual(nlri);
        expect(back.end).toBe(bytes.length);
        expect(toHex(encodeFlowSpecNlri(back.nlri))).toBe(toHex(bytes));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('FlowSpec NLRI encoding refuses what the RFCs do not allow', () => {
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (e) {
      return isFloodgateError(e) ? e.code : `not a FloodgateError: ${String(e)}`;
    }
    return undefined;
  };
  const dst = { type: 1 as const, prefix: '203.0.113.5/32', offset: 0 };

  it('components out of order or repeated', () => {
    expect(
      code(() =>
        encodeFlowSpecNlri({
          version: 4,
          components: [{ type: 3, terms: [numeric.eq(6)] }, dst],
        }),
      ),
    ).toBe('FG_ERR_WIRE_VALUE');
    expect(
      code(() =>
        encodeFlowSpecNlri({
          version: 4,
          components: [dst, { type: 3, terms: [numeric.eq(6)] }, { type: 3, terms: [numeric.eq(17)] }],
        }),
      ),
    ).toBe('FG_ERR_WIRE_VALUE');
  });

  it('a flow label for IPv4, an offset for IPv4, empty components and term lists', () => {
    expect(
      code(() => encodeFlowSpecNlri({ version: 4, components: [dst, { type: 13, terms: [numeric.eq(1)] }] })),
    ).toBe('FG_ERR_WIRE_VALUE');
    expect(code(() => encodeFlowSpecNlri({ version: 4, components: [{ ...dst, offset: 8 }] }))).toBe(
      'FG_ERR_WIRE_VALUE',
    );
    expect(code(() => encodeFlowSpecNlri({ version: 4, components: [] }))).toBe('FG_ERR_WIRE_VALUE');
    expect(code(() => encodeFlowSpecNlri({ version: 4, components: [dst, { type: 5, terms: [] }] }))).toBe(
      'FG_ERR_WIRE_VALUE',
    );
  });

  it('prefixes of the wrong family, with host bits, offsets past the length or bits before the offset', () => {
    expect(
      code(() => encodeFlowSpecNlri({ version: 4, components: [{ ...dst, prefix: '2001:db8::/32' }] })),
    ).toBe('FG_ERR_WIRE_VALUE');
    expect(
      code(() => encodeFlowSpecNlri({ version: 4, components: [{ ...dst, prefix: '203.0.113.5/24' }] })),
    ).toBe('FG_ERR_WIRE_VALUE');
    expect(
      code(() =>
        encodeFlowSpecNlri({ version: 6, components: [{ type: 1, prefix: '2001:db8::/32', offset: 32 }] }),
      ),
    ).toBe('FG_ERR_WIRE_VALUE');
    expect(
      code(() =>
        encodeFlowSpecNlri({ version: 6, components: [{ type: 1, prefix: '2001:db8::/48', offset: 16 }] }),
      ),
    ).toBe('FG_ERR_WIRE_VALUE');
  });

  it('values that do not fit their length, negative or fractional values, NLRIs over 4095 bytes', () => {
    expect(
      code(() =>
        encodeFlowSpecNlri({
          version: 4,
          components: [dst, { type: 5, terms: [{ ...numeric.eq(300), length: 1 }] }],
        }),
      ),
    ).toBe('FG_ERR_WIRE_VALUE');
    expect(
      code(() => encodeFlowSpecNlri({ version: 4, components: [dst, { type: 5, terms: [numeric.eq(-1)] }] })),
    ).toBe('FG_ERR_WIRE_VALUE');
    expect(
      code(() =>
        encodeFlowSpecNlri({ version: 4, components: [dst, { type: 5, terms: [numeric.eq(1.5)] }] }),
      ),
    ).toBe('FG_ERR_WIRE_VALUE');
    const many = Array.from({ length: 1400 }, (_, i) => numeric.eq(1000 + i));
    expect(code(() => encodeFlowSpecNlri({ version: 4, components: [dst, { type: 5, terms: many }] }))).toBe(
      'FG_ERR_WIRE_VALUE',
    );
  });
});
