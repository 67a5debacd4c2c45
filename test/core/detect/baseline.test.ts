/**
 * Dynamic baselines on a synthetic clock: hours of traffic go by in steps of 10 s (each step
 * preceded by one record per host covering those 10 s), so a test learns in well under a second.
 */
import { describe, expect, it } from 'vitest';
import { decodeBaseline, encodeBaseline } from '../../../core/detect/baseline-codec.js';
import {
  BASELINE_BUCKETS,
  BaselineHistograms,
  bucketOf,
  bucketValue,
} from '../../../core/detect/baseline-histograms.js';
import { detectionConfigSchema } from '../../../core/detect/config.js';
import { createDetector, type Detector } from '../../../core/detect/detector.js';
import { isFloodgateError, WireError } from '../../../core/errors.js';
import type { IncidentEvent } from '../../../core/incident/incident.js';
import { batchOf, type SyntheticFlow } from '../synthetic-flows.js';

const HOUR = 3_600_000;
/** A whole hour, so slices line up with the clock. */
const START = Math.floor(Date.UTC(2026, 10, 21, 0, 0, 0) / HOUR) * HOUR;
const STEP = 10_000;

function detectorWith(baseline: Record<string, unknown>, extra: Record<string, unknown> = {}): Detector {
  return createDetector(
    detectionConfigSchema.parse({
      networks: [{ prefix: '203.0.113.0/24' }],
      thresholds: { pps: 1_000_000 },
      baseline: {
        windowSeconds: 6 * 3600,
        sliceSeconds: 3600,
        learningSeconds: 3600,
        multiplier: 3,
        floor: { pps: 2000 },
        ...baseline,
      },
      ...extra,
    }),
  );
}

/** Runs [fromMs, toMs) in 10 s steps; `rates(host, t)` gives each host's pps at time t. */
function simulate(
  detector: Detector,
  fromMs: number,
  toMs: number,
  rates: Record<string, (t: number) => number>,
): IncidentEvent[] {
  const events: IncidentEvent[] = [];
  for (let t = fromMs; t < toMs; t += STEP) {
    const arrivalMs = t + STEP - 100;
    const flows: SyntheticFlow[] = [];
    for (const [dst, rate] of Object.entries(rates)) {
      const pps = rate(t);
      if (pps <= 0) continue;
      for (let s = 0; s < 4; s++) {
        flows.push({
          dst,
          src: `100.20.${s}.1`,
          packets: (pps * STEP) / 1000 / 4,
          bytes: ((pps * STEP) / 1000 / 4) * 500,
          durationMs: STEP,
          arrivalMs,
        });
      }
    }
    if (flows.length > 0) detector.ingest(batchOf(flows));
    events.push(...detector.step(t + STEP));
  }
  return events;
}

const steady = (pps: number) => () => pps;
const openedTargets = (events: IncidentEvent[]) =>
  events.filter((e) => e.type === 'opened').map((e) => e.incident);

describe('baseline histograms', () => {
  it('buckets four to a doubling above the low bound and reports a bucket by its geometric middle', () => {
    expect(bucketOf(99, 100)).toBe(0);
    expect(bucketOf(100, 100)).toBe(1);
    expect(bucketOf(200, 100)).toBe(5);
    expect(bucketOf(1e12, 100)).toBe(BASELINE_BUCKETS - 1);
    for (let v = 100; v < 50_000; v *= 1.07) {
      expect(Math.abs(bucketValue(bucketOf(v, 100), 100) - v) / v).toBeLessThan(0.095);
    }
  });

  it('gives the p99 of per-minute rates within 9.5%, minutes it never saw counting as below the low bound', () => {
    const hist = new BaselineHistograms(1, 2, Float64Array.of(100, 0, 0));
    const live = Int32Array.of(0, 1);
    // 3000 minutes: 2500 unseen (quiet), 470 at 300-700 pps, 30 at 5000.
    for (let i = 0; i < 470; i++) {
      hist.record(0, Float64Array.of(300 + (i % 400), 0, 0));
      hist.closeMinute(i % 2, 1);
    }
    for (let i = 0; i < 30; i++) {
      hist.record(0, Float64Array.of(5000, 0, 0));
      hist.closeMinute(0, 1);
    }
    // 1% of 3000 = 30 minutes may be above: the p99 is the top of the 300-700 block.
    const p99 = hist.percentile(0, 0, 99, live, 2, 3000);
    expect(Math.abs(p99 - 699) / 699).toBeLessThan(0.095);
    expect(hist.percentile(0, 0, 100, live, 2, 3000)).toBeCloseTo(bucketValue(bucketOf(5000, 100), 100), 6);
    expect(hist.percentile(0, 0, 50, live, 2, 3000)).toBe(0);
    expect(hist.percentile(0, 1, 99, live, 2, 3000)).toBe(0);
  });
});

describe('dynamic baselines', () => {
  it('learns first, then opens on a host far above its own normal and under the static thresholds', () => {
    const detector = detectorWith({});
    const normal = { '203.0.113.5': steady(1000), '203.0.113.6': steady(4000) };
    // Learning: an hour of normal traffic, and an early spike that must not open anything yet.
    let events = simulate(detector, START, START + HOUR, {
      ...normal,
      '203.0.113.7': (t) => (t > START + 30 * 60_000 && t < START + 35 * 60_000 ? 5000 : 0),
    });
    expect(openedTargets(events)).toEqual([]);
    // The early spike got its host a baseline too: it was learned, not judged.
    expect(detector.stats().baseline).toMatchObject({ learning: false, enabled: true, hosts: 3 });

    events = simulate(detector, START + HOUR, START + 2 * HOUR, {
      // 5000 pps: 5x its normal, over 3 x p99 (about 3000).
      '203.0.113.5': (t) => (t > START + HOUR + 20 * 60_000 ? 5000 : 1000),
      // 5000 pps is only 1.25x this busy host's normal: not an attack.
      '203.0.113.6': (t) => (t > START + HOUR + 20 * 60_000 ? 5000 : 4000),
      // Never seen above floor / multiplier: its threshold is the floor, 2000.
      '203.0.113.8': (t) => (t > START + HOUR + 20 * 60_000 ? 2500 : 0),
      '203.0.113.9': (t) => (t > START + HOUR + 20 * 60_000 ? 1500 : 0),
    });
    const incidents = openedTargets(events);
    expect(incidents.map((i) => i.target).sort()).toEqual(['203.0.113.5', '203.0.113.8']);
    const five = incidents.find((i) => i.target === '203.0.113.5')!;
    expect(five.triggers).toEqual(['dynamic.pps']);
    expect(Math.abs(five.triggerThresholds!['dynamic.pps']! - 3000) / 3000).toBeLessThan(0.095);
    expect(incidents.find((i) => i.target === '203.0.113.8')!.triggerThresholds).toEqual({
      'dynamic.pps': 2000,
    });
  });

  it('does not learn from an attack: the threshold stays where it was while the incident lasts', () => {
    const detector = detectorWith({ windowSeconds: 3 * 3600 });
    simulate(detector, START, START + HOUR, { '203.0.113.5': steady(1000) });
    // Two hours at 8000 pps: an attack the whole time, never the new normal.
    const events = simulate(detector, START + HOUR, START + 3 * HOUR, { '203.0.113.5': steady(8000) });
    const incidents = openedTargets(events);
    expect(incidents).toHaveLength(1);
    expect(events.filter((e) => e.type === 'closed')).toEqual([]);
    expect(
      detector.baselineSnapshot().hosts[0]!.cells.every((c) => c.bucket < bucketOf(8000, 2000 / 3)),
    ).toBe(true);
  });

  it('slides: history older than the window is forgotten, and a host with none left loses its slot', () => {
    const detector = detectorWith({});
    simulate(detector, START, START + HOUR, { '203.0.113.5': steady(1000) });
    expect(detector.stats().baseline.hosts).toBe(1);
    simulate(detector, START + HOUR, START + 8 * HOUR, {});
    // Quiet minutes are observed minutes: the window is still learned, the host's history gone.
    expect(detector.stats().baseline).toMatchObject({ hosts: 0, learning: false });
    expect(detector.baselineSnapshot().slices).toHaveLength(7);
  });

  it('survives a restart: exported bytes restore the learning and the thresholds', () => {
    const first = detectorWith({});
    simulate(first, START, START + 2 * HOUR, { '203.0.113.5': steady(1000), '203.0.113.6': steady(4000) });
    const bytes = first.exportBaselines();
    expect(bytes.byteLength).toBeLessThan(400);
    const snapshot = decodeBaseline(bytes);
    expect(snapshot).toEqual(first.baselineSnapshot());
    expect(encodeBaseline(snapshot)).toEqual(bytes);

    const second = detectorWith({});
    const report = second.importBaselines(bytes, START + 2 * HOUR + 5 * 60_000);
    expect(report).toEqual({ slices: 3, hosts: 2, hostsDropped: 0, networks: 0, networksDropped: 0 });
    expect(second.stats().baseline.learning).toBe(false);
    const events = simulate(second, START + 2 * HOUR + 5 * 60_000, START + 2 * HOUR + 10 * 60_000, {
      '203.0.113.5': steady(5000),
      '203.0.113.6': steady(5000),
    });
    expect(openedTargets(events).map((i) => i.target)).toEqual(['203.0.113.5']);
  });

  it('re-cuts the buckets when the floor changed, and drops what does not fit', () => {
    const first = detectorWith({});
    simulate(first, START, START + 2 * HOUR, { '203.0.113.5': steady(1000), '203.0.113.6': steady(4000) });
    const bytes = first.exportBaselines();
    const second = detectorWith({ floor: { pps: 1500 }, hostCapacity: 1 });
    const report = second.importBaselines(bytes, START + 2 * HOUR);
    expect(report).toMatchObject({ hosts: 1, hostsDropped: 1 });
    const cells = second.baselineSnapshot().hosts[0]!.cells;
    const host = second.baselineSnapshot().hosts[0]!.address;
    const rate = host === '203.0.113.5' ? 1000 : 4000;
    expect(cells.map((c) => c.bucket)).toEqual(cells.map(() => bucketOf(rate, 500)));
  });

  it('forgets saved slices that have left the window by the time they are restored', () => {
    const first = detectorWith({});
    simulate(first, START, START + 2 * HOUR, { '203.0.113.5': steady(1000) });
    const second = detectorWith({});
    expect(second.importBaselines(first.exportBaselines(), START + 9 * HOUR)).toMatchObject({ slices: 0 });
    expect(second.stats().baseline.learning).toBe(true);
  });

  it('refuses baselines kept in other slices, naming both settings', () => {
    const first = detectorWith({});
    simulate(first, START, START + 10 * 60_000, { '203.0.113.5': steady(1000) });
    const other = detectorWith({ sliceSeconds: 1800 });
    try {
      other.importBaselines(first.exportBaselines(), START);
      expect.unreachable();
    } catch (e) {
      expect(isFloodgateError(e)).toBe(true);
      expect(String(e)).toMatch(/slices of 3600 s but detection\.baseline\.sliceSeconds is 1800/);
    }
  });

  it('learns per network too: a prefix far above its normal with no host over is an incident on the prefix', () => {
    const detector = detectorWith(
      { floor: { pps: 50_000 }, networkFloor: { pps: 20_000 } },
      { thresholds: { pps: 50_000 } },
    );
    const hosts = (pps: number) =>
      Object.fromEntries(Array.from({ length: 50 }, (_, h) => [`203.0.113.${10 + h}`, steady(pps)]));
    simulate(detector, START, START + HOUR, hosts(200)); // 10000 pps in all
    const events = simulate(detector, START + HOUR, START + HOUR + 10 * 60_000, hosts(1000)); // 50000 pps
    const [inc, ...rest] = openedTargets(events);
    expect(rest).toEqual([]);
    expect(inc).toMatchObject({
      target: '203.0.113.0/24',
      family: 'carpet_bombing',
      triggers: ['dynamic.pps'],
    });
  });
});

/** Like `simulate`, with each host's traffic split into SYN-only and established TCP. */
function simulateSyn(
  detector: Detector,
  fromMs: number,
  toMs: number,
  hosts: Record<string, (t: number) => { syn: number; other: number }>,
): IncidentEvent[] {
  const events: IncidentEvent[] = [];
  for (let t = fromMs; t < toMs; t += STEP) {
    const arrivalMs = t + STEP - 100;
    const flows: SyntheticFlow[] = [];
    for (const [dst, rate] of Object.entries(hosts)) {
      const { syn, other } = rate(t);
      for (const [pps, tcpFlags] of [
        [syn, 0x02],
        [other, 0x18],
      ] as const) {
        if (pps <= 0) continue;
        for (let s = 0; s < 4; s++) {
          const packets = (pps * STEP) / 1000 / 4;
          flows.push({
            dst,
            src: `100.20.${s}.${tcpFlags}`,
            protocol: 6,
            tcpFlags,
            packets,
            bytes: packets * 60,
            durationMs: STEP,
            arrivalMs,
          });
        }
      }
    }
    if (flows.length > 0) detector.ingest(batchOf(flows));
    events.push(...detector.step(t + STEP));
  }
  return events;
}

describe('dynamic baselines per traffic class', () => {
  const SYN_PPS = 15; // rules.ts: group syn (5) x 3 metrics + pps
  const withSynFloor = () =>
    detectorWith({ floor: { pps: 20_000, syn: { pps: 500 } } }, { thresholds: { pps: 1_000_000 } });

  it('opens on a class far above its own normal while the whole traffic stays within its baseline', () => {
    const detector = withSynFloor();
    const normal = {
      '203.0.113.5': () => ({ syn: 400, other: 3000 }),
      '203.0.113.6': () => ({ syn: 800, other: 3000 }),
    };
    expect(openedTargets(simulateSyn(detector, START, START + HOUR, normal))).toEqual([]);
    // 2000 SYN/s: 5x the normal of .5 (threshold about 3 x 400), 2.5x that of .6 (about 3 x 800).
    const events = simulateSyn(detector, START + HOUR, START + HOUR + 10 * 60_000, {
      '203.0.113.5': () => ({ syn: 2000, other: 3000 }),
      '203.0.113.6': () => ({ syn: 2000, other: 3000 }),
    });
    const [inc, ...rest] = openedTargets(events);
    expect(rest).toEqual([]);
    expect(inc).toMatchObject({ target: '203.0.113.5', family: 'mixed', triggers: ['dynamic.syn.pps'] });
    const threshold = inc!.triggerThresholds!['dynamic.syn.pps']!;
    expect(Math.abs(threshold - 1200) / 1200).toBeLessThan(0.095);
    const snapshot = detector.baselineSnapshot();
    expect(snapshot.hostLows[SYN_PPS]).toBeCloseTo(500 / 3, 6);
    expect(snapshot.hosts.every((h) => h.cells.some((c) => c.metric === SYN_PPS))).toBe(true);
  });

  it('takes memory only for the classes given a floor, and keeps them across a restart', () => {
    const plain = detectorWith({ floor: { pps: 20_000 } });
    const withSyn = withSynFloor();
    const perHost = 7 * 40 * 2; // 6 + 1 one-hour slices of 40 two-byte buckets
    expect(withSyn.stats().baseline.memoryBytes - plain.stats().baseline.memoryBytes).toBeGreaterThanOrEqual(
      65_536 * perHost,
    );
    simulateSyn(withSyn, START, START + 2 * HOUR, { '203.0.113.5': () => ({ syn: 400, other: 3000 }) });
    const bytes = withSyn.exportBaselines();
    const restored = withSynFloor();
    restored.importBaselines(bytes, START + 2 * HOUR);
    expect(restored.baselineSnapshot()).toEqual(withSyn.baselineSnapshot());
    const events = simulateSyn(restored, START + 2 * HOUR, START + 2 * HOUR + 5 * 60_000, {
      '203.0.113.5': () => ({ syn: 2000, other: 3000 }),
    });
    expect(openedTargets(events).map((i) => i.triggers)).toEqual([['dynamic.syn.pps']]);
  });
});

describe('baseline file', () => {
  function sample(): Uint8Array {
    const detector = detectorWith({});
    simulate(detector, START, START + 20 * 60_000, { '203.0.113.5': steady(1000), '2001:db8::5': steady(0) });
    return detector.exportBaselines();
  }

  it.each([
    ['a truncated file', (b: Uint8Array) => b.subarray(0, b.length - 3), 'FG_ERR_WIRE_TRUNCATED'],
    ['another file', (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 0 ? 0 : x)), 'FG_ERR_WIRE_VALUE'],
    [
      'a newer version',
      (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 5 ? 9 : x)),
      'FG_ERR_WIRE_VERSION',
    ],
    ['trailing bytes', (b: Uint8Array) => Uint8Array.of(...b, 0), 'FG_ERR_WIRE_LENGTH'],
    [
      'other buckets',
      (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 13 ? 64 : x)),
      'FG_ERR_WIRE_VALUE',
    ],
  ])('refuses %s with a coded WireError', (_what, corrupt, code) => {
    const bytes = sample();
    expect(() => decodeBaseline(bytes)).not.toThrow();
    try {
      decodeBaseline(corrupt(bytes));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(WireError);
      expect((e as WireError).code).toBe(code);
    }
  });

  it('reads a version 1 file (before per-class baselines) and restores it', () => {
    // Header: magic, version 1, slices of 3600 s, 4 buckets per doubling, 40 buckets, 1 slice,
    // lows host pps 2000/3 (bps, flows none), network none; then the slice, 1 host, 1 cell.
    const v1 = new Uint8Array(64 + 10 + 4 + 16 + 2 + 5 + 4);
    const view = new DataView(v1.buffer);
    view.setUint32(0, 0x4647424c);
    view.setUint16(4, 1);
    view.setUint32(8, 3600);
    view.setUint8(12, 4);
    view.setUint8(13, 40);
    view.setUint16(14, 1);
    view.setFloat64(16, 2000 / 3);
    view.setFloat64(64, Math.floor(START / HOUR));
    view.setUint16(72, 60);
    view.setUint32(74, 1);
    [0, 0, 0xffff, 0xcb007105].forEach((w, i) => {
      view.setUint32(78 + i * 4, w);
    });
    view.setUint16(94, 1);
    view.setUint8(96, 0);
    view.setUint8(97, 0);
    view.setUint8(98, bucketOf(1000, 2000 / 3));
    view.setUint16(99, 60);
    const snapshot = decodeBaseline(v1);
    expect(snapshot).toMatchObject({
      sliceSeconds: 3600,
      hostLows: [2000 / 3, 0, 0],
      slices: [{ number: Math.floor(START / HOUR), minutes: 60 }],
      hosts: [
        {
          address: '203.0.113.5',
          cells: [{ metric: 0, slice: 0, bucket: bucketOf(1000, 2000 / 3), minutes: 60 }],
        },
      ],
    });
    const detector = detectorWith({});
    expect(detector.importBaselines(v1, START + 10 * 60_000)).toMatchObject({ slices: 1, hosts: 1 });
    expect(detector.stats().baseline.learning).toBe(false);
  });

  it('refuses a cell outside the table, at its offset', () => {
    const bytes = sample();
    // The first host's first cell starts after the header, the slice table, the host count,
    // the 16-byte address and the cell count; its bucket is its third byte.
    const view = new DataView(bytes.buffer);
    const slices = view.getUint16(14);
    const header = 18 + view.getUint8(17) * 17;
    const bucketAt = header + slices * 10 + 4 + 16 + 2 + 2;
    const bad = Uint8Array.from(bytes, (x, i) => (i === bucketAt ? 0 : x));
    expect(() => decodeBaseline(bad)).toThrow(/bucket 0/);
  });
});
