/**
 * Per-minute rates of many slots (hosts or networks), summarised as log-bucket histograms per
 * time slice, so a percentile over days of history costs a few hundred bytes per slot instead
 * of a value per minute.
 *
 * Series. A slot keeps one histogram per series: a threshold rule (rules.ts: pps, bps, flows/s
 * of the whole traffic, then the same per traffic class), numbered like the rules. Only series
 * with a low bound are stored, so a class costs nothing unless it has a floor.
 *
 * Buckets. For a metric with low bound L (its floor / multiplier: anything below can never
 * raise the dynamic threshold above the floor), bucket 0 means "below L" and is never stored: a
 * slot's minutes that are not in its buckets are below L. Bucket b >= 1 holds rates in
 * [L * 2^((b-1)/4), L * 2^(b/4)): four buckets per doubling, each 19% wide. A percentile is
 * reported as the geometric middle of its bucket, so it is within 9.5% of the true per-minute
 * value; the last bucket also holds everything above it and reports its lower edge (at
 * L * 2^9.75, 861 L: with the default floor, 2.9 Mpps or 140 Gb/s per host).
 *
 * Counts are Uint16 per slice and bucket (a slice of at most 65535 minutes, 45 days, cannot
 * overflow). Memory per slot: stored series * slices * BUCKETS * 2 bytes, 1280 bytes for pps and
 * bps over 8 slices (640 more per class rule with a floor), plus 8 bytes of minute sum per
 * stored series.
 */
/** The whole-traffic series (pps, bps, flows/s): the first of every slot's series. */
export const BASELINE_METRICS = 3;
export const BUCKETS_PER_DOUBLING = 4;
export const BASELINE_BUCKETS = 40;
const U16_MAX = 0xffff;

/** The bucket of a per-minute rate for a metric whose low bound is `low` (> 0). */
export function bucketOf(value: number, low: number): number {
  if (!(value >= low)) return 0;
  const b = 1 + Math.floor(BUCKETS_PER_DOUBLING * Math.log2(value / low));
  return b < BASELINE_BUCKETS ? b : BASELINE_BUCKETS - 1;
}

/** The value a bucket stands for: its geometric middle, the lower edge for the open top bucket. */
export function bucketValue(bucket: number, low: number): number {
  if (bucket <= 0) return 0;
  const offset = bucket === BASELINE_BUCKETS - 1 ? 0 : 0.5;
  return low * 2 ** ((bucket - 1 + offset) / BUCKETS_PER_DOUBLING);
}

export class BaselineHistograms {
  readonly slots: number;
  readonly sliceCount: number;
  /** Low bound per series (0: the series is not kept). */
  readonly lows: Float64Array;
  readonly counts: Uint16Array;
  /** Storage index of each series, -1 when not stored. */
  private readonly stored: Int8Array;
  /** The series stored, in storage order. */
  private readonly storedSeries: Int32Array;
  private readonly storedCount: number;
  /** Per slot and stored series: the sum of the current minute's steps. */
  private readonly sums: Float64Array;
  private readonly touched: Uint8Array;
  private readonly touchedList: Int32Array;
  private touchedTop = 0;

  /** `lows[s]` is the low bound of series s (its floor / multiplier); series with 0 are not kept. */
  constructor(slots: number, sliceCount: number, lows: Float64Array) {
    this.slots = slots;
    this.sliceCount = sliceCount;
    this.lows = lows;
    this.stored = new Int8Array(lows.length).fill(-1);
    const storedSeries: number[] = [];
    for (let s = 0; s < lows.length; s++) {
      if (lows[s]! > 0) {
        this.stored[s] = storedSeries.length;
        storedSeries.push(s);
      }
    }
    this.storedSeries = Int32Array.from(storedSeries);
    this.storedCount = storedSeries.length;
    this.counts = new Uint16Array(slots * this.storedCount * sliceCount * BASELINE_BUCKETS);
    this.sums = new Float64Array(slots * this.storedCount);
    this.touched = new Uint8Array(slots);
    this.touchedList = new Int32Array(slots);
  }

  get seriesCount(): number {
    return this.lows.length;
  }

  /** Start of a stored series' buckets for one slice (`series` must be stored). */
  private base(slot: number, series: number, slice: number): number {
    return ((slot * this.storedCount + this.stored[series]!) * this.sliceCount + slice) * BASELINE_BUCKETS;
  }

  isStored(series: number): boolean {
    return series < this.stored.length && this.stored[series]! >= 0;
  }

  /** Adds one step's values (`values[series]`, one per series) to the slot's current minute. */
  record(slot: number, values: Float64Array): void {
    const s = slot * this.storedCount;
    for (let i = 0; i < this.storedCount; i++) this.sums[s + i]! += values[this.storedSeries[i]!]!;
    if (this.touched[slot] === 0) {
      this.touched[slot] = 1;
      this.touchedList[this.touchedTop] = slot;
      this.touchedTop += 1;
    }
  }

  /**
   * Ends the minute: each slot recorded in it gets its mean rate over the minute's `steps`
   * evaluation steps (steps it was not recorded in count as 0) into slice `slice`; a slice
   * below 0 drops the minute.
   */
  closeMinute(slice: number, steps: number): void {
    for (let i = 0; i < this.touchedTop; i++) {
      const slot = this.touchedList[i]!;
      this.touched[slot] = 0;
      for (let k = 0; k < this.storedCount; k++) {
        const series = this.storedSeries[k]!;
        const at = slot * this.storedCount + k;
        const rate = steps > 0 ? this.sums[at]! / steps : 0;
        this.sums[at] = 0;
        if (slice < 0) continue;
        const b = bucketOf(rate, this.lows[series]!);
        if (b === 0) continue;
        const cell = this.base(slot, series, slice) + b;
        if (this.counts[cell]! < U16_MAX) this.counts[cell] = this.counts[cell]! + 1;
      }
    }
    this.touchedTop = 0;
  }

  /** Adds `count` minutes to a bucket directly (restoring saved state). */
  addCount(slot: number, series: number, slice: number, bucket: number, count: number): void {
    if (!this.isStored(series) || bucket <= 0 || bucket >= BASELINE_BUCKETS) return;
    const at = this.base(slot, series, slice) + bucket;
    this.counts[at] = Math.min(U16_MAX, this.counts[at]! + count);
  }

  count(slot: number, series: number, slice: number, bucket: number): number {
    if (!this.isStored(series)) return 0;
    return this.counts[this.base(slot, series, slice) + bucket]!;
  }

  /** Empties one slice of the slots `inUse` says are in use (all when undefined). */
  clearSlice(slice: number, inUse?: Uint8Array, highWater = this.slots): void {
    for (let slot = 0; slot < highWater; slot++) {
      if (inUse && inUse[slot] !== 1) continue;
      for (let k = 0; k < this.storedCount; k++) {
        const b = this.base(slot, this.storedSeries[k]!, slice);
        this.counts.fill(0, b, b + BASELINE_BUCKETS);
      }
    }
  }

  private slotRange(slot: number): [number, number] {
    const from = slot * this.storedCount * this.sliceCount * BASELINE_BUCKETS;
    return [from, from + this.storedCount * this.sliceCount * BASELINE_BUCKETS];
  }

  clearSlot(slot: number): void {
    const [from, to] = this.slotRange(slot);
    this.counts.fill(0, from, to);
    this.sums.fill(0, slot * this.storedCount, (slot + 1) * this.storedCount);
  }

  /** True when the slot holds no minute above any low bound in any slice. */
  isEmpty(slot: number): boolean {
    const [from, to] = this.slotRange(slot);
    for (let i = from; i < to; i++) if (this.counts[i] !== 0) return false;
    return this.touched[slot] === 0;
  }

  /**
   * The `q`-th percentile (0..100) of the slot's per-minute rates of `series` over the slices
   * listed in `live[0..liveCount)`, given that those slices saw `minutes` minutes in all (minutes
   * the slot has no bucket for were below the low bound). 0 when the percentile is below the low
   * bound or the series is not kept.
   */
  percentile(
    slot: number,
    series: number,
    q: number,
    live: Int32Array,
    liveCount: number,
    minutes: number,
  ): number {
    if (!this.isStored(series) || minutes <= 0) return 0;
    const low = this.lows[series]!;
    const allowedAbove = Math.floor(minutes * (1 - q / 100));
    let above = 0;
    for (let b = BASELINE_BUCKETS - 1; b >= 1; b--) {
      for (let i = 0; i < liveCount; i++) above += this.counts[this.base(slot, series, live[i]!) + b]!;
      if (above > allowedAbove) return bucketValue(b, low);
    }
    return 0;
  }

  get bytesAllocated(): number {
    return (
      this.counts.byteLength +
      this.sums.byteLength +
      this.touched.byteLength +
      this.touchedList.byteLength +
      this.lows.byteLength +
      this.stored.byteLength +
      this.storedSeries.byteLength
    );
  }
}
