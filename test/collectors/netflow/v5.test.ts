import { describe, expect, it } from 'vitest';
import { NetflowV5Decoder } from '../../../collectors/netflow/v5.js';
import { WireError } from '../../../core/errors.js';
import { FlowBatch, FRAGMENT_UNKNOWN } from '../../../core/flow/flow-batch.js';
import { testDecodeContext } from '../../helpers/decode-context.js';
import { flowRow, flowRows } from '../../helpers/flow-row.js';
import { encodeNetflowV5, type V5Record } from '../../helpers/netflow-v5.js';

const decoder = new NetflowV5Decoder();
const EXPORT_MS = 1_700_000_000_250; // defaultV5Header: unixSecs 1_700_000_000, unixNsecs 250 ms

describe('NetFlow v5 decoder', () => {
  it('decodes every field of every record', () => {
    const records: Partial<V5Record>[] = [
      {
        srcAddr: '198.51.100.7',
        dstAddr: '203.0.113.10',
        input: 7,
        output: 65535,
        packets: 42,
        bytes: 21_000,
        first: 3_590_000,
        last: 3_599_000,
        srcPort: 123,
        dstPort: 40_000,
        tcpFlags: 0,
        protocol: 17,
      },
      {
        srcAddr: '255.255.255.254',
        dstAddr: '10.0.0.1',
        input: 0,
        output: 3,
        packets: 0xffffffff,
        bytes: 0xfffffff0,
        first: 0,
        last: 3_600_000,
        srcPort: 65_535,
        dstPort: 80,
        tcpFlags: 0x12,
        protocol: 6,
        tos: 0xb8,
        srcAs: 64_512,
        dstAs: 65_000,
        srcMask: 24,
        dstMask: 32,
        nextHop: '192.0.2.254',
      },
      { protocol: 1, srcPort: 0, dstPort: 3 * 256 + 13, srcAddr: '192.0.2.9', dstAddr: '192.0.2.10' },
    ];
    const datagram = encodeNetflowV5({ engineType: 1, engineId: 2 }, records);
    const ctx = testDecodeContext({ exporter: '192.0.2.1', arrivalMs: 1_700_000_001_500 });
    const out = new FlowBatch(64);

    expect(decoder.decode(datagram, ctx, out)).toBe(3);
    expect(out.length).toBe(3);
    const common = {
      ipVersion: 4,
      exporter: '192.0.2.1',
      sourceId: (1 << 8) | 2,
      fragment: FRAGMENT_UNKNOWN,
      samplingRate: 1,
      arrivalMs: 1_700_000_001_500,
    };
    expect(flowRows(out)).toEqual([
      {
        ...common,
        srcAddr: '198.51.100.7',
        dstAddr: '203.0.113.10',
        srcPort: 123,
        dstPort: 40_000,
        protocol: 17,
        tcpFlags: 0,
        icmpType: 0,
        icmpCode: 0,
        inputIf: 7,
        outputIf: 65535,
        packets: 42,
        bytes: 21_000,
        sampledPackets: 42,
        startMs: EXPORT_MS - 10_000,
        endMs: EXPORT_MS - 1_000,
      },
      {
        ...common,
        srcAddr: '255.255.255.254',
        dstAddr: '10.0.0.1',
        srcPort: 65_535,
        dstPort: 80,
        protocol: 6,
        tcpFlags: 0x12,
        icmpType: 0,
        icmpCode: 0,
        inputIf: 0,
        outputIf: 3,
        packets: 0xffffffff,
        bytes: 0xfffffff0,
        sampledPackets: 0xffffffff,
        startMs: EXPORT_MS - 3_600_000,
        endMs: EXPORT_MS,
      },
      {
        ...common,
        srcAddr: '192.0.2.9',
        dstAddr: '192.0.2.10',
        srcPort: 0,
        dstPort: 0,
        protocol: 1,
        tcpFlags: 0,
        icmpType: 3,
        icmpCode: 13,
        inputIf: 1,
        outputIf: 2,
        packets: 10,
        bytes: 5000,
        sampledPackets: 10,
        startMs: EXPORT_MS - 10_000,
        endMs: EXPORT_MS - 1_000,
      },
    ]);
    // Addresses are stored IPv4-mapped.
    expect(Array.from(out.srcAddr.subarray(0, 4))).toEqual([0, 0, 0xffff, 0xc6336407]);
    // The header says no sampling interval: the default applies, and that is counted.
    expect(Object.fromEntries(ctx.stats.notices)).toEqual({ 'sampling-default-used': 1 });
  });

  it('decodes the maximum of 30 records', () => {
    const records = Array.from({ length: 30 }, (_, i) => ({ srcPort: 1000 + i }));
    const out = new FlowBatch(64);
    expect(decoder.decode(encodeNetflowV5({}, records), testDecodeContext(), out)).toBe(30);
    expect(Array.from(out.srcPort.subarray(0, 30))).toEqual(records.map((r) => r.srcPort));
  });

  it('appends after rows already in the batch', () => {
    const out = new FlowBatch(8);
    const ctx = testDecodeContext();
    decoder.decode(encodeNetflowV5({}, [{ srcPort: 1 }]), ctx, out);
    decoder.decode(encodeNetflowV5({}, [{ srcPort: 2 }, { srcPort: 3 }]), ctx, out);
    expect(Array.from(out.srcPort.subarray(0, out.length))).toEqual([1, 2, 3]);
  });

  describe('sampling', () => {
    it('scales packets and bytes by the header interval and keeps the sampled count', () => {
      const ctx = testDecodeContext();
      const out = new FlowBatch(4);
      const datagram = encodeNetflowV5({ samplingInterval: (1 << 14) | 1000 }, [{ packets: 3, bytes: 1500 }]);
      decoder.decode(datagram, ctx, out);
      expect(flowRow(out, 0)).toMatchObject({
        packets: 3000,
        bytes: 1_500_000,
        sampledPackets: 3,
        samplingRate: 1000,
      });
      expect(ctx.stats.lastSamplingRate).toBe(1000);
      expect(ctx.stats.notices.get('sampling-default-used')).toBeUndefined();
    });

    it('uses the interval whatever the mode bits say', () => {
      for (const mode of [0, 1, 2, 3]) {
        const out = new FlowBatch(4);
        decoder.decode(
          encodeNetflowV5({ samplingInterval: (mode << 14) | 16_383 }),
          testDecodeContext(),
          out,
        );
        expect(out.samplingRate[0]).toBe(16_383);
      }
    });

    it('falls back to the configured default when the interval is 0, and counts it', () => {
      const ctx = testDecodeContext({ defaultRate: 512 });
      const out = new FlowBatch(4);
      // Mode bits set but interval 0: still unknown.
      decoder.decode(encodeNetflowV5({ samplingInterval: 1 << 14 }, [{ packets: 2, bytes: 100 }]), ctx, out);
      decoder.decode(encodeNetflowV5({ samplingInterval: 0 }, [{}]), ctx, out);
      expect(flowRow(out, 0)).toMatchObject({
        packets: 1024,
        bytes: 51_200,
        sampledPackets: 2,
        samplingRate: 512,
      });
      expect(out.samplingRate[1]).toBe(512);
      expect(ctx.stats.notices.get('sampling-default-used')).toBe(2);
      expect(ctx.stats.lastSamplingRate).toBe(512);
    });

    it('uses a default of 1 as given', () => {
      const ctx = testDecodeContext();
      const out = new FlowBatch(4);
      decoder.decode(encodeNetflowV5({}, [{ packets: 7, bytes: 700 }]), ctx, out);
      expect(flowRow(out, 0)).toMatchObject({ packets: 7, bytes: 700, samplingRate: 1 });
      expect(ctx.stats.notices.get('sampling-default-used')).toBe(1);
    });

    it('takes a configured override over the header interval and the default, once per datagram', () => {
      const ctx = testDecodeContext({
        exporter: '192.0.2.1',
        defaultRate: 7,
        overrides: [{ exporter: '192.0.2.0/24', rate: 100 }],
      });
      const out = new FlowBatch(8);
      // A wrong interval, then none: the override applies to both, to every record.
      decoder.decode(encodeNetflowV5({ samplingInterval: 10 }, [{ packets: 3, bytes: 150 }, {}]), ctx, out);
      decoder.decode(encodeNetflowV5({ samplingInterval: 0 }, [{ packets: 2, bytes: 80 }]), ctx, out);
      expect(flowRows(out).map((r) => [r.samplingRate, r.sampledPackets, r.packets, r.bytes])).toEqual([
        [100, 3, 300, 15_000],
        [100, 10, 1_000, 500_000],
        [100, 2, 200, 8_000],
      ]);
      expect(Object.fromEntries(ctx.stats.notices)).toEqual({ 'sampling-override-used': 2 });
      expect(ctx.stats.lastSamplingRate).toBe(100);
    });

    it('matches an override naming a source id against engine type × 256 + engine id', () => {
      const ctx = testDecodeContext({
        overrides: [{ exporter: '192.0.2.1', sourceId: (1 << 8) | 2, rate: 64 }],
      });
      const out = new FlowBatch(8);
      decoder.decode(encodeNetflowV5({ engineType: 1, engineId: 2, samplingInterval: 10 }, [{}]), ctx, out);
      decoder.decode(encodeNetflowV5({ engineType: 1, engineId: 3, samplingInterval: 10 }, [{}]), ctx, out);
      expect(Array.from(out.samplingRate.subarray(0, 2))).toEqual([64, 10]);
      expect(ctx.stats.notices.get('sampling-override-used')).toBe(1);
    });
  });

  describe('flow times', () => {
    it('handles the uint32 uptime wrap between First/Last and the export', () => {
      const out = new FlowBatch(4);
      // Uptime wrapped 1 s ago; the flow started 2 s before the wrap and ended 0.5 s before it.
      const datagram = encodeNetflowV5({ sysUptime: 1000 }, [
        { first: 0xffffffff - 1999, last: 0xffffffff - 499 },
      ]);
      decoder.decode(datagram, testDecodeContext(), out);
      expect(out.startMs[0]).toBe(EXPORT_MS - 3000);
      expect(out.endMs[0]).toBe(EXPORT_MS - 1500);
    });

    it('handles a Last stamp just after the wrap', () => {
      const out = new FlowBatch(4);
      const datagram = encodeNetflowV5({ sysUptime: 5000 }, [{ first: 0xfffff000, last: 10 }]);
      decoder.decode(datagram, testDecodeContext(), out);
      expect(out.startMs[0]).toBe(EXPORT_MS - (5000 + 0x1000));
      expect(out.endMs[0]).toBe(EXPORT_MS - 4990);
    });

    it('places a Last stamp slightly after the export uptime after the export time', () => {
      const out = new FlowBatch(4);
      decoder.decode(
        encodeNetflowV5({ sysUptime: 1000 }, [{ first: 900, last: 1004 }]),
        testDecodeContext(),
        out,
      );
      expect(out.startMs[0]).toBe(EXPORT_MS - 100);
      expect(out.endMs[0]).toBe(EXPORT_MS + 4);
    });

    it('ignores an out-of-range nanosecond field and counts it', () => {
      const ctx = testDecodeContext();
      const out = new FlowBatch(4);
      const datagram = encodeNetflowV5({ unixNsecs: 1_000_000_000, sysUptime: 10_000 }, [
        { first: 10_000, last: 10_000 },
      ]);
      decoder.decode(datagram, ctx, out);
      expect(out.startMs[0]).toBe(1_700_000_000_000);
      expect(ctx.stats.notices.get('invalid-unix-nsecs')).toBe(1);
    });
  });

  describe('malformed datagrams', () => {
    /** A batch already holding two rows from an earlier datagram: they must survive. */
    function prefilled() {
      const out = new FlowBatch(64);
      decoder.decode(encodeNetflowV5({}, [{ srcPort: 11 }, { srcPort: 12 }]), testDecodeContext(), out);
      return { out, before: flowRows(out) };
    }

    function expectWireError(datagram: Uint8Array, code: string, offset: number) {
      const { out, before } = prefilled();
      let caught: unknown;
      try {
        decoder.decode(datagram, testDecodeContext(), out);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(WireError);
      const err = caught as WireError;
      expect(err.code).toBe(code);
      expect(err.offset).toBe(offset);
      expect(err.details['offset']).toBe(offset);
      expect(err.message).toContain('192.0.2.1');
      expect(out.length).toBe(2);
      expect(flowRows(out)).toEqual(before);
      return err;
    }

    const three = encodeNetflowV5({}, [{}, {}, {}]);

    it('refuses a datagram shorter than the header', () => {
      expectWireError(three.subarray(0, 23), 'FG_ERR_WIRE_TRUNCATED', 23);
      expectWireError(new Uint8Array(0), 'FG_ERR_WIRE_TRUNCATED', 0);
    });

    it('refuses records cut short, at the end of the bytes present', () => {
      const err = expectWireError(
        three.subarray(0, 24 + 48 * 2 + 10),
        'FG_ERR_WIRE_TRUNCATED',
        24 + 48 * 2 + 10,
      );
      expect(err.details).toMatchObject({ count: 3, expected: 168, length: 130 });
      expectWireError(three.subarray(0, 24), 'FG_ERR_WIRE_TRUNCATED', 24);
    });

    it('refuses trailing bytes after the last record, at the first extra byte', () => {
      const longer = new Uint8Array(three.length + 4);
      longer.set(three);
      expectWireError(longer, 'FG_ERR_WIRE_LENGTH', three.length);
      // A count smaller than the records present is the same disagreement.
      expectWireError(encodeNetflowV5({}, [{}, {}, {}], { count: 2 }), 'FG_ERR_WIRE_LENGTH', 24 + 96);
    });

    it('refuses a count of 0 or over 30, at the count field', () => {
      expectWireError(encodeNetflowV5({}, [], { count: 0 }), 'FG_ERR_WIRE_VALUE', 2);
      const many = encodeNetflowV5(
        {},
        Array.from({ length: 31 }, () => ({})),
      );
      expectWireError(many, 'FG_ERR_WIRE_VALUE', 2);
      expectWireError(encodeNetflowV5({}, [{}], { count: 0xffff }), 'FG_ERR_WIRE_VALUE', 2);
    });

    it('refuses another version, at byte 0', () => {
      expectWireError(encodeNetflowV5({}, [{}], { version: 9 }), 'FG_ERR_WIRE_VERSION', 0);
    });
  });

  describe('a batch that fills mid-datagram', () => {
    it('flushes the full batch to the sink and continues into the emptied batch', () => {
      const delivered: number[][] = [];
      const ctx = testDecodeContext({
        flush: (b) => {
          delivered.push(Array.from(b.srcPort.subarray(0, b.length)));
          b.clear();
        },
      });
      const out = new FlowBatch(4);
      const records = Array.from({ length: 10 }, (_, i) => ({ srcPort: i + 1 }));
      expect(decoder.decode(encodeNetflowV5({}, records), ctx, out)).toBe(10);
      expect(delivered).toEqual([
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ]);
      expect(Array.from(out.srcPort.subarray(0, out.length))).toEqual([9, 10]);
    });

    it('fails loudly if the sink does not empty the batch', () => {
      const ctx = testDecodeContext({ flush: () => {} });
      const out = new FlowBatch(2);
      expect(() => decoder.decode(encodeNetflowV5({}, [{}, {}, {}]), ctx, out)).toThrow(/sink must consume/);
    });
  });

  it('allocates nothing per record: a million records decode without growing the heap much', () => {
    const datagram = encodeNetflowV5(
      {},
      Array.from({ length: 30 }, () => ({})),
    );
    const ctx = testDecodeContext({ flush: (b) => b.clear() });
    const out = new FlowBatch(8192);
    for (let i = 0; i < 2000; i++) decoder.decode(datagram, ctx, out); // warm up the JIT
    out.clear();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 34_000; i++) decoder.decode(datagram, ctx, out);
    const grown = process.memoryUsage().heapUsed - before;
    // An object per record would be > 1M objects (tens of MB); allow GC noise.
    expect(grown).toBeLessThan(8 * 1024 * 1024);
  });
});
