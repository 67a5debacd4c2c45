import { describe, expect, it } from 'vitest';
import { FRAGMENT_YES } from '../../../core/flow/flow-batch.js';
import { parsePrefix } from '../../../core/net/address.js';
import { TrafficCounter } from '../../../core/traffic/counter.js';
import { emptyRateSample } from '../../../core/traffic/second-ring.js';
import { batchOf, T0 } from '../synthetic-flows.js';

function counterFor(prefixes: string[], hostCapacity = 64) {
  return new TrafficCounter({
    networks: prefixes.map((p) => parsePrefix(p)!),
    windowSeconds: 3,
    hostCapacity,
  });
}

function hostId(counter: TrafficCounter, address: string): number {
  const lookup = batchOf([{ dst: address, packets: 1, arrivalMs: 0 }]);
  return counter.hosts.lookupRow(lookup.dstAddr, 0);
}

function rateOf(counter: TrafficCounter, address: string, nowMs: number) {
  const out = emptyRateSample();
  const id = hostId(counter, address);
  if (id < 0) throw new Error(`${address} is not tracked`);
  counter.hostRates(id, nowMs, out);
  return out;
}

describe('TrafficCounter', () => {
  it('spreads a record over its duration ending at arrival, whatever the exporter clock says', () => {
    const counter = counterFor(['203.0.113.0/24']);
    // 10 s, 100k packets, exporter clock an hour off: 10k pps over [T0 - 10 s, T0].
    counter.ingest(
      batchOf([
        {
          dst: '203.0.113.5',
          packets: 100_000,
          bytes: 50_000_000,
          durationMs: 10_000,
          arrivalMs: T0,
          exporterSkewMs: 3_600_000,
        },
      ]),
    );
    const r = rateOf(counter, '203.0.113.5', T0 + 400);
    expect(r.pps).toBeCloseTo(10_000, 6);
    expect(r.bps).toBeCloseTo(40_000_000, 3);
    // Not a spike: 3 s of window hold 3/10 of the record.
    expect(r.packets).toBeCloseTo(30_000, 6);
  });

  it('counts a record with a negative duration at its arrival and reports the clamp', () => {
    const counter = counterFor(['203.0.113.0/24']);
    const batch = batchOf([{ dst: '203.0.113.5', packets: 300, arrivalMs: T0 - 500 }]);
    batch.startMs[0] = batch.endMs[0]! + 5_000;
    counter.ingest(batch);
    expect(rateOf(counter, '203.0.113.5', T0).packets).toBe(300);
    expect(counter.stats().clampedDurationRecords).toBe(1);
  });

  it('does not count destinations outside the monitored networks', () => {
    const counter = counterFor(['203.0.113.0/24', '2001:db8::/32']);
    counter.ingest(
      batchOf([
        { dst: '198.51.100.7', packets: 1000, arrivalMs: T0 },
        { dst: '2001:db9::1', packets: 1000, arrivalMs: T0 },
        { dst: '203.0.113.9', packets: 10, arrivalMs: T0 },
      ]),
    );
    const s = counter.stats();
    expect(s.recordsIngested).toBe(3);
    expect(s.recordsOutsideNetworks).toBe(2);
    expect(s.trackedHosts).toBe(1);
    expect(hostId(counter, '198.51.100.7')).toBe(-1);
  });

  it('assigns each host its longest matching network and keeps per-network totals', () => {
    const counter = counterFor(['10.0.0.0/8', '10.1.0.0/16']);
    counter.ingest(
      batchOf([
        { dst: '10.1.2.3', packets: 3000, arrivalMs: T0 - 100 },
        { dst: '10.2.0.1', packets: 6000, arrivalMs: T0 - 100 },
        { dst: '10.2.0.2', packets: 6000, arrivalMs: T0 - 100 },
      ]),
    );
    expect(counter.networkOf(hostId(counter, '10.1.2.3'))).toBe(1);
    expect(counter.networkOf(hostId(counter, '10.2.0.1'))).toBe(0);
    const out = emptyRateSample();
    counter.networkRates(0, T0 + 100, out);
    expect(out.packets).toBe(12_000);
    counter.networkRates(1, T0 + 100, out);
    expect(out.packets).toBe(3000);
    expect(counter.networkRecords(0)).toBe(2);
  });

  it('counts the composition of a host traffic for the classifier', () => {
    const counter = counterFor(['203.0.113.0/24']);
    const dst = '203.0.113.5';
    counter.ingest(
      batchOf([
        { dst, protocol: 17, srcPort: 123, dstPort: 51000, packets: 500, arrivalMs: T0 },
        { dst, protocol: 17, srcPort: 53, dstPort: 52000, packets: 100, arrivalMs: T0 },
        { dst, protocol: 17, srcPort: 40000, dstPort: 53, packets: 50, arrivalMs: T0 },
        { dst, protocol: 6, tcpFlags: 0x02, dstPort: 80, packets: 200, arrivalMs: T0 },
        { dst, protocol: 6, tcpFlags: 0x10, dstPort: 443, packets: 40, arrivalMs: T0 },
        { dst, protocol: 6, tcpFlags: 0x1b, dstPort: 443, packets: 60, arrivalMs: T0 },
        { dst, protocol: 1, packets: 30, arrivalMs: T0 },
        { dst, protocol: 47, packets: 20, arrivalMs: T0 },
        { dst, protocol: 50, packets: 10, arrivalMs: T0 },
        { dst, protocol: 17, srcPort: 0, dstPort: 0, fragment: FRAGMENT_YES, packets: 70, arrivalMs: T0 },
      ]),
    );
    const b = counter.hostBreakdown(hostId(counter, dst), T0 + 1000);
    expect(b).toMatchObject({
      packets: 1080,
      udp: 720,
      tcp: 300,
      icmp: 30,
      gre: 20,
      other: 10,
      tcpSynOnly: 200,
      tcpAckRstOnly: 40,
      fragments: 70,
    });
    expect(b.udpReflectorPorts).toEqual([
      { port: 123, packets: 500 },
      { port: 53, packets: 100 },
    ]);
    // Space-saving keeps 4 ports per generation; the leaders are exact here.
    expect(b.topDestinationPorts[0]).toEqual({ port: 51000, packets: 500 });
    expect(b.topDestinationPorts.map((p) => p.port)).toContain(80);
  });

  it('forgets the breakdown once two windows have passed without traffic', () => {
    const counter = counterFor(['203.0.113.0/24']);
    counter.ingest(batchOf([{ dst: '203.0.113.5', protocol: 1, packets: 30, arrivalMs: T0 }]));
    const id = hostId(counter, '203.0.113.5');
    expect(counter.hostBreakdown(id, T0 + 2_000).icmp).toBe(30);
    expect(counter.hostBreakdown(id, T0 + 7_000).packets).toBe(0);
  });

  it('never reports random destination ports as top ports', () => {
    const counter = counterFor(['203.0.113.0/24']);
    const flows = Array.from({ length: 5000 }, (_, i) => ({
      dst: '203.0.113.5',
      protocol: 6,
      tcpFlags: 0x02,
      dstPort: 1024 + ((i * 7919) % 60000),
      packets: 1,
      arrivalMs: T0,
    }));
    counter.ingest(batchOf(flows));
    const b = counter.hostBreakdown(hostId(counter, '203.0.113.5'), T0 + 500);
    for (const p of b.topDestinationPorts) expect(p.packets).toBeLessThan(5);
  });

  it('counts hosts beyond capacity as overflow, still in their network total, with fixed memory', () => {
    const counter = counterFor(['10.0.0.0/8'], 100);
    const memory = counter.memoryBytes;
    const flows = Array.from({ length: 1000 }, (_, i) => ({
      dst: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      packets: 10,
      arrivalMs: T0,
    }));
    counter.ingest(batchOf(flows));
    const s = counter.stats();
    expect(s.trackedHosts).toBe(100);
    expect(s.overflowRecords).toBe(900);
    expect(counter.memoryBytes).toBe(memory);
    const out = emptyRateSample();
    counter.networkRates(0, T0 + 1000, out);
    expect(out.packets).toBe(10_000);
  });

  it('evicts idle hosts, which can then be tracked again from zero', () => {
    const counter = counterFor(['203.0.113.0/24'], 2);
    counter.ingest(
      batchOf([
        { dst: '203.0.113.1', packets: 10, arrivalMs: T0 },
        { dst: '203.0.113.2', packets: 10, arrivalMs: T0 + 60_000 },
      ]),
    );
    expect(counter.evictIdle(T0 + 90_000, 60_000)).toBe(1);
    expect(hostId(counter, '203.0.113.1')).toBe(-1);
    counter.ingest(batchOf([{ dst: '203.0.113.3', packets: 5, arrivalMs: T0 + 90_000 }]));
    expect(rateOf(counter, '203.0.113.3', T0 + 91_000).packets).toBe(5);
    expect(counter.stats().evictedHosts).toBe(1);
  });

  it('tracks IPv6 hosts', () => {
    const counter = counterFor(['2001:db8::/32']);
    counter.ingest(batchOf([{ dst: '2001:db8::5', packets: 900, durationMs: 3000, arrivalMs: T0 }]));
    expect(rateOf(counter, '2001:db8::5', T0).pps).toBeCloseTo(300, 6);
  });
});

describe('TrafficCounter breakdown classes', () => {
  it('counts packets, bytes and flows per class, fragments by port 0 when the exporter cannot say', () => {
    const counter = counterFor(['203.0.113.0/24']);
    const dst = '203.0.113.5';
    counter.ingest(
      batchOf([
        { dst, protocol: 17, srcPort: 123, dstPort: 40000, packets: 100, bytes: 46_800, arrivalMs: T0 },
        { dst, protocol: 17, srcPort: 3702, dstPort: 40001, packets: 10, bytes: 5_000, arrivalMs: T0 },
        // A v5 exporter reports non-initial fragments with both ports 0 and no fragment flag.
        { dst, protocol: 17, srcPort: 0, dstPort: 0, packets: 30, bytes: 44_400, arrivalMs: T0 },
        { dst, protocol: 6, tcpFlags: 0x10, dstPort: 80, packets: 20, bytes: 800, arrivalMs: T0 },
        { dst, protocol: 6, tcpFlags: 0x14, dstPort: 80, packets: 5, bytes: 200, arrivalMs: T0 },
      ]),
    );
    const b = counter.hostBreakdown(hostId(counter, dst), T0 + 500);
    expect(b).toMatchObject({
      packets: 165,
      fragments: 30,
      amplification: 110,
      tcpAckRstOnly: 25,
      tcpAckOnly: 20,
      tcpRst: 5,
      flows: 5,
      sampledPackets: 165,
      bytes: 97_200,
    });
    // tcp, udp, icmp, gre, other, syn, ackRst, fragment, amplification
    expect(b.classes.map((c) => c.flows)).toEqual([2, 3, 0, 0, 0, 0, 2, 1, 2]);
    expect(b.classes[8]).toEqual({ packets: 110, bytes: 51_800, flows: 2 });
    expect(b.udpReflectorPorts).toEqual([
      { port: 123, packets: 100 },
      { port: 3702, packets: 10 },
    ]);
    // Mean packet sizes 468 and 500 (<= 512), 1480 (<= 1500), 40 (<= 64).
    expect(b.packetSizes).toEqual([25, 0, 0, 110, 0, 30, 0]);
    const shares = new Float64Array(27);
    counter.hostShares(hostId(counter, dst), T0 + 500, shares);
    expect(shares[8 * 3]).toBeCloseTo(110 / 165, 9); // amplification packets
    expect(shares[8 * 3 + 1]).toBeCloseTo(51_800 / 97_200, 9); // amplification bytes
    expect(shares[7 * 3 + 2]).toBeCloseTo(1 / 5, 9); // fragment flows
  });

  it('counts IPv6 fragments reported as protocol 44 or, by softflowd, 0 with ports 0, and nothing else of those', () => {
    const counter = counterFor(['2001:db8::/32']);
    const dst = '2001:db8::16';
    counter.ingest(
      batchOf([
        // An exporter stopping at the Fragment header reports its number as the protocol.
        { dst, protocol: 44, srcPort: 0, dstPort: 0, packets: 40, bytes: 60_000, arrivalMs: T0 },
        // softflowd (NetFlow v9, IPFIX) reports non-initial IPv6 fragments as protocol 0.
        { dst, protocol: 0, srcPort: 0, dstPort: 0, packets: 50, bytes: 75_000, arrivalMs: T0 },
        // The first fragment carries the UDP header: an ordinary UDP record.
        { dst, protocol: 17, srcPort: 5353, dstPort: 5353, packets: 10, bytes: 15_000, arrivalMs: T0 },
      ]),
    );
    expect(counter.hostBreakdown(hostId(counter, dst), T0 + 500)).toMatchObject({
      packets: 100,
      fragments: 90,
      other: 90,
      udp: 10,
    });
  });

  it('halves the counts at each new generation and forgets them after two empty ones', () => {
    const counter = counterFor(['203.0.113.0/24']);
    const dst = '203.0.113.5';
    counter.ingest(batchOf([{ dst, protocol: 1, packets: 400, arrivalMs: T0 }]));
    const id = hostId(counter, dst);
    counter.ingest(batchOf([{ dst, protocol: 6, tcpFlags: 0x02, packets: 100, arrivalMs: T0 + 3000 }]));
    expect(counter.hostBreakdown(id, T0 + 3500)).toMatchObject({ icmp: 200, tcp: 100, tcpSynOnly: 100 });
    // A read one generation later sees the halving a write would do.
    expect(counter.hostBreakdown(id, T0 + 6500)).toMatchObject({ icmp: 100, tcp: 50 });
    expect(counter.hostBreakdown(id, T0 + 9500).packets).toBe(0);
  });

  it('estimates distinct sources and counts bogon sources, never a monitored network as bogon', () => {
    const counter = counterFor(['203.0.113.0/24', '10.0.0.0/8']);
    const dst = '203.0.113.5';
    const flows = Array.from({ length: 3000 }, (_, i) => ({
      dst,
      src: i < 1000 ? `192.168.${i >> 8}.${i & 255}` : `${20 + (i % 50)}.1.${i >> 8}.${i & 255}`,
      packets: 2,
      arrivalMs: T0,
    }));
    flows.push({ dst, src: '10.1.2.3', packets: 50, arrivalMs: T0 });
    counter.ingest(batchOf(flows));
    const b = counter.hostBreakdown(hostId(counter, dst), T0 + 100);
    expect(b.bogonSourcePackets).toBe(2000);
    expect(Math.abs(b.distinctSources - 3001) / 3001).toBeLessThan(0.5);
  });

  it('puts a host under focus from the records alone once it passes its trigger between steps', () => {
    const counter = new TrafficCounter({
      networks: [parsePrefix('203.0.113.0/24')!],
      windowSeconds: 3,
      hostCapacity: 16,
      focusCapacity: 2,
      hostFocusTriggers: { packets: Float64Array.of(1000), bytes: Float64Array.of(0) },
    });
    counter.ingest(
      batchOf([
        { dst: '203.0.113.5', src: '100.20.0.1', packets: 600, arrivalMs: T0 },
        { dst: '203.0.113.6', src: '100.20.0.1', packets: 600, arrivalMs: T0 },
        { dst: '203.0.113.5', src: '100.20.0.2', packets: 600, arrivalMs: T0 },
        { dst: '203.0.113.5', src: '100.20.0.3', packets: 300, arrivalMs: T0 },
      ]),
    );
    const id = hostId(counter, '203.0.113.5');
    expect(counter.hostFocusSlot(hostId(counter, '203.0.113.6'))).toBe(-1);
    const slot = counter.hostFocusSlot(id);
    expect(slot).toBeGreaterThanOrEqual(0);
    // The focus starts with the record that crossed the trigger.
    expect(counter.focusReport(slot, T0 + 100).topSources).toEqual([
      { address: '100.20.0.2', packets: 600 },
      { address: '100.20.0.3', packets: 300 },
    ]);
    counter.beginStep();
    counter.ingest(batchOf([{ dst: '203.0.113.6', packets: 600, arrivalMs: T0 + 1000 }]));
    expect(counter.hostFocusSlot(hostId(counter, '203.0.113.6'))).toBe(-1);
  });

  it('releases the focus of an evicted host', () => {
    const counter = new TrafficCounter({
      networks: [parsePrefix('203.0.113.0/24')!],
      windowSeconds: 3,
      hostCapacity: 4,
      focusCapacity: 1,
    });
    counter.ingest(batchOf([{ dst: '203.0.113.5', packets: 1, arrivalMs: T0 }]));
    const id = hostId(counter, '203.0.113.5');
    expect(counter.acquireHostFocus(id, T0)).toBe(0);
    expect(counter.evictIdle(T0 + 120_000, 60_000)).toBe(1);
    expect(counter.stats()).toMatchObject({ focusInUse: 0, focusCapacity: 1 });
  });
});
