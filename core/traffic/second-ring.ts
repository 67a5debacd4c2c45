/**
 * Per-second packet, byte and flow counts for many slots (hosts, networks), RING_SECONDS per slot.
 *
 * Time model. Exporters' clocks are not trusted (routers drift, some never sync, uptime-based
 * timestamps wrap), but the durations they report are: a flow is placed on the interval
 * [arrivalMs - duration, arrivalMs] on Floodgate's own clock, duration = endMs - startMs clamped
 * to [0, MAX_FLOW_DURATION_MS], and its packets and bytes are spread evenly over that interval,
 * each one-second bucket getting the share that overlaps it. A NetFlow record covering 10 s thus
 * adds a tenth of its packets to each of the last ten seconds instead of a 10x spike on arrival.
 * A flow longer than the ring keeps its true per-second rate: only the part of its interval
 * still inside the ring is written, the older part would fall out before anyone reads it.
 * (Squeezing such a flow into the ring instead would turn one long benign transfer into a spike
 * of duration/RING_SECONDS times its real rate.)
 *
 * Rate. See `windowRates`.
 *
 * Flows. Each record is one flow and is spread like its packets, so flows/s is the rate of flow
 * records: new flows per second for short flows, and for a long flow re-reported every active
 * timeout A, one record per A seconds (1/A flows/s), which is what the exporter really sends.
 *
 * Memory per slot: RING_SECONDS * (8 + 8 + 4) bytes + 8 (head) = 328 bytes. Packets and bytes are
 * Float64 (sums of many small sampled values must not lose low-order increments the way Float32
 * does above 2^24); flow counts are Float32, whose rounding only matters past 16 million flows
 * in one second of one slot.
 */

/** Seconds of history per slot; a power of two (the ring index is `second & RING_MASK`). */
export const RING_SECONDS = 16;
const RING_MASK = RING_SECONDS - 1;

/**
 * Durations beyond this are exporter nonsense (a wrapped uptime clock, an unset start time);
 * they are cut to it rather than trusted to dilute the record's packets over days.
 */
export const MAX_FLOW_DURATION_MS = 3_600_000;

/** The largest rate window a ring supports: the window and the partial second around it must fit. */
export const MAX_WINDOW_SECONDS = RING_SECONDS - 2;

/** A rate over a window: the caller owns and reuses the object, nothing is allocated per read. */
export interface RateSample {
  /** Packets per second. */
  pps: number;
  /** Bits per second. */
  bps: number;
  /** Flow records per second. */
  fps: number;
  /** Packets, bytes and flows summed over the window (for mean packet size). */
  packets: number;
  bytes: number;
  flows: number;
}

export function emptyRateSample(): RateSample {
  return { pps: 0, bps: 0, fps: 0, packets: 0, bytes: 0, flows: 0 };
}

/** Which per-second value `heldSeconds` compares: packets, bits (bytes * 8) or flows. */
export const METRIC_PACKETS = 0;
export const METRIC_BITS = 1;
export const METRIC_FLOWS = 2;

export class SecondRings {
  readonly slots: number;
  readonly packets: Float64Array;
  readonly bytes: Float64Array;
  readonly flows: Float32Array;
  /** The largest per-second value (scaled) of the run the last `heldSeconds` call counted. */
  heldPeak = 0;
  /** The newest second written for each slot; -Infinity when the slot is empty. */
  private readonly headSec: Float64Array;

  constructor(slots: number) {
    this.slots = slots;
    this.packets = new Float64Array(slots * RING_SECONDS);
    this.bytes = new Float64Array(slots * RING_SECONDS);
    this.flows = new Float32Array(slots * RING_SECONDS);
    this.headSec = new Float64Array(slots).fill(Number.NEGATIVE_INFINITY);
  }

  /** Forgets a slot's history (its buckets are cleared lazily by the next write). */
  reset(slot: number): void {
    this.headSec[slot] = Number.NEGATIVE_INFINITY;
  }

  /**
   * Adds a flow ending at `endMs` (its arrival) that lasted `durationMs` (already clamped to
   * [0, MAX_FLOW_DURATION_MS]). At most RING_SECONDS + 1 buckets are touched.
   */
  add(slot: number, endMs: number, durationMs: number, packets: number, bytes: number, flows: number): void {
    // The last second the flow covers: a flow ending exactly on a second boundary does not reach
    // into the next second (a zero-length record still lands in the second it arrived in).
    const endSec = durationMs > 0 ? Math.ceil(endMs / 1000) - 1 : Math.floor(endMs / 1000);
    this.advance(slot, endSec);
    const oldest = this.headSec[slot]! - RING_SECONDS + 1;
    const base = slot * RING_SECONDS;
    if (durationMs <= 0) {
      if (endSec < oldest) return;
      const i = base + (endSec & RING_MASK);
      this.packets[i]! += packets;
      this.bytes[i]! += bytes;
      this.flows[i]! += flows;
      return;
    }
    const startMs = endMs - durationMs;
    const packetsPerMs = packets / durationMs;
    const bytesPerMs = bytes / durationMs;
    const flowsPerMs = flows / durationMs;
    let sec = Math.floor(startMs / 1000);
    if (sec < oldest) sec = oldest;
    for (; sec <= endSec; sec++) {
      const bucketStart = sec * 1000;
      const lo = Math.max(bucketStart, startMs);
      const hi = Math.min(bucketStart + 1000, endMs);
      if (hi <= lo) continue;
      const i = base + (sec & RING_MASK);
      this.packets[i]! += packetsPerMs * (hi - lo);
      this.bytes[i]! += bytesPerMs * (hi - lo);
      this.flows[i]! += flowsPerMs * (hi - lo);
    }
  }

  /** Moves the head forward to `sec`, zeroing the buckets it passes over. */
  private advance(slot: number, sec: number): void {
    const head = this.headSec[slot]!;
    if (sec <= head) return;
    const base = slot * RING_SECONDS;
    if (sec - head >= RING_SECONDS) {
      this.packets.fill(0, base, base + RING_SECONDS);
      this.bytes.fill(0, base, base + RING_SECONDS);
      this.flows.fill(0, base, base + RING_SECONDS);
    } else {
      for (let s = head + 1; s <= sec; s++) {
        const i = base + (s & RING_MASK);
        this.packets[i] = 0;
        this.bytes[i] = 0;
        this.flows[i] = 0;
      }
    }
    this.headSec[slot] = sec;
  }

  /** Packets, bytes and flows in the whole seconds [fromSec, toSec). Seconds outside the ring count 0. */
  private sumInto(slot: number, fromSec: number, toSec: number, out: RateSample): void {
    const head = this.headSec[slot]!;
    const oldest = head - RING_SECONDS + 1;
    const lo = Math.max(fromSec, oldest);
    const hi = Math.min(toSec - 1, head);
    const base = slot * RING_SECONDS;
    let packets = 0;
    let bytes = 0;
    let flows = 0;
    for (let s = lo; s <= hi; s++) {
      const i = base + (s & RING_MASK);
      packets += this.packets[i]!;
      bytes += this.bytes[i]!;
      flows += this.flows[i]!;
    }
    out.packets = packets;
    out.bytes = bytes;
    out.flows = flows;
  }

  /**
   * The rate of a slot at `nowMs`, written into `out`.
   *
   * The window is the last `windowSeconds` complete seconds: [e - W, e) with e = floor(now / 1s).
   * Flow records only report the past, and the newest moments are reported last, so the end of
   * any window is under-reported until the next records arrive. The part of the window after the
   * slot's latest arrival (`lastArrivalMs`) is therefore left out of the divisor, up to one
   * second (half the window when the window is one second):
   *
   *   rate = sum over [e - W, e) / (W - min(1 s, max(0, e - lastArrival)))
   *
   * Consequences, both tested: a burst of records covering the last seconds of a constant attack
   * gives the real rate at the next step whatever the phase of the step within the second; when
   * traffic stops at T, the rate is 0 once e - W > floor(T), i.e. within W + 1 s of T.
   */
  windowRates(
    slot: number,
    nowMs: number,
    windowSeconds: number,
    lastArrivalMs: number,
    out: RateSample,
  ): void {
    const endSec = Math.floor(nowMs / 1000);
    this.sumInto(slot, endSec - windowSeconds, endSec, out);
    const windowMs = windowSeconds * 1000;
    const maxForgiven = windowMs >= 2000 ? 1000 : windowMs / 2;
    let forgiven = endSec * 1000 - lastArrivalMs;
    if (!(forgiven > 0)) forgiven = 0;
    else if (forgiven > maxForgiven) forgiven = maxForgiven;
    const spanSeconds = (windowMs - forgiven) / 1000;
    out.pps = out.packets / spanSeconds;
    out.bps = (out.bytes * 8) / spanSeconds;
    out.fps = out.flows / spanSeconds;
  }

  /**
   * For how many seconds, in traffic time, the slot has been over `threshold` on `metric` once
   * scaled by `share` (the part of the slot's traffic a per-protocol rule looks at): the run of
   * consecutive seconds, each over on its own, that ends at the second of `nowMs`, looking back at
   * most the ring. The current second and the one before may still be under-reported (their
   * records are on their way), so they are skipped when they are not over; when one is over, it
   * is over whatever comes later. The detector uses it to tell how long a condition has already
   * held when it first sees it, and to see a condition that holds second by second before the
   * window's average shows it. Sets `heldPeak`.
   */
  heldSeconds(slot: number, nowMs: number, metric: number, threshold: number, share: number): number {
    const endSec = Math.floor(nowMs / 1000);
    const head = this.headSec[slot]!;
    const oldest = head - RING_SECONDS + 1;
    const base = slot * RING_SECONDS;
    const column =
      metric === METRIC_PACKETS ? this.packets : metric === METRIC_BITS ? this.bytes : this.flows;
    const scale = metric === METRIC_BITS ? 8 * share : share;
    let held = 0;
    let peak = 0;
    for (let s = endSec; s >= oldest; s--) {
      const value = s > head ? 0 : column[base + (s & RING_MASK)]! * scale;
      if (value > threshold) {
        held += 1;
        if (value > peak) peak = value;
      } else if (held > 0 || s < endSec - 1) break;
    }
    this.heldPeak = peak;
    return held;
  }

  /** The value (packets, bits or flows) of the second holding `nowMs`, so far; 0 when none. */
  currentSecond(slot: number, nowMs: number, metric: number): number {
    const sec = Math.floor(nowMs / 1000);
    const head = this.headSec[slot]!;
    if (sec > head || sec <= head - RING_SECONDS) return 0;
    const i = slot * RING_SECONDS + (sec & RING_MASK);
    if (metric === METRIC_PACKETS) return this.packets[i]!;
    return metric === METRIC_BITS ? this.bytes[i]! * 8 : this.flows[i]!;
  }

  get bytesAllocated(): number {
    return this.packets.byteLength + this.bytes.byteLength + this.flows.byteLength + this.headSec.byteLength;
  }
}
