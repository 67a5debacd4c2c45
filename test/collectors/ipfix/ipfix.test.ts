import { describe, expect, it } from 'vitest';
import { IpfixDecoder } from '../../../collectors/ipfix/ipfix.js';
import { IE } from '../../../collectors/template/information-elements.js';
import { TemplateCache } from '../../../collectors/template/template-cache.js';
import { WireError } from '../../../core/errors.js';
import { FlowBatch, FRAGMENT_NO, FRAGMENT_UNKNOWN, FRAGMENT_YES } from '../../../core/flow/flow-batch.js';
import { testDecodeContext } from '../../helpers/decode-context.js';
import { flowRow, flowRows } from '../../helpers/flow-row.js';
import { encodeIpfix, type RecordValues, type TemplateSpec, VARIABLE } from '../../helpers/template-flows.js';

const EXPORT_MS = 1_700_000_000_000; // defaultIpfixHeader.exportTime
const T0 = 1_700_000_001_000;
const START = 1_699_999_990_123;

/** softflowd's IPv4 layout with `-A milli`, plus 16-bit tcpControlBits. */
const v4: TemplateSpec = {
  id: 1024,
  fields: [
    { id: IE.sourceIPv4Address, length: 4 },
    { id: IE.destinationIPv4Address, length: 4 },
    { id: IE.flowStartMilliseconds, length: 8 },
    { id: IE.flowEndMilliseconds, length: 8 },
    { id: IE.octetDeltaCount, length: 8 },
    { id: IE.packetDeltaCount, length: 8 },
    { id: IE.ingressInterface, length: 4 },
    { id: IE.egressInterface, length: 4 },
    { id: IE.sourceTransportPort, length: 2 },
    { id: IE.destinationTransportPort, length: 2 },
    { id: IE.protocolIdentifier, length: 1 },
    { id: IE.tcpControlBits, length: 2 },
    { id: IE.ipVersion, length: 1 },
  ],
};

const v6: TemplateSpec = {
  id: 2048,
  fields: [
    { id: IE.sourceIPv6Address, length: 16 },
    { id: IE.destinationIPv6Address, length: 16 },
    { id: IE.flowStartMilliseconds, length: 8 },
    { id: IE.flowEndMilliseconds, length: 8 },
    { id: IE.octetDeltaCount, length: 8 },
    { id: IE.packetDeltaCount, length: 8 },
    { id: IE.sourceTransportPort, length: 2 },
    { id: IE.destinationTransportPort, length: 2 },
    { id: IE.icmpTypeIPv6, length: 1 },
    { id: IE.icmpCodeIPv6, length: 1 },
    { id: IE.protocolIdentifier, length: 1 },
  ],
};

const syn: RecordValues = {
  [IE.sourceIPv4Address]: '198.18.0.1',
  [IE.destinationIPv4Address]: '203.0.113.20',
  [IE.flowStartMilliseconds]: START,
  [IE.flowEndMilliseconds]: START + 500,
  [IE.octetDeltaCount]: 80,
  [IE.packetDeltaCount]: 2,
  [IE.ingressInterface]: 3,
  [IE.egressInterface]: 4,
  [IE.sourceTransportPort]: 40_001,
  [IE.destinationTransportPort]: 80,
  [IE.protocolIdentifier]: 6,
  [IE.tcpControlBits]: 0x0102, // NS and SYN: the batch keeps the low 8 bits
  [IE.ipVersion]: 4,
};

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

function decodeAll(decoder: IpfixDecoder, datagrams: Uint8Array[], ctx = testDecodeContext()) {
  const out = new FlowBatch(64);
  const counts = datagrams.map((d) => decoder.decode(d, ctx, out));
  return { out, ctx, counts };
}

describe('IPFIX decoder', () => {
  it('decodes IPv4 and IPv6 records with millisecond times, every field', () => {
    const d = new IpfixDecoder();
    const ctx = testDecodeContext({ arrivalMs: T0 });
    const out = new FlowBatch(8);
    const datagram = encodeIpfix({ domain: 77 }, [
      { templates: [v4, v6] },
      { template: v4, records: [syn] },
      {
        template: v6,
        records: [
          {
            [IE.sourceIPv6Address]: '2001:db8::1',
            [IE.destinationIPv6Address]: '2001:db8::2',
            [IE.flowStartMilliseconds]: START,
            [IE.flowEndMilliseconds]: START,
            [IE.octetDeltaCount]: 1280,
            [IE.packetDeltaCount]: 1,
            [IE.icmpTypeIPv6]: 128,
            [IE.icmpCodeIPv6]: 0,
            [IE.protocolIdentifier]: 58,
          },
        ],
      },
    ]);
    expect(d.decode(datagram, ctx, out)).toBe(2);
    expect(flowRows(out)).toEqual([
      {
        ipVersion: 4,
        exporter: '192.0.2.1',
        sourceId: 77,
        srcAddr: '198.18.0.1',
        dstAddr: '203.0.113.20',
        srcPort: 40_001,
        dstPort: 80,
        protocol: 6,
        tcpFlags: 0x02,
        icmpType: 0,
        icmpCode: 0,
        fragment: FRAGMENT_UNKNOWN,
        inputIf: 3,
        outputIf: 4,
        packets: 2,
        bytes: 80,
        sampledPackets: 2,
        samplingRate: 1,
        startMs: START,
        endMs: START + 500,
        arrivalMs: T0,
      },
      {
        ipVersion: 6,
        exporter: '192.0.2.1',
        sourceId: 77,
        srcAddr: '2001:db8::1',
        dstAddr: '2001:db8::2',
        srcPort: 0,
        dstPort: 0,
        protocol: 58,
        tcpFlags: 0,
        icmpType: 128,
        icmpCode: 0,
        fragment: FRAGMENT_UNKNOWN,
        inputIf: 0,
        outputIf: 0,
        packets: 1,
        bytes: 1280,
        sampledPackets: 1,
        samplingRate: 1,
        startMs: START,
        endMs: START,
        arrivalMs: T0,
      },
    ]);
    expect(Object.fromEntries(ctx.stats.notices)).toEqual({ 'sampling-default-used': 2 });
  });

  it('skips variable-length and enterprise fields by their length', () => {
    const t: TemplateSpec = {
      id: 300,
      fields: [
        { id: IE.sourceIPv4Address, length: 4 },
        { id: 82, length: VARIABLE, name: 'ifName' }, // interfaceName
        { id: 12, length: 4, enterprise: 9, name: 'cisco' }, // not destinationIPv4Address
        { id: IE.destinationIPv4Address, length: 4 },
        { id: 100, length: VARIABLE, enterprise: 29305, name: 'reverse' },
        { id: IE.packetDeltaCount, length: 4 },
        { id: 1000, length: 3, enterprise: 4_294_967_295, name: 'max-pen' },
        { id: IE.octetDeltaCount, length: 4 },
        { id: 96, length: VARIABLE }, // applicationName
      ],
    };
    const long = 'x'.repeat(300); // the 3-byte length form
    const records: RecordValues[] = [
      {
        [IE.sourceIPv4Address]: '192.0.2.10',
        ifName: 'eth0',
        cisco: 0xffffffff,
        [IE.destinationIPv4Address]: '192.0.2.20',
        reverse: long,
        [IE.packetDeltaCount]: 3,
        [IE.octetDeltaCount]: 300,
        '96': '',
      },
      {
        [IE.sourceIPv4Address]: '192.0.2.11',
        ifName: '',
        cisco: 1,
        [IE.destinationIPv4Address]: '192.0.2.21',
        reverse: new Uint8Array(254),
        [IE.packetDeltaCount]: 4,
        [IE.octetDeltaCount]: 400,
        '96': long,
      },
    ];
    const { out } = decodeAll(new IpfixDecoder(), [
      encodeIpfix({}, [{ templates: [t] }, { template: t, records, padding: 2 }]),
    ]);
    expect(flowRows(out).map((r) => [r.srcAddr, r.dstAddr, r.packets, r.bytes])).toEqual([
      ['192.0.2.10', '192.0.2.20', 3, 300],
      ['192.0.2.11', '192.0.2.21', 4, 400],
    ]);
  });

  it('refuses a variable-length field that runs past its set, before appending any record of it', () => {
    const t: TemplateSpec = {
      id: 300,
      fields: [
        { id: IE.destinationIPv4Address, length: 4 },
        { id: 82, length: VARIABLE },
      ],
    };
    const good = encodeIpfix({}, [
      { templates: [t] },
      { template: t, records: [{ [IE.destinationIPv4Address]: '192.0.2.1', '82': 'ab' }] },
    ]);
    const bad = Uint8Array.from(good);
    bad[bad.length - 3] = 200; // the length byte of "ab" now claims 200 bytes
    const out = new FlowBatch(8);
    expectWireError(
      () => new IpfixDecoder().decode(bad, testDecodeContext(), out),
      'FG_ERR_WIRE_TRUNCATED',
      bad.length - 2,
    );
    expect(out.length).toBe(0);
    const extended = Uint8Array.from(good);
    extended[extended.length - 3] = 255; // 3-byte form, its 2-byte length cut by the set end
    expectWireError(
      () => new IpfixDecoder().decode(extended, testDecodeContext(), out),
      'FG_ERR_WIRE_TRUNCATED',
    );
  });

  describe('template withdrawal', () => {
    const options: TemplateSpec = {
      id: 400,
      scopeCount: 1,
      fields: [
        { id: IE.selectorId, length: 4 },
        { id: IE.samplingPacketInterval, length: 4 },
      ],
    };

    it('withdraws one template by a record with field count 0', () => {
      const d = new IpfixDecoder();
      const { out, ctx, counts } = decodeAll(d, [
        encodeIpfix({}, [{ templates: [v4, v6] }]),
        encodeIpfix({}, [{ withdraw: [v4.id] }]),
        encodeIpfix({}, [{ template: v4, records: [syn] }]),
      ]);
      expect(counts).toEqual([0, 0, 0]);
      expect(out.length).toBe(0);
      expect(ctx.stats.notices.get('template-withdrawn')).toBe(1);
      expect(ctx.stats.notices.get('unknown-template')).toBe(1);
      expect(d.templates.templateCount).toBe(1);
    });

    it('withdraws all data templates (id 2) or all options templates (id 3) of the domain', () => {
      const d = new IpfixDecoder();
      const { ctx } = decodeAll(d, [
        encodeIpfix({}, [{ templates: [v4, v6] }, { templates: [options], options: true }]),
        encodeIpfix({ domain: 1 }, [{ templates: [v4] }]),
        encodeIpfix({}, [{ withdraw: [2] }]),
      ]);
      const domains = d.templates.findExporter('192.0.2.1')!.domains;
      expect([...domains.get(0)!.templates.keys()]).toEqual([400]);
      expect([...domains.get(1)!.templates.keys()]).toEqual([1024]);
      decodeAll(d, [encodeIpfix({}, [{ withdraw: [3], options: true }])], ctx);
      expect(domains.get(0)!.templates.size).toBe(0);
      expect(ctx.stats.notices.get('template-withdrawn')).toBe(3);
      expect(d.templates.templateCount).toBe(1);
    });

    it('refuses a withdrawal of a reserved id', () => {
      expectWireError(
        () =>
          new IpfixDecoder().decode(
            encodeIpfix({}, [{ withdraw: [5] }]),
            testDecodeContext(),
            new FlowBatch(4),
          ),
        'FG_ERR_WIRE_VALUE',
        20,
      );
    });

    it('replaces a template redefined under the same id', () => {
      const d = new IpfixDecoder();
      const narrow: TemplateSpec = {
        id: v4.id,
        fields: [
          { id: IE.destinationIPv4Address, length: 4 },
          { id: IE.packetDeltaCount, length: 2 },
        ],
      };
      const { out } = decodeAll(d, [
        encodeIpfix({}, [{ templates: [v4] }, { template: v4, records: [syn] }]),
        encodeIpfix({}, [
          { templates: [narrow] },
          {
            template: narrow,
            records: [{ [IE.destinationIPv4Address]: '192.0.2.99', [IE.packetDeltaCount]: 9 }],
          },
        ]),
      ]);
      expect(flowRows(out).map((r) => [r.dstAddr, r.packets])).toEqual([
        ['203.0.113.20', 2],
        ['192.0.2.99', 9],
      ]);
      expect(d.templates.templateCount).toBe(1);
    });
  });

  describe('sampling', () => {
    const flow: TemplateSpec = {
      id: 500,
      fields: [
        { id: IE.destinationIPv4Address, length: 4 },
        { id: IE.packetDeltaCount, length: 4 },
        { id: IE.octetDeltaCount, length: 4 },
        { id: IE.selectorId, length: 2 },
      ],
    };
    const rec = (selector: number) => ({
      [IE.destinationIPv4Address]: '192.0.2.1',
      [IE.packetDeltaCount]: 2,
      [IE.octetDeltaCount]: 100,
      [IE.selectorId]: selector,
    });

    it('applies PSAMP count-based intervals per selector id, from options data', () => {
      const psamp: TemplateSpec = {
        id: 256,
        scopeCount: 1,
        fields: [
          { id: IE.selectorId, length: 8 },
          { id: 304, length: 2 }, // selectorAlgorithm
          { id: IE.samplingPacketInterval, length: 4 },
          { id: IE.samplingPacketSpace, length: 4 },
        ],
      };
      const { out, ctx } = decodeAll(new IpfixDecoder(), [
        encodeIpfix({}, [
          { templates: [psamp], options: true },
          { templates: [flow] },
          {
            template: psamp,
            records: [
              { [IE.selectorId]: 5, '304': 1, [IE.samplingPacketInterval]: 1, [IE.samplingPacketSpace]: 99 },
              { [IE.selectorId]: 6, '304': 1, [IE.samplingPacketInterval]: 1, [IE.samplingPacketSpace]: 0 },
            ],
          },
          { template: flow, records: [rec(5), rec(6), rec(0)] },
        ]),
      ]);
      expect(flowRows(out).map((r) => [r.samplingRate, r.packets, r.bytes, r.sampledPackets])).toEqual([
        [100, 200, 10_000, 2],
        [1, 2, 100, 2],
        [1, 2, 100, 2], // unknown selector: the domain's latest rate (selector 6's)
      ]);
      expect(ctx.stats.notices.get('sampling-default-used')).toBeUndefined();
    });

    it('reads samplerRandomInterval, n-out-of-N and probability forms', () => {
      const forms: TemplateSpec = {
        id: 257,
        scopeCount: 1,
        fields: [
          { id: IE.samplerId, length: 1 },
          { id: IE.samplerRandomInterval, length: 2 },
          { id: IE.samplingSize, length: 4 },
          { id: IE.samplingPopulation, length: 4 },
          { id: IE.samplingProbability, length: 8 },
        ],
      };
      const bySampler: TemplateSpec = {
        id: 501,
        fields: [
          { id: IE.destinationIPv4Address, length: 4 },
          { id: IE.packetDeltaCount, length: 4 },
          { id: IE.samplerId, length: 1 },
        ],
      };
      const { out } = decodeAll(new IpfixDecoder(), [
        encodeIpfix({}, [
          { templates: [forms], options: true },
          { templates: [bySampler] },
          {
            template: forms,
            records: [
              { [IE.samplerId]: 1, [IE.samplerRandomInterval]: 512 },
              { [IE.samplerId]: 2, [IE.samplingSize]: 10, [IE.samplingPopulation]: 10_000 },
              { [IE.samplerId]: 3, [IE.samplingProbability]: { float: 0.001 } },
            ],
          },
          {
            template: bySampler,
            records: [1, 2, 3].map((s) => ({
              [IE.destinationIPv4Address]: '192.0.2.1',
              [IE.packetDeltaCount]: 1,
              [IE.samplerId]: s,
            })),
          },
        ]),
      ]);
      expect(Array.from(out.samplingRate.subarray(0, 3))).toEqual([512, 1000, 1000]);
    });

    it('uses a rate carried in the flow record itself', () => {
      const inline: TemplateSpec = {
        id: 502,
        fields: [
          { id: IE.destinationIPv4Address, length: 4 },
          { id: IE.packetDeltaCount, length: 4 },
          { id: IE.samplingInterval, length: 4 },
        ],
      };
      const { out, ctx } = decodeAll(
        new IpfixDecoder(),
        [
          encodeIpfix({}, [
            { templates: [inline] },
            {
              template: inline,
              records: [
                {
                  [IE.destinationIPv4Address]: '192.0.2.1',
                  [IE.packetDeltaCount]: 3,
                  [IE.samplingInterval]: 64,
                },
                {
                  [IE.destinationIPv4Address]: '192.0.2.1',
                  [IE.packetDeltaCount]: 3,
                  [IE.samplingInterval]: 0,
                },
              ],
            },
          ]),
        ],
        testDecodeContext({ defaultRate: 5 }),
      );
      expect(flowRows(out).map((r) => [r.samplingRate, r.packets])).toEqual([
        [64, 192],
        [5, 15],
      ]);
      expect(ctx.stats.notices.get('sampling-default-used')).toBe(1);
    });

    it('takes a configured override over a rate in the record, per observation domain', () => {
      const inline: TemplateSpec = {
        id: 502,
        fields: [
          { id: IE.destinationIPv4Address, length: 4 },
          { id: IE.packetDeltaCount, length: 4 },
          { id: IE.octetDeltaCount, length: 4 },
          { id: IE.samplingInterval, length: 4 },
        ],
      };
      const record = (interval: number) => ({
        [IE.destinationIPv4Address]: '192.0.2.1',
        [IE.packetDeltaCount]: 3,
        [IE.octetDeltaCount]: 300,
        [IE.samplingInterval]: interval,
      });
      const message = (domain: number) =>
        encodeIpfix({ domain }, [
          { templates: [inline] },
          { template: inline, records: [record(64), record(0)] },
        ]);
      const { out, ctx } = decodeAll(
        new IpfixDecoder(),
        [message(77), message(78)],
        testDecodeContext({
          exporter: '2001:db8::5',
          defaultRate: 5,
          overrides: [{ exporter: '2001:db8::/64', sourceId: 77, rate: 1024 }],
        }),
      );
      expect(
        flowRows(out).map((r) => [r.sourceId, r.samplingRate, r.sampledPackets, r.packets, r.bytes]),
      ).toEqual([
        [77, 1024, 3, 3072, 307_200],
        [77, 1024, 3, 3072, 307_200],
        [78, 64, 3, 192, 19_200],
        [78, 5, 3, 15, 1_500],
      ]);
      expect(ctx.stats.notices.get('sampling-override-used')).toBe(1);
      expect(ctx.stats.notices.get('sampling-default-used')).toBe(1);
    });
  });

  describe('flow times', () => {
    const uptime: TemplateSpec = {
      id: 600,
      fields: [
        { id: IE.destinationIPv4Address, length: 4 },
        { id: IE.flowStartSysUpTime, length: 4 },
        { id: IE.flowEndSysUpTime, length: 4 },
      ],
    };
    const init: TemplateSpec = {
      id: 256,
      scopeCount: 1,
      fields: [
        { id: 143, length: 4 }, // meteringProcessId
        { id: IE.systemInitTimeMilliseconds, length: 8 },
      ],
    };
    const uptimeRecord = {
      [IE.destinationIPv4Address]: '192.0.2.1',
      [IE.flowStartSysUpTime]: 5000,
      [IE.flowEndSysUpTime]: 7500,
    };

    it('takes sysUpTime-relative times from systemInitTimeMilliseconds in options data', () => {
      const { out, ctx } = decodeAll(new IpfixDecoder(), [
        encodeIpfix({}, [
          { templates: [init], options: true },
          { templates: [uptime] },
          { template: init, records: [{ '143': 1, [IE.systemInitTimeMilliseconds]: 1_699_990_000_000 }] },
          { template: uptime, records: [uptimeRecord] },
        ]),
      ]);
      expect(flowRow(out, 0)).toMatchObject({ startMs: 1_699_990_005_000, endMs: 1_699_990_007_500 });
      expect(ctx.stats.notices.get('system-init-time-unknown')).toBeUndefined();
    });

    it('falls back to the export time without systemInitTimeMilliseconds, and counts it', () => {
      const { out, ctx } = decodeAll(new IpfixDecoder(), [
        encodeIpfix({}, [{ templates: [uptime] }, { template: uptime, records: [uptimeRecord] }]),
      ]);
      expect(flowRow(out, 0)).toMatchObject({ startMs: EXPORT_MS, endMs: EXPORT_MS });
      expect(ctx.stats.notices.get('system-init-time-unknown')).toBe(1);
      expect(ctx.stats.notices.get('flow-time-missing')).toBe(1);
    });

    it('reads seconds, NTP micro/nanoseconds, deltas and durations', () => {
      const fields = (ids: [number, number][]): TemplateSpec['fields'] => [
        { id: IE.destinationIPv4Address, length: 4 },
        ...ids.map(([id, length]) => ({ id, length })),
      ];
      const ntp = (unixMs: number) => {
        const seconds = BigInt(Math.floor(unixMs / 1000) + 2_208_988_800);
        const fraction = BigInt(Math.round(((unixMs % 1000) / 1000) * 2 ** 32));
        return (seconds << 32n) | fraction;
      };
      const cases: [TemplateSpec, RecordValues, number, number][] = [
        [
          {
            id: 700,
            fields: fields([
              [IE.flowStartSeconds, 4],
              [IE.flowEndSeconds, 4],
            ]),
          },
          { [IE.flowStartSeconds]: 1_699_999_000, [IE.flowEndSeconds]: 1_699_999_001 },
          1_699_999_000_000,
          1_699_999_001_000,
        ],
        [
          {
            id: 701,
            fields: fields([
              [IE.flowStartMicroseconds, 8],
              [IE.flowEndNanoseconds, 8],
            ]),
          },
          { [IE.flowStartMicroseconds]: ntp(START), [IE.flowEndNanoseconds]: ntp(START + 250) },
          START,
          START + 250,
        ],
        [
          {
            id: 702,
            fields: fields([
              [IE.flowStartDeltaMicroseconds, 4],
              [IE.flowEndDeltaMicroseconds, 4],
            ]),
          },
          { [IE.flowStartDeltaMicroseconds]: 3_000_000, [IE.flowEndDeltaMicroseconds]: 1_000_000 },
          EXPORT_MS - 3000,
          EXPORT_MS - 1000,
        ],
        [
          {
            id: 703,
            fields: fields([
              [IE.flowStartMilliseconds, 8],
              [IE.flowDurationMilliseconds, 4],
            ]),
          },
          { [IE.flowStartMilliseconds]: START, [IE.flowDurationMilliseconds]: 1500 },
          START,
          START + 1500,
        ],
        [
          {
            id: 704,
            fields: fields([
              [IE.flowDurationMicroseconds, 4],
              [IE.flowEndMilliseconds, 8],
            ]),
          },
          { [IE.flowDurationMicroseconds]: 2_000_000, [IE.flowEndMilliseconds]: START },
          START - 2000,
          START,
        ],
        [
          // Seconds and milliseconds both present: the finer wins whatever the order.
          {
            id: 705,
            fields: fields([
              [IE.flowStartMilliseconds, 8],
              [IE.flowStartSeconds, 4],
              [IE.flowEndSeconds, 4],
            ]),
          },
          { [IE.flowStartMilliseconds]: START, [IE.flowStartSeconds]: 1, [IE.flowEndSeconds]: 1_700_000_000 },
          START,
          EXPORT_MS,
        ],
      ];
      for (const [t, values, start, end] of cases) {
        const { out } = decodeAll(new IpfixDecoder(), [
          encodeIpfix({}, [
            { templates: [t] },
            { template: t, records: [{ [IE.destinationIPv4Address]: '192.0.2.1', ...values }] },
          ]),
        ]);
        expect([t.id, out.startMs[0], out.endMs[0]]).toEqual([t.id, start, end]);
      }
    });
  });

  it('marks fragments from fragmentFlags and fragmentOffset', () => {
    const t: TemplateSpec = {
      id: 800,
      fields: [
        { id: IE.destinationIPv4Address, length: 4 },
        { id: IE.fragmentFlags, length: 1 },
      ],
    };
    const both: TemplateSpec = { id: 801, fields: [...t.fields, { id: IE.fragmentOffset, length: 2 }] };
    const dst = { [IE.destinationIPv4Address]: '192.0.2.1' };
    const { out } = decodeAll(new IpfixDecoder(), [
      encodeIpfix({}, [
        { templates: [t, both] },
        {
          template: t,
          records: [
            { ...dst, [IE.fragmentFlags]: 0x20 },
            { ...dst, [IE.fragmentFlags]: 0x40 },
          ],
        },
        {
          template: both,
          records: [
            { ...dst, [IE.fragmentFlags]: 0x40, [IE.fragmentOffset]: 0 },
            { ...dst, [IE.fragmentFlags]: 0, [IE.fragmentOffset]: 100 },
          ],
        },
      ]),
    ]);
    expect(Array.from(out.fragment.subarray(0, 4))).toEqual([
      FRAGMENT_YES,
      FRAGMENT_UNKNOWN,
      FRAGMENT_NO,
      FRAGMENT_YES,
    ]);
  });

  it('keeps an options template scope as elements (a sampler id scope names the sampler)', () => {
    const scoped: TemplateSpec = {
      id: 258,
      scopeCount: 1,
      fields: [
        { id: IE.samplerId, length: 4 },
        { id: IE.samplingInterval, length: 4 },
      ],
    };
    const d = new IpfixDecoder();
    decodeAll(d, [
      encodeIpfix({}, [
        { templates: [scoped], options: true },
        { template: scoped, records: [{ [IE.samplerId]: 42, [IE.samplingInterval]: 2000 }] },
      ]),
    ]);
    const domain = d.templates.findExporter('192.0.2.1')!.domains.get(0)!;
    expect([...domain.samplerRates]).toEqual([[42, 2000]]);
    expect(domain.samplingRate).toBe(2000);
  });

  describe('data before its template', () => {
    it('decodes held data sets, data and options, when their templates arrive', () => {
      const d = new IpfixDecoder();
      const options: TemplateSpec = {
        id: 256,
        scopeCount: 1,
        fields: [
          { id: 143, length: 4 },
          { id: IE.samplingInterval, length: 4 },
        ],
      };
      const ctx = testDecodeContext({ arrivalMs: T0 });
      const out = new FlowBatch(8);
      expect(
        d.decode(
          encodeIpfix({}, [
            { template: options, records: [{ [IE.samplingInterval]: 10 }] },
            { template: v4, records: [syn] },
          ]),
          ctx,
          out,
        ),
      ).toBe(0);
      ctx.arrivalMs = T0 + 9000;
      expect(
        d.decode(encodeIpfix({}, [{ templates: [options], options: true }, { templates: [v4] }]), ctx, out),
      ).toBe(1);
      expect(flowRow(out, 0)).toMatchObject({
        dstAddr: '203.0.113.20',
        samplingRate: 10,
        packets: 20,
        arrivalMs: T0,
      });
      expect(ctx.stats.notices.get('unknown-template')).toBe(2);
      expect(ctx.stats.notices.get('unknown-template-recovered')).toBe(2);
    });

    it('bounds what it holds per exporter and counts what it drops', () => {
      const cache = new TemplateCache('ipfix', { maxPendingSetsPerExporter: 3 });
      const d = new IpfixDecoder(cache);
      const ctx = testDecodeContext({ arrivalMs: T0 });
      const out = new FlowBatch(16);
      for (let i = 0; i < 5; i++) d.decode(encodeIpfix({}, [{ template: v4, records: [syn] }]), ctx, out);
      expect(ctx.stats.notices.get('unknown-template-dropped')).toBe(2);
      expect(d.decode(encodeIpfix({}, [{ templates: [v4] }]), ctx, out)).toBe(3);
      expect(cache.pendingBytes).toBe(0);
    });

    it('drops a held set the new template does not frame', () => {
      const d = new IpfixDecoder();
      const ctx = testDecodeContext({ arrivalMs: T0 });
      const out = new FlowBatch(8);
      const varT: TemplateSpec = {
        id: 900,
        fields: [
          { id: IE.destinationIPv4Address, length: 4 },
          { id: 82, length: VARIABLE },
        ],
      };
      // Bytes that a variable-length template cannot frame: 4 address bytes, then a length of 200.
      d.decode(
        encodeIpfix({}, [{ raw: { setId: 900, body: Uint8Array.of(192, 0, 2, 1, 200, 1, 2) } }]),
        ctx,
        out,
      );
      expect(d.decode(encodeIpfix({}, [{ templates: [varT] }]), ctx, out)).toBe(0);
      expect(ctx.stats.notices.get('unknown-template-mismatch')).toBe(1);
    });
  });

  describe('malformed messages', () => {
    const good = encodeIpfix({}, [{ templates: [v4] }, { template: v4, records: [syn] }]);

    it('refuses a short header, another version, and a length that disagrees with the datagram', () => {
      const d = new IpfixDecoder();
      const ctx = testDecodeContext();
      const out = new FlowBatch(4);
      expectWireError(() => d.decode(good.subarray(0, 15), ctx, out), 'FG_ERR_WIRE_TRUNCATED', 15);
      expectWireError(
        () => d.decode(encodeIpfix({}, [], { version: 9 }), ctx, out),
        'FG_ERR_WIRE_VERSION',
        0,
      );
      expectWireError(
        () => d.decode(good.subarray(0, good.length - 1), ctx, out),
        'FG_ERR_WIRE_TRUNCATED',
        good.length - 1,
      );
      const longer = new Uint8Array(good.length + 2);
      longer.set(good);
      expectWireError(() => d.decode(longer, ctx, out), 'FG_ERR_WIRE_LENGTH', good.length);
      expectWireError(() => d.decode(encodeIpfix({}, [], { length: 8 }), ctx, out), 'FG_ERR_WIRE_VALUE', 2);
      expect(d.templates.templateCount).toBe(0);
    });

    it('refuses set lengths that do not frame the message, before learning anything', () => {
      const d = new IpfixDecoder();
      const dataSetAt = good.length - (4 + 56); // one 56-byte record
      for (const setLength of [0, 3, 0xffff]) {
        const bad = Uint8Array.from(good);
        bad[dataSetAt + 2] = setLength >>> 8;
        bad[dataSetAt + 3] = setLength & 0xff;
        expectWireError(
          () => d.decode(bad, testDecodeContext(), new FlowBatch(4)),
          'FG_ERR_WIRE_LENGTH',
          dataSetAt + 2,
        );
      }
      // The message length leaves 2 bytes after the template set: half a set header.
      const cutHeader = Uint8Array.from(good.subarray(0, dataSetAt + 2));
      cutHeader[2] = cutHeader.length >>> 8;
      cutHeader[3] = cutHeader.length & 0xff;
      expectWireError(
        () => d.decode(cutHeader, testDecodeContext(), new FlowBatch(4)),
        'FG_ERR_WIRE_TRUNCATED',
        dataSetAt,
      );
      expect(d.templates.templateCount).toBe(0);
    });

    it('refuses options templates with no scope or more scope fields than fields', () => {
      for (const scopeCount of [0, 3]) {
        const t: TemplateSpec = {
          id: 256,
          scopeCount,
          fields: [
            { id: IE.samplerId, length: 1 },
            { id: IE.samplingInterval, length: 4 },
          ],
        };
        expectWireError(
          () =>
            new IpfixDecoder().decode(
              encodeIpfix({}, [{ templates: [t], options: true }]),
              testDecodeContext(),
              new FlowBatch(4),
            ),
          'FG_ERR_WIRE_VALUE',
          24,
        );
      }
    });

    it('refuses a template whose field count runs past its set, enterprise specifiers included', () => {
      const t: TemplateSpec = { id: 256, fields: [{ id: 1, length: 4, enterprise: 9 }] };
      const bytes = encodeIpfix({}, [{ templates: [t] }]);
      const cut = encodeIpfix({}, [{ raw: { setId: 2, body: bytes.subarray(20, bytes.length - 2) } }]);
      expectWireError(
        () => new IpfixDecoder().decode(cut, testDecodeContext(), new FlowBatch(4)),
        'FG_ERR_WIRE_TRUNCATED',
        24,
      );
    });

    it('skips reserved set ids, accepts zero padding in template sets', () => {
      const ctx = testDecodeContext();
      const datagram = encodeIpfix({}, [
        { raw: { setId: 1, body: new Uint8Array(4) } },
        { raw: { setId: 100, body: new Uint8Array(0) } },
        { templates: [v4], padding: 7 },
        { template: v4, records: [syn] },
      ]);
      expect(new IpfixDecoder().decode(datagram, ctx, new FlowBatch(4))).toBe(1);
      expect(ctx.stats.notices.get('reserved-set-id')).toBe(2);
    });
  });

  describe('limits against hostile exporters', () => {
    it('refuses templates with more fields than the cap, and goes on with the set', () => {
      const cache = new TemplateCache('ipfix', { maxFieldsPerTemplate: 4 });
      const wide: TemplateSpec = {
        id: 260,
        fields: Array.from({ length: 5 }, () => ({ id: 210, length: 1 })),
      };
      const ctx = testDecodeContext();
      const small: TemplateSpec = { id: 261, fields: v4.fields.slice(0, 4) };
      new IpfixDecoder(cache).decode(encodeIpfix({}, [{ templates: [wide, small] }]), ctx, new FlowBatch(4));
      expect(ctx.stats.notices.get('template-limit')).toBe(1);
      expect(cache.templateCount).toBe(1);
    });

    it('evicts the least recently refreshed template of an exporter at its cap', () => {
      const cache = new TemplateCache('ipfix', { maxTemplatesPerExporter: 2 });
      const d = new IpfixDecoder(cache);
      const ctx = testDecodeContext();
      const t = (id: number): TemplateSpec => ({ id, fields: v4.fields });
      ctx.arrivalMs = T0;
      d.decode(encodeIpfix({}, [{ templates: [t(300)] }]), ctx, new FlowBatch(4));
      ctx.arrivalMs = T0 + 1;
      d.decode(encodeIpfix({}, [{ templates: [t(301)] }]), ctx, new FlowBatch(4));
      ctx.arrivalMs = T0 + 2;
      d.decode(encodeIpfix({}, [{ templates: [t(300)] }]), ctx, new FlowBatch(4)); // refresh 300
      ctx.arrivalMs = T0 + 3;
      d.decode(encodeIpfix({ domain: 5 }, [{ templates: [t(302)] }]), ctx, new FlowBatch(4));
      const domains = cache.findExporter('192.0.2.1')!.domains;
      expect([...domains.get(0)!.templates.keys()]).toEqual([300]);
      expect([...domains.get(5)!.templates.keys()]).toEqual([302]);
      expect(cache.templateCount).toBe(2);
    });

    it('refuses new templates when the whole cache is full and the exporter has none to give', () => {
      const cache = new TemplateCache('ipfix', { maxTemplates: 1 });
      const d = new IpfixDecoder(cache);
      d.decode(
        encodeIpfix({}, [{ templates: [v4] }]),
        testDecodeContext({ exporter: '192.0.2.1' }),
        new FlowBatch(4),
      );
      const other = testDecodeContext({ exporter: '192.0.2.2' });
      d.decode(encodeIpfix({}, [{ templates: [v6] }]), other, new FlowBatch(4));
      expect(other.stats.notices.get('template-limit')).toBe(1);
      expect(cache.templateCount).toBe(1);
    });

    it('caps domains per exporter', () => {
      const cache = new TemplateCache('ipfix', { maxDomainsPerExporter: 2 });
      const d = new IpfixDecoder(cache);
      const ctx = testDecodeContext();
      for (const domain of [1, 2, 3])
        d.decode(encodeIpfix({ domain }, [{ templates: [v4] }]), ctx, new FlowBatch(4));
      expect(ctx.stats.notices.get('template-limit')).toBe(1);
      expect(cache.templateCount).toBe(2);
      // Data for the domain without state is unknown, not an error.
      expect(
        d.decode(encodeIpfix({ domain: 3 }, [{ template: v4, records: [syn] }]), ctx, new FlowBatch(4)),
      ).toBe(0);
    });

    it('lets a template refresh loop over one id cost no new state', () => {
      const d = new IpfixDecoder();
      const ctx = testDecodeContext();
      const other: TemplateSpec = { id: v4.id, fields: v6.fields };
      const flipping = encodeIpfix({}, [
        { templates: Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? v4 : other)) },
      ]);
      d.decode(flipping, ctx, new FlowBatch(4));
      expect(d.templates.templateCount).toBe(1);
      expect(
        d.templates.findExporter('192.0.2.1')!.domains.get(0)!.templates.get(v4.id)!.definition.ids.length,
      ).toBe(v6.fields.length);
    });
  });
});
