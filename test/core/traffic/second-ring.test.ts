import { describe, expect, it } from 'vitest';
import {
  emptyRateSample,
  METRIC_BITS,
  METRIC_FLOWS,
  METRIC_PACKETS,
  RING_SECONDS,
  SecondRings,
} from '../../../core/traffic/second-ring.js';

const S = 1_000_000; // a second well after the epoch, in seconds

function bucketsOf(rings: SecondRings, slot: number, fromSec: number, toSec: number): number[] {
  // Read whole seconds through the public rate: a 1-second window ending at s+1 with the
  // arrival well inside it (no forgiveness) gives the packets of second s.
  const out = emptyRateSample();
  const values: number[] = [];
  for (let s = fromSec; s < toSec; s++) {
    rings.windowRates(slot, (s + 1) * 1000, 1, Number.POSITIVE_INFINITY, out);
    values.push(Math.round(out.packets * 1000) / 1000);
  }
  return values;
}

describe('SecondRings spreading', () => {
  it('spreads a 10 s flow evenly over the ten seconds before its arrival', () => {
    const rings = new SecondRings(1);
    rings.add(0, (S + 10) * 1000, 10_000, 10_000, 1_000_000, 1);
    expect(bucketsOf(rings, 0, S - 1, S + 11)).toEqual([
      0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 0,
    ]);
  });

  it('gives partly covered seconds their share of the flow', () => {
    const rings = new SecondRings(1);
    rings.add(0, (S + 5) * 1000 + 500, 5_000, 5_000, 0, 1);
    expect(bucketsOf(rings, 0, S, S + 6)).toEqual([500, 1000, 1000, 1000, 1000, 500]);
  });

  it('puts a zero-duration record (sFlow sample, unknown times) in its arrival second', () => {
    const rings = new SecondRings(1);
    rings.add(0, S * 1000 + 999, 0, 7, 700, 1);
    expect(bucketsOf(rings, 0, S - 1, S + 2)).toEqual([0, 7, 0]);
  });

  it('keeps the real per-second rate of a flow longer than the ring', () => {
    const rings = new SecondRings(1);
    rings.add(0, (S + 60) * 1000, 60_000, 60_000, 0, 1); // 1000 pps for 60 s
    const b = bucketsOf(rings, 0, S + 60 - RING_SECONDS, S + 61);
    expect(b.slice(0, RING_SECONDS)).toEqual(new Array(RING_SECONDS).fill(1000));
    expect(b[RING_SECONDS]).toBe(0);
  });

  it('forgets seconds that fall out of the ring and ignores records older than it', () => {
    const rings = new SecondRings(1);
    rings.add(0, S * 1000 + 100, 0, 5, 0, 1);
    rings.add(0, (S + RING_SECONDS) * 1000 + 100, 0, 9, 0, 1);
    expect(bucketsOf(rings, 0, S, S + 1)).toEqual([0]);
    rings.add(0, S * 1000 + 100, 0, 5, 0, 1); // older than the ring now holds
    expect(bucketsOf(rings, 0, S, S + 1)).toEqual([0]);
    expect(bucketsOf(rings, 0, S + RING_SECONDS, S + RING_SECONDS + 1)).toEqual([9]);
  });

  it('keeps slots apart and starts a reset slot empty', () => {
    const rings = new SecondRings(2);
    rings.add(0, S * 1000 + 10, 0, 3, 0, 1);
    rings.add(1, S * 1000 + 10, 0, 4, 0, 1);
    expect(bucketsOf(rings, 0, S, S + 1)).toEqual([3]);
    expect(bucketsOf(rings, 1, S, S + 1)).toEqual([4]);
    rings.reset(1);
    rings.add(1, S * 1000 + 20, 0, 1, 0, 1);
    expect(bucketsOf(rings, 1, S, S + 1)).toEqual([1]);
  });
});

describe('SecondRings window rate', () => {
  const W = 3;
  const PPS = 50_000;

  it('gives the real rate right after a burst of records covering the last 10 s, at any step phase', () => {
    for (let arrivalPhase = 0; arrivalPhase < 1000; arrivalPhase += 50) {
      for (let delay = 0; delay < 1000; delay += 50) {
        const rings = new SecondRings(1);
        const arrival = S * 1000 + arrivalPhase;
        // 40 sources, each a 10 s flow ending at the same arrival (one export burst).
        for (let i = 0; i < 40; i++) rings.add(0, arrival, 10_000, (PPS * 10) / 40, (PPS * 10 * 500) / 40, 1);
        const out = emptyRateSample();
        rings.windowRates(0, arrival + delay, W, arrival, out);
        expect(Math.abs(out.pps - PPS) / PPS).toBeLessThan(0.03);
        expect(Math.abs(out.bps - PPS * 500 * 8) / (PPS * 500 * 8)).toBeLessThan(0.03);
      }
    }
  });

  it('falls to 0 within windowSeconds + 1 s after traffic stops', () => {
    for (let stopPhase = 0; stopPhase < 1000; stopPhase += 100) {
      const rings = new SecondRings(1);
      const stop = S * 1000 + stopPhase;
      // A live exporter: 1 s records arriving every 100 ms until `stop`.
      let last = 0;
      for (let t = stop - 10_000; t <= stop; t += 100) {
        rings.add(0, t, 1000, PPS / 10, 0, 1);
        last = t;
      }
      const out = emptyRateSample();
      rings.windowRates(0, stop + 50, W, last, out);
      // Records still open at the step are not reported yet: with 1 s records the last second
      // of the window is partly missing (see docs/detection.md), never more than that.
      expect(out.pps).toBeGreaterThan(PPS * 0.8);
      expect(out.pps).toBeLessThanOrEqual(PPS * 1.0001);
      rings.windowRates(0, stop + (W + 1) * 1000, W, last, out);
      expect(out.pps).toBe(0);
    }
  });

  it('is the plain average of the last complete seconds for steady live traffic', () => {
    const rings = new SecondRings(1);
    for (let t = S * 1000; t <= (S + 10) * 1000; t += 10) rings.add(0, t, 0, 10, 10_000, 1);
    const out = emptyRateSample();
    rings.windowRates(0, (S + 10) * 1000 + 5, W, (S + 10) * 1000, out);
    expect(out.pps).toBeCloseTo(1000, 6);
    expect(out.bps).toBeCloseTo(8_000_000, 3);
  });
});

describe('SecondRings flows and held seconds', () => {
  it('spreads a record as one flow over its duration, so flows/s is the record rate', () => {
    const rings = new SecondRings(1);
    // 60 long flows, each reported once over the last 60 s: one record per second on average.
    for (let i = 0; i < 60; i++) rings.add(0, (S + 60) * 1000, 60_000, 6000, 600_000, 1);
    // Plus 300 one-packet flows in the last 3 seconds.
    for (let i = 0; i < 300; i++) rings.add(0, (S + 57) * 1000 + i * 10, 0, 1, 40, 1);
    const out = emptyRateSample();
    rings.windowRates(0, (S + 60) * 1000 + 100, 3, (S + 60) * 1000, out);
    expect(out.fps).toBeCloseTo(1 + 100, 3);
    expect(out.flows).toBeCloseTo(303, 3);
  });

  it('tells how many seconds, in traffic time, a condition has held up to the last complete second', () => {
    const rings = new SecondRings(1);
    rings.add(0, (S + 7) * 1000, 5000, 5000, 5_000_000, 5000); // 1000 pps, 8 Mb/s from S+2 to S+7
    rings.add(0, (S + 7) * 1000, 2000, 8000, 400_000, 8000); // 4000 pps more in S+5 and S+6
    const now = (S + 7) * 1000 + 300;
    expect(rings.heldSeconds(0, now, METRIC_PACKETS, 3000, 1)).toBe(2);
    expect(rings.heldSeconds(0, now, METRIC_PACKETS, 3000, 0.5)).toBe(0);
    expect(rings.heldSeconds(0, now, METRIC_PACKETS, 900, 1)).toBe(5);
    expect(rings.heldSeconds(0, now, METRIC_BITS, 8_000_000, 1)).toBe(2);
    expect(rings.heldSeconds(0, now, METRIC_FLOWS, 3000, 1)).toBe(2);
    // The last seconds may still be on their way: a run ending one or two seconds earlier counts.
    expect(rings.heldSeconds(0, now + 1000, METRIC_PACKETS, 900, 1)).toBe(5);
    // Traffic that stopped two seconds ago holds nothing any more.
    expect(rings.heldSeconds(0, now + 2000, METRIC_PACKETS, 900, 1)).toBe(0);
    // The second being reported counts as soon as it is over on its own.
    rings.add(0, now, 0, 5000, 0, 5000);
    expect(rings.heldSeconds(0, now, METRIC_PACKETS, 3000, 1)).toBe(3);
    expect(rings.heldPeak).toBe(5000);
  });
});
