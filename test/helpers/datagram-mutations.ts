/**
 * fast-check arbitraries that damage valid datagrams the ways hostile or broken exporters do:
 * bytes overwritten (length and count fields included), cuts, garbage appended, and 16-bit
 * words set to extremes (0, 1, 0xffff) where lengths and counts live.
 */
import fc from 'fast-check';

export type Mutation =
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'word'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'extend'; extra: Uint8Array };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('word' as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 1, 2, 3, 4, 255, 256, 0xffff),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ maxLength: 64 }) }),
);

export function mutate(d: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = Uint8Array.from(d);
  for (const m of mutations) {
    if (m.kind === 'byte' && out.length > 0) {
      out[m.at % out.length] = m.value;
    } else if (m.kind === 'word' && out.length > 1) {
      const at = m.at % (out.length - 1);
      out[at] = m.value >>> 8;
      out[at + 1] = m.value & 0xff;
    } else if (m.kind === 'truncate') {
      out = out.subarray(0, m.at % (out.length + 1));
    } else if (m.kind === 'extend') {
      const longer = new Uint8Array(out.length + m.extra.length);
      longer.set(out);
      longer.set(m.extra, out.length);
      out = longer;
    }
  }
  return out;
}
