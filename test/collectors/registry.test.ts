import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appendRecord, beginDatagram, type FlowDecoder } from '../../collectors/decoder.js';
import { createDecoderTable, DecoderTable, sniffProtocol } from '../../collectors/registry.js';
import { WireError } from '../../core/errors.js';
import { FlowBatch } from '../../core/flow/flow-batch.js';
import type { Logger } from '../../core/logger.js';
import { flowRows } from '../helpers/flow-row.js';
import { encodeNetflowV5 } from '../helpers/netflow-v5.js';

const T0 = 1_700_000_001_000;
const noSink = (b: FlowBatch) => {
  throw new Error(`unexpected flush of ${b.length} rows`);
};

function table(allow: string[] = [], defaultSamplingRate = 1) {
  return createDecoderTable({ defaultSamplingRate, exporters: { allow } });
}

function recordingLogger() {
  const lines: { level: string; args: unknown[] }[] = [];
  const at =
    (level: string) =>
    (...args: unknown[]) => {
      lines.push({ level, args });
    };
  const logger: Logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
  return { logger, lines };
}

const sflowHeader = Uint8Array.of(0, 0, 0, 5, 0, 0, 0, 1, 192, 0, 2, 1);

describe('sniffProtocol', () => {
  it('tells NetFlow, IPFIX and sFlow apart by their first bytes', () => {
    expect(sniffProtocol(Uint8Array.of(0, 5, 0, 1))).toBe('netflow-v5');
    expect(sniffProtocol(Uint8Array.of(0, 9, 0, 1))).toBe('netflow-v9');
    expect(sniffProtocol(Uint8Array.of(0, 10, 0, 16))).toBe('ipfix');
    expect(sniffProtocol(sflowHeader)).toBe('sflow-v5');
    expect(sniffProtocol(Uint8Array.of(0, 0, 0, 4))).toBeUndefined();
    expect(sniffProtocol(Uint8Array.of(0, 7))).toBe(undefined);
    expect(sniffProtocol(Uint8Array.of(0))).toBeUndefined();
    expect(sniffProtocol(Uint8Array.of(0, 0, 0))).toBeUndefined();
  });
});

describe('DecoderTable', () => {
  it('dispatches NetFlow v5 and counts per exporter', () => {
    const t = table();
    const out = new FlowBatch(64);
    const d1 = encodeNetflowV5({ samplingInterval: 100 }, [{}, {}]);
    const d2 = encodeNetflowV5({ samplingInterval: 100 }, [{}, {}, {}]);
    expect(t.decode(d1, '192.0.2.1', T0, out, noSink)).toBe(2);
    expect(t.decode(d2, '192.0.2.1', T0 + 1000, out, noSink)).toBe(3);
    expect(t.decode(d1, '2001:db8::5', T0 + 2000, out, noSink)).toBe(2);
    expect(out.length).toBe(7);
    expect(flowRows(out).map((r) => r.exporter)).toEqual([
      ...Array(5).fill('192.0.2.1'),
      '2001:db8::5',
      '2001:db8::5',
    ]);
    expect(flowRows(out)[3]!.arrivalMs).toBe(T0 + 1000);

    const snap = t.snapshot();
    expect(snap.totals).toEqual({
      datagrams: 3,
      records: 7,
      bytes: 2 * d1.length + d2.length,
      errors: {},
      notices: {},
    });
    expect(snap.exporters).toEqual([
      {
        address: '192.0.2.1',
        datagrams: 2,
        records: 5,
        bytes: d1.length + d2.length,
        errors: {},
        notices: {},
        lastSeen: new Date(T0 + 1000).toISOString(),
        lastSamplingRate: 100,
        lastProtocol: 'netflow-v5',
        lastError: null,
      },
      expect.objectContaining({ address: '2001:db8::5', datagrams: 1, records: 2 }),
    ]);
    // The snapshot is plain JSON.
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });

  it('treats an IPv4 exporter seen on a dual-stack socket as the same exporter', () => {
    const t = table();
    const out = new FlowBatch(64);
    t.decode(encodeNetflowV5(), '192.0.2.1', T0, out, noSink);
    t.decode(encodeNetflowV5(), '::ffff:192.0.2.1', T0, out, noSink);
    const snap = t.snapshot();
    expect(snap.exporters.map((e) => [e.address, e.datagrams])).toEqual([['192.0.2.1', 2]]);
    expect(Array.from(out.exporterAddr.subarray(4, 8))).toEqual([0, 0, 0xffff, 0xc0000201]);
  });

  it('counts versions without a decoder as unsupported-version, with the version', () => {
    const { logger, lines } = recordingLogger();
    const t = new DecoderTable({ defaultSamplingRate: 1, logger });
    const out = new FlowBatch(8);
    const datagrams = [
      Uint8Array.of(0, 9, 0, 1, 0, 0, 0, 0),
      Uint8Array.of(0, 10, 0, 16, 0, 0, 0, 0),
      sflowHeader,
      Uint8Array.of(0, 7, 0, 1),
      Uint8Array.of(0, 0, 0, 4, 0, 0, 0, 1),
      Uint8Array.of(0, 5, 0, 1), // v5 itself has no decoder in this bare table
    ];
    for (const d of datagrams) expect(t.decode(d, '192.0.2.1', T0, out, noSink)).toBe(0);
    const e = t.snapshot().exporters[0]!;
    expect(e.errors).toEqual({ 'unsupported-version': 6 });
    expect(e.lastError).toMatchObject({
      reason: 'unsupported-version',
      details: { family: 'NetFlow', version: 5 },
    });
    expect(e.lastProtocol).toBe('netflow-v5');
    // Logged once, the first time, naming the version.
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(lines[0]!.args[1]).toBe('NetFlow version 9 has no decoder');
    expect(out.length).toBe(0);
  });

  it('counts unknown protocols and runt datagrams', () => {
    const t = table();
    const out = new FlowBatch(8);
    t.decode(Uint8Array.of(0x47, 0x45, 0x54, 0x20, 0x2f), '192.0.2.1', T0, out, noSink);
    t.decode(Uint8Array.of(1), '192.0.2.1', T0, out, noSink);
    t.decode(new Uint8Array(0), '192.0.2.1', T0, out, noSink);
    const e = t.snapshot().exporters[0]!;
    expect(e.errors).toEqual({ 'unknown-protocol': 1, FG_ERR_WIRE_TRUNCATED: 2 });
    expect(e.datagrams).toBe(3);
  });

  it('counts malformed datagrams by error code and keeps the last error with its offset', () => {
    const t = table();
    const out = new FlowBatch(8);
    const good = encodeNetflowV5({}, [{}, {}]);
    t.decode(good, '192.0.2.1', T0, out, noSink);
    const longer = new Uint8Array(good.length + 3);
    longer.set(good);
    expect(t.decode(longer, '192.0.2.1', T0 + 5, out, noSink)).toBe(0);
    expect(t.decode(good.subarray(0, 50), '192.0.2.1', T0 + 6, out, noSink)).toBe(0);
    expect(out.length).toBe(2);
    const e = t.snapshot().exporters[0]!;
    expect(e).toMatchObject({
      datagrams: 3,
      records: 2,
      errors: { FG_ERR_WIRE_LENGTH: 1, FG_ERR_WIRE_TRUNCATED: 1 },
      lastError: {
        reason: 'FG_ERR_WIRE_TRUNCATED',
        atMs: T0 + 6,
        at: new Date(T0 + 6).toISOString(),
        details: { offset: 50, decoder: 'netflow-v5', count: 2 },
      },
    });
  });

  it('captures decoder exceptions and drops the half-decoded records', () => {
    const t = new DecoderTable({ defaultSamplingRate: 1 });
    let mode: 'wire' | 'bug' | 'string' = 'wire';
    const flaky: FlowDecoder = {
      name: 'flaky',
      decode(_d, ctx, out) {
        beginDatagram(out, ctx);
        appendRecord(out, ctx);
        appendRecord(out, ctx);
        if (mode === 'wire') throw new WireError('FG_ERR_WIRE_VALUE', 'bad field', 7);
        if (mode === 'bug') throw new TypeError('cannot read properties of undefined');
        throw 'a string';
      },
    };
    t.register('netflow-v9', flaky);
    const out = new FlowBatch(8);
    t.decode(encodeNetflowV5(), '192.0.2.1', T0, out, noSink); // no v5 decoder here: unsupported
    out.append();
    for (const m of ['wire', 'bug', 'string'] as const) {
      mode = m;
      expect(t.decode(Uint8Array.of(0, 9, 0, 0), '192.0.2.1', T0, out, noSink)).toBe(0);
      expect(out.length).toBe(1);
    }
    const e = t.snapshot().exporters[0]!;
    expect(e.errors).toEqual({ 'unsupported-version': 1, FG_ERR_WIRE_VALUE: 1, 'decoder-exception': 2 });
    expect(e.lastError?.message).toBe('flaky threw: a string');
  });

  it('keeps records delivered by a flush when the datagram later fails', () => {
    const t = new DecoderTable({ defaultSamplingRate: 1 });
    t.register('netflow-v9', {
      name: 'long-then-bad',
      decode(_d, ctx, out) {
        beginDatagram(out, ctx);
        for (let i = 0; i < 5; i++) out.srcPort[appendRecord(out, ctx)] = i;
        throw new WireError('FG_ERR_WIRE_TRUNCATED', 'cut', 99);
      },
    });
    const out = new FlowBatch(3);
    const delivered: number[][] = [];
    t.decode(Uint8Array.of(0, 9), '192.0.2.1', T0, out, (b) => {
      delivered.push(Array.from(b.srcPort.subarray(0, b.length)));
      b.clear();
    });
    expect(delivered).toEqual([[0, 1, 2]]);
    expect(out.length).toBe(0);
  });

  it('refuses a second decoder for one protocol', () => {
    const t = table();
    expect(() => t.register('netflow-v5', { name: 'other', decode: () => 0 })).toThrow(/already registered/);
  });

  it('applies the configured default sampling rate', () => {
    const t = table([], 2048);
    const out = new FlowBatch(8);
    t.decode(encodeNetflowV5({}, [{ packets: 1, bytes: 64 }]), '192.0.2.1', T0, out, noSink);
    expect(out.packets[0]).toBe(2048);
    expect(t.snapshot().exporters[0]!.notices).toEqual({ 'sampling-default-used': 1 });
    expect(t.snapshot().totals.notices).toEqual({ 'sampling-default-used': 1 });
  });

  it('forces the configured override on matching exporters only, by their source address', () => {
    const t = createDecoderTable({
      defaultSamplingRate: 2048,
      sampling: { overrides: [{ exporter: '192.0.2.0/24', rate: 100 }] },
      exporters: { allow: [] },
    });
    const out = new FlowBatch(8);
    const datagram = encodeNetflowV5({ samplingInterval: 10 }, [{ packets: 1, bytes: 64 }]);
    t.decode(datagram, '192.0.2.7', T0, out, noSink);
    t.decode(datagram, '::ffff:192.0.2.8', T0, out, noSink); // a dual-stack socket's view of IPv4
    t.decode(datagram, '198.51.100.1', T0, out, noSink);
    expect(Array.from(out.packets.subarray(0, 3))).toEqual([100, 100, 10]);
    const byExporter = Object.fromEntries(
      t.snapshot().exporters.map((e) => [e.address, [e.notices, e.lastSamplingRate]]),
    );
    expect(byExporter).toEqual({
      '192.0.2.7': [{ 'sampling-override-used': 1 }, 100],
      '192.0.2.8': [{ 'sampling-override-used': 1 }, 100],
      '198.51.100.1': [{}, 10],
    });
    expect(t.snapshot().totals.notices).toEqual({ 'sampling-override-used': 2 });
  });

  it('refuses invalid sampling overrides, naming the entry', () => {
    const make = (overrides: { exporter: string; rate: number; sourceId?: number }[]) => () =>
      createDecoderTable({ defaultSamplingRate: 1, sampling: { overrides }, exporters: { allow: [] } });
    expect(make([{ exporter: '192.0.2.1/24', rate: 10 }])).toThrow(
      /collectors\.sampling\.overrides\.0\.exporter/,
    );
    expect(make([{ exporter: '192.0.2.1', rate: 0 }])).toThrow(/FG_ERR_CONFIG_INVALID/);
    expect(
      make([
        { exporter: '192.0.2.1', rate: 10 },
        { exporter: '192.0.2.1/32', rate: 20 },
      ]),
    ).toThrow(/overrides\.1: overrides entry 0/);
  });

  it('rejects an invalid default sampling rate and allow-list', () => {
    expect(() => new DecoderTable({ defaultSamplingRate: 0 })).toThrow(/FG_ERR_CONFIG_INVALID/);
    expect(() => table(['192.0.2.1/24'])).toThrow(/not a prefix/);
  });

  describe('exporter allow-list', () => {
    it('drops datagrams from exporters outside the listed prefixes and counts them', () => {
      const { logger, lines } = recordingLogger();
      const t = createDecoderTable(
        { defaultSamplingRate: 1, exporters: { allow: ['192.0.2.0/24', '2001:db8::/32'] } },
        { logger },
      );
      const out = new FlowBatch(64);
      const d = encodeNetflowV5();
      expect(t.decode(d, '192.0.2.200', T0, out, noSink)).toBe(1);
      expect(t.decode(d, '::ffff:192.0.2.201', T0, out, noSink)).toBe(1);
      expect(t.decode(d, '2001:db8:1::1', T0, out, noSink)).toBe(1);
      expect(t.decode(d, '198.51.100.1', T0, out, noSink)).toBe(0);
      expect(t.decode(d, '198.51.100.1', T0, out, noSink)).toBe(0);
      expect(t.decode(d, '2001:db9::1', T0, out, noSink)).toBe(0);
      expect(out.length).toBe(3);
      const snap = t.snapshot();
      expect(snap.exporters.map((e) => e.address)).toEqual(['192.0.2.200', '192.0.2.201', '2001:db8:1::1']);
      expect(snap.totals).toMatchObject({ datagrams: 6, records: 3, errors: { 'exporter-not-allowed': 3 } });
      expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    });

    it('caps the number of exporters tracked', () => {
      const t = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } }, { maxExporters: 2 });
      const out = new FlowBatch(64);
      for (const a of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.1']) {
        t.decode(encodeNetflowV5(), a, T0, out, noSink);
      }
      const snap = t.snapshot();
      expect(snap.exporters).toHaveLength(2);
      expect(snap.totals.errors).toEqual({ 'exporter-table-full': 1 });
      expect(snap.totals.records).toBe(3);
    });

    it('counts datagrams whose source is not an address', () => {
      const t = table();
      t.decode(encodeNetflowV5(), 'not-an-address', T0, new FlowBatch(4), noSink);
      expect(t.snapshot().totals.errors).toEqual({ 'bad-exporter-address': 1 });
    });
  });

  describe('fuzz: nothing escapes, the batch never overflows', () => {
    const validDatagram = fc
      .array(
        fc.record({
          packets: fc.nat(),
          bytes: fc.nat(),
          first: fc.nat(),
          last: fc.nat(),
          srcPort: fc.integer({ min: 0, max: 65535 }),
          dstPort: fc.integer({ min: 0, max: 65535 }),
          protocol: fc.integer({ min: 0, max: 255 }),
          tcpFlags: fc.integer({ min: 0, max: 255 }),
        }),
        { minLength: 1, maxLength: 30 },
      )
      .chain((records) =>
        fc
          .record({
            sysUptime: fc.nat(),
            unixNsecs: fc.nat(),
            samplingInterval: fc.integer({ min: 0, max: 65535 }),
          })
          .map((header) => encodeNetflowV5(header, records)),
      );

    type Mutation =
      | { kind: 'flip'; at: number; value: number }
      | { kind: 'truncate'; at: number }
      | { kind: 'extend'; extra: Uint8Array };

    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ maxLength: 64 }) }),
    );

    function mutate(d: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
      let out = Uint8Array.from(d);
      for (const m of mutations) {
        if (m.kind === 'flip' && out.length > 0) out[m.at % out.length] = m.value;
        else if (m.kind === 'truncate') out = out.subarray(0, m.at % (out.length + 1));
        else if (m.kind === 'extend') {
          const longer = new Uint8Array(out.length + m.extra.length);
          longer.set(out);
          longer.set(m.extra, out.length);
          out = longer;
        }
      }
      return out;
    }

    function check(t: DecoderTable, datagram: Uint8Array, out: FlowBatch, flushes: { n: number }) {
      const before = out.length;
      const n = t.decode(datagram, '192.0.2.1', T0, out, (b) => {
        flushes.n += 1;
        b.clear();
      });
      expect(n).toBeGreaterThanOrEqual(0);
      expect(out.length).toBeLessThanOrEqual(out.capacity);
      if (flushes.n === 0) expect(out.length).toBe(before + n);
      // The table catches everything; only a decoder bug would be counted this way.
      expect(t.snapshot().totals.errors['decoder-exception']).toBeUndefined();
    }

    it('survives mutated valid datagrams', () => {
      const t = table();
      fc.assert(
        fc.property(
          validDatagram,
          fc.array(mutation, { maxLength: 4 }),
          fc.integer({ min: 1, max: 40 }),
          (d, ms, cap) => {
            const out = new FlowBatch(cap);
            check(t, mutate(d, ms), out, { n: 0 });
          },
        ),
        { numRuns: 3000 },
      );
      const snap = t.snapshot();
      expect(snap.totals.datagrams).toBe(3000);
      // Both paths were exercised: some datagrams decoded, some were refused.
      expect(snap.totals.records).toBeGreaterThan(0);
      expect(Object.values(snap.totals.errors).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    });

    it('decodes unmutated valid datagrams completely, across flushes', () => {
      const t = table();
      fc.assert(
        fc.property(validDatagram, fc.integer({ min: 1, max: 40 }), (d, cap) => {
          const out = new FlowBatch(cap);
          const count = (d[2]! << 8) | d[3]!;
          let delivered = 0;
          const n = t.decode(d, '192.0.2.1', T0, out, (b) => {
            delivered += b.length;
            b.clear();
          });
          expect(n).toBe(count);
          expect(delivered + out.length).toBe(count);
        }),
        { numRuns: 1000 },
      );
    });

    it('survives random bytes, including ones that look like each protocol', () => {
      const t = table();
      const prefixes = [[], [0, 5], [0, 9], [0, 10], [0, 0, 0, 5]];
      fc.assert(
        fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 1600 }), (prefix, body) => {
          const d = new Uint8Array(prefix.length + body.length);
          d.set(prefix);
          d.set(body, prefix.length);
          check(t, d, new FlowBatch(16), { n: 0 });
        }),
        { numRuns: 3000 },
      );
    });
  });
});
