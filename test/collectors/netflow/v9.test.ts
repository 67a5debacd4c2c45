import { describe, expect, it } from 'vitest';
import { NetflowV9Decoder } from '../../../collectors/netflow/v9.js';
import { IE } from '../../../collectors/template/information-elements.js';
import { TemplateCache } from '../../../collectors/template/template-cache.js';
import { WireError } from '../../../core/errors.js';
import { FlowBatch, FRAGMENT_NO, FRAGMENT_UNKNOWN, FRAGMENT_YES } from '../../../core/flow/flow-batch.js';
import { testDecodeContext } from '../../helpers/decode-context.js';
import { flowRow, flowRows } from '../../helpers/flow-row.js';
import { encodeNetflowV9, type RecordValues, type TemplateSpec } from '../../helpers/template-flows.js';

const EXPORT_MS = 1_700_000_000_000; // defaultV9Header.unixSecs
const UPTIME = 3_600_000; // defaultV9Header.sysUptime
const T0 = 1_700_000_001_000;

/** The layout softflowd sends for IPv4 TCP/UDP. */
const v4: TemplateSpec = {
  id: 1024,
  fields: [
    { id: IE.sourceIPv4Address, length: 4 },
    { id: IE.destinationIPv4Address, length: 4 },
    { id: IE.flowStartSysUpTime, length: 4 },
    { id: IE.flowEndSysUpTime, length: 4 },
    { id: IE.octetDeltaCount, length: 4 },
    { id: IE.packetDeltaCount, length: 4 },
    { id: IE.ingressInterface, length: 4 },
    { id: IE.egressInterface, length: 4 },
    { id: 61, length: 1 }, // flowDirection: skipped
    { id: 136, length: 1 }, // flowEndReason: skipped
    { id: IE.sourceTransportPort, length: 2 },
    { id: IE.destinationTransportPort, length: 2 },
    { id: IE.protocolIdentifier, length: 1 },
    { id: IE.tcpControlBits, length: 1 },
    { id: IE.ipVersion, length: 1 },
    { id: 5, length: 1 }, // ToS: skipped
  ],
};

const v6: TemplateSpec = {
  id: 2048,
  fields: [
    { id: IE.sourceIPv6Address, length: 16 },
    { id: IE.destinationIPv6Address, length: 16 },
    { id: IE.flowStartSysUpTime, length: 4 },
    { id: IE.flowEndSysUpTime, length: 4 },
    { id: IE.octetDeltaCount, length: 8 },
    { id: IE.packetDeltaCount, length: 8 },
    { id: IE.icmpTypeCodeIPv6, length: 2 },
    { id: IE.sourceTransportPort, length: 2 },
    { id: IE.destinationTransportPort, length: 2 },
    { id: IE.protocolIdentifier, length: 1 },
    { id: IE.ipVersion, length: 1 },
  ],
};

const udp: RecordValues = {
  [IE.sourceIPv4Address]: '198.51.100.7',
  [IE.destinationIPv4Address]: '203.0.113.10',
  [IE.flowStartSysUpTime]: UPTIME - 10_000,
  [IE.flowEndSysUpTime]: UPTIME - 1_000,
  [IE.octetDeltaCount]: 21_000,
  [IE.packetDeltaCount]: 42,
  [IE.ingressInterface]: 7,
  [IE.egressInterface]: 0xfffffffe,
  [IE.sourceTransportPort]: 123,
  [IE.destinationTransportPort]: 40_000,
  [IE.protocolIdentifier]: 17,
  [IE.ipVersion]: 4,
};

function decoder() {
  return new NetflowV9Decoder();
}

function expectWireError(fn: () => unknown, code: string, offset?: number): WireError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(WireError);
  const err = caught as WireError;
  expect(err.code).toBe(code);
  if (offset !== undefined) expect(err.offset).toBe(offset);
  return err;
}

describe('NetFlow v9 decoder', () => {
  it('decodes template and data in one datagram, every field', () => {
    const d = decoder();
    const ctx = testDecodeContext({ arrivalMs: T0, defaultRate: 1 });
    const out = new FlowBatch(16);
    const tcp: RecordValues = {
      ...udp,
      [IE.sourceIPv4Address]: '255.255.255.254',
      [IE.destinationIPv4Address]: '10.0.0.1',
      [IE.sourceTransportPort]: 65_535,
      [IE.destinationTransportPort]: 80,
      [IE.protocolIdentifier]: 6,
      [IE.tcpControlBits]: 0x12,
      [IE.packetDeltaCount]: 0xffffffff,
      [IE.octetDeltaCount]: 0xfffffff0,
      [IE.flowStartSysUpTime]: 0,
      [IE.flowEndSysUpTime]: UPTIME,
    };
    const datagram = encodeNetflowV9({ sourceId: 0x01020304 }, [
      { templates: [v4] },
      { template: v4, records: [udp, tcp] },
    ]);
    expect(d.decode(datagram, ctx, out)).toBe(2);
    const common = {
      ipVersion: 4,
      exporter: '192.0.2.1',
      sourceId: 0x01020304,
      icmpType: 0,
      icmpCode: 0,
      fragment: FRAGMENT_UNKNOWN,
      samplingRate: 1,
      arrivalMs: T0,
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
        inputIf: 7,
        outputIf: 0xfffffffe,
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
        inputIf: 7,
        outputIf: 0xfffffffe,
        packets: 0xffffffff,
        bytes: 0xfffffff0,
        sampledPackets: 0xffffffff,
        startMs: EXPORT_MS - UPTIME,
        endMs: EXPORT_MS,
      },
    ]);
    // No options data told a rate: the default applies, counted once for the data set.
    expect(Object.fromEntries(ctx.stats.notices)).toEqual({ 'sampling-default-used': 1 });
  });

  it('decodes IPv6 records with 8-byte counters and ICMPv6 type/code', () => {
    const d = decoder();
    const out = new FlowBatch(16);
    const base = {
      [IE.flowStartSysUpTime]: UPTIME - 500,
      [IE.flowEndSysUpTime]: UPTIME - 100,
      [IE.ipVersion]: 6,
    };
    const datagram = encodeNetflowV9({}, [
      { templates: [v6] },
      {
        template: v6,
        records: [
          {
            ...base,
            [IE.sourceIPv6Address]: '2001:db8::7',
            [IE.destinationIPv6Address]: '2001:db8:ffff::10',
            [IE.octetDeltaCount]: 2n ** 40n,
            [IE.packetDeltaCount]: 2n ** 33n,
            [IE.sourceTransportPort]: 53,
            [IE.destinationTransportPort]: 33_000,
            [IE.protocolIdentifier]: 17,
          },
          {
            ...base,
            [IE.sourceIPv6Address]: 'fe80::1',
            [IE.destinationIPv6Address]: 'ff02::1',
            [IE.octetDeltaCount]: 64,
            [IE.packetDeltaCount]: 1,
            [IE.icmpTypeCodeIPv6]: 135 * 256 + 0,
            [IE.protocolIdentifier]: 58,
          },
        ],
      },
    ]);
    expect(d.decode(datagram, testDecodeContext(), out)).toBe(2);
    expect(flowRow(out, 0)).toMatchObject({
      ipVersion: 6,
      srcAddr: '2001:db8::7',
      dstAddr: '2001:db8:ffff::10',
      srcPort: 53,
      dstPort: 33_000,
      bytes: 2 ** 40,
      packets: 2 ** 33,
      startMs: EXPORT_MS - 500,
      endMs: EXPORT_MS - 100,
    });
    expect(flowRow(out, 1)).toMatchObject({
      ipVersion: 6,
      srcAddr: 'fe80::1',
      dstAddr: 'ff02::1',
      protocol: 58,
      icmpType: 135,
      icmpCode: 0,
      srcPort: 0,
      dstPort: 0,
    });
  });

  it('keeps templates per exporter and source id', () => {
    const d = decoder();
    const out = new FlowBatch(16);
    const other: TemplateSpec = {
      id: v4.id,
      fields: [
        { id: IE.destinationIPv4Address, length: 4 },
        { id: IE.packetDeltaCount, length: 2 },
      ],
    };
    const a = testDecodeContext({ exporter: '192.0.2.1' });
    const b = testDecodeContext({ exporter: '192.0.2.2' });
    d.decode(encodeNetflowV9({ sourceId: 1 }, [{ templates: [v4] }]), a, out);
    d.decode(encodeNetflowV9({ sourceId: 2 }, [{ templates: [other] }]), a, out);
    d.decode(encodeNetflowV9({ sourceId: 1 }, [{ templates: [other] }]), b, out);
    const otherRecord = { [IE.destinationIPv4Address]: '203.0.113.99', [IE.packetDeltaCount]: 5 };
    expect(d.decode(encodeNetflowV9({ sourceId: 1 }, [{ template: v4, records: [udp] }]), a, out)).toBe(1);
    expect(
      d.decode(encodeNetflowV9({ sourceId: 2 }, [{ template: other, records: [otherRecord] }]), a, out),
    ).toBe(1);
    expect(
      d.decode(encodeNetflowV9({ sourceId: 1 }, [{ template: other, records: [otherRecord] }]), b, out),
    ).toBe(1);
    expect(flowRows(out).map((r) => [r.exporter, r.sourceId, r.dstAddr, r.packets])).toEqual([
      ['192.0.2.1', 1, '203.0.113.10', 42],
      ['192.0.2.1', 2, '203.0.113.99', 5],
      ['192.0.2.2', 1, '203.0.113.99', 5],
    ]);
    // Source id 3 of exporter a has no template 1024.
    expect(d.decode(encodeNetflowV9({ sourceId: 3 }, [{ template: v4, records: [udp] }]), a, out)).toBe(0);
    expect(a.stats.notices.get('unknown-template')).toBe(1);
  });

  it('accepts any integer width and padding at the end of FlowSets', () => {
    const narrow: TemplateSpec = {
      id: 300,
      fields: [
        { id: IE.sourceIPv4Address, length: 4 },
        { id: IE.destinationIPv4Address, length: 4 },
        { id: IE.packetDeltaCount, length: 3 },
        { id: IE.octetDeltaCount, length: 5 },
        { id: IE.ingressInterface, length: 2 },
        { id: IE.egressInterface, length: 1 },
        { id: IE.sourceTransportPort, length: 2 },
        { id: IE.destinationTransportPort, length: 2 },
        { id: IE.protocolIdentifier, length: 1 },
      ],
    };
    const record = {
      [IE.sourceIPv4Address]: '192.0.2.10',
      [IE.destinationIPv4Address]: '192.0.2.20',
      [IE.packetDeltaCount]: 0xabcdef,
      [IE.octetDeltaCount]: 0x12_3456_789a,
      [IE.ingressInterface]: 513,
      [IE.egressInterface]: 9,
      [IE.sourceTransportPort]: 1,
      [IE.destinationTransportPort]: 2,
      [IE.protocolIdentifier]: 17,
    };
    const out = new FlowBatch(8);
    const ctx = testDecodeContext();
    const datagram = encodeNetflowV9({}, [
      { templates: [narrow], padding: 3 },
      { template: narrow, records: [record, record], padding: 2 },
    ]);
    expect(decoder().decode(datagram, ctx, out)).toBe(2);
    expect(flowRow(out, 1)).toMatchObject({
      packets: 0xabcdef,
      bytes: 0x12_3456_789a,
      inputIf: 513,
      outputIf: 9,
      startMs: EXPORT_MS,
      endMs: EXPORT_MS,
    });
    // Without any time field the export time stands in, and that is counted.
    expect(ctx.stats.notices.get('flow-time-missing')).toBe(1);
  });

  it('takes ICMP type and code from the destination port when no ICMP field is present', () => {
    const out = new FlowBatch(4);
    const icmp = {
      ...udp,
      [IE.protocolIdentifier]: 1,
      [IE.sourceTransportPort]: 0,
      [IE.destinationTransportPort]: 0x0303,
    };
    decoder().decode(
      encodeNetflowV9({}, [{ templates: [v4] }, { template: v4, records: [icmp] }]),
      testDecodeContext(),
      out,
    );
    expect(flowRow(out, 0)).toMatchObject({ protocol: 1, icmpType: 3, icmpCode: 3, srcPort: 0, dstPort: 0 });
  });

  it('marks fragments from the fragment offset', () => {
    const t: TemplateSpec = {
      id: 400,
      fields: [
        { id: IE.destinationIPv4Address, length: 4 },
        { id: IE.fragmentOffset, length: 2 },
      ],
    };
    const out = new FlowBatch(4);
    decoder().decode(
      encodeNetflowV9({}, [
        { templates: [t] },
        {
          template: t,
          records: [
            { [IE.destinationIPv4Address]: '192.0.2.1', [IE.fragmentOffset]: 0 },
            { [IE.destinationIPv4Address]: '192.0.2.1', [IE.fragmentOffset]: 185 },
          ],
        },
      ]),
      testDecodeContext(),
      out,
    );
    expect([out.fragment[0], out.fragment[1]]).toEqual([FRAGMENT_NO, FRAGMENT_YES]);
  });

  describe('sampling from options data', () => {
    const samplingOptions: TemplateSpec = {
      id: 256,
      scopeCount: 1,
      fields: [
        { id: 1, length: 4 }, // scope type 1: System (not octetDeltaCount: v9 scopes are scope types)
        { id: IE.samplingInterval, length: 4 },
        { id: IE.samplingAlgorithm, length: 1 },
      ],
    };

    it('applies the interval of options data to later data records of the source id', () => {
      const d = decoder();
      const ctx = testDecodeContext({ defaultRate: 7 });
      const out = new FlowBatch(8);
      d.decode(
        encodeNetflowV9({}, [
          { templates: [v4] },
          { templates: [samplingOptions], options: true },
          {
            template: samplingOptions,
            records: [{ 1: 0, [IE.samplingInterval]: 100, [IE.samplingAlgorithm]: 2 }],
          },
        ]),
        ctx,
        out,
      );
      expect(out.length).toBe(0);
      d.decode(encodeNetflowV9({}, [{ template: v4, records: [udp] }]), ctx, out);
      expect(flowRow(out, 0)).toMatchObject({
        samplingRate: 100,
        sampledPackets: 42,
        packets: 4200,
        bytes: 2_100_000,
      });
      expect(ctx.stats.notices.get('sampling-default-used')).toBeUndefined();
      expect(ctx.stats.lastSamplingRate).toBe(100);
      // Another source id has not said: the default, counted.
      d.decode(
        encodeNetflowV9({ sourceId: 9 }, [{ templates: [v4] }, { template: v4, records: [udp] }]),
        ctx,
        out,
      );
      expect(flowRow(out, 1)).toMatchObject({ samplingRate: 7, packets: 294 });
      expect(ctx.stats.notices.get('sampling-default-used')).toBe(1);
    });

    it('maps flow records to their sampler by FLOW_SAMPLER_ID', () => {
      const samplers: TemplateSpec = {
        id: 257,
        scopeCount: 1,
        fields: [
          { id: 2, length: 2 }, // scope: Interface
          { id: IE.samplerId, length: 1 },
          { id: 49, length: 1 }, // FLOW_SAMPLER_MODE
          { id: IE.samplerRandomInterval, length: 4 },
        ],
      };
      const withSampler: TemplateSpec = { id: 1100, fields: [...v4.fields, { id: IE.samplerId, length: 1 }] };
      const d = decoder();
      const ctx = testDecodeContext();
      const out = new FlowBatch(8);
      d.decode(
        encodeNetflowV9({}, [
          { templates: [samplers], options: true },
          { templates: [withSampler] },
          {
            template: samplers,
            records: [
              { [IE.samplerId]: 1, [IE.samplerRandomInterval]: 10 },
              { [IE.samplerId]: 2, [IE.samplerRandomInterval]: 1000 },
            ],
          },
          {
            template: withSampler,
            records: [
              { ...udp, [IE.samplerId]: 2 },
              { ...udp, [IE.samplerId]: 1 },
              { ...udp, [IE.samplerId]: 3 },
            ],
          },
        ]),
        ctx,
        out,
      );
      // Sampler 3 is unknown: the domain's latest rate (sampler 2's) applies.
      expect(Array.from(out.samplingRate.subarray(0, 3))).toEqual([1000, 10, 1000]);
      expect(ctx.stats.notices.get('sampling-default-used')).toBeUndefined();
    });

    it('takes a stated 0 as not stated: options data of interval 0, an unknown sampler, get the default', () => {
      const withSampler: TemplateSpec = { id: 1100, fields: [...v4.fields, { id: IE.samplerId, length: 1 }] };
      const d = decoder();
      const ctx = testDecodeContext({ defaultRate: 9 });
      const out = new FlowBatch(8);
      d.decode(
        encodeNetflowV9({}, [
          { templates: [samplingOptions], options: true },
          { templates: [v4, withSampler] },
          { template: samplingOptions, records: [{ 1: 0, [IE.samplingInterval]: 0 }] },
          { template: v4, records: [udp] },
          { template: withSampler, records: [{ ...udp, [IE.samplerId]: 4 }] },
        ]),
        ctx,
        out,
      );
      expect(flowRows(out).map((r) => [r.samplingRate, r.packets])).toEqual([
        [9, 378],
        [9, 378],
      ]);
      expect(ctx.stats.notices.get('sampling-default-used')).toBe(2);
    });

    it('takes a configured override over options data, samplers and the default, once per data set', () => {
      const withSampler: TemplateSpec = { id: 1100, fields: [...v4.fields, { id: IE.samplerId, length: 1 }] };
      const samplers: TemplateSpec = {
        id: 257,
        scopeCount: 1,
        fields: [
          { id: 2, length: 2 },
          { id: IE.samplerId, length: 1 },
          { id: IE.samplerRandomInterval, length: 4 },
        ],
      };
      const d = decoder();
      const ctx = testDecodeContext({
        exporter: '192.0.2.1',
        defaultRate: 7,
        overrides: [{ exporter: '192.0.2.1', sourceId: 5, rate: 2000 }],
      });
      const out = new FlowBatch(16);
      const sets = (sourceId: number) =>
        encodeNetflowV9({ sourceId }, [
          { templates: [samplingOptions, samplers], options: true },
          { templates: [v4, withSampler] },
          { template: samplingOptions, records: [{ 1: 0, [IE.samplingInterval]: 100 }] },
          { template: samplers, records: [{ 2: 1, [IE.samplerId]: 1, [IE.samplerRandomInterval]: 10 }] },
          { template: v4, records: [udp, udp] },
          { template: withSampler, records: [{ ...udp, [IE.samplerId]: 1 }] },
        ]);
      d.decode(sets(5), ctx, out);
      expect(flowRows(out).map((r) => [r.sourceId, r.samplingRate, r.sampledPackets, r.packets])).toEqual([
        [5, 2000, 42, 84_000],
        [5, 2000, 42, 84_000],
        [5, 2000, 42, 84_000],
      ]);
      expect(Object.fromEntries(ctx.stats.notices)).toEqual({ 'sampling-override-used': 2 });
      expect(ctx.stats.lastSamplingRate).toBe(2000);
      // Source id 6 is not overridden: options data decide as before (the sampler's record came
      // last, so its rate is the domain's too).
      d.decode(sets(6), ctx, out);
      expect(Array.from(out.samplingRate.subarray(3, 6))).toEqual([10, 10, 10]);
      expect(ctx.stats.notices.get('sampling-override-used')).toBe(2);
    });

    it('applies the override to a data set held for its template, when it is decoded', () => {
      const d = decoder();
      const ctx = testDecodeContext({ overrides: [{ exporter: '192.0.2.1', rate: 3 }] });
      const out = new FlowBatch(8);
      d.decode(encodeNetflowV9({}, [{ template: v4, records: [udp] }]), ctx, out);
      expect(out.length).toBe(0);
      ctx.arrivalMs += 1000;
      d.decode(encodeNetflowV9({}, [{ templates: [v4] }]), ctx, out);
      expect(flowRow(out, 0)).toMatchObject({
        samplingRate: 3,
        sampledPackets: 42,
        packets: 126,
        bytes: 63_000,
      });
      expect(ctx.stats.notices.get('sampling-override-used')).toBe(1);
      expect(ctx.stats.notices.get('sampling-default-used')).toBeUndefined();
    });
  });

  describe('data before its template', () => {
    it('holds the data set and decodes it when the template arrives within the window', () => {
      const d = decoder();
      const ctx = testDecodeContext();
      const out = new FlowBatch(8);
      ctx.arrivalMs = T0;
      const early = encodeNetflowV9({ sysUptime: UPTIME, unixSecs: 1_700_000_000 }, [
        { template: v4, records: [udp, udp] },
      ]);
      expect(d.decode(early, ctx, out)).toBe(0);
      expect(ctx.stats.notices.get('unknown-template')).toBe(1);
      ctx.arrivalMs = T0 + 4000;
      const later = encodeNetflowV9({ sysUptime: UPTIME + 4000, unixSecs: 1_700_000_004 }, [
        { templates: [v4] },
      ]);
      expect(d.decode(later, ctx, out)).toBe(2);
      // Times are relative to the held datagram's header, and the arrival is the held one's.
      expect(flowRow(out, 0)).toMatchObject({
        startMs: EXPORT_MS - 10_000,
        endMs: EXPORT_MS - 1_000,
        arrivalMs: T0,
      });
      expect(ctx.stats.notices.get('unknown-template-recovered')).toBe(1);
      // Released once only.
      expect(d.decode(encodeNetflowV9({}, [{ templates: [v4] }]), ctx, out)).toBe(0);
    });

    it('drops held data whose template comes too late, and counts it', () => {
      const d = decoder();
      const ctx = testDecodeContext();
      const out = new FlowBatch(8);
      ctx.arrivalMs = T0;
      d.decode(encodeNetflowV9({}, [{ template: v4, records: [udp] }]), ctx, out);
      ctx.arrivalMs = T0 + 10_001;
      expect(d.decode(encodeNetflowV9({}, [{ templates: [v4] }]), ctx, out)).toBe(0);
      expect(ctx.stats.notices.get('unknown-template-expired')).toBe(1);
      expect(ctx.stats.notices.get('unknown-template-recovered')).toBeUndefined();
    });
  });

  describe('a batch that fills mid-set', () => {
    it('flushes and continues', () => {
      const delivered: number[][] = [];
      const ctx = testDecodeContext({
        flush: (b) => {
          delivered.push(Array.from(b.srcPort.subarray(0, b.length)));
          b.clear();
        },
      });
      const out = new FlowBatch(3);
      const records = Array.from({ length: 7 }, (_, i) => ({ ...udp, [IE.sourceTransportPort]: i + 1 }));
      expect(
        decoder().decode(encodeNetflowV9({}, [{ templates: [v4] }, { template: v4, records }]), ctx, out),
      ).toBe(7);
      expect(delivered).toEqual([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      expect(Array.from(out.srcPort.subarray(0, out.length))).toEqual([7]);
    });
  });

  describe('malformed datagrams', () => {
    const good = encodeNetflowV9({}, [{ templates: [v4] }, { template: v4, records: [udp] }]);

    it('refuses a short header and another version', () => {
      expectWireError(
        () => decoder().decode(good.subarray(0, 19), testDecodeContext(), new FlowBatch(4)),
        'FG_ERR_WIRE_TRUNCATED',
        19,
      );
      const v10 = Uint8Array.from(good);
      v10[1] = 10;
      expectWireError(
        () => decoder().decode(v10, testDecodeContext(), new FlowBatch(4)),
        'FG_ERR_WIRE_VERSION',
        0,
      );
    });

    it('refuses FlowSet lengths that do not frame the datagram, before learning anything', () => {
      // The template FlowSet is 72 bytes: the data FlowSet's length field is at 92 + 2.
      for (const [cut, at] of [
        [good.length - 1, 94],
        [30, 22],
      ] as const) {
        const d = decoder();
        const err = expectWireError(
          () => d.decode(good.subarray(0, cut), testDecodeContext(), new FlowBatch(4)),
          'FG_ERR_WIRE_LENGTH',
          at,
        );
        expect(err.message).toContain('192.0.2.1');
        expect(d.templates.templateCount).toBe(0);
      }
      for (const bad of [0, 1, 3]) {
        const zeroLength = Uint8Array.from(good);
        zeroLength[22] = 0;
        zeroLength[23] = bad;
        expectWireError(
          () => decoder().decode(zeroLength, testDecodeContext(), new FlowBatch(4)),
          'FG_ERR_WIRE_LENGTH',
          22,
        );
      }
    });

    it('accepts zero padding after the last FlowSet, refuses other trailing bytes', () => {
      const padded = encodeNetflowV9({}, [{ templates: [v4] }, { template: v4, records: [udp] }], {
        trailing: 3,
      });
      expect(decoder().decode(padded, testDecodeContext(), new FlowBatch(4))).toBe(1);
      padded[padded.length - 1] = 1;
      expectWireError(
        () => decoder().decode(padded, testDecodeContext(), new FlowBatch(4)),
        'FG_ERR_WIRE_TRUNCATED',
        padded.length - 3,
      );
    });

    it('refuses templates with reserved ids, no fields, or a field count past the FlowSet', () => {
      const reserved = encodeNetflowV9({}, [{ templates: [{ id: 255, fields: v4.fields }] }]);
      expectWireError(
        () => decoder().decode(reserved, testDecodeContext(), new FlowBatch(4)),
        'FG_ERR_WIRE_VALUE',
        24,
      );
      const empty = encodeNetflowV9({}, [{ templates: [{ id: 256, fields: [] }] }]);
      expectWireError(
        () => decoder().decode(empty, testDecodeContext(), new FlowBatch(4)),
        'FG_ERR_WIRE_VALUE',
        26,
      );
      const huge = encodeNetflowV9({}, [{ templates: [v4] }]);
      huge[26] = 0xff;
      huge[27] = 0xff;
      expectWireError(
        () => decoder().decode(huge, testDecodeContext(), new FlowBatch(4)),
        'FG_ERR_WIRE_TRUNCATED',
      );
    });

    it('refuses a template whose records would be 0 bytes long', () => {
      const zero: TemplateSpec = {
        id: 500,
        fields: [
          { id: IE.sourceIPv4Address, length: 0 },
          { id: IE.packetDeltaCount, length: 0 },
        ],
      };
      const d = decoder();
      expectWireError(
        () => d.decode(encodeNetflowV9({}, [{ templates: [zero] }]), testDecodeContext(), new FlowBatch(4)),
        'FG_ERR_WIRE_VALUE',
        24,
      );
      expect(d.templates.templateCount).toBe(0);
    });

    it('refuses options templates with lengths that are not whole field specifiers', () => {
      const bytes = encodeNetflowV9({}, [
        {
          templates: [
            {
              id: 256,
              scopeCount: 1,
              fields: [
                { id: 1, length: 4 },
                { id: IE.samplingInterval, length: 4 },
              ],
            },
          ],
          options: true,
        },
      ]);
      bytes[26] = 0;
      bytes[27] = 5; // scope length 5
      expectWireError(
        () => decoder().decode(bytes, testDecodeContext(), new FlowBatch(4)),
        'FG_ERR_WIRE_VALUE',
        26,
      );
    });

    it('skips reserved FlowSet ids and counts them', () => {
      const ctx = testDecodeContext();
      const d = encodeNetflowV9({}, [
        { raw: { setId: 7, body: new Uint8Array(8) } },
        { templates: [v4] },
        { template: v4, records: [udp] },
      ]);
      expect(decoder().decode(d, ctx, new FlowBatch(4))).toBe(1);
      expect(ctx.stats.notices.get('reserved-set-id')).toBe(1);
    });

    it('ignores known fields of unusable width, counting them', () => {
      const odd: TemplateSpec = {
        id: 600,
        fields: [
          { id: IE.sourceIPv4Address, length: 3 },
          { id: IE.destinationIPv4Address, length: 4 },
          { id: IE.packetDeltaCount, length: 9 },
          { id: IE.octetDeltaCount, length: 4 },
        ],
      };
      const ctx = testDecodeContext();
      const out = new FlowBatch(4);
      const record = {
        [IE.sourceIPv4Address]: new Uint8Array([1, 2, 3]),
        [IE.destinationIPv4Address]: '192.0.2.5',
        [IE.packetDeltaCount]: 5,
        [IE.octetDeltaCount]: 500,
      };
      decoder().decode(
        encodeNetflowV9({}, [{ templates: [odd] }, { template: odd, records: [record] }]),
        ctx,
        out,
      );
      expect(flowRow(out, 0)).toMatchObject({
        srcAddr: '0.0.0.0',
        dstAddr: '192.0.2.5',
        packets: 0,
        bytes: 500,
      });
      expect(ctx.stats.notices.get('template-field-ignored')).toBe(2);
    });
  });

  it('ignores the header count, which exporters fill in differently', () => {
    for (const count of [0, 1, 0xffff]) {
      const datagram = encodeNetflowV9({}, [{ templates: [v4] }, { template: v4, records: [udp, udp] }], {
        count,
      });
      expect(decoder().decode(datagram, testDecodeContext(), new FlowBatch(4))).toBe(2);
    }
  });

  it('refreshing an unchanged template does not replace it', () => {
    const cache = new TemplateCache('netflow-v9');
    const d = new NetflowV9Decoder(cache);
    const ctx = testDecodeContext({ arrivalMs: T0 });
    d.decode(encodeNetflowV9({}, [{ templates: [v4] }]), ctx, new FlowBatch(4));
    const first = cache.findExporter('192.0.2.1')!.domains.get(0)!.templates.get(v4.id)!;
    ctx.arrivalMs = T0 + 5000;
    d.decode(encodeNetflowV9({}, [{ templates: [v4] }]), ctx, new FlowBatch(4));
    const second = cache.findExporter('192.0.2.1')!.domains.get(0)!.templates.get(v4.id)!;
    expect(second).toBe(first);
    expect(second.updatedMs).toBe(T0 + 5000);
    expect(cache.templateCount).toBe(1);
  });

  it('allocates nothing per record: a million records decode without growing the heap much', () => {
    const d = decoder();
    const ctx = testDecodeContext({ flush: (b) => b.clear() });
    d.decode(encodeNetflowV9({}, [{ templates: [v4] }]), ctx, new FlowBatch(4));
    const datagram = encodeNetflowV9({}, [{ template: v4, records: Array.from({ length: 30 }, () => udp) }]);
    const out = new FlowBatch(8192);
    for (let i = 0; i < 2000; i++) d.decode(datagram, ctx, out);
    out.clear();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 34_000; i++) d.decode(datagram, ctx, out);
    const grown = process.memoryUsage().heapUsed - before;
    expect(grown).toBeLessThan(8 * 1024 * 1024);
  });
});
