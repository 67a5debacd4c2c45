/**
 * Early steps: between two ticks, records that already put a target over a rule long enough to
 * open an incident make `stepDue()` true, so the caller steps at once; everyday traffic never does.
 */
import { describe, expect, it } from 'vitest';
import { batchOf, type SyntheticFlow, T0 } from '../synthetic-flows.js';
import { detectorWith } from './streams.js';

const NETS = {
  networks: [{ prefix: '203.0.113.0/24' }, { prefix: '198.51.100.0/24', totals: { pps: 20_000 } }],
};

/** `n` sampled packets (sFlow: no duration) of `packets` each to `dst`, arriving at `atMs`. */
function samples(dst: string, n: number, packets: number, atMs: number, extra: Partial<SyntheticFlow> = {}) {
  return batchOf(
    Array.from({ length: n }, (_, i) => ({
      dst,
      src: `100.20.${i & 255}.${(i >> 8) + 1}`,
      protocol: 17,
      srcPort: 40_000 + i,
      dstPort: 27015,
      packets,
      bytes: packets * 500,
      arrivalMs: atMs,
      ...extra,
    })),
  );
}

describe('stepDue', () => {
  it('turns true as soon as the second being reported is over, and the early step opens the incident', () => {
    const detector = detectorWith(NETS);
    // 1 in 1000 sampling: each sample stands for 1000 packets; 20 000 pps is the threshold.
    detector.ingest(samples('203.0.113.5', 10, 1000, T0 + 100));
    expect(detector.stepDue()).toBe(false);
    detector.ingest(samples('203.0.113.5', 15, 1000, T0 + 250));
    expect(detector.stepDue()).toBe(true);
    const [event] = detector.step(T0 + 251);
    expect(event).toMatchObject({
      type: 'opened',
      incident: { target: '203.0.113.5', openedAtMs: T0 + 251 },
    });
    expect(detector.stepDue()).toBe(false);
    // The open incident needs no hurry: more attack records ask for no early step.
    detector.ingest(samples('203.0.113.5', 40, 1000, T0 + 600));
    expect(detector.stepDue()).toBe(false);
    expect(detector.stats().dueSteps).toBe(1);
  });

  it('turns true on arrival of a 1 s record (IPFIX, 1 s active timeout) reporting a second over', () => {
    const detector = detectorWith(NETS);
    detector.ingest(
      batchOf(
        Array.from({ length: 100 }, (_, i) => ({
          dst: '203.0.113.6',
          src: `100.20.0.${i + 1}`,
          packets: 300,
          durationMs: 1000,
          arrivalMs: T0 + 1200,
        })),
      ),
    );
    expect(detector.stepDue()).toBe(true);
    expect(detector.step(T0 + 1201)[0]?.type).toBe('opened');
  });

  it('never turns true for everyday traffic under the thresholds, even above the smallest class rule', () => {
    const detector = detectorWith({ ...NETS, thresholds: { pps: 20_000, syn: { pps: 1000 } } });
    for (let sec = 0; sec < 5; sec++) {
      for (let part = 0; part < 10; part++) {
        // 15 000 pps of established TCP (ACK+PSH): 15x the SYN rule in packets, no SYN at all.
        detector.ingest(
          samples('203.0.113.7', 15, 100, T0 + sec * 1000 + part * 100, { protocol: 6, tcpFlags: 0x18 }),
        );
        expect(detector.stepDue()).toBe(false);
      }
      expect(detector.step(T0 + sec * 1000 + 950)).toEqual([]);
    }
  });

  it('turns true for a carpet over a watched prefix with no host over', () => {
    const detector = detectorWith(NETS);
    // 30 000 packets in 300 ms over 250 hosts: 120 per host, 1.5x the prefix total allowed.
    for (let part = 0; part < 3; part++) {
      const flows: SyntheticFlow[] = Array.from({ length: 250 }, (_, h) => ({
        dst: `198.51.100.${h + 1}`,
        src: `100.20.1.${(h % 200) + 1}`,
        srcPort: 53,
        packets: 40,
        arrivalMs: T0 + 100 + part * 100,
      }));
      detector.ingest(batchOf(flows));
    }
    expect(detector.stepDue()).toBe(true);
    const [event] = detector.step(T0 + 400);
    expect(event?.incident).toMatchObject({ target: '198.51.100.0/24', family: 'carpet_bombing' });
  });
});
