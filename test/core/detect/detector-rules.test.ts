/**
 * The detector beyond whole-traffic thresholds: per-class rules, host groups and hosts, the
 * open-after delay, severity levels, the evidence guard, the fingerprint from the focus slot,
 * carpet bombing and per-network totals in both directions.
 */
import { describe, expect, it } from 'vitest';
import { FRAGMENT_YES } from '../../../core/flow/flow-batch.js';
import type { Incident } from '../../../core/incident/incident.js';
import { batchOf, T0 } from '../synthetic-flows.js';
import { detectorWith, opened, run, type Stream } from './streams.js';

const NET = '203.0.113.0/24';
/** Static rules only: baselines would not fire within these short timelines anyway. */
const STATIC = { baseline: { enabled: false } };

function attack(dst: string, parts: Partial<Stream>): Stream {
  return { dst, pps: 3000, packetBytes: 100, protocol: 17, sources: 50, fromSec: 0, toSec: 8, ...parts };
}

/** Everyday traffic that per-class rules must leave alone. */
const everyday: Stream[] = [
  // A download: established TCP with data, 8000 pps of full segments.
  attack('203.0.113.30', {
    pps: 8000,
    packetBytes: 1400,
    protocol: 6,
    tcpFlags: 0x1b,
    sources: 2,
    srcPort: () => 443,
  }),
  // A resolver's answers from port 53: small, 2500 pps.
  attack('203.0.113.53', { pps: 2500, packetBytes: 120, protocol: 17, sources: 40, srcPort: () => 53 }),
  // Pings.
  attack('203.0.113.60', { pps: 200, packetBytes: 84, protocol: 1, sources: 10 }),
];

const byTarget = (incidents: Incident[]) => Object.fromEntries(incidents.map((i) => [i.target, i]));

describe('per-class thresholds', () => {
  const config = {
    ...STATIC,
    networks: [{ prefix: NET }],
    thresholds: {
      pps: 20_000,
      bps: 1e9,
      syn: { pps: 1000 },
      ackRst: { pps: 1000 },
      icmp: { pps: 1000 },
      fragment: { pps: 1000 },
      gre: { pps: 1000 },
      amplification: { bps: 5e6 },
    },
  };

  it('opens on the class rule each attack crosses, under the whole-traffic thresholds, and not on everyday traffic', () => {
    const detector = detectorWith(config);
    const attacks = [
      attack('203.0.113.5', {
        protocol: 6,
        tcpFlags: 0x02,
        packetBytes: 40,
        sources: 3000,
        dstPort: () => 443,
      }),
      attack('203.0.113.6', { protocol: 6, tcpFlags: 0x10, packetBytes: 40, sources: 3000 }),
      attack('203.0.113.7', { protocol: 1, packetBytes: 84 }),
      attack('203.0.113.8', {
        fragment: FRAGMENT_YES,
        packetBytes: 1480,
        srcPort: () => 0,
        dstPort: () => 0,
      }),
      attack('203.0.113.9', { protocol: 47, packetBytes: 560 }),
      attack('203.0.113.10', { srcPort: () => 123, packetBytes: 468 }),
    ];
    const incidents = byTarget(opened(run(detector, [...attacks, ...everyday], -3, 6)));
    expect(Object.keys(incidents).sort()).toEqual(attacks.map((a) => a.dst).sort());
    expect(incidents['203.0.113.5']).toMatchObject({
      family: 'tcp_syn_flood',
      triggers: ['syn.pps'],
      triggerThresholds: { 'syn.pps': 1000 },
      thresholds: { pps: 20_000, bps: 1e9 },
    });
    expect(incidents['203.0.113.6']).toMatchObject({ family: 'tcp_ack_rst_flood', triggers: ['ackRst.pps'] });
    expect(incidents['203.0.113.7']).toMatchObject({ family: 'icmp_flood', triggers: ['icmp.pps'] });
    expect(incidents['203.0.113.8']).toMatchObject({ family: 'fragment_flood', triggers: ['fragment.pps'] });
    expect(incidents['203.0.113.9']).toMatchObject({ family: 'gre_flood', triggers: ['gre.pps'] });
    expect(incidents['203.0.113.10']).toMatchObject({
      family: 'ntp_amplification',
      triggers: ['amplification.bps'],
    });
    // Severity is how far over the rule that fired went: 3000 / 1000 at full window.
    const syn = detector.openIncidents().find((i) => i.target === '203.0.113.5')!;
    expect(syn.severity).toBeCloseTo(3, 1);
    expect(syn.severityLevel).toBe('medium');
  });

  it('counts flows per second against a flows rule', () => {
    const detector = detectorWith({ ...STATIC, networks: [{ prefix: NET }], thresholds: { flows: 2000 } });
    const many = attack('203.0.113.5', { pps: 3000, sources: 3000, protocol: 6, tcpFlags: 0x02 });
    const few = attack('203.0.113.6', { pps: 3000, sources: 3, protocol: 6, tcpFlags: 0x18 });
    const [inc, ...rest] = opened(run(detector, [many, few], -2, 6));
    expect(rest).toEqual([]);
    expect(inc).toMatchObject({ target: '203.0.113.5', triggers: ['flows'] });
    expect(inc!.flows!.threshold).toBe(2000);
    expect(detector.openIncidents()[0]!.flows!.current).toBeCloseTo(3000, -2);
  });

  it('lets a host group and a host entry override the rules for their hosts', () => {
    const detector = detectorWith({
      ...STATIC,
      networks: [{ prefix: NET }],
      thresholds: { pps: 20_000, udp: { pps: 2000 } },
      hostGroups: [{ name: 'game', prefixes: ['203.0.113.64/26'], thresholds: { udp: { pps: 10_000 } } }],
      hosts: [{ address: '203.0.113.70', thresholds: { udp: { pps: null }, pps: 4000 } }],
    });
    const incidents = byTarget(
      opened(
        run(
          detector,
          [
            attack('203.0.113.5', { pps: 5000 }), // default: udp 2000
            attack('203.0.113.65', { pps: 5000 }), // game group: udp 10000
            attack('203.0.113.70', { pps: 5000 }), // host: no udp rule, pps 4000
          ],
          -2,
          6,
        ),
      ),
    );
    expect(Object.keys(incidents).sort()).toEqual(['203.0.113.5', '203.0.113.70']);
    expect(incidents['203.0.113.5']!.triggers).toEqual(['udp.pps']);
    expect(incidents['203.0.113.70']!.triggers).toEqual(['pps']);
  });
});

describe('opening, severity and evidence', () => {
  it('opens once the condition has held for openAfterSeconds, counting the seconds already over', () => {
    const openedAt = (openAfterSeconds: number) => {
      const detector = detectorWith({
        ...STATIC,
        networks: [{ prefix: NET }],
        thresholds: { pps: 1000 },
        openAfterSeconds,
      });
      return opened(run(detector, [attack('203.0.113.5', { pps: 1500, toSec: 30 })], -2, 20))[0]!.openedAtMs;
    };
    // Records of second s arrive at s + 200 ms, 80% of them falling in second s - 1. At the step
    // of second 0, second -1 alone is over (1200 pps): enough when one second is asked for. The
    // window (3 s) averages over 1000 pps at the step of second 2, with 3 seconds already held.
    expect(openedAt(0)).toBe(T0 + 700);
    expect(openedAt(1)).toBe(T0 + 700);
    expect(openedAt(3)).toBe(T0 + 2700);
    expect(openedAt(4)).toBe(T0 + 3700);
    expect(openedAt(10)).toBe(T0 + 9700);
  });

  it('opens at once on a burst of records that covers the last 10 s of an attack', () => {
    const detector = detectorWith({
      ...STATIC,
      networks: [{ prefix: NET }],
      thresholds: { pps: 1000 },
      openAfterSeconds: 4,
    });
    const arrivalMs = T0 + 10_200;
    detector.ingest(
      batchOf(
        Array.from({ length: 100 }, (_, i) => ({
          dst: '203.0.113.5',
          src: `192.0.2.${i}`,
          packets: 500,
          bytes: 50_000,
          durationMs: 10_000,
          arrivalMs,
        })),
      ),
    );
    const [event] = detector.step(arrivalMs + 300);
    expect(event?.type).toBe('opened');
  });

  it('names the severity level from the configured bounds', () => {
    const detector = detectorWith({
      ...STATIC,
      networks: [{ prefix: NET }],
      thresholds: { pps: 1000 },
      severityLevels: { medium: 2, high: 4, critical: 8 },
    });
    run(detector, [attack('203.0.113.5', { pps: 1500 }), attack('203.0.113.6', { pps: 9000 })], -2, 6);
    const levels = Object.fromEntries(detector.openIncidents().map((i) => [i.target, i.severityLevel]));
    expect(levels).toEqual({ '203.0.113.5': 'low', '203.0.113.6': 'critical' });
  });

  it('says when an incident rests on too few samples', () => {
    const detector = detectorWith({ ...STATIC, networks: [{ prefix: NET }], thresholds: { pps: 1000 } });
    // 1:4096 sampling: 3 records a second of one sampled packet each stand for 12288 pps.
    const sparse = attack('203.0.113.5', { pps: 12_288, sources: 3, samplingRate: 4096 });
    const dense = attack('203.0.113.6', { pps: 12_288, sources: 200 });
    const incidents = byTarget(opened(run(detector, [sparse, dense], -2, 5)));
    expect(incidents['203.0.113.5']!.evidence).toMatchObject({ sufficient: false, samplingRate: 4096 });
    expect(incidents['203.0.113.5']!.evidence!.note).toMatch(/sampled packets \(1:4096 sampling\)/);
    expect(incidents['203.0.113.6']!.evidence).toMatchObject({ sufficient: true, samplingRate: 1 });
    expect(incidents['203.0.113.6']!.evidence!.records).toBeGreaterThan(100);
    expect(incidents['203.0.113.5']!.evidence!.sampledPackets).toBeLessThan(100);
  });
});

describe('fingerprint', () => {
  it('names the top sources, source ports, TCP flags and packet sizes of a few-source attack', () => {
    const detector = detectorWith({ ...STATIC, networks: [{ prefix: NET }], thresholds: { pps: 1000 } });
    const ack = attack('203.0.113.5', {
      pps: 6000,
      sources: 3,
      protocol: 6,
      tcpFlags: 0x10,
      packetBytes: 52,
      src: (i) => `100.20.0.${10 + i}`,
      srcPort: () => 443,
      dstPort: () => 8080,
    });
    run(detector, [ack], -2, 6);
    const [inc] = detector.openIncidents();
    expect(inc!.family).toBe('tcp_ack_rst_flood');
    const f = inc!.fingerprint;
    expect(f.topSources!.map((s) => s.address).sort()).toEqual(['100.20.0.10', '100.20.0.11', '100.20.0.12']);
    expect(f.topSourcePorts).toEqual([443]);
    expect(f.destinationPorts).toEqual([8080]);
    expect(f.tcpFlags).toEqual([{ flags: 'A', share: 1 }]);
    expect(f.packetSizes).toEqual({ p10: 32, p50: 48, p90: 63 });
    expect(f.distinctSources).toBe(3);
    expect(f.spoofing).toMatchObject({ likely: false, bogonShare: 0 });
  });

  it('says a SYN flood from thousands of one-packet bogon sources looks spoofed', () => {
    const detector = detectorWith({ ...STATIC, networks: [{ prefix: NET }], thresholds: { pps: 1000 } });
    const syn = attack('203.0.113.5', {
      pps: 20_000,
      sources: 20_000,
      protocol: 6,
      tcpFlags: 0x02,
      packetBytes: 40,
      src: (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    });
    run(detector, [syn], -2, 5);
    const f = detector.openIncidents()[0]!.fingerprint;
    expect(f.spoofing).toMatchObject({ likely: true, bogonShare: 1 });
    // 20000 sources: the focus sketch is within a few percent.
    expect(Math.abs(f.distinctSources! - 20_000) / 20_000).toBeLessThan(0.15);
  });
});

describe('carpet bombing', () => {
  const config = {
    ...STATIC,
    networks: [{ prefix: NET, totals: { pps: 5000 } }, { prefix: '198.51.100.0/24' }],
    thresholds: { pps: 1000 },
  };
  const spray = (perHostPps: number, hosts: number): Stream[] =>
    Array.from({ length: hosts }, (_, h) =>
      attack(`203.0.113.${1 + h}`, { pps: perHostPps, sources: 4, srcPort: () => 53, packetBytes: 1200 }),
    );

  it('opens one incident on the prefix when its total crosses while every host stays under', () => {
    const detector = detectorWith(config);
    const events = run(detector, spray(40, 200), -2, 6);
    const incidents = opened(events);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({
      target: NET,
      targetKind: 'prefix',
      network: NET,
      family: 'carpet_bombing',
      triggers: ['totals.pps'],
      thresholds: { pps: 5000, bps: 0 },
    });
    const inc = detector.openIncidents()[0]!;
    expect(inc.vectors![0]).toEqual({ family: 'dns_amplification', share: 1 });
    expect(inc.fingerprint.sourcePorts).toEqual([53]);
    expect(Math.abs(inc.fingerprint.distinctTargets! - 200) / 200).toBeLessThan(0.15);
    expect(inc.fingerprint.topTargets!.length).toBeGreaterThan(0);
    expect(inc.confidence).toBeGreaterThan(0.9);
    expect(inc.current.pps).toBeCloseTo(8000, -2);
  });

  it('leaves it to the host incident when one host is over its own threshold', () => {
    const detector = detectorWith(config);
    const incidents = opened(
      run(detector, [...spray(10, 100), attack('203.0.113.200', { pps: 6000 })], -2, 6),
    );
    expect(incidents.map((i) => i.target)).toEqual(['203.0.113.200']);
  });

  it('closes the prefix incident after the hold-down', () => {
    const detector = detectorWith({ ...config, holdDownSeconds: 5 });
    const events = run(
      detector,
      spray(40, 200).map((s) => ({ ...s, toSec: 4 })),
      -2,
      20,
    );
    const closed = events.filter((e) => e.type === 'closed');
    expect(closed).toHaveLength(1);
    expect(closed[0]!.incident).toMatchObject({ target: NET, state: 'closed' });
  });
});

describe('network totals', () => {
  it('counts traffic into and out of each monitored network, and flows per second', () => {
    const detector = detectorWith({ ...STATIC, networks: [{ prefix: NET }, { prefix: '2001:db8::/32' }] });
    // 203.0.113.7 sends 2000 pps out to the Internet and receives 500 pps from it.
    const out = attack('198.18.0.1', { pps: 2000, sources: 10, src: () => '203.0.113.7' });
    const inbound = attack('203.0.113.7', { pps: 500, sources: 5 });
    run(detector, [out, inbound], 0, 6);
    const [v4, v6] = detector.networkTotals(T0 + 5700);
    expect(v4!.pps).toBeCloseTo(500, -1);
    expect(v4!.fps).toBeCloseTo(5, 0);
    expect(v4!.outbound.pps).toBeCloseTo(2000, -1);
    expect(v4!.outbound.fps).toBeCloseTo(10, 0);
    expect(v4!.outbound.records).toBe(60);
    expect(v6).toMatchObject({ pps: 0, outbound: { pps: 0, records: 0 } });
    expect(detector.stats()).toMatchObject({
      recordsOutbound: 60,
      recordsOutsideNetworks: 60,
      trackedHosts: 1,
    });
  });
});
