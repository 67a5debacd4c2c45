/**
 * The detection latency benchmark's exporters: what they send must decode, through the same
 * decoder table the collector uses, into the traffic they were told to report.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { IpfixExporter } from '../../bench/detect/ipfix-exporter.js';
import { percentile } from '../../bench/detect/percentiles.js';
import { SflowAgent } from '../../bench/detect/sflow-agent.js';
import { udpFlood } from '../../bench/detect/traffic.js';
import { createDecoderTable } from '../../collectors/registry.js';
import { FlowBatch } from '../../core/flow/flow-batch.js';
import { formatAddressWords } from '../../core/net/address.js';

const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

async function receiver(): Promise<{ port: number; received: Buffer[] }> {
  const socket = dgram.createSocket('udp4');
  sockets.push(socket);
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, received };
}

function sender(): dgram.Socket {
  const socket = dgram.createSocket('udp4');
  sockets.push(socket);
  return socket;
}

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function decode(datagrams: readonly Buffer[]): FlowBatch {
  const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } });
  const batch = new FlowBatch(4096);
  for (const d of datagrams) table.decode(d, '127.0.0.1', 0, batch, () => {});
  expect(table.snapshot().totals.errors).toEqual({});
  return batch;
}

describe('detection benchmark exporters', () => {
  it('sFlow: samples 1 in N, sends full datagrams at once and flushes the rest after flushMs', async () => {
    const { port, received } = await receiver();
    const sent: string[][] = [];
    const agent = new SflowAgent({
      socket: sender(),
      host: '127.0.0.1',
      port,
      samplingRate: 100,
      flushMs: 1000,
      onSend: (ids) => sent.push([...ids]),
    });
    agent.add(udpFlood('attack', '10.200.0.1', 10_000, 20));
    agent.tick(0);
    agent.tick(100); // 10 (or 11: the first sample's phase is random) owed: one datagram of 7
    expect(sent).toEqual([['attack']]);
    agent.remove('attack');
    agent.tick(1099); // the 3 or 4 left have not waited 1 s yet
    expect(sent).toHaveLength(1);
    agent.tick(1100);
    expect(sent).toHaveLength(2);
    await until(() => received.length === 2);
    const batch = decode(received);
    expect([10, 11]).toContain(batch.length);
    expect(formatAddressWords(batch.dstAddr, 0)).toBe('10.200.0.1');
    expect(batch.packets[0]).toBe(100);
    expect(batch.bytes[0]).toBe(100 * 512);
    expect(batch.protocol[0]).toBe(17);
  });

  it('IPFIX: exports each flow once it has been active for activeMs, as a record covering that time', async () => {
    const { port, received } = await receiver();
    const exporter = new IpfixExporter({
      socket: sender(),
      host: '127.0.0.1',
      port,
      activeMs: 300,
      scanMs: 20,
      rampMs: 0,
    });
    exporter.add(udpFlood('attack', '10.200.0.2', 20_000, 10));
    const started = performance.now();
    while (performance.now() - started < 420) {
      exporter.tick();
      await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => received.length > 0);
    const batch = decode(received);
    expect(batch.length).toBe(10);
    for (let r = 0; r < batch.length; r++) {
      const duration = batch.endMs[r]! - batch.startMs[r]!;
      expect(duration).toBeGreaterThanOrEqual(300);
      expect(duration).toBeLessThan(400);
      // 2000 pps per flow over the record's duration, within a tick.
      expect(Math.abs(batch.packets[r]! - 2 * duration)).toBeLessThan(30);
      expect(formatAddressWords(batch.dstAddr, r * 4)).toBe('10.200.0.2');
    }
  });

  it('takes percentiles by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});
