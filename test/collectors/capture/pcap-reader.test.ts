import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  PcapReader,
  readPcapFile,
} from '../../../collectors/capture/pcap-reader.js';
import { createDecoderTable } from '../../../collectors/registry.js';
import { WireError } from '../../../core/errors.js';
import { FlowBatch } from '../../../core/flow/flow-batch.js';
import { encodeNetflowV5 } from '../../helpers/netflow-v5.js';
import { frame, ipv4Tcp, ipv4Udp, ipv6Udp, type PcapPacket, writePcap } from '../../helpers/pcap-writer.js';

const T = 1_700_000_000_123.456;
const payloadA = Uint8Array.of(1, 2, 3, 4, 5);
const payloadB = Uint8Array.of(9, 8, 7);

const v4 = ipv4Udp({
  src: '192.0.2.1',
  dst: '198.51.100.2',
  srcPort: 40000,
  dstPort: 2055,
  payload: payloadA,
});
const v6 = ipv6Udp({
  src: '2001:db8::1',
  dst: '2001:db8::2',
  srcPort: 50000,
  dstPort: 6343,
  payload: payloadB,
});

function collect(reader: PcapReader) {
  return [...reader].map((d) => ({ ...d, payload: Array.from(d.payload) }));
}

const expectedA = {
  srcAddr: '192.0.2.1',
  srcPort: 40000,
  dstAddr: '198.51.100.2',
  dstPort: 2055,
  payload: [1, 2, 3, 4, 5],
};
const expectedB = {
  srcAddr: '2001:db8::1',
  srcPort: 50000,
  dstAddr: '2001:db8::2',
  dstPort: 6343,
  payload: [9, 8, 7],
};

describe('PcapReader', () => {
  const linkTypes = [
    LINKTYPE_ETHERNET,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
  ] as const;
  for (const linkType of linkTypes) {
    for (const littleEndian of [true, false]) {
      for (const nanosecond of [false, true]) {
        it(`reads IPv4 and IPv6 UDP, link type ${linkType}, ${littleEndian ? 'LE' : 'BE'}, ${nanosecond ? 'ns' : 'µs'}`, () => {
          const pcap = writePcap(
            [
              { tsMs: T, frame: frame(linkType, v4) },
              { tsMs: T + 1000.5, frame: frame(linkType, v6) },
            ],
            { linkType, littleEndian, nanosecond },
          );
          const reader = new PcapReader(pcap);
          const got = collect(reader);
          expect(reader.error).toBeUndefined();
          expect(reader).toMatchObject({ linkType, littleEndian, nanosecond, packets: 2, datagrams: 2 });
          expect(got).toEqual([
            { ...expectedA, tsMs: expect.closeTo(T, nanosecond ? 6 : 3) },
            { ...expectedB, tsMs: expect.closeTo(T + 1000.5, nanosecond ? 6 : 3) },
          ]);
        });
      }
    }
  }

  it('reads the per-family raw link types 228 and 229', () => {
    expect(collect(new PcapReader(writePcap([{ tsMs: T, frame: v4 }], { linkType: LINKTYPE_IPV4 })))).toEqual(
      [expect.objectContaining(expectedA)],
    );
    expect(collect(new PcapReader(writePcap([{ tsMs: T, frame: v6 }], { linkType: LINKTYPE_IPV6 })))).toEqual(
      [expect.objectContaining(expectedB)],
    );
  });

  it('reads a loopback capture made on a big-endian host', () => {
    const pcap = writePcap([{ tsMs: T, frame: frame(LINKTYPE_NULL, v4, { nullBigEndian: true }) }], {
      linkType: LINKTYPE_NULL,
    });
    expect(collect(new PcapReader(pcap))).toEqual([expect.objectContaining(expectedA)]);
  });

  it('walks VLAN tags, IPv4 options, Ethernet padding and IPv6 extension headers', () => {
    const small = ipv4Udp(
      { src: '192.0.2.1', dst: '198.51.100.2', srcPort: 1, dstPort: 2, payload: Uint8Array.of(7) },
      { optionsWords: 1 },
    );
    const pcap = writePcap([
      { tsMs: T, frame: frame(1, v4, { vlan: 100 }) },
      { tsMs: T, frame: frame(1, small, { padTo: 60 }) },
      {
        tsMs: T,
        frame: frame(
          1,
          ipv6Udp(
            { src: '2001:db8::1', dst: '2001:db8::2', srcPort: 50000, dstPort: 6343, payload: payloadB },
            { hopByHop: true, fragment: 'atomic' },
          ),
        ),
      },
    ]);
    const got = collect(new PcapReader(pcap));
    expect(got.map((d) => d.payload)).toEqual([[1, 2, 3, 4, 5], [7], [9, 8, 7]]);
    expect(got[2]).toMatchObject({ srcAddr: '2001:db8::1', dstPort: 6343 });
  });

  it('skips what is not whole UDP over IP, and counts why', () => {
    const arp = new Uint8Array(42);
    arp[12] = 0x08;
    arp[13] = 0x06;
    const snapped = frame(1, v4).subarray(0, 14 + 20 + 8 + 2);
    const packets: PcapPacket[] = [
      { tsMs: T, frame: frame(1, ipv4Tcp('192.0.2.1', '192.0.2.2')) },
      { tsMs: T, frame: arp },
      {
        tsMs: T,
        frame: frame(
          1,
          ipv4Udp(
            { ...expectedA, src: '192.0.2.1', dst: '192.0.2.2', payload: payloadA },
            { moreFragments: true },
          ),
        ),
      },
      {
        tsMs: T,
        frame: frame(
          1,
          ipv4Udp(
            { src: '192.0.2.1', dst: '192.0.2.2', srcPort: 1, dstPort: 2, payload: payloadA },
            { fragmentOffset: 8 },
          ),
        ),
      },
      {
        tsMs: T,
        frame: frame(
          1,
          ipv6Udp(
            { src: '2001:db8::1', dst: '2001:db8::2', srcPort: 1, dstPort: 2, payload: payloadB },
            { fragment: 'first' },
          ),
        ),
      },
      { tsMs: T, frame: snapped },
      { tsMs: T, frame: new Uint8Array(10) },
      { tsMs: T, frame: frame(1, v4) },
    ];
    const reader = new PcapReader(writePcap(packets));
    const got = collect(reader);
    expect(got).toHaveLength(1);
    expect(reader.error).toBeUndefined();
    expect(reader.packets).toBe(8);
    expect(Object.fromEntries(reader.skipped)).toEqual({
      'not-udp': 1,
      'not-ip': 1,
      fragment: 3,
      snapped: 1,
      'short-packet': 1,
    });
  });

  it('ends the iteration with a WireError when the file is cut inside a record', () => {
    const whole = writePcap([
      { tsMs: T, frame: frame(1, v4) },
      { tsMs: T, frame: frame(1, v6) },
    ]);
    const firstEnd = 24 + 16 + frame(1, v4).length;
    // Cut in the second record's data, then in its header.
    for (const [cut, offset] of [
      [whole.length - 3, firstEnd + 8],
      [firstEnd + 10, firstEnd],
    ] as const) {
      const reader = new PcapReader(whole.subarray(0, cut), 'cut.pcap');
      const got = collect(reader);
      expect(got).toHaveLength(1);
      expect(reader.error).toBeInstanceOf(WireError);
      expect(reader.error!.code).toBe('FG_ERR_WIRE_TRUNCATED');
      expect(reader.error!.offset).toBe(offset);
      expect(reader.error!.message).toContain('cut.pcap');
    }
  });

  it('reports files that are not classic pcap, without throwing', () => {
    const pcapng = Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, ...new Array(28).fill(0));
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(10), /shorter than a pcap header/],
      [pcapng, /pcapng is not supported/],
      [new Uint8Array(24).fill(0x42), /not a pcap file/],
      [writePcap([], { linkType: 105 }), /link type 105/],
    ];
    for (const [bytes, message] of cases) {
      const reader = new PcapReader(bytes);
      expect(collect(reader)).toEqual([]);
      expect(reader.error).toBeInstanceOf(WireError);
      expect(reader.error!.message).toMatch(message);
    }
  });

  it('never throws on damaged captures', () => {
    const good = writePcap([
      { tsMs: T, frame: frame(1, v4) },
      { tsMs: T, frame: frame(1, v6) },
      {
        tsMs: T,
        frame: frame(
          1,
          ipv6Udp(
            { ...expectedB, src: '2001:db8::1', dst: '2001:db8::2', payload: payloadB },
            { hopByHop: true },
          ),
        ),
      },
    ]);
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }),
        fc.nat(),
        (flips, cut) => {
          const bytes = Uint8Array.from(good);
          for (const f of flips) bytes[24 + (f.at % (bytes.length - 24))] = f.value;
          const reader = new PcapReader(bytes.subarray(0, cut % (bytes.length + 1)));
          for (const d of reader) {
            expect(d.payload.length).toBeLessThanOrEqual(bytes.length);
          }
          expect(reader.datagrams).toBeLessThanOrEqual(3);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('can be iterated twice', () => {
    const reader = new PcapReader(writePcap([{ tsMs: T, frame: frame(1, v4) }]));
    expect(collect(reader)).toHaveLength(1);
    expect(collect(reader)).toHaveLength(1);
    expect(reader.packets).toBe(1);
  });
});

describe('readPcapFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floodgate-pcap-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replays NetFlow v5 datagrams from a capture file into the decoder table', async () => {
    const exporters = ['192.0.2.1', '192.0.2.2'];
    const packets = exporters.flatMap((src, i) =>
      [1, 2, 3].map((n) => ({
        tsMs: T + i * 10 + n,
        frame: frame(
          1,
          ipv4Udp({
            src,
            dst: '198.51.100.9',
            srcPort: 9000,
            dstPort: 2055,
            payload: encodeNetflowV5(
              {},
              Array.from({ length: n }, () => ({ dstAddr: '203.0.113.5' })),
            ),
          }),
        ),
      })),
    );
    const path = join(dir, 'v5.pcap');
    await writeFile(path, writePcap(packets));

    const reader = await readPcapFile(path);
    const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } });
    const out = new FlowBatch(64);
    let records = 0;
    for (const d of reader) {
      records += table.decode(d.payload, d.srcAddr, d.tsMs, out, () => {});
    }
    expect(reader.error).toBeUndefined();
    expect(records).toBe(12);
    expect(table.snapshot().exporters.map((e) => [e.address, e.datagrams, e.records])).toEqual([
      ['192.0.2.1', 3, 6],
      ['192.0.2.2', 3, 6],
    ]);
  });

  it('rejects a missing file with the usual Node error', async () => {
    await expect(readPcapFile(join(dir, 'missing.pcap'))).rejects.toThrow(/ENOENT/);
  });
});
