import { describe, expect, it } from 'vitest';
import { detectionConfigSchema } from '../../../core/detect/config.js';
import { createDetector } from '../../../core/detect/detector.js';
import { isFloodgateError } from '../../../core/errors.js';
import { batchOf, type SyntheticFlow, T0 } from '../synthetic-flows.js';
import { benign, detectorWith, opened, run, type Stream } from './streams.js';

const NETS = { networks: [{ prefix: '203.0.113.0/24' }, { prefix: '2001:db8::/32' }] };

describe('detector', () => {
  it('opens an NTP amplification incident within seconds, and nothing for benign hosts', () => {
    const detector = detectorWith(NETS);
    const attack: Stream = {
      dst: '203.0.113.5',
      pps: 60_000,
      packetBytes: 468,
      protocol: 17,
      sources: 60,
      srcPort: () => 123,
      fromSec: 0,
      toSec: 30,
    };
    const events = run(detector, [attack, ...benign(-10, 30)], -10, 10);
    const incidents = opened(events);
    expect(incidents).toHaveLength(1);
    const inc = incidents[0]!;
    expect(inc).toMatchObject({
      target: '203.0.113.5',
      ipVersion: 4,
      network: '203.0.113.0/24',
      family: 'ntp_amplification',
      triggers: ['pps'],
      thresholds: { pps: 20_000, bps: 1_000_000_000 },
      state: 'open',
    });
    expect(inc.id).toBe(`inc-20261121T141900Z-203.0.113.5`);
    // The first second of records is over the threshold on its own: open at the first step.
    expect(inc.openedAtMs).toBe(T0 + 700);
    expect(inc.confidence).toBeGreaterThan(0.95);
    expect(inc.fingerprint).toMatchObject({ protocols: [17], sourcePorts: [123], meanPacketBytes: 468 });
    const last = events.filter((e) => e.incident.id === inc.id).at(-1)!.incident;
    expect(last.current.pps).toBeCloseTo(60_000, -2);
    expect(last.current.bps).toBeCloseTo(60_000 * 468 * 8, -5);
    expect(last.severity).toBeCloseTo(3, 1);
    expect(detector.openIncidents().map((i) => i.id)).toEqual([inc.id]);
  });

  it('classifies a SYN flood', () => {
    const detector = detectorWith(NETS);
    const syn: Stream = {
      dst: '203.0.113.7',
      pps: 40_000,
      packetBytes: 60,
      protocol: 6,
      tcpFlags: 0x02,
      dstPort: () => 80,
      sources: 200,
      fromSec: 0,
      toSec: 10,
    };
    const [inc] = opened(run(detector, [syn, ...benign(-5, 10)], -5, 6));
    expect(inc).toMatchObject({ target: '203.0.113.7', family: 'tcp_syn_flood' });
    expect(inc!.fingerprint).toMatchObject({ protocols: [6], destinationPorts: [80], synShare: 1 });
  });

  it('classifies an ICMP flood and a UDP flood, each on its own host', () => {
    const detector = detectorWith(NETS);
    const icmp: Stream = {
      dst: '203.0.113.8',
      pps: 30_000,
      packetBytes: 84,
      protocol: 1,
      sources: 50,
      fromSec: 0,
      toSec: 10,
    };
    const udp: Stream = {
      dst: '203.0.113.9',
      pps: 30_000,
      packetBytes: 512,
      protocol: 17,
      sources: 500,
      fromSec: 0,
      toSec: 10,
    };
    const incidents = opened(run(detector, [icmp, udp], -2, 6));
    const byTarget = Object.fromEntries(incidents.map((i) => [i.target, i.family]));
    expect(byTarget).toEqual({ '203.0.113.8': 'icmp_flood', '203.0.113.9': 'udp_flood' });
  });

  it('does not count traffic outside the monitored networks', () => {
    const detector = detectorWith({ networks: [{ prefix: '203.0.113.0/24' }] });
    const elsewhere: Stream = {
      dst: '198.51.100.7',
      pps: 90_000,
      packetBytes: 500,
      protocol: 17,
      sources: 10,
      fromSec: 0,
      toSec: 10,
    };
    const events = run(detector, [elsewhere], 0, 10);
    expect(events).toEqual([]);
    expect(detector.stats()).toMatchObject({
      trackedHosts: 0,
      recordsOutsideNetworks: 100,
      recordsIngested: 100,
    });
  });

  it('applies per-network thresholds, most specific first', () => {
    const detector = detectorWith({
      thresholds: { pps: 20_000 },
      networks: [
        { prefix: '203.0.113.0/24', thresholds: { pps: 1000 } },
        { prefix: '203.0.113.128/25', name: 'cdn', thresholds: { pps: null } },
        { prefix: '198.51.100.0/24' },
      ],
    });
    const at = (dst: string): Stream => ({
      dst,
      pps: 5000,
      packetBytes: 100,
      protocol: 17,
      sources: 5,
      fromSec: 0,
      toSec: 10,
    });
    const incidents = opened(
      run(detector, [at('203.0.113.10'), at('203.0.113.200'), at('198.51.100.10')], 0, 8),
    );
    expect(incidents.map((i) => [i.target, i.network, i.thresholds])).toEqual([
      ['203.0.113.10', '203.0.113.0/24', { pps: 1000, bps: 0 }],
    ]);
  });

  it('opens on bps alone when only bps is over', () => {
    const detector = detectorWith({ ...NETS, thresholds: { pps: 1_000_000, bps: 100_000_000 } });
    const big: Stream = {
      dst: '203.0.113.20',
      pps: 20_000,
      packetBytes: 1500,
      protocol: 6,
      tcpFlags: 0x18,
      sources: 4,
      fromSec: 0,
      toSec: 10,
    };
    const [inc] = opened(run(detector, [big], 0, 6));
    expect(inc!.triggers).toEqual(['bps']);
    expect(inc!.severity).toBeGreaterThan(1);
    // 20k pps * 1500 B * 8 = 240 Mb/s against 100 Mb/s, once the window is full of the attack.
    expect(detector.openIncidents()[0]!.severity).toBeCloseTo(2.4, 2);
  });

  it('drops to zero rate within window+1 s, closes after the hold-down, and opens anew on a new crossing', () => {
    const detector = detectorWith({ ...NETS, holdDownSeconds: 20 });
    const attack = (fromSec: number, toSec: number): Stream => ({
      dst: '203.0.113.5',
      pps: 60_000,
      packetBytes: 468,
      protocol: 17,
      sources: 30,
      srcPort: () => 123,
      fromSec,
      toSec,
    });
    const events = run(detector, [attack(0, 10), attack(60, 70)], -2, 70);
    const first = events.filter((e) => e.incident.openedAtMs < T0 + 30_000);
    const lastRecordMs = T0 + 9 * 1000 + 200;
    for (const e of first) {
      if (e.atMs >= lastRecordMs + 4000) expect(e.incident.current).toEqual({ pps: 0, bps: 0 });
    }
    const lastOver = first.filter((e) => e.type !== 'closed').at(-1)!.incident.lastOverAtMs;
    expect(lastOver).toBeLessThanOrEqual(lastRecordMs + 3000);
    const closed = first.find((e) => e.type === 'closed')!;
    expect(closed.atMs).toBe(lastOver + 20_000);
    expect(closed.incident).toMatchObject({
      state: 'closed',
      closedAtMs: closed.atMs,
      family: 'ntp_amplification',
    });
    expect(closed.incident.peak.pps).toBeCloseTo(60_000, -2);

    const incidents = opened(events);
    expect(incidents).toHaveLength(2);
    expect(incidents[1]!.id).not.toBe(incidents[0]!.id);
    expect(incidents[1]!.openedAtMs).toBeGreaterThan(closed.atMs);
    expect(detector.openIncidents().map((i) => i.id)).toEqual([incidents[1]!.id]);
  });

  it('detects an attack on an IPv6 host', () => {
    const detector = detectorWith(NETS);
    const v6: Stream = {
      dst: '2001:db8::5',
      pps: 50_000,
      packetBytes: 300,
      protocol: 17,
      sources: 20,
      srcPort: () => 53,
      fromSec: 0,
      toSec: 10,
    };
    const [inc] = opened(run(detector, [v6], 0, 5));
    expect(inc).toMatchObject({
      target: '2001:db8::5',
      ipVersion: 6,
      network: '2001:db8::/32',
      family: 'dns_amplification',
    });
    expect(inc!.id).toMatch(/^inc-20261121T14190\dZ-2001-db8--5$/);
  });

  it('gives the real rate when a burst of records covers the last 10 s of an attack (exporter reading a capture)', () => {
    for (const stepDelay of [30, 480, 930]) {
      const detector = detectorWith(NETS);
      const arrivalMs = T0 + 40_350;
      const flows: SyntheticFlow[] = Array.from({ length: 500 }, (_, i) => ({
        dst: '203.0.113.5',
        src: `198.18.${i >> 8}.${i & 255}`,
        protocol: 17,
        srcPort: 123,
        packets: (80_000 * 10) / 500,
        bytes: ((80_000 * 10) / 500) * 468,
        durationMs: 10_000 - (i % 5),
        arrivalMs,
      }));
      detector.ingest(batchOf(flows));
      const [event] = detector.step(arrivalMs + stepDelay);
      expect(event?.type).toBe('opened');
      expect(Math.abs(event!.incident.current.pps - 80_000) / 80_000).toBeLessThan(0.03);
    }
  });

  it('counts a random-destination flood beyond capacity as overflow, with memory fixed', () => {
    const detector = detectorWith({
      networks: [{ prefix: '10.0.0.0/8' }],
      hostCapacity: 1000,
      hostIdleSeconds: 30,
    });
    const memory = detector.stats().memoryBytes;
    for (let sec = 0; sec < 5; sec++) {
      const flows: SyntheticFlow[] = Array.from({ length: 20_000 }, (_, i) => {
        const n = (i * 2654435761 + sec * 40503) >>> 8;
        return {
          dst: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
          packets: 5,
          arrivalMs: T0 + sec * 1000 + 200,
        };
      });
      detector.ingest(batchOf(flows));
      expect(detector.step(T0 + sec * 1000 + 700)).toEqual([]);
    }
    const stats = detector.stats();
    expect(stats.trackedHosts).toBe(1000);
    expect(stats.overflowRecords).toBeGreaterThan(95_000);
    expect(stats.memoryBytes).toBe(memory);
    const [total] = detector.networkTotals(T0 + 4700);
    expect(total).toMatchObject({ network: '10.0.0.0/8', records: 100_000 });
    expect(total!.pps).toBeCloseTo(100_000, -3);
  });

  it('forgets idle hosts but never one with an open incident', () => {
    const detector = detectorWith({ ...NETS, hostIdleSeconds: 5, holdDownSeconds: 30 });
    const attack: Stream = {
      dst: '203.0.113.5',
      pps: 50_000,
      packetBytes: 100,
      protocol: 17,
      sources: 5,
      fromSec: 0,
      toSec: 3,
    };
    const quiet: Stream = {
      dst: '203.0.113.6',
      pps: 10,
      packetBytes: 100,
      protocol: 17,
      sources: 1,
      fromSec: 0,
      toSec: 3,
    };
    run(detector, [attack, quiet], 0, 20);
    expect(detector.stats()).toMatchObject({ trackedHosts: 1, evictedHosts: 1, openIncidents: 1 });
    run(detector, [], 20, 45);
    expect(detector.stats()).toMatchObject({ trackedHosts: 0, evictedHosts: 2, openIncidents: 0 });
  });

  it('refuses an invalid configuration with a coded error naming the path', () => {
    try {
      createDetector({ ...detectionConfigSchema.parse({}), windowSeconds: 0 });
      expect.unreachable();
    } catch (e) {
      expect(isFloodgateError(e)).toBe(true);
      expect((e as { code: string }).code).toBe('FG_ERR_CONFIG_INVALID');
      expect(String((e as { details: { issues: string[] } }).details.issues)).toContain(
        'detection.windowSeconds',
      );
    }
  });
});
