/**
 * Outbound detection: hosts of the monitored networks judged on what they send (records whose
 * source they are), with `thresholds.outbound` rules resolved like the inbound ones.
 */
import { describe, expect, it } from 'vitest';
import type { IncidentEvent } from '../../../core/incident/incident.js';
import { batchOf, type SyntheticFlow, T0 } from '../synthetic-flows.js';
import { benign, detectorWith, opened, run, type Stream } from './streams.js';

const NETS = { networks: [{ prefix: '203.0.113.0/24' }, { prefix: '2001:db8::/32' }] };
const OUTBOUND = { pps: 5000, amplification: { bps: 20_000_000 } };

/** Our resolver answering spoofed queries: DNS answers from port 53 to one victim outside. */
const reflecting = (src: string, fromSec = 0, toSec = 10): Stream => ({
  dst: '198.51.100.7',
  src: () => src,
  pps: 30_000,
  packetBytes: 1200,
  protocol: 17,
  sources: 20,
  srcPort: () => 53,
  fromSec,
  toSec,
});

/** A compromised host sending SYNs to random destinations outside, one flow each. */
function synSpray(
  src: string,
  pps: number,
  fromSec: number,
  toSec: number,
  detector: ReturnType<typeof detectorWith>,
) {
  const events: IncidentEvent[] = [];
  for (let sec = fromSec; sec < toSec; sec++) {
    const flows: SyntheticFlow[] = Array.from({ length: 500 }, (_, i) => ({
      src,
      dst: `100.${64 + (i % 50)}.${(i * 7 + sec) & 255}.${(i * 13) & 255}`,
      protocol: 6,
      tcpFlags: 0x02,
      srcPort: 40000 + i,
      dstPort: 22,
      packets: pps / 500,
      bytes: (pps / 500) * 60,
      durationMs: 1000,
      arrivalMs: T0 + sec * 1000 + 200,
    }));
    detector.ingest(batchOf(flows));
    events.push(...detector.step(T0 + sec * 1000 + 700));
  }
  return events;
}

describe('outbound detection', () => {
  it('opens an outbound incident on a host of ours that reflects DNS at a victim, naming the victim', () => {
    const detector = detectorWith({ ...NETS, thresholds: { pps: 50_000, outbound: OUTBOUND } });
    const events = run(detector, [reflecting('203.0.113.53'), ...benign(-5, 10)], -5, 6);
    const incidents = opened(events);
    expect(incidents).toHaveLength(1);
    const inc = incidents[0]!;
    expect(inc).toMatchObject({
      target: '203.0.113.53',
      direction: 'outbound',
      targetKind: 'host',
      network: '203.0.113.0/24',
      family: 'dns_amplification',
      thresholds: { pps: 5000, bps: 0 },
    });
    expect(inc.triggers).toEqual(expect.arrayContaining(['outbound.pps', 'outbound.amplification.bps']));
    expect(inc.triggerThresholds).toMatchObject({ 'outbound.pps': 5000 });
    expect(inc.openedAtMs).toBe(T0 + 700);
    expect(inc.fingerprint).toMatchObject({ protocols: [17], sourcePorts: [53], distinctTargets: 1 });
    expect(inc.fingerprint.topTargets?.[0]?.address).toBe('198.51.100.7');
    // The host itself is the source: no "top sources", no spoofing verdict.
    expect(inc.fingerprint.topSources).toBeUndefined();
    expect(inc.fingerprint.spoofing).toBeUndefined();
    // Its inbound side is quiet: nothing opened for it as a destination.
    expect(events.filter((e) => e.incident.direction !== 'outbound')).toEqual([]);
    expect(detector.stats()).toMatchObject({ outboundHosts: 1, outboundHostCapacity: 65_536 });
  });

  it('calls a host spraying SYNs at many destinations an outbound SYN flood with many targets', () => {
    const detector = detectorWith({ ...NETS, thresholds: { outbound: { syn: { pps: 2000 } } } });
    const [inc] = opened(synSpray('203.0.113.66', 10_000, 0, 4, detector));
    expect(inc).toMatchObject({
      target: '203.0.113.66',
      direction: 'outbound',
      family: 'tcp_syn_flood',
      triggers: ['outbound.syn.pps'],
    });
    expect(inc!.fingerprint.distinctTargets).toBeGreaterThan(300);
    expect(inc!.fingerprint.destinationPorts).toEqual([22]);
  });

  it('resolves outbound rules most specific first, null disabling one', () => {
    const detector = detectorWith({
      networks: [{ prefix: '203.0.113.0/24', thresholds: { outbound: { pps: 40_000 } } }],
      thresholds: { pps: 1_000_000, outbound: { pps: 5000 } },
      hostGroups: [
        { name: 'resolvers', prefixes: ['203.0.113.53/32'], thresholds: { outbound: { pps: null } } },
      ],
      hosts: [{ address: '203.0.113.54', thresholds: { outbound: { pps: 10_000 } } }],
    });
    const incidents = opened(
      run(
        detector,
        [reflecting('203.0.113.53'), reflecting('203.0.113.54'), reflecting('203.0.113.55')],
        0,
        5,
      ),
    );
    // .53: disabled by its group; .55: the network's 40k; .54: its own 10k.
    expect(incidents.map((i) => [i.target, i.thresholds.pps])).toEqual([['203.0.113.54', 10_000]]);
  });

  it('keeps inbound and outbound incidents of the same host apart', () => {
    const detector = detectorWith({ ...NETS, thresholds: { pps: 20_000, outbound: OUTBOUND } });
    const inbound: Stream = {
      dst: '203.0.113.53',
      pps: 40_000,
      packetBytes: 100,
      protocol: 17,
      sources: 50,
      fromSec: 0,
      toSec: 10,
    };
    const incidents = opened(run(detector, [inbound, reflecting('203.0.113.53')], 0, 5));
    expect(incidents.map((i) => [i.target, i.direction])).toEqual([
      ['203.0.113.53', 'inbound'],
      ['203.0.113.53', 'outbound'],
    ]);
    expect(new Set(incidents.map((i) => i.id)).size).toBe(2);
    expect(detector.openIncidents()).toHaveLength(2);
  });

  it('closes an outbound incident after the hold-down and forgets the idle sender', () => {
    const detector = detectorWith({
      ...NETS,
      thresholds: { outbound: OUTBOUND },
      holdDownSeconds: 10,
      hostIdleSeconds: 5,
    });
    const events = run(detector, [reflecting('203.0.113.53', 0, 3)], 0, 30);
    expect(events.filter((e) => e.type !== 'updated').map((e) => e.type)).toEqual(['opened', 'closed']);
    expect(detector.stats()).toMatchObject({ outboundHosts: 0, outboundEvictedHosts: 1, openIncidents: 0 });
  });

  it('costs nothing without outbound rules, and caps the senders it tracks', () => {
    const plain = detectorWith(NETS);
    expect(plain.stats()).toMatchObject({ outboundHostCapacity: 0 });
    run(plain, [reflecting('203.0.113.53')], 0, 3);
    expect(plain.stats()).toMatchObject({ outboundHosts: 0, recordsOutbound: 60 });

    const capped = detectorWith({ ...NETS, thresholds: { outbound: OUTBOUND }, outboundHostCapacity: 2 });
    expect(capped.stats().memoryBytes).toBeGreaterThan(plain.stats().memoryBytes);
    const memory = capped.stats().memoryBytes;
    const senders = ['203.0.113.51', '203.0.113.52', '203.0.113.53'].map((src) => ({
      ...reflecting(src),
      pps: 100,
    }));
    run(capped, senders, 0, 2);
    expect(capped.stats()).toMatchObject({ outboundHosts: 2, outboundOverflowRecords: 40 });
    expect(capped.stats().memoryBytes).toBe(memory);
  });
});
