import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HEADER_CUT_SHORT,
  HEADER_IP,
  HEADER_NOT_IP,
  HEADER_PROTOCOL_ETHERNET,
  HEADER_PROTOCOL_IPV4,
  HEADER_PROTOCOL_IPV6,
  HEADER_PROTOCOL_MPLS,
  HEADER_UNSUPPORTED,
  MAX_IPV6_EXTENSIONS,
  ParsedPacket,
  parseSampledHeader,
} from '../../../collectors/sflow/packet-header.js';
import { FRAGMENT_NO, FRAGMENT_UNKNOWN, FRAGMENT_YES } from '../../../core/flow/flow-batch.js';
import { formatAddressWords } from '../../../core/net/address.js';
import {
  concat,
  ethernet,
  icmp,
  ipv4,
  ipv6,
  mpls,
  payload,
  TCP_ACK,
  TCP_SYN,
  tcp,
  udp,
} from '../../helpers/raw-packets.js';

/** Parses and returns the fields as a plain object, addresses as text. */
function parse(bytes: Uint8Array, protocol = HEADER_PROTOCOL_ETHERNET, start = 0, end = bytes.length) {
  const p = new ParsedPacket();
  const result = parseSampledHeader(protocol, bytes, start, end, p);
  const address = (o: number) => {
    if (p.ipVersion === 4) {
      return `${bytes[o]}.${bytes[o + 1]}.${bytes[o + 2]}.${bytes[o + 3]}`;
    }
    const w = new Uint32Array(4);
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    for (let i = 0; i < 4; i++) w[i] = v.getUint32(o + i * 4);
    return formatAddressWords(w);
  };
  return {
    result,
    ipVersion: p.ipVersion,
    l2Length: p.l2Length,
    ipLength: p.ipLength,
    src: p.ipVersion ? address(p.srcOffset) : '',
    dst: p.ipVersion ? address(p.dstOffset) : '',
    protocol: p.protocol,
    srcPort: p.srcPort,
    dstPort: p.dstPort,
    tcpFlags: p.tcpFlags,
    icmpType: p.icmpType,
    icmpCode: p.icmpCode,
    fragment: p.fragment,
    outerVlan: p.outerVlan,
    innerVlan: p.innerVlan,
    vlanTags: p.vlanTags,
    mplsLabels: p.mplsLabels,
  };
}

const V4 = { src: '198.51.100.7', dst: '203.0.113.10' };
const V6 = { src: '2001:db8::7', dst: '2001:db8:1::10' };

describe('parseSampledHeader', () => {
  it('reads Ethernet, IPv4 and UDP', () => {
    const packet = ipv4({ ...V4, protocol: 17, body: udp(123, 40_000, payload(468)) });
    expect(parse(ethernet(packet))).toEqual({
      result: HEADER_IP,
      ipVersion: 4,
      l2Length: 14,
      ipLength: 496,
      src: '198.51.100.7',
      dst: '203.0.113.10',
      protocol: 17,
      srcPort: 123,
      dstPort: 40_000,
      tcpFlags: 0,
      icmpType: 0,
      icmpCode: 0,
      fragment: FRAGMENT_NO,
      outerVlan: 0,
      innerVlan: 0,
      vlanTags: 0,
      mplsLabels: 0,
    });
  });

  it('reads TCP ports and flags, skipping IPv4 options', () => {
    const packet = ipv4({ ...V4, protocol: 6, optionWords: 3, body: tcp(40_001, 443, TCP_SYN | TCP_ACK) });
    expect(parse(ethernet(packet))).toMatchObject({
      ipLength: 52,
      protocol: 6,
      srcPort: 40_001,
      dstPort: 443,
      tcpFlags: 0x12,
    });
  });

  it('reads ICMP and ICMPv6 type and code, without ports', () => {
    expect(parse(ethernet(ipv4({ ...V4, protocol: 1, body: icmp(3, 13, payload(28)) })))).toMatchObject({
      protocol: 1,
      icmpType: 3,
      icmpCode: 13,
      srcPort: 0,
      dstPort: 0,
    });
    expect(parse(ethernet(ipv6({ ...V6, protocol: 58, body: icmp(128, 0, payload(56)) })))).toMatchObject({
      ipVersion: 6,
      protocol: 58,
      icmpType: 128,
      icmpCode: 0,
      ipLength: 40 + 64,
    });
  });

  it('reads ports of SCTP, DCCP and UDP-Lite, and no ports of other protocols', () => {
    for (const protocol of [132, 33, 136]) {
      expect(parse(ethernet(ipv4({ ...V4, protocol, body: udp(5000, 6000) })))).toMatchObject({
        protocol,
        srcPort: 5000,
        dstPort: 6000,
      });
    }
    expect(parse(ethernet(ipv4({ ...V4, protocol: 47, body: udp(5000, 6000) })))).toMatchObject({
      protocol: 47,
      srcPort: 0,
      dstPort: 0,
    });
  });

  describe('802.1Q, QinQ and MPLS', () => {
    const packet = ipv4({ ...V4, protocol: 17, body: udp(53, 33_000) });

    it('skips one 802.1Q tag', () => {
      expect(parse(ethernet(packet, { vlans: [100] }))).toMatchObject({
        result: HEADER_IP,
        l2Length: 18,
        outerVlan: 100,
        innerVlan: 0,
        vlanTags: 1,
        dst: '203.0.113.10',
        dstPort: 33_000,
      });
    });

    it('skips QinQ with an 802.1ad or a legacy 0x9100 outer tag', () => {
      for (const outerTpid of [0x88a8, 0x9100, 0x8100]) {
        expect(parse(ethernet(packet, { vlans: [200, 300], outerTpid }))).toMatchObject({
          result: HEADER_IP,
          l2Length: 22,
          outerVlan: 200,
          innerVlan: 300,
          vlanTags: 2,
          srcPort: 53,
        });
      }
    });

    it('gives up on more than 4 tags', () => {
      expect(parse(ethernet(packet, { vlans: [1, 2, 3, 4] }))).toMatchObject({
        result: HEADER_IP,
        l2Length: 30,
      });
      expect(parse(ethernet(packet, { vlans: [1, 2, 3, 4, 5] })).result).toBe(HEADER_NOT_IP);
    });

    it('finds IPv4 and IPv6 under an MPLS label stack by the version nibble', () => {
      const v4 = ethernet(mpls([16, 17], packet), { ethertype: 0x8847 });
      expect(parse(v4)).toMatchObject({ result: HEADER_IP, l2Length: 22, mplsLabels: 2, dstPort: 33_000 });
      const v6 = ethernet(mpls([16], ipv6({ ...V6, protocol: 17, body: udp(1, 2) })), { ethertype: 0x8848 });
      expect(parse(v6)).toMatchObject({
        result: HEADER_IP,
        ipVersion: 6,
        l2Length: 18,
        dst: '2001:db8:1::10',
      });
      // header_protocol MPLS: the header starts with the label stack.
      expect(parse(mpls([16, 17, 18], packet), HEADER_PROTOCOL_MPLS)).toMatchObject({
        result: HEADER_IP,
        l2Length: 12,
        mplsLabels: 3,
      });
      // Something else under the labels (an Ethernet pseudowire, say) is not IP.
      const pw = ethernet(mpls([16], Uint8Array.of(0x02, 0, 0, 0)), { ethertype: 0x8847 });
      expect(parse(pw).result).toBe(HEADER_NOT_IP);
    });

    it('gives up on a label stack without a bottom within 16 labels', () => {
      const stack = new Uint8Array(4 * 17).fill(0); // bottom-of-stack never set
      expect(parse(ethernet(concat(stack, packet), { ethertype: 0x8847 })).result).toBe(HEADER_NOT_IP);
    });
  });

  describe('IPv4 fragments', () => {
    const body = udp(123, 40_000, payload(100));

    it('marks a first fragment and still reads its ports', () => {
      expect(parse(ethernet(ipv4({ ...V4, protocol: 17, body, moreFragments: true })))).toMatchObject({
        fragment: FRAGMENT_YES,
        protocol: 17,
        srcPort: 123,
        dstPort: 40_000,
      });
    });

    it('marks a later fragment and reads no ports from its payload', () => {
      for (const moreFragments of [true, false]) {
        expect(
          parse(ethernet(ipv4({ ...V4, protocol: 17, body, moreFragments, fragmentOffset: 185 }))),
        ).toMatchObject({ fragment: FRAGMENT_YES, protocol: 17, srcPort: 0, dstPort: 0, ipLength: 128 });
      }
    });

    it('does not take DF for a fragment', () => {
      expect(parse(ethernet(ipv4({ ...V4, protocol: 17, body, dontFragment: true }))).fragment).toBe(
        FRAGMENT_NO,
      );
    });
  });

  describe('IPv6 extension headers', () => {
    const body = udp(5353, 5353, payload(20));

    it('walks hop-by-hop, routing, destination options and AH to the upper layer', () => {
      const packet = ipv6({
        ...V6,
        protocol: 17,
        body,
        extensions: [
          { kind: 'hop-by-hop' },
          { kind: 'routing', units: 2 },
          { kind: 'ah', words: 3 },
          { kind: 'destination', units: 1 },
        ],
      });
      expect(parse(ethernet(packet))).toMatchObject({
        result: HEADER_IP,
        ipVersion: 6,
        ipLength: packet.length,
        src: '2001:db8::7',
        dst: '2001:db8:1::10',
        protocol: 17,
        srcPort: 5353,
        dstPort: 5353,
        fragment: FRAGMENT_NO,
      });
    });

    it('marks fragments; reads ports of the first only; takes an atomic fragment as whole', () => {
      const frag = (offset: number, more: boolean) =>
        parse(
          ethernet(ipv6({ ...V6, protocol: 17, body, extensions: [{ kind: 'fragment', offset, more }] })),
        );
      expect(frag(0, true)).toMatchObject({ fragment: FRAGMENT_YES, protocol: 17, srcPort: 5353 });
      expect(frag(150, true)).toMatchObject({ fragment: FRAGMENT_YES, protocol: 17, srcPort: 0, dstPort: 0 });
      expect(frag(150, false)).toMatchObject({ fragment: FRAGMENT_YES, protocol: 17, srcPort: 0 });
      expect(frag(0, false)).toMatchObject({ fragment: FRAGMENT_NO, protocol: 17, srcPort: 5353 });
    });

    it('stops at ESP, which hides what follows', () => {
      expect(parse(ethernet(ipv6({ ...V6, protocol: 50, body: payload(40) })))).toMatchObject({
        protocol: 50,
        srcPort: 0,
      });
    });

    it('reports the extension header it stopped at when the chain is too long or cut', () => {
      const long = ipv6({
        ...V6,
        protocol: 17,
        body,
        extensions: Array.from({ length: MAX_IPV6_EXTENSIONS + 1 }, () => ({ kind: 'destination' as const })),
      });
      expect(parse(ethernet(long))).toMatchObject({ result: HEADER_IP, protocol: 60, srcPort: 0 });
      const cut = ethernet(
        ipv6({ ...V6, protocol: 17, body, extensions: [{ kind: 'hop-by-hop', units: 20 }] }),
      );
      expect(parse(cut, HEADER_PROTOCOL_ETHERNET, 0, 14 + 40 + 100)).toMatchObject({
        result: HEADER_IP,
        protocol: 17, // the hop-by-hop header itself was readable; UDP lies beyond the bytes
        srcPort: 0,
      });
      expect(parse(cut, HEADER_PROTOCOL_ETHERNET, 0, 14 + 40)).toMatchObject({
        result: HEADER_IP,
        protocol: 0,
      });
    });

    it('gives no length for a jumbogram, nor for IPv4 total length 0', () => {
      expect(parse(ethernet(ipv6({ ...V6, protocol: 17, body, payloadLength: 0 }))).ipLength).toBe(0);
      expect(parse(ethernet(ipv4({ ...V4, protocol: 17, body, totalLength: 0 }))).ipLength).toBe(0);
    });
  });

  describe('headers cut short by the agent', () => {
    const packet = ethernet(ipv4({ ...V4, protocol: 6, body: tcp(1234, 80, TCP_SYN) }));

    it('keeps ports without flags when the TCP header is cut after them', () => {
      expect(parse(packet, HEADER_PROTOCOL_ETHERNET, 0, 14 + 20 + 4)).toMatchObject({
        result: HEADER_IP,
        srcPort: 1234,
        dstPort: 80,
        tcpFlags: 0,
      });
      expect(parse(packet, HEADER_PROTOCOL_ETHERNET, 0, 14 + 20 + 3)).toMatchObject({
        result: HEADER_IP,
        protocol: 6,
        srcPort: 0,
      });
    });

    it('reports a cut before the addresses', () => {
      expect(parse(packet, HEADER_PROTOCOL_ETHERNET, 0, 13).result).toBe(HEADER_CUT_SHORT);
      expect(parse(packet, HEADER_PROTOCOL_ETHERNET, 0, 14 + 19).result).toBe(HEADER_CUT_SHORT);
      expect(parse(ethernet(packet, { vlans: [5] }), HEADER_PROTOCOL_ETHERNET, 0, 16).result).toBe(
        HEADER_CUT_SHORT,
      );
      const v6 = ethernet(ipv6({ ...V6, protocol: 17, body: udp(1, 2) }));
      expect(parse(v6, HEADER_PROTOCOL_ETHERNET, 0, 14 + 39).result).toBe(HEADER_CUT_SHORT);
    });
  });

  it('reads bare IPv4 and IPv6 headers (header_protocol 11 and 12)', () => {
    expect(parse(ipv4({ ...V4, protocol: 17, body: udp(1, 2) }), HEADER_PROTOCOL_IPV4)).toMatchObject({
      result: HEADER_IP,
      l2Length: 0,
      ipVersion: 4,
      dstPort: 2,
    });
    expect(parse(ipv6({ ...V6, protocol: 6, body: tcp(3, 4, TCP_ACK) }), HEADER_PROTOCOL_IPV6)).toMatchObject(
      {
        result: HEADER_IP,
        l2Length: 0,
        ipVersion: 6,
        tcpFlags: TCP_ACK,
      },
    );
    // The header protocol and the version nibble must agree.
    expect(parse(ipv6({ ...V6, protocol: 6, body: tcp(3, 4, 0) }), HEADER_PROTOCOL_IPV4).result).toBe(
      HEADER_NOT_IP,
    );
  });

  it('tells frames that are not IP and header protocols it does not read', () => {
    const arp = ethernet(payload(28), { ethertype: 0x0806 });
    expect(parse(arp)).toMatchObject({ result: HEADER_NOT_IP, ipVersion: 0, fragment: FRAGMENT_UNKNOWN });
    expect(parse(ethernet(payload(40), { ethertype: 46 })).result).toBe(HEADER_NOT_IP); // 802.3 length
    expect(parse(ethernet(payload(40, 0x65), { ethertype: 0x0800 })).result).toBe(HEADER_NOT_IP);
    expect(parse(ethernet(ipv4({ ...V4, protocol: 17, body: udp(1, 2) })), 7).result).toBe(
      HEADER_UNSUPPORTED,
    );
  });

  it('parses a header in the middle of a buffer, giving absolute address offsets', () => {
    const packet = ethernet(ipv4({ ...V4, protocol: 17, body: udp(9, 10) }));
    const buffer = concat(payload(37, 0xff), packet, payload(11, 0xff));
    const p = new ParsedPacket();
    expect(parseSampledHeader(1, buffer, 37, 37 + packet.length, p)).toBe(HEADER_IP);
    expect(p.srcOffset).toBe(37 + 14 + 12);
    expect(p.dstOffset).toBe(37 + 14 + 16);
    expect(p.dstPort).toBe(10);
  });

  it('resets every field between parses', () => {
    const p = new ParsedPacket();
    const full = ethernet(ipv4({ ...V4, protocol: 6, body: tcp(1, 2, 0xff) }), { vlans: [7, 8] });
    parseSampledHeader(1, full, 0, full.length, p);
    const arp = ethernet(payload(28), { ethertype: 0x0806 });
    parseSampledHeader(1, arp, 0, arp.length, p);
    const fresh = new ParsedPacket();
    expect({ ...p }).toEqual({ ...fresh });
  });

  it('never reads past `end`: bytes after it change nothing (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 11, 12, 13),
        fc.uint8Array({ maxLength: 160 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        (protocol, header, tail) => {
          const alone = parse(Uint8Array.from(header), protocol);
          const followed = parse(concat(header, tail), protocol, 0, header.length);
          expect(followed).toEqual(alone);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('never reads past `end` on mutated real-looking headers (property)', () => {
    const seeds = [
      ethernet(ipv4({ ...V4, protocol: 6, body: tcp(1, 2, TCP_SYN) }), { vlans: [3, 4] }),
      ethernet(
        ipv6({
          ...V6,
          protocol: 17,
          body: udp(1, 2),
          extensions: [{ kind: 'hop-by-hop' }, { kind: 'fragment', offset: 0, more: true }],
        }),
      ),
      ethernet(mpls([1, 2], ipv4({ ...V4, protocol: 1, body: icmp(8, 0) })), { ethertype: 0x8847 }),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        (seed, flips, cut, tail) => {
          const header = Uint8Array.from(seed);
          for (const [at, value] of flips) header[at % header.length] = value;
          const cutHeader = header.subarray(0, cut % (header.length + 1));
          const alone = parse(Uint8Array.from(cutHeader));
          const followed = parse(concat(cutHeader, tail), 1, 0, cutHeader.length);
          expect(followed).toEqual(alone);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
