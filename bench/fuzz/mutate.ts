/**
 * Damages real datagrams the ways broken and hostile exporters do, fast enough for tens of
 * millions of inputs: bits and bytes flipped, 16- and 32-bit words set to the values that break
 * length and count arithmetic (0, 1, maxima, the datagram's own length), words nudged by a
 * little, cuts, garbage appended, chunks duplicated, moved or deleted, and tails spliced in
 * from another datagram of the same protocol. Headers and set headers (where lengths, counts
 * and template ids live) are hit more often than payload.
 */
import type { Rng } from './rng.js';

/** The largest UDP payload over IPv4. */
export const MAX_DATAGRAM = 65_507;

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff] as const;
const INTERESTING_16 = [
  0, 1, 2, 3, 4, 8, 0x7f, 0x80, 0xff, 0x100, 0x3ff, 0x7fff, 0x8000, 0xfffe, 0xffff,
] as const;
const INTERESTING_32 = [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff] as const;

export class Mutator {
  /** Work area: mutations happen here, the result is copied out at its final length. */
  private readonly scratch = new Uint8Array(MAX_DATAGRAM);
  private length = 0;

  constructor(private readonly rng: Rng) {}

  /**
   * A damaged copy of `seed`, with 1 to 4 mutations; `donors` are other datagrams of the same
   * protocol to splice from. The result is a new array, as a socket would hand a new datagram.
   */
  mutate(seed: Uint8Array, donors: readonly Uint8Array[]): Uint8Array {
    this.scratch.set(seed);
    this.length = seed.length;
    const n = 1 + this.rng.below(4);
    for (let i = 0; i < n; i++) this.apply(donors);
    return this.scratch.slice(0, this.length);
  }

  /** Random bytes, sometimes behind a valid version field so they reach a decoder. */
  random(versionPrefixes: readonly Uint8Array[]): Uint8Array {
    const rng = this.rng;
    const length = rng.chance(0.5) ? rng.below(64) : rng.below(1600);
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = rng.u32() & 0xff;
    if (versionPrefixes.length > 0 && rng.chance(0.7)) {
      const prefix = rng.pick(versionPrefixes);
      out.set(prefix.subarray(0, Math.min(prefix.length, length)));
    }
    return out;
  }

  /** Where to hit: half the time within the first 64 bytes (headers, first set header). */
  private offset(): number {
    const rng = this.rng;
    const span = rng.chance(0.5) ? Math.min(64, this.length) : this.length;
    return rng.below(span);
  }

  private apply(donors: readonly Uint8Array[]): void {
    const rng = this.rng;
    const d = this.scratch;
    const len = this.length;
    switch (rng.below(12)) {
      case 0:
        if (len > 0) d[this.offset()]! ^= 1 << rng.below(8);
        break;
      case 1:
        if (len > 0) d[this.offset()] = rng.u32() & 0xff;
        break;
      case 2:
        if (len > 0) d[this.offset()] = rng.pick(INTERESTING_8);
        break;
      case 3:
        if (len > 1) {
          const at = Math.min(this.offset(), len - 2);
          const v = rng.chance(0.25) ? (len - at + rng.below(5) - 2) & 0xffff : rng.pick(INTERESTING_16);
          d[at] = v >>> 8;
          d[at + 1] = v & 0xff;
        }
        break;
      case 4:
        if (len > 3) {
          const at = Math.min(this.offset(), len - 4);
          const v = rng.chance(0.25) ? len : rng.pick(INTERESTING_32);
          d[at] = v >>> 24;
          d[at + 1] = (v >>> 16) & 0xff;
          d[at + 2] = (v >>> 8) & 0xff;
          d[at + 3] = v & 0xff;
        }
        break;
      case 5:
        if (len > 1) {
          // Nudge a 16-bit word (a length or count off by a little).
          const at = Math.min(this.offset(), len - 2);
          const delta = (1 + rng.below(16)) * (rng.chance(0.5) ? 1 : -1);
          const v = (((d[at]! << 8) | d[at + 1]!) + delta) & 0xffff;
          d[at] = v >>> 8;
          d[at + 1] = v & 0xff;
        }
        break;
      case 6:
        this.length = rng.below(len + 1);
        break;
      case 7: {
        const extra = Math.min(1 + rng.below(64), MAX_DATAGRAM - len);
        for (let i = 0; i < extra; i++) d[len + i] = rng.u32() & 0xff;
        this.length = len + extra;
        break;
      }
      case 8:
        if (len > 1) {
          // Overwrite one chunk with another (a record copied over a set header, ...).
          const from = rng.below(len);
          const to = rng.below(len);
          const size = 1 + rng.below(Math.min(len - Math.max(from, to), 64));
          d.copyWithin(to, from, from + size);
        }
        break;
      case 9:
        if (len > 0 && len < MAX_DATAGRAM) {
          // Duplicate a chunk in place: everything after it shifts.
          const from = rng.below(len);
          const size = Math.min(1 + rng.below(Math.min(len - from, 64)), MAX_DATAGRAM - len);
          d.copyWithin(from + size, from, len);
          this.length = len + size;
        }
        break;
      case 10:
        if (len > 1) {
          const from = rng.below(len);
          const size = 1 + rng.below(Math.min(len - from, 64));
          d.copyWithin(from, from + size, len);
          this.length = len - size;
        }
        break;
      default:
        if (donors.length > 0 && len > 0) {
          // This datagram's head, another's tail.
          const donor = rng.pick(donors);
          const at = rng.below(len);
          const from = rng.below(donor.length + 1);
          const size = Math.min(donor.length - from, MAX_DATAGRAM - at);
          d.set(donor.subarray(from, from + size), at);
          this.length = at + size;
        }
        break;
    }
  }
}
