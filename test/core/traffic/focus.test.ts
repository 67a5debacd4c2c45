import { describe, expect, it } from 'vitest';
import { FOCUS_HOST, FOCUS_NETWORK, FocusStore } from '../../../core/traffic/focus.js';
import { hashWords } from '../../../core/traffic/hash.js';
import { batchOf, type SyntheticFlow, T0 } from '../synthetic-flows.js';

/** Feeds flows into one slot the way the counter does. */
function feed(store: FocusStore, slot: number, flows: readonly SyntheticFlow[]): void {
  const b = batchOf(flows);
  for (let row = 0; row < b.length; row++) {
    const a = row * 4;
    store.add(
      slot,
      b.arrivalMs[row]!,
      b.srcAddr,
      b.dstAddr,
      row,
      b.protocol[row]!,
      b.srcPort[row]!,
      b.dstPort[row]!,
      b.tcpFlags[row]!,
      b.packets[row]!,
      b.bytes[row]!,
      b.sampledPackets[row]!,
      hashWords(b.srcAddr[a]!, b.srcAddr[a + 1]!, b.srcAddr[a + 2]!, b.srcAddr[a + 3]!, 1),
      hashWords(b.dstAddr[a]!, b.dstAddr[a + 1]!, b.dstAddr[a + 2]!, b.dstAddr[a + 3]!, 1),
    );
  }
}

describe('FocusStore', () => {
  it('hands out slots up to capacity, counts refusals, and takes them back', () => {
    const store = new FocusStore(2, 3);
    const a = store.acquire(FOCUS_HOST, 7, T0);
    const b = store.acquire(FOCUS_NETWORK, 0, T0);
    expect(store.acquire(FOCUS_HOST, 8, T0)).toBe(-1);
    expect(store.refused).toBe(1);
    expect([store.ownerKind[a], store.ownerId[a], store.ownerKind[b]]).toEqual([
      FOCUS_HOST,
      7,
      FOCUS_NETWORK,
    ]);
    store.release(a);
    store.release(a);
    expect(store.used).toBe(1);
    expect(store.acquire(FOCUS_HOST, 8, T0)).toBe(a);
  });

  it('reports top sources, destinations, ports, flags and sizes; a heavy hitter is never lost', () => {
    const store = new FocusStore(1, 3);
    const slot = store.acquire(FOCUS_NETWORK, 0, T0);
    const flows: SyntheticFlow[] = [];
    // One heavy source among 2000 one-packet ones, to 3 hosts of a /24.
    for (let i = 0; i < 2000; i++) {
      flows.push({
        dst: `203.0.113.${1 + (i % 3)}`,
        src: `100.${20 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
        protocol: 6,
        tcpFlags: 0x02,
        srcPort: 1024 + i,
        dstPort: 443,
        packets: 1,
        bytes: 60,
        arrivalMs: T0,
      });
      if (i % 10 === 0) {
        flows.push({
          dst: '203.0.113.1',
          src: '100.99.0.1',
          protocol: 6,
          tcpFlags: 0x12,
          srcPort: 80,
          dstPort: 443,
          packets: 10,
          bytes: 15_000,
          arrivalMs: T0,
        });
      }
    }
    feed(store, slot, flows);
    const r = store.read(slot, T0 + 500);
    expect(r.records).toBe(2200);
    expect(r.packets).toBe(4000);
    expect(r.topSources[0]!.address).toBe('100.99.0.1');
    expect(r.topSources[0]!.packets).toBeGreaterThan(1000);
    expect(r.topSources[0]!.packets).toBeLessThanOrEqual(2000);
    expect(r.topDestinationPorts).toEqual([{ key: 443, packets: 4000 }]);
    expect(r.topSourcePorts[0]).toMatchObject({ key: 80 });
    expect(r.tcpFlags.map((f) => f.key)).toEqual([0x02, 0x12]);
    expect(r.topDestinations.map((d) => d.address).sort()).toEqual([
      '203.0.113.1',
      '203.0.113.2',
      '203.0.113.3',
    ]);
    expect(Math.abs(r.distinctSources - 2001) / 2001).toBeLessThan(0.15);
    expect(r.distinctDestinations).toBe(3);
    // Half the packets are 60-byte SYNs, half 1500-byte segments.
    expect(r.packetSizes).toEqual({ p10: 32, p50: 48, p90: 1503 });
  });

  it('halves its counts at each generation and clears after two quiet ones', () => {
    const store = new FocusStore(1, 3);
    const slot = store.acquire(FOCUS_HOST, 0, T0);
    feed(store, slot, [{ dst: '203.0.113.1', src: '100.20.0.1', packets: 100, arrivalMs: T0 }]);
    feed(store, slot, [{ dst: '203.0.113.1', src: '100.20.0.2', packets: 100, arrivalMs: T0 + 3000 }]);
    expect(store.read(slot, T0 + 3100).topSources).toEqual([
      { address: '100.20.0.2', packets: 100 },
      { address: '100.20.0.1', packets: 50 },
    ]);
    expect(store.read(slot, T0 + 6100).packets).toBe(75);
    expect(store.read(slot, T0 + 9100)).toMatchObject({ packets: 0, topSources: [], distinctSources: 0 });
  });
});
