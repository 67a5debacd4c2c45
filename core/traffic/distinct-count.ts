/**
 * HyperLogLog distinct counts (Flajolet et al. 2007) over 32-bit hashes, stored in caller-owned
 * typed arrays so that a table of sketches is one allocation and an update allocates nothing.
 *
 * Two sizes:
 * - the small sketch (every tracked host): 32 registers of 4 bits packed in 16 bytes. Standard
 *   error 1.04 / sqrt(32) = 18%; ranks are capped at 15, so it saturates near 32 * 2^15, about
 *   one million distinct values (it then reads "about a million or more").
 * - the large sketch (hosts and networks under closer watch): 2^p one-byte registers, 2^p bytes,
 *   standard error 1.04 / sqrt(2^p): 4.6% for p = 9.
 *
 * A windowed count keeps two sketches (current and previous generation) and estimates their
 * union by taking the larger register of the two, which is exactly the sketch of the union.
 */

/** Registers of the small sketch and the bytes it takes. */
export const SMALL_REGISTERS = 32;
export const SMALL_SKETCH_BYTES = SMALL_REGISTERS / 2;
const SMALL_MAX_RANK = 15;

/** Adds a hash to the small sketch at `base` (byte offset). */
export function smallSketchAdd(regs: Uint8Array, base: number, hash: number): void {
  const index = hash >>> 27;
  const rest = (hash << 5) >>> 0;
  let rank = rest === 0 ? 28 : Math.clz32(rest) + 1;
  if (rank > SMALL_MAX_RANK) rank = SMALL_MAX_RANK;
  const at = base + (index >>> 1);
  const shift = (index & 1) * 4;
  const byte = regs[at]!;
  if (((byte >>> shift) & 15) < rank) regs[at] = (byte & ~(15 << shift)) | (rank << shift);
}

/** Estimated distinct values of the union of the small sketches at `baseA` and `baseB` (-1 for none). */
export function smallSketchEstimate(regs: Uint8Array, baseA: number, baseB: number): number {
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < SMALL_REGISTERS; i++) {
    const shift = (i & 1) * 4;
    let r = (regs[baseA + (i >>> 1)]! >>> shift) & 15;
    if (baseB >= 0) {
      const b = (regs[baseB + (i >>> 1)]! >>> shift) & 15;
      if (b > r) r = b;
    }
    if (r === 0) zeros += 1;
    sum += 2 ** -r;
  }
  return finish(SMALL_REGISTERS, sum, zeros);
}

export function smallSketchClear(regs: Uint8Array, base: number): void {
  regs.fill(0, base, base + SMALL_SKETCH_BYTES);
}

/** Adds a hash to a large sketch of 2^`bits` one-byte registers at `base`. */
export function largeSketchAdd(regs: Uint8Array, base: number, bits: number, hash: number): void {
  const index = hash >>> (32 - bits);
  const rest = (hash << bits) >>> 0;
  const rank = rest === 0 ? 32 - bits + 1 : Math.clz32(rest) + 1;
  const at = base + index;
  if (regs[at]! < rank) regs[at] = rank;
}

/** Estimated distinct values of the union of two large sketches (`baseB` -1 for one). */
export function largeSketchEstimate(regs: Uint8Array, baseA: number, baseB: number, bits: number): number {
  const m = 2 ** bits;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < m; i++) {
    let r = regs[baseA + i]!;
    if (baseB >= 0 && regs[baseB + i]! > r) r = regs[baseB + i]!;
    if (r === 0) zeros += 1;
    sum += 2 ** -r;
  }
  return finish(m, sum, zeros);
}

function finish(m: number, sum: number, zeros: number): number {
  const alpha = m === 16 ? 0.673 : m === 32 ? 0.697 : m === 64 ? 0.709 : 0.7213 / (1 + 1.079 / m);
  const raw = (alpha * m * m) / sum;
  // Small range: linear counting is more accurate while registers are still empty.
  if (raw <= 2.5 * m && zeros > 0) return m * Math.log(m / zeros);
  return raw;
}
