import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { type CollectorsConfig, collectorsConfigSchema } from '../../collectors/config.js';
import { createUdpCollector, parseBindTarget, type UdpCollector } from '../../collectors/udp-listener.js';
import { FloodgateError } from '../../core/errors.js';
import type { FlowBatch } from '../../core/flow/flow-batch.js';
import type { Logger } from '../../core/logger.js';
import { flowRows } from '../helpers/flow-row.js';
import { encodeNetflowV5 } from '../helpers/netflow-v5.js';

const NOW = 1_700_000_002_000;

function config(
  netflow: string[],
  sflow: string[] = [],
  extra: Partial<CollectorsConfig> = {},
): CollectorsConfig {
  // Port 0 is not a valid operator setting, so build the parsed shape and patch the lists in.
  return {
    ...collectorsConfigSchema.parse({}),
    ...extra,
    netflow: { listen: netflow },
    sflow: { listen: sflow },
  };
}

function recordingLogger() {
  const lines: { level: string; obj: unknown; msg: unknown }[] = [];
  const at = (level: string) => (obj: unknown, msg?: unknown) => {
    lines.push({ level, obj, msg });
  };
  const logger: Logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
  return { logger, lines };
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function send(datagram: Uint8Array, port: number, host = '127.0.0.1'): Promise<void> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) =>
    socket.send(datagram, port, host, (err) => (err ? reject(err) : resolve())),
  );
  socket.close();
}

const started: UdpCollector[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop()));
});

async function startCollector(
  cfg: CollectorsConfig,
  options: { batchCapacity?: number; sinkThrows?: boolean } = {},
) {
  const batches: ReturnType<typeof flowRows>[] = [];
  const { logger, lines } = recordingLogger();
  const collector = createUdpCollector(cfg, {
    onBatch: (b: FlowBatch) => {
      batches.push(flowRows(b));
      if (options.sinkThrows) throw new Error('sink broke');
    },
    logger,
    now: () => NOW,
    batchCapacity: options.batchCapacity,
  });
  started.push(collector);
  await collector.start();
  return { collector, batches, lines };
}

describe('parseBindTarget', () => {
  it('accepts the config formats and port 0', () => {
    expect(parseBindTarget('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseBindTarget('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseBindTarget(':2055')).toEqual({ host: '0.0.0.0', port: 2055 });
    expect(parseBindTarget('127.0.0.1:10')).toEqual({ host: '127.0.0.1', port: 10 });
    expect(parseBindTarget('nowhere:0')).toBeUndefined();
    expect(parseBindTarget('127.0.0.1')).toBeUndefined();
  });
});

describe('UDP collector', () => {
  it('receives datagrams on IPv4 and IPv6 sockets and delivers decoded batches with stats', async () => {
    const { collector, batches, lines } = await startCollector(config(['127.0.0.1:0'], ['[::1]:0']));
    const bound = collector.boundAddresses();
    expect(bound.map((b) => [b.listen, b.address, b.family])).toEqual([
      ['127.0.0.1:0', '127.0.0.1', 'IPv4'],
      ['[::1]:0', '::1', 'IPv6'],
    ]);
    expect(bound.every((b) => b.port > 0 && b.receiveBufferBytes > 0)).toBe(true);
    // The receive buffer outcome is logged either way, with what was asked and obtained.
    const bufferLogs = lines.filter((l) => (l.obj as { requested?: number }).requested === 33_554_432);
    expect(bufferLogs).toHaveLength(2);
    expect(bufferLogs[0]!.obj).toMatchObject({ obtained: bound[0]!.receiveBufferBytes });

    await send(
      encodeNetflowV5({ samplingInterval: 10 }, [{ srcPort: 53 }, { srcPort: 123 }]),
      bound[0]!.port,
    );
    await waitFor(() => batches.length === 1, 'the IPv4 batch');
    await send(encodeNetflowV5({}, [{ srcPort: 19 }]), bound[1]!.port, '::1');
    await waitFor(() => batches.length === 2, 'the IPv6 batch');

    expect(batches[0]!.map((r) => [r.exporter, r.srcPort, r.samplingRate, r.arrivalMs])).toEqual([
      ['127.0.0.1', 53, 10, NOW],
      ['127.0.0.1', 123, 10, NOW],
    ]);
    expect(batches[1]!.map((r) => [r.exporter, r.srcPort])).toEqual([['::1', 19]]);

    const stats = collector.stats();
    expect(stats.totals).toMatchObject({ datagrams: 2, records: 3, notices: { 'sampling-default-used': 1 } });
    expect(stats.exporters.map((e) => [e.address, e.records, e.lastSamplingRate])).toEqual([
      ['127.0.0.1', 2, 10],
      ['::1', 1, 1],
    ]);
    expect(stats.listeners.map((l) => l.datagrams)).toEqual([1, 1]);
    expect(stats.sinkErrors).toBe(0);
    expect(JSON.parse(JSON.stringify(stats))).toEqual(stats);
  });

  it('splits a datagram over several batches when it outgrows the batch', async () => {
    const { collector, batches } = await startCollector(config(['127.0.0.1:0']), { batchCapacity: 4 });
    const records = Array.from({ length: 10 }, (_, i) => ({ srcPort: i }));
    await send(encodeNetflowV5({}, records), collector.boundAddresses()[0]!.port);
    await waitFor(() => batches.flat().length === 10, 'all records');
    expect(batches.map((b) => b.map((r) => r.srcPort))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
  });

  it('counts malformed datagrams and unsupported versions without delivering anything', async () => {
    const { collector, batches } = await startCollector(config(['127.0.0.1:0']));
    const port = collector.boundAddresses()[0]!.port;
    await send(encodeNetflowV5({}, [{}, {}]).subarray(0, 60), port);
    await send(Uint8Array.of(0, 7, 0, 1, 0, 0, 0, 0), port); // NetFlow v7: no decoder
    await send(encodeNetflowV5(), port);
    await waitFor(() => batches.length === 1, 'the good datagram');
    const e = collector.stats().exporters[0]!;
    expect(e.errors).toEqual({ FG_ERR_WIRE_TRUNCATED: 1, 'unsupported-version': 1 });
    expect(e.datagrams).toBe(3);
  });

  it('survives a sink that throws, counting and logging it', async () => {
    const { collector, batches, lines } = await startCollector(config(['127.0.0.1:0']), { sinkThrows: true });
    const port = collector.boundAddresses()[0]!.port;
    for (let i = 0; i < 3; i++) await send(encodeNetflowV5(), port);
    await waitFor(() => batches.length === 3, 'three batches');
    expect(collector.stats().sinkErrors).toBe(3);
    // Logged at the 1st and 2nd failure, not the 3rd (powers of two).
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(2);
  });

  it('rejects start with FG_ERR_LISTEN naming the address, and releases the sockets it had bound', async () => {
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(0, '127.0.0.1', () => r()));
    const taken = squatter.address().port;
    const { logger } = recordingLogger();
    const collector = createUdpCollector(config(['127.0.0.1:0', `127.0.0.1:${taken}`]), {
      onBatch: () => {},
      logger,
    });
    let caught: unknown;
    try {
      await collector.start();
    } catch (e) {
      caught = e;
    }
    squatter.close();
    expect(caught).toBeInstanceOf(FloodgateError);
    const err = caught as FloodgateError;
    expect(err.code).toBe('FG_ERR_LISTEN');
    expect(err.message).toContain(`127.0.0.1:${taken}`);
    expect(err.details).toMatchObject({ address: `127.0.0.1:${taken}`, port: taken });
    expect(collector.boundAddresses()).toEqual([]);
  });

  it('refuses an unparseable listen address when built', () => {
    const { logger } = recordingLogger();
    expect(() => createUdpCollector(config(['nowhere:2055']), { onBatch: () => {}, logger })).toThrow(
      /FG_ERR_LISTEN/,
    );
  });

  it('stops cleanly, releases its ports and can be stopped twice', async () => {
    const { collector } = await startCollector(config(['127.0.0.1:0']));
    const port = collector.boundAddresses()[0]!.port;
    await expect(collector.start()).rejects.toThrow(/already started/);
    await collector.stop();
    await collector.stop();
    expect(collector.boundAddresses()).toEqual([]);
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(port, '127.0.0.1', () => resolve());
    });
    probe.close();
  });

  it('binds the same port on IPv4 and IPv6 wildcards side by side', async () => {
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const port = probe.address().port;
    probe.close();
    const { collector, batches } = await startCollector(config([`0.0.0.0:${port}`, `[::]:${port}`]));
    expect(collector.boundAddresses().map((b) => b.family)).toEqual(['IPv4', 'IPv6']);
    await send(encodeNetflowV5(), port, '::1');
    await send(encodeNetflowV5(), port, '127.0.0.1');
    await waitFor(() => batches.length === 2, 'both batches');
    expect(
      collector
        .stats()
        .exporters.map((e) => e.address)
        .sort(),
    ).toEqual(['127.0.0.1', '::1']);
  });
});
