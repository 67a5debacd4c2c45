/** fast-check generators for the shared BGP model, in the normal form the decoder produces. */
import fc from 'fast-check';
import { minimalLength } from '../../../adapters/bgp/flowspec-operators.js';
import type {
  BitmaskTerm,
  FlowSpecComponent,
  FlowSpecNlri,
  NumericTerm,
  ValueLength,
} from '../../../adapters/bgp/flowspec-types.js';
import { formatPrefix, type IpVersion } from '../../../core/net/address.js';

const value = fc.oneof(
  fc.integer({ min: 0, max: 0xff }),
  fc.integer({ min: 0, max: 0xffff }),
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);

/** A value and, sometimes, a wider length than it needs (never a narrower or equal one). */
const sized = fc
  .tuple(value, fc.constantFrom<ValueLength | undefined>(undefined, 1, 2, 4, 8))
  .map(([v, length]) => {
    return length !== undefined && length > minimalLength(v) ? { value: v, length } : { value: v };
  });

const numericTerm: fc.Arbitrary<NumericTerm> = fc
  .record({ and: fc.boolean(), lt: fc.boolean(), gt: fc.boolean(), eq: fc.boolean(), v: sized })
  .map(({ v, ...ops }) => ({ ...ops, ...v }));

const bitmaskTerm: fc.Arbitrary<BitmaskTerm> = fc
  .record({ and: fc.boolean(), not: fc.boolean(), match: fc.boolean(), v: sized })
  .map(({ v, ...ops }) => ({ ...ops, ...v }));

function firstUnAnded<T extends { and: boolean }>(terms: T[]): T[] {
  return terms.map((t, i) => (i === 0 ? { ...t, and: false } : t));
}

function prefixOf(version: IpVersion, words: number[], length: number, offset: number): string {
  const width = version === 4 ? 32 : 128;
  let bits = 0n;
  for (const w of version === 4 ? [words[3]!] : words) bits = (bits << 32n) | BigInt(w >>> 0);
  const keep = (1n << BigInt(width)) - 1n;
  const afterOffset = offset === 0 ? keep : keep >> BigInt(offset);
  const upToLength = length === 0 ? 0n : (keep << BigInt(width - length)) & keep;
  bits &= afterOffset & upToLength;
  const out: [number, number, number, number] =
    version === 4
      ? [0, 0, 0xffff, Number(bits)]
      : [
          Number((bits >> 96n) & 0xffffffffn),
          Number((bits >> 64n) & 0xffffffffn),
          Number((bits >> 32n) & 0xffffffffn),
          Number(bits & 0xffffffffn),
        ];
  return formatPrefix({ version, words: out, length });
}

function prefixComponent(type: 1 | 2, version: IpVersion): fc.Arbitrary<FlowSpecComponent> {
  const width = version === 4 ? 32 : 128;
  return fc
    .record({
      words: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 4, maxLength: 4 }),
      length: fc.integer({ min: 0, max: width }),
      offsetSeed: fc.integer({ min: 0, max: 127 }),
    })
    .map(({ words, length, offsetSeed }) => {
      const offset = version === 6 && length > 0 ? offsetSeed % length : 0;
      return { type, prefix: prefixOf(version, words, length, offset), offset };
    });
}

function component(type: number, version: IpVersion): fc.Arbitrary<FlowSpecComponent> {
  if (type === 1 || type === 2) return prefixComponent(type, version);
  if (type === 9 || type === 12) {
    return fc
      .array(bitmaskTerm, { minLength: 1, maxLength: 4 })
      .map((terms) => ({ type, terms: firstUnAnded(terms) }));
  }
  return fc
    .array(numericTerm, { minLength: 1, maxLength: 5 })
    .map((terms) => ({ type, terms: firstUnAnded(terms) }) as FlowSpecComponent);
}

export function arbitraryNlri(): fc.Arbitrary<FlowSpecNlri> {
  return fc.constantFrom<IpVersion>(4, 6).chain((version) => {
    const types = Array.from({ length: version === 4 ? 12 : 13 }, (_, i) => i + 1);
    return fc
      .subarray(types, { minLength: 1 })
      .chain((chosen) => fc.tuple(...chosen.map((t) => component(t, version))))
      .map((components) => ({ version, components }));
  });
}
