import { describe, expect, it } from 'vitest';
import { createDecoderTable } from '../../../collectors/registry.js';
import type { SamplingOverrideConfig } from '../../../collectors/sampling-overrides.js';
import { SflowV5Decoder } from '../../../collectors/sflow/v5.js';
import { FlowBatch, FRAGMENT_NO, FRAGMENT_UNKNOWN, FRAGMENT_YES } from '../../../core/flow/flow-batch.js';
import { testDecodeContext } from '../../helpers/decode-context.js';
import { flowRow, flowRows } from '../../helpers/flow-row.js';
import {
  ethernet,
  icmp,
  ipv4,
  ipv6,
  payload,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  tcp,
  udp,
} from '../../helpers/raw-packets.js';
import {
  type CounterSampleSpec,
  encodeSflow,
  type FlowRecordSpec,
  type FlowSampleSpec,
  interfaceWord,
  type SflowDatagramSpec,
} from '../../helpers/sflow.js';

const ARRIVAL = 1_700_000_001_000;
const V4 = { src: '198.51.100.7', dst: '203.0.113.10' };
const V6 = { src: '2001:db8::7', dst: '2001:db8:1::10' };

function flowSample(header: Uint8Array, more: Partial<FlowSampleSpec> = {}): FlowSampleSpec {
  return {
    kind: 'flow',
    samplingRate: 1000,
    input: 7,
    output: 9,
    records: [
      { kind: 'extended-switch', srcVlan: 10, dstVlan: 10 },
      { kind: 'raw-header', header },
    ],
    ...more,
  };
}

function decodeOne(
  spec: SflowDatagramSpec,
  options: { defaultRate?: number; overrides?: SamplingOverrideConfig[] } = {},
) {
  const decoder = new SflowV5Decoder();
  const ctx = testDecodeContext({ arrivalMs: ARRIVAL, ...options });
  const out = new FlowBatch(64);
  const n = decoder.decode(encodeSflow(spec), ctx, out);
  expect(n).toBe(out.length);
  return { decoder, ctx, out, rows: flowRows(out) };
}

const ntp = ipv4({ ...V4, protocol: 17, body: udp(123, 40_000, payload(468)) }); // 496 bytes

describe('sFlow v5 decoder: flow samples', () => {
  it('turns one sampled IPv4 packet into one scaled row', () => {
    const { rows, ctx } = decodeOne({
      subAgentId: 3,
      samples: [flowSample(ethernet(ntp), { samplingRate: 1000, input: 7, output: 9 })],
    });
    expect(rows).toEqual([
      {
        ipVersion: 4,
        exporter: '192.0.2.1',
        sourceId: 3,
        srcAddr: '198.51.100.7',
        dstAddr: '203.0.113.10',
        srcPort: 123,
        dstPort: 40_000,
        protocol: 17,
        tcpFlags: 0,
        icmpType: 0,
        icmpCode: 0,
        fragment: FRAGMENT_NO,
        inputIf: 7,
        outputIf: 9,
        packets: 1000,
        bytes: 496 * 1000,
        sampledPackets: 1,
        samplingRate: 1000,
        startMs: ARRIVAL,
        endMs: ARRIVAL,
        arrivalMs: ARRIVAL,
      },
    ]);
    expect(ctx.stats.lastSamplingRate).toBe(1000);
    expect(ctx.stats.notices.size).toBe(0);
  });

  it('counts bytes as the IP length, not the frame length (514 for a 496-byte packet)', () => {
    const frame = ethernet(ntp);
    expect(frame.length + 4).toBe(514);
    const { rows } = decodeOne({
      samples: [
        // The header copy is cut to 128 bytes as agents do; the IP header still says 496.
        flowSample(frame.subarray(0, 128), {
          samplingRate: 1,
          records: [{ kind: 'raw-header', header: frame.subarray(0, 128), frameLength: 514, stripped: 4 }],
        }),
      ],
    });
    expect(rows[0]).toMatchObject({ bytes: 496, packets: 1 });
  });

  it('counts a 40-byte SYN as 40 bytes although its Ethernet frame is padded to 64', () => {
    const syn = ethernet(ipv4({ ...V4, protocol: 6, body: tcp(40_000, 80, TCP_SYN) }), { padTo: 60 });
    const { rows } = decodeOne({
      samples: [
        flowSample(syn, { samplingRate: 2, records: [{ kind: 'raw-header', header: syn, frameLength: 64 }] }),
      ],
    });
    expect(rows[0]).toMatchObject({ bytes: 80, packets: 2, protocol: 6, tcpFlags: TCP_SYN, dstPort: 80 });
  });

  it('reads TCP flags as the sampled packet carries them', () => {
    const flags = [TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK | TCP_PSH, TCP_FIN | TCP_ACK, TCP_RST, 0xff];
    const { rows } = decodeOne({
      samples: flags.map((f) =>
        flowSample(ethernet(ipv4({ ...V4, protocol: 6, body: tcp(443, 50_000, f) }))),
      ),
    });
    expect(rows.map((r) => r.tcpFlags)).toEqual(flags);
    expect(rows.every((r) => r.srcPort === 443 && r.dstPort === 50_000)).toBe(true);
  });

  it('reads ICMP and ICMPv6 type and code, with ports 0', () => {
    const { rows } = decodeOne({
      samples: [
        flowSample(ethernet(ipv4({ ...V4, protocol: 1, body: icmp(8, 0, payload(56)) }))),
        flowSample(ethernet(ipv4({ ...V4, protocol: 1, body: icmp(3, 3, payload(28)) }))),
        flowSample(ethernet(ipv6({ ...V6, protocol: 58, body: icmp(1, 4, payload(48)) }))),
      ],
    });
    expect(
      rows.map((r) => [r.protocol, r.icmpType, r.icmpCode, r.srcPort, r.dstPort, r.bytes! / 1000]),
    ).toEqual([
      [1, 8, 0, 0, 0, 84],
      [1, 3, 3, 0, 0, 56],
      [58, 1, 4, 0, 0, 96],
    ]);
  });

  it('decodes IPv6 with extension headers, addresses in full', () => {
    const packet = ipv6({
      ...V6,
      protocol: 17,
      body: udp(53, 33_333, payload(100)),
      extensions: [{ kind: 'hop-by-hop' }, { kind: 'destination', units: 1 }],
    });
    const { rows } = decodeOne({ samples: [flowSample(ethernet(packet), { samplingRate: 10 })] });
    expect(rows[0]).toMatchObject({
      ipVersion: 6,
      srcAddr: '2001:db8::7',
      dstAddr: '2001:db8:1::10',
      protocol: 17,
      srcPort: 53,
      dstPort: 33_333,
      fragment: FRAGMENT_NO,
      bytes: packet.length * 10,
      packets: 10,
    });
  });

  it('decodes the same row through 802.1Q and QinQ tags', () => {
    const packet = ipv4({ ...V4, protocol: 17, body: udp(1, 2, payload(10)) });
    const { rows } = decodeOne({
      samples: [
        flowSample(ethernet(packet)),
        flowSample(ethernet(packet, { vlans: [100] })),
        flowSample(ethernet(packet, { vlans: [200, 300] })),
      ],
    });
    expect(rows[1]).toEqual(rows[0]);
    expect(rows[2]).toEqual(rows[0]);
  });

  it('marks IPv4 and IPv6 fragments; ports only from first fragments', () => {
    const body = udp(123, 40_000, payload(1000));
    const { rows } = decodeOne({
      samples: [
        flowSample(ethernet(ipv4({ ...V4, protocol: 17, body, moreFragments: true }))),
        flowSample(ethernet(ipv4({ ...V4, protocol: 17, body: payload(500), fragmentOffset: 126 }))),
        flowSample(
          ethernet(
            ipv6({ ...V6, protocol: 17, body, extensions: [{ kind: 'fragment', offset: 0, more: true }] }),
          ),
        ),
        flowSample(
          ethernet(
            ipv6({
              ...V6,
              protocol: 17,
              body: payload(500),
              extensions: [{ kind: 'fragment', offset: 126, more: false }],
            }),
          ),
        ),
      ],
    });
    expect(
      rows.map((r) => [r.ipVersion, r.fragment, r.protocol, r.srcPort, r.dstPort, r.bytes! / 1000]),
    ).toEqual([
      [4, FRAGMENT_YES, 17, 123, 40_000, 1028],
      [4, FRAGMENT_YES, 17, 0, 0, 520],
      [6, FRAGMENT_YES, 17, 123, 40_000, 1056],
      [6, FRAGMENT_YES, 17, 0, 0, 548],
    ]);
  });

  describe('interfaces', () => {
    it('takes compact ifIndex values and leaves 0 for "internal", dropped and multiple', () => {
      const header = ethernet(ntp);
      const { rows } = decodeOne({
        samples: [
          flowSample(header, { input: interfaceWord(0, 0x3ffffffe), output: interfaceWord(0, 0x3fffffff) }),
          flowSample(header, { input: 5, output: interfaceWord(1, 258) }), // dropped, reason 258
          flowSample(header, { input: 5, output: interfaceWord(2, 7) }), // sent to 7 interfaces
        ],
      });
      expect(rows.map((r) => [r.inputIf, r.outputIf])).toEqual([
        [0x3ffffffe, 0],
        [5, 0],
        [5, 0],
      ]);
    });

    it('takes expanded 32-bit ifIndex values, and 0 for other formats', () => {
      const header = ethernet(ntp);
      const { rows } = decodeOne({
        samples: [
          flowSample(header, {
            expanded: true,
            input: 0x5000_0001,
            output: 0xffff_fffe,
            sourceIdIndex: 0x5000_0001,
          }),
          flowSample(header, { expanded: true, input: 12, output: 2, outputFormat: 2 }),
        ],
      });
      expect(rows.map((r) => [r.inputIf, r.outputIf])).toEqual([
        [0x5000_0001, 0xffff_fffe],
        [12, 0],
      ]);
    });
  });

  describe('sampling rate', () => {
    it('uses each sample’s own rate', () => {
      const header = ethernet(ntp);
      const { rows, ctx } = decodeOne({
        samples: [
          flowSample(header, { samplingRate: 512 }),
          flowSample(header, { samplingRate: 4096, expanded: true }),
        ],
      });
      expect(rows.map((r) => [r.packets, r.bytes, r.sampledPackets, r.samplingRate])).toEqual([
        [512, 496 * 512, 1, 512],
        [4096, 496 * 4096, 1, 4096],
      ]);
      expect(ctx.stats.lastSamplingRate).toBe(4096);
    });

    it('falls back to the configured default for a rate of 0, and counts it', () => {
      const { rows, ctx } = decodeOne(
        {
          samples: [
            flowSample(ethernet(ntp), { samplingRate: 0 }),
            flowSample(ethernet(ntp), { samplingRate: 0 }),
          ],
        },
        { defaultRate: 2048 },
      );
      expect(rows[0]).toMatchObject({
        packets: 2048,
        bytes: 496 * 2048,
        sampledPackets: 1,
        samplingRate: 2048,
      });
      expect(ctx.stats.notices.get('sampling-default-used')).toBe(2);
    });

    it('takes a configured override over every sample’s rate, per sub-agent, counted per sample', () => {
      const header = ethernet(ntp);
      const overrides = [{ exporter: '192.0.2.0/24', sourceId: 3, rate: 4000 }];
      const spec = (subAgentId: number): SflowDatagramSpec => ({
        subAgentId,
        samples: [
          flowSample(header, { samplingRate: 512 }),
          flowSample(header, { samplingRate: 0, expanded: true }),
        ],
      });
      const sub3 = decodeOne(spec(3), { defaultRate: 2048, overrides });
      expect(
        sub3.rows.map((r) => [r.sourceId, r.packets, r.bytes, r.sampledPackets, r.samplingRate]),
      ).toEqual([
        [3, 4000, 496 * 4000, 1, 4000],
        [3, 4000, 496 * 4000, 1, 4000],
      ]);
      expect(Object.fromEntries(sub3.ctx.stats.notices)).toEqual({ 'sampling-override-used': 2 });
      const sub4 = decodeOne(spec(4), { defaultRate: 2048, overrides });
      expect(sub4.rows.map((r) => r.samplingRate)).toEqual([512, 2048]);
      expect(Object.fromEntries(sub4.ctx.stats.notices)).toEqual({ 'sampling-default-used': 1 });
    });
  });

  describe('which record gives the packet', () => {
    const sampled: FlowRecordSpec = {
      kind: 'sampled-ipv4',
      length: 1500,
      protocol: 6,
      ...V4,
      srcPort: 443,
      dstPort: 51_000,
      tcpFlags: TCP_ACK | TCP_PSH,
    };

    it('uses a sampled IPv4 record when there is no raw header', () => {
      const { rows } = decodeOne({
        samples: [{ kind: 'flow', samplingRate: 100, records: [{ kind: 'extended-switch' }, sampled] }],
      });
      expect(rows[0]).toMatchObject({
        ipVersion: 4,
        srcAddr: '198.51.100.7',
        dstAddr: '203.0.113.10',
        protocol: 6,
        srcPort: 443,
        dstPort: 51_000,
        tcpFlags: TCP_ACK | TCP_PSH,
        fragment: FRAGMENT_UNKNOWN,
        bytes: 150_000,
        packets: 100,
      });
    });

    it('uses a sampled IPv6 record when there is no raw header; ICMP without ports', () => {
      const { rows } = decodeOne({
        samples: [
          {
            kind: 'flow',
            samplingRate: 10,
            records: [{ kind: 'sampled-ipv6', length: 104, protocol: 58, ...V6, srcPort: 128, dstPort: 0 }],
          },
          {
            kind: 'flow',
            samplingRate: 10,
            records: [
              {
                kind: 'sampled-ipv6',
                length: 60,
                protocol: 17,
                ...V6,
                srcPort: 53,
                dstPort: 9999,
                tcpFlags: 0xff,
              },
            ],
          },
        ],
      });
      expect(
        rows.map((r) => [r.ipVersion, r.dstAddr, r.protocol, r.srcPort, r.dstPort, r.tcpFlags, r.bytes]),
      ).toEqual([
        [6, '2001:db8:1::10', 58, 0, 0, 0, 1040],
        [6, '2001:db8:1::10', 17, 53, 9999, 0, 600],
      ]);
    });

    it('prefers the raw header over a sampled record in the same sample', () => {
      const { rows } = decodeOne({
        samples: [
          {
            kind: 'flow',
            samplingRate: 1,
            records: [sampled, { kind: 'raw-header', header: ethernet(ntp) }],
          },
        ],
      });
      expect(rows[0]).toMatchObject({ protocol: 17, srcPort: 123, bytes: 496, fragment: FRAGMENT_NO });
    });

    it('falls back to the sampled record when the raw header is not IP, counting why', () => {
      const arp = ethernet(payload(28), { ethertype: 0x0806 });
      const { rows, ctx } = decodeOne({
        samples: [{ kind: 'flow', samplingRate: 1, records: [{ kind: 'raw-header', header: arp }, sampled] }],
      });
      expect(rows[0]).toMatchObject({ protocol: 6, bytes: 1500 });
      expect(ctx.stats.notices.get('sflow-sample-not-ip')).toBe(1);
    });

    it('appends nothing for samples without an IP packet, and counts each reason', () => {
      const arp = ethernet(payload(28), { ethertype: 0x0806 });
      const { rows, ctx } = decodeOne({
        samples: [
          { kind: 'flow', records: [{ kind: 'raw-header', header: arp }] },
          { kind: 'flow', records: [{ kind: 'raw-header', header: ethernet(ntp).subarray(0, 20) }] },
          { kind: 'flow', records: [{ kind: 'raw-header', protocol: 15, header: payload(64) }] },
          { kind: 'flow', records: [{ kind: 'extended-switch' }] },
          { kind: 'flow', records: [] },
          flowSample(ethernet(ntp)),
        ],
      });
      expect(rows).toHaveLength(1);
      expect(Object.fromEntries(ctx.stats.notices)).toEqual({
        'sflow-sample-not-ip': 1,
        'sflow-header-cut-short': 1,
        'sflow-header-protocol-unsupported': 1,
        'sflow-sample-without-packet': 2,
      });
    });

    it('takes the IP length from the frame when the IP header gives none (TSO, jumbogram)', () => {
      const tso = ipv4({ ...V4, protocol: 6, body: tcp(1, 2, TCP_ACK, payload(8948)), totalLength: 0 });
      const frame = ethernet(tso, { vlans: [42] });
      const jumbo = ipv6({ ...V6, protocol: 17, body: udp(1, 2, payload(100)), payloadLength: 0 });
      const { rows, ctx } = decodeOne({
        samples: [
          // frame_length counts the FCS and `stripped` says so: 18 + 8988 + 4 - 4 - 18.
          flowSample(frame, {
            samplingRate: 1,
            records: [
              {
                kind: 'raw-header',
                header: frame.subarray(0, 128),
                frameLength: frame.length + 4,
                stripped: 4,
              },
            ],
          }),
          // An agent that leaves the FCS out of `stripped` still had it in frame_length.
          flowSample(frame, {
            samplingRate: 1,
            records: [
              {
                kind: 'raw-header',
                header: frame.subarray(0, 128),
                frameLength: frame.length + 4,
                stripped: 0,
              },
            ],
          }),
          // A bare IP header: frame_length is the IP packet plus whatever was stripped.
          flowSample(jumbo, {
            samplingRate: 1,
            records: [
              { kind: 'raw-header', protocol: 12, header: jumbo, frameLength: jumbo.length, stripped: 0 },
            ],
          }),
        ],
      });
      expect(rows.map((r) => r.bytes)).toEqual([tso.length, tso.length, jumbo.length]);
      expect(ctx.stats.notices.get('sflow-ip-length-from-frame')).toBe(3);
    });
  });

  it('does not let an IP header claim more than its frame: the frame length wins', () => {
    const forged = ipv4({ ...V4, protocol: 17, body: udp(1, 2, payload(100)), totalLength: 65_535 });
    const frame = ethernet(forged);
    const { rows, ctx } = decodeOne({
      samples: [
        flowSample(frame, {
          samplingRate: 1000,
          records: [{ kind: 'raw-header', header: frame, frameLength: frame.length + 4 }],
        }),
        // frame_length 0 says nothing: the header is all there is.
        flowSample(frame, {
          samplingRate: 1,
          records: [{ kind: 'raw-header', header: frame, frameLength: 0 }],
        }),
      ],
    });
    expect(rows.map((r) => r.bytes)).toEqual([forged.length * 1000, 65_535]);
    expect(ctx.stats.notices.get('sflow-ip-length-exceeds-frame')).toBe(1);
  });

  it('skips unknown sample formats and unknown records by their length', () => {
    const { rows, ctx } = decodeOne({
      samples: [
        { kind: 'opaque', enterprise: 4413, format: 5, data: payload(36) },
        { kind: 'opaque', format: 9, data: payload(12) },
        {
          kind: 'flow',
          samplingRate: 1,
          records: [
            { kind: 'opaque', enterprise: 8800, format: 1, data: payload(20) },
            { kind: 'opaque', format: 1002, data: payload(16) },
            { kind: 'raw-header', header: ethernet(ntp) },
            { kind: 'opaque', enterprise: 0, format: 2100, data: new Uint8Array(0) },
          ],
        },
      ],
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ dstAddr: '203.0.113.10', bytes: 496 });
    expect(ctx.stats.notices.get('sflow-sample-format-skipped')).toBe(2);
  });

  it('decodes a datagram from an IPv6 agent, and one with the unknown agent address type', () => {
    for (const agent of ['2001:db8::99', null]) {
      const { rows } = decodeOne({ agent, samples: [flowSample(ethernet(ntp))] });
      expect(rows[0]).toMatchObject({ exporter: '192.0.2.1', dstAddr: '203.0.113.10' });
    }
  });

  it('decodes an empty datagram to nothing', () => {
    expect(decodeOne({ samples: [] }).rows).toEqual([]);
  });

  it('appends after rows already in the batch, and flushes a full batch mid-datagram', () => {
    const delivered: number[][] = [];
    const ctx = testDecodeContext({
      flush: (b) => {
        delivered.push(Array.from(b.srcPort.subarray(0, b.length)));
        b.clear();
      },
    });
    const out = new FlowBatch(4);
    const decoder = new SflowV5Decoder();
    const samples = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) =>
        flowSample(ethernet(ipv4({ ...V4, protocol: 17, body: udp(from + i, 1) }))),
      );
    expect(decoder.decode(encodeSflow({ samples: samples(1, 1) }), ctx, out)).toBe(1);
    expect(decoder.decode(encodeSflow({ samples: samples(2, 9) }), ctx, out)).toBe(9);
    expect(delivered).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    expect(Array.from(out.srcPort.subarray(0, out.length))).toEqual([9, 10]);
  });

  it('allocates nothing per record: half a million samples decode without growing the heap much', () => {
    const datagram = encodeSflow({
      samples: Array.from({ length: 10 }, (_, i) =>
        flowSample(
          ethernet(
            i % 2 === 0
              ? ipv4({ ...V4, protocol: 6, body: tcp(1, 2, TCP_SYN) })
              : ipv6({ ...V6, protocol: 17, body: udp(3, 4), extensions: [{ kind: 'hop-by-hop' }] }),
            { vlans: [i] },
          ),
        ),
      ),
    });
    const decoder = new SflowV5Decoder();
    const ctx = testDecodeContext({ flush: (b) => b.clear() });
    const out = new FlowBatch(8192);
    for (let i = 0; i < 5000; i++) decoder.decode(datagram, ctx, out); // warm up the JIT
    out.clear();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 50_000; i++) decoder.decode(datagram, ctx, out);
    const grown = process.memoryUsage().heapUsed - before;
    expect(grown).toBeLessThan(8 * 1024 * 1024);
  });
});

describe('sFlow v5 decoder: counter samples', () => {
  function counters(
    ifIndex: number,
    more: Partial<CounterSampleSpec> = {},
    values: Record<string, number> = {},
  ) {
    return {
      kind: 'counters' as const,
      sourceIdIndex: ifIndex,
      records: [
        { kind: 'opaque' as const, format: 2, data: payload(52, 0) }, // Ethernet counters: skipped
        { kind: 'generic-interface' as const, ifIndex, ...values },
        { kind: 'opaque' as const, format: 1001, data: payload(28, 0) }, // processor: skipped
      ],
      ...more,
    };
  }

  it('keeps generic interface counters, as JSON, and appends no rows for them', () => {
    const { decoder, rows } = decodeOne({
      agent: '192.0.2.50',
      subAgentId: 2,
      uptimeMs: 86_400_000,
      samples: [
        counters(
          5,
          { sequence: 77 },
          {
            ifType: 6,
            ifSpeed: 100_000_000_000,
            ifDirection: 1,
            ifStatus: 3,
            inOctets: 2 ** 40 + 5,
            inUcastPkts: 4_000_000_000,
            inMulticastPkts: 2,
            inBroadcastPkts: 3,
            inDiscards: 4,
            inErrors: 5,
            inUnknownProtos: 6,
            outOctets: 2 ** 45,
            outUcastPkts: 7,
            outMulticastPkts: 8,
            outBroadcastPkts: 9,
            outDiscards: 10,
            outErrors: 11,
            promiscuousMode: 2,
          },
        ),
        flowSample(ethernet(ntp)),
      ],
    });
    expect(rows).toHaveLength(1);
    const list = decoder.interfaceCounters();
    expect(list).toEqual([
      {
        agent: '192.0.2.50',
        subAgentId: 2,
        exporter: '192.0.2.1',
        ifIndex: 5,
        ifType: 6,
        ifSpeed: 100_000_000_000,
        ifDirection: 1,
        ifStatus: 3,
        adminUp: true,
        operUp: true,
        inOctets: 2 ** 40 + 5,
        inUcastPkts: 4_000_000_000,
        inMulticastPkts: 2,
        inBroadcastPkts: 3,
        inDiscards: 4,
        inErrors: 5,
        inUnknownProtos: 6,
        outOctets: 2 ** 45,
        outUcastPkts: 7,
        outMulticastPkts: 8,
        outBroadcastPkts: 9,
        outDiscards: 10,
        outErrors: 11,
        promiscuousMode: 2,
        sampleSequence: 77,
        agentUptimeMs: 86_400_000,
        receivedAt: new Date(ARRIVAL).toISOString(),
      },
    ]);
    expect(JSON.parse(JSON.stringify(list))).toEqual(list);
  });

  it('keeps the latest per agent and ifIndex, from compact and expanded samples', () => {
    const decoder = new SflowV5Decoder();
    const ctx = testDecodeContext();
    const out = new FlowBatch(8);
    const send = (agent: string, sample: CounterSampleSpec, at: number) => {
      ctx.arrivalMs = at;
      expect(decoder.decode(encodeSflow({ agent, samples: [sample] }), ctx, out)).toBe(0);
    };
    send('192.0.2.50', counters(5, {}, { inOctets: 100, ifStatus: 1 }), 1000);
    send('192.0.2.50', counters(6, { expanded: true }, { inOctets: 200 }), 1000);
    send('2001:db8::50', counters(5, {}, { inOctets: 300 }), 1000);
    send('192.0.2.50', counters(5, { expanded: true }, { inOctets: 150, ifStatus: 1 }), 2000);
    expect(
      decoder
        .interfaceCounters()
        .map((c) => [c.agent, c.ifIndex, c.inOctets, c.adminUp, c.operUp, c.receivedAt]),
    ).toEqual([
      ['192.0.2.50', 5, 150, true, false, new Date(2000).toISOString()],
      ['192.0.2.50', 6, 200, true, true, new Date(1000).toISOString()],
      ['2001:db8::50', 5, 300, true, true, new Date(1000).toISOString()],
    ]);
    expect(out.length).toBe(0);
  });

  it('keeps at most maxInterfaces, dropping the one heard from least recently, and counts it', () => {
    const decoder = new SflowV5Decoder({ maxInterfaces: 2 });
    const ctx = testDecodeContext();
    const out = new FlowBatch(8);
    for (const ifIndex of [1, 2, 1, 3]) {
      decoder.decode(encodeSflow({ samples: [counters(ifIndex)] }), ctx, out);
    }
    expect(decoder.interfaceCounters().map((c) => c.ifIndex)).toEqual([1, 3]);
    expect(ctx.stats.notices.get('sflow-interface-counters-evicted')).toBe(1);
    expect(() => new SflowV5Decoder({ maxInterfaces: 0 })).toThrow(RangeError);
  });

  it('names an agent of the unknown address type ""', () => {
    const { decoder } = decodeOne({ agent: null, samples: [counters(9)] });
    expect(decoder.interfaceCounters().map((c) => [c.agent, c.ifIndex])).toEqual([['', 9]]);
  });
});

describe('sFlow v5 through the decoder table', () => {
  it('is registered: datagrams decode and count per exporter', () => {
    const table = createDecoderTable({ defaultSamplingRate: 100, exporters: { allow: [] } });
    const out = new FlowBatch(16);
    const datagram = encodeSflow({
      samples: [
        flowSample(ethernet(ntp), { samplingRate: 0 }),
        flowSample(ethernet(ntp), { samplingRate: 256 }),
      ],
    });
    const noSink = () => {
      throw new Error('unexpected flush');
    };
    expect(table.decode(datagram, '192.0.2.9', ARRIVAL, out, noSink)).toBe(2);
    expect(flowRow(out, 0)).toMatchObject({ exporter: '192.0.2.9', packets: 100, samplingRate: 100 });
    expect(flowRow(out, 1)).toMatchObject({ packets: 256, bytes: 496 * 256 });
    const e = table.snapshot().exporters[0]!;
    expect(e).toMatchObject({
      address: '192.0.2.9',
      datagrams: 1,
      records: 2,
      errors: {},
      notices: { 'sampling-default-used': 1 },
      lastProtocol: 'sflow-v5',
      lastSamplingRate: 256,
    });
  });
});
