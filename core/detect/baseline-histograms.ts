/**
 * Per-minute rates of many slots (hosts or networks), summarised as log-bucket histograms per
 * time slice, so a percentile over days of history costs a few hundred bytes per slot instead
 * of a value per minute.
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
 * overflow). Only metrics with a low bound are stored. Memory per slot: stored metrics * slices
 * * BUCKETS * 2 bytes, 1280 bytes for pps and bps over 8 slices, plus 24 bytes of minute sums.
 */
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
  /** Low bound per metric (0: the metric is not kept). */
  readonly lows: Float64Array;
  readonly counts: Uint16Array;
  /** Storage index of each metric, -1 when not stored. */
  private readonly stored: Int8Array;
  private readonly storedCount: number;
  private readonly sums: Float64Array;
  private readonly touched: Uint8Array;
  private readonly touchedList: Int32Array;
  private touchedTop = 0;

  constructor(slots: number, sliceCount: number, lows: Float64Array) {
    this.slots = slots;
    this.sliceCount = sliceCount;
    this.lows = lows;
    this.stored = new Int8Array(BASELINE_METRICS).fill(-1);
    let storedCount = 0;
    for (let m = 0; m < BASELINE_METRICS; m++) {
      if (lows[m]! > 0) {
        this.stored[m] = storedCount;
        storedCount += 1;
      }
    }
    this.storedCount = storedCount;
    this.counts = new Uint16Array(slots * storedCount * sliceCount * BASELINE_BUCKETS);
    this.sums = new Float64Array(slots * BASELINE_METRICS);
    this.touched = new Uint8Array(slots);
    this.touchedList = new Int32Array(slots);
  }

  /** Start of a stored metric's buckets for one slice (`metric` must be stored). */
  private base(slot: number, metric: number, slice: number): number {
    return ((slot * this.storedCount + this.stored[metric]!) * this.sliceCount + slice) * BASELINE_BUCKETS;
  }

  isStored(metric: number): boolean {
    return this.stored[metric]! >= 0;
  }

  /** Adds one step's rates to the slot's current minute. */
  record(slot: number, pps: number, bps: number, fps: number): void {
    const s = slot * BASELINE_METRICS;
    this.sums[s]! += pps;
    this.sums[s + 1]! += bps;
    this.sums[s + 2]! += fps;
    if (this.touched[slot] === 0) {
      this.touched[slot] = 1;
      this.touchedList[this.touchedTop] = slot;
      this.touchedTop += 1;
    }
  }

  /**
   * Ends the minute: each slot recorded in it gets its mean rate over the minute's `steps`
   * evaluation steps (steps it was not recorded in count as 0) into slice `slice`.
   */
  closeMinute(slice: number, steps: number): void {
    for (let i = 0; i < this.touchedTop; i++) {
      const slot = this.touchedList[i]!;
      this.touched[slot] = 0;
      for (let m = 0; m < BASELINE_METRICS; m++) {
        const low = this.lows[m]!;
        const s = slot * BASELINE_METRICS + m;
        const rate = steps > 0 ? this.sums[s]! / steps : 0;
        this.sums[s] = 0;
        if (!(low > 0)) continue;
        const b = bucketOf(rate, low);
        if (b === 0) continue;
        const at = this.base(slot, m, slice) + b;
        if (this.counts[at]! < U16_MAX) this.counts[at] = this.counts[at]! + 1;
      }
    }
    this.touchedTop = 0;
  }

  /** Adds `count` minutes to a bucket directly (restoring saved state). */
  addCount(slot: number, metric: number, slice: number, bucket: number, count: number): void {
    if (this.stored[metric]! < 0 || bucket <= 0 || bucket >= BASELINE_BUCKETS) return;
    const at = this.base(slot, metric, slice) + bucket;
    this.counts[at] = Math.min(U16_MAX, this.counts[at]! + count);
  }

  count(slot: number, metric: number, slice: number, bucket: number): number {
    if (this.stored[metric]! < 0) return 0;
    return this.counts[this.base(slot, metric, slice) + bucket]!;
  }

  /** Empties one slice of the slots `inUse` says are in use (all when undefined). */
  clearSlice(slice: number, inUse?: Uint8Array, highWater = this.slots): void {
    for (let slot = 0; slot < highWater; slot++) {
      if (inUse && inUse[slot] !== 1) continue;
      for (let m = 0; m < BASELINE_METRICS; m++) {
        if (this.stored[m]! < 0) continue;
        const b = this.base(slot, m, slice);
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
    this.sums.fill(0, slot * BASELINE_METRICS, (slot + 1) * BASELINE_METRICS);
  }

  /** True when the slot holds no minute above any low bound in any slice. */
  isEmpty(slot: number): boolean {
    const [from, to] = this.slotRange(slot);
    for (let i = from; i < to; i++) if (this.counts[i] !== 0) return false;
    return this.touched[slot] === 0;
  }

  /**
   * The `q`-th percentile (0..100) of the slot's per-minute rates over the slices listed in
   * `live[0..liveCount)`, given that those slices saw `minutes` minutes in all (minutes the slot
   * has no bucket for were below the low bound). 0 when the percentile is below the low bound.
   */
  percentile(
    slot: number,
    metric: number,
    q: number,
    live: Int32Array,
    liveCount: number,
    minutes: number,
  ): number {
    const low = this.lows[metric]!;
    if (this.stored[metric]! < 0 || minutes <= 0) return 0;
    const allowedAbove = Math.floor(minutes * (1 - q / 100));
    let above = 0;
    for (let b = BASELINE_BUCKETS - 1; b >= 1; b--) {
      for (let i = 0; i < liveCount; i++) above += this.counts[this.base(slot, metric, live[i]!) + b]!;
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
      this.stored.byteLength
    );
  }
}
