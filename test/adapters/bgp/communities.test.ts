import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../adapters/bgp/bytes.js';
import {
  BLACKHOLE,
  decodeCommunities,
  encodeCommunities,
  formatCommunity,
  NO_EXPORT,
  parseCommunity,
} from '../../../adapters/bgp/community.js';
import {
  decodeExtendedCommunities,
  decodeExtendedCommunity,
  type ExtendedCommunity,
  encodeExtendedCommunities,
  encodeExtendedCommunity,
} from '../../../adapters/bgp/extended-community.js';
import { isFloodgateError } from '../../../core/errors.js';

const EXTENDED: { name: string; hex: string; value: ExtendedCommunity }[] = [
  {
    name: 'traffic-rate-bytes 0 (discard)',
    hex: '80 06 00 00 00 00 00 00',
    value: { type: 'traffic-rate-bytes', asn: 0, rate: 0 },
  },
  {
    name: 'traffic-rate-bytes 125000 as an IEEE-754 single (0x47F42400)',
    hex: '80 06 fd e8 47 f4 24 00',
    value: { type: 'traffic-rate-bytes', asn: 65000, rate: 125000 },
  },
  {
    name: 'traffic-rate-packets 1000 (0x800C)',
    hex: '80 0c 00 00 44 7a 00 00',
    value: { type: 'traffic-rate-packets', asn: 0, rate: 1000 },
  },
  {
    name: 'traffic-action terminal and sample (bits 47 and 46)',
    hex: '80 07 00 00 00 00 00 03',
    value: { type: 'traffic-action', terminal: true, sample: true },
  },
  {
    name: 'traffic-action terminal only',
    hex: '80 07 00 00 00 00 00 01',
    value: { type: 'traffic-action', terminal: true, sample: false },
  },
  {
    name: 'redirect 2-byte AS 65000:100 (0x8008)',
    hex: '80 08 fd e8 00 00 00 64',
    value: { type: 'redirect-as2', asn: 65000, value: 100 },
  },
  {
    name: 'redirect IPv4 192.0.2.1:100 (0x8108)',
    hex: '81 08 c0 00 02 01 00 64',
    value: { type: 'redirect-ipv4', address: '192.0.2.1', value: 100 },
  },
  {
    name: 'redirect 4-byte AS 4200000000:100 (0x8208)',
    hex: '82 08 fa 56 ea 00 00 64',
    value: { type: 'redirect-as4', asn: 4200000000, value: 100 },
  },
  {
    name: 'traffic-marking DSCP 46 (0x8009)',
    hex: '80 09 00 00 00 00 00 2e',
    value: { type: 'traffic-marking', dscp: 46 },
  },
  {
    name: 'a route target, kept raw',
    hex: '00 02 fd e8 00 00 00 64',
    value: { type: 'raw', hex: '0002fde800000064' },
  },
];

describe('FlowSpec action extended communities', () => {
  for (const v of EXTENDED) {
    it(`encodes and decodes byte for byte: ${v.name}`, () => {
      expect(toHex(encodeExtendedCommunity(v.value))).toBe(toHex(fromHex(v.hex)));
      expect(decodeExtendedCommunity(fromHex(v.hex))).toEqual(v.value);
    });
  }

  it('encodes an attribute of several and decodes it back in order', () => {
    const list = EXTENDED.map((v) => v.value);
    const bytes = encodeExtendedCommunities(list);
    expect(bytes.length).toBe(8 * list.length);
    expect(decodeExtendedCommunities(bytes)).toEqual(list);
  });

  it('re-encodes any 8 bytes it decoded to the same bytes, but for bits the RFC leaves unused', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (bytes) => {
        expect(toHex(encodeExtendedCommunity(decodeExtendedCommunity(bytes)))).toBe(toHex(reencoded(bytes)));
      }),
      { numRuns: 3000 },
    );
    // The same for the known type codes, which random bytes rarely hit.
    for (const code of [0x8006, 0x8007, 0x8008, 0x8009, 0x800c, 0x8108, 0x8208]) {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (tail) => {
          const bytes = new Uint8Array([code >> 8, code & 0xff, ...tail]);
          expect(toHex(encodeExtendedCommunity(decodeExtendedCommunity(bytes)))).toBe(
            toHex(reencoded(bytes)),
          );
        }),
        { numRuns: 300 },
      );
    }
  });

  it('rounds rates to the IEEE-754 single the wire carries', () => {
    const back = decodeExtendedCommunity(
      encodeExtendedCommunity({ type: 'traffic-rate-bytes', asn: 0, rate: 123456789 }),
    );
    expect(back).toEqual({ type: 'traffic-rate-bytes', asn: 0, rate: Math.fround(123456789) });
  });

  it('refuses values that do not fit', () => {
    const bad: ExtendedCommunity[] = [
      { type: 'traffic-rate-bytes', asn: 70000, rate: 0 },
      { type: 'traffic-rate-bytes', asn: 0, rate: 1e39 },
      { type: 'redirect-as2', asn: 65536, value: 1 },
      { type: 'redirect-as4', asn: 70000, value: 65536 },
      { type: 'redirect-ipv4', address: '2001:db8::1', value: 1 },
      { type: 'traffic-marking', dscp: 64 },
      { type: 'raw', hex: '0002' },
    ];
    for (const c of bad) {
      let code: string | undefined;
      try {
        encodeExtendedCommunity(c);
      } catch (e) {
        code = isFloodgateError(e) ? e.code : String(e);
      }
      expect(code, JSON.stringify(c)).toBe('FG_ERR_WIRE_VALUE');
    }
  });
});

/**
 * What re-encoding a decoded community gives: the same bytes, except that traffic-action keeps
 * only its T and S bits, traffic-marking only its DSCP bits, and a NaN rate is compared as NaN.
 */
function reencoded(bytes: Uint8Array): Uint8Array {
  const code = (bytes[0]! << 8) | bytes[1]!;
  if (code === 0x8007) return new Uint8Array([0x80, 0x07, 0, 0, 0, 0, 0, bytes[7]! & 0x03]);
  if (code === 0x8009) return new Uint8Array([0x80, 0x09, 0, 0, 0, 0, 0, bytes[7]! & 0x3f]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  if ((code === 0x8006 || code === 0x800c) && Number.isNaN(view.getFloat32(4))) {
    // Whether a NaN keeps its payload through a JS number is the engine's choice: compare as NaN.
    const out = new Uint8Array(bytes);
    const again = encodeExtendedCommunity(decodeExtendedCommunity(bytes));
    expect(Number.isNaN(new DataView(again.buffer).getFloat32(4))).toBe(true);
    out.set(again.subarray(4), 4);
    return out;
  }
  return bytes;
}

describe('standard communities', () => {
  it('parses and formats ASN:VALUE; BLACKHOLE is 65535:666 = 0xFFFF029A', () => {
    expect(parseCommunity('65535:666')).toBe(BLACKHOLE);
    expect(BLACKHOLE).toBe(0xffff029a);
    expect(formatCommunity(BLACKHOLE)).toBe('65535:666');
    expect(formatCommunity(NO_EXPORT)).toBe('65535:65281');
    expect(parseCommunity('0:0')).toBe(0);
  });

  it('encodes 4 bytes each, big-endian, and decodes them back', () => {
    expect(toHex(encodeCommunities([BLACKHOLE, parseCommunity('64500:1')]))).toBe('ffff029afbf40001');
    expect(decodeCommunities(fromHex('ffff029afbf40001'))).toEqual([BLACKHOLE, 0xfbf40001]);
  });

  it('refuses what is not ASN:VALUE and attribute lengths that are not a multiple of 4', () => {
    for (const text of ['65536:1', '1:65536', 'no-export', '1:2:3', ' 1:2', '']) {
      expect(() => parseCommunity(text)).toThrow(/FG_ERR_WIRE_VALUE/);
    }
    expect(() => decodeCommunities(fromHex('ffff02'))).toThrow(/FG_ERR_WIRE_LENGTH/);
  });
});
