/**
 * A capture of the packet shapes the scapy scenario does not make, with its ground truth: IPv6
 * (extension headers, fragments, ICMPv6), 802.1Q and QinQ tags, MPLS, IPv4 fragments, ICMP
 * errors and every common TCP flag combination. Built here so that each packet's truth is known
 * by construction; filler at the end absorbs whatever an exporter loses at end of file.
 */
import { FRAGMENT_NO, FRAGMENT_YES } from '../../../core/flow/flow-batch.js';
import { writePcap } from '../../helpers/pcap-writer.js';
import {
  ethernet,
  icmp,
  ipv4,
  ipv6,
  mpls,
  payload,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  tcp,
  udp,
} from '../../helpers/raw-packets.js';

/** What an exporter that loses nothing must report, per "destination/protocol". */
export interface EdgeTruth {
  packets: number;
  /** Sum of IP packet lengths. */
  bytes: number;
  /** Packets that are IP fragments (first or later). */
  fragments: number;
  /** Packets by destination port ("0" for none: ICMP, later fragments). */
  dstPorts: Record<string, number>;
  /** TCP packets by flags byte. */
  tcpFlags: Record<string, number>;
  /** ICMP / ICMPv6 packets by "type/code". */
  icmp: Record<string, number>;
}

export interface EdgeCapture {
  pcap: Uint8Array;
  truth: Record<string, EdgeTruth>;
  fillerDst: string;
  packets: number;
}

interface Sent {
  frame: Uint8Array;
  dst: string;
  protocol: number;
  ipLength: number;
  fragment: number;
  dstPort: number;
  tcpFlags?: number;
  icmp?: string;
}

export function buildEdgeCapture(startMs: number): EdgeCapture {
  const sent: Sent[] = [];
  const add = (s: Sent) => sent.push(s);

  // IPv6 UDP behind one 802.1Q tag, sizes varying.
  for (let i = 0; i < 400; i++) {
    const body = udp(123, 1024 + (i % 50), payload(100 + (i % 300)));
    const ip = ipv6({ src: `2001:db8:ff::${(i % 200) + 1}`, dst: '2001:db8:100::10', protocol: 17, body });
    add({
      frame: ethernet(ip, { vlans: [100] }),
      dst: '2001:db8:100::10',
      protocol: 17,
      ipLength: ip.length,
      fragment: FRAGMENT_NO,
      dstPort: 1024 + (i % 50),
    });
  }
  // IPv6 TCP behind QinQ, cycling through flag combinations. The outer tag is 0x8100: pmacctd
  // 1.7.7 drops frames with an 802.1ad (0x88a8) outer tag before its sfprobe plugin sees them.
  const flagCycle = [TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK, TCP_PSH | TCP_ACK, TCP_FIN | TCP_ACK, TCP_RST];
  for (let i = 0; i < 300; i++) {
    const flags = flagCycle[i % flagCycle.length]!;
    const ip = ipv6({
      src: '2001:db8:ff::aa',
      dst: '2001:db8:100::20',
      protocol: 6,
      body: tcp(1024 + i, 443, flags, payload(i % 7 === 0 ? 600 : 0)),
    });
    add({
      frame: ethernet(ip, { vlans: [200, 300], outerTpid: 0x8100 }),
      dst: '2001:db8:100::20',
      protocol: 6,
      ipLength: ip.length,
      fragment: FRAGMENT_NO,
      dstPort: 443,
      tcpFlags: flags,
    });
  }
  // ICMPv6 echo request and reply after a hop-by-hop header.
  for (let i = 0; i < 200; i++) {
    const type = i % 2 === 0 ? 128 : 129;
    const ip = ipv6({
      src: '2001:db8:ff::bb',
      dst: '2001:db8:100::30',
      protocol: 58,
      body: icmp(type, 0, payload(56)),
      extensions: [{ kind: 'hop-by-hop' }],
    });
    add({
      frame: ethernet(ip),
      dst: '2001:db8:100::30',
      protocol: 58,
      ipLength: ip.length,
      fragment: FRAGMENT_NO,
      dstPort: 0,
      icmp: `${type}/0`,
    });
  }
  // IPv6 UDP datagrams in two fragments each: ports in the first only.
  for (let i = 0; i < 100; i++) {
    const whole = udp(5000, 6000 + (i % 10), payload(1800));
    const first = ipv6({
      src: '2001:db8:ff::cc',
      dst: '2001:db8:100::40',
      protocol: 17,
      body: whole.subarray(0, 1232),
      extensions: [{ kind: 'fragment', offset: 0, more: true, id: i }],
    });
    const later = ipv6({
      src: '2001:db8:ff::cc',
      dst: '2001:db8:100::40',
      protocol: 17,
      body: whole.subarray(1232),
      extensions: [{ kind: 'fragment', offset: 1232 / 8, more: false, id: i }],
    });
    add({
      frame: ethernet(first),
      dst: '2001:db8:100::40',
      protocol: 17,
      ipLength: first.length,
      fragment: FRAGMENT_YES,
      dstPort: 6000 + (i % 10),
    });
    add({
      frame: ethernet(later),
      dst: '2001:db8:100::40',
      protocol: 17,
      ipLength: later.length,
      fragment: FRAGMENT_YES,
      dstPort: 0,
    });
  }
  // IPv6 UDP after routing and destination options headers.
  for (let i = 0; i < 100; i++) {
    const ip = ipv6({
      src: '2001:db8:ff::dd',
      dst: '2001:db8:100::50',
      protocol: 17,
      body: udp(53, 53, payload(60)),
      extensions: [{ kind: 'destination' }, { kind: 'routing', units: 2 }],
    });
    add({
      frame: ethernet(ip),
      dst: '2001:db8:100::50',
      protocol: 17,
      ipLength: ip.length,
      fragment: FRAGMENT_NO,
      dstPort: 53,
    });
  }
  // IPv4 UDP datagrams in three fragments each, behind an 802.1Q tag.
  for (let i = 0; i < 100; i++) {
    const whole = udp(123, 30_000 + (i % 5), payload(2900));
    const parts = [whole.subarray(0, 1480), whole.subarray(1480, 2960), whole.subarray(2960)];
    parts.forEach((part, k) => {
      const ip = ipv4({
        src: '198.51.100.20',
        dst: '203.0.113.70',
        protocol: 17,
        body: part,
        moreFragments: k < 2,
        fragmentOffset: (k * 1480) / 8,
        id: i + 1,
      });
      add({
        frame: ethernet(ip, { vlans: [10] }),
        dst: '203.0.113.70',
        protocol: 17,
        ipLength: ip.length,
        fragment: FRAGMENT_YES,
        dstPort: k === 0 ? 30_000 + (i % 5) : 0,
      });
    });
  }
  // ICMP echo and port-unreachable errors (which quote an IP header inside).
  for (let i = 0; i < 150; i++) {
    const error = i % 3 === 2;
    const quoted = ipv4({ src: '203.0.113.80', dst: '198.51.100.30', protocol: 17, body: udp(40_000, 53) });
    const body = error ? icmp(3, 3, quoted) : icmp(8, 0, payload(56));
    const ip = ipv4({ src: '198.51.100.30', dst: '203.0.113.80', protocol: 1, body });
    add({
      frame: ethernet(ip),
      dst: '203.0.113.80',
      protocol: 1,
      ipLength: ip.length,
      fragment: FRAGMENT_NO,
      dstPort: 0,
      icmp: error ? '3/3' : '8/0',
    });
  }
  // IPv4 TCP under an MPLS label, with IP options (pmacctd 1.7.7 drops deeper label stacks).
  for (let i = 0; i < 120; i++) {
    const flags = flagCycle[i % flagCycle.length]!;
    const ip = ipv4({
      src: '198.51.100.40',
      dst: '203.0.113.90',
      protocol: 6,
      optionWords: 2,
      body: tcp(33_000, 179, flags),
    });
    add({
      frame: ethernet(mpls([1000], ip), { ethertype: 0x8847 }),
      dst: '203.0.113.90',
      protocol: 6,
      ipLength: ip.length,
      fragment: FRAGMENT_NO,
      dstPort: 179,
      tcpFlags: flags,
    });
  }

  const truth: Record<string, EdgeTruth> = {};
  for (const s of sent) {
    const key = `${s.dst}/${s.protocol}`;
    const t = truth[key] ?? { packets: 0, bytes: 0, fragments: 0, dstPorts: {}, tcpFlags: {}, icmp: {} };
    truth[key] = t;
    t.packets += 1;
    t.bytes += s.ipLength;
    if (s.fragment === FRAGMENT_YES) t.fragments += 1;
    t.dstPorts[s.dstPort] = (t.dstPorts[s.dstPort] ?? 0) + 1;
    if (s.tcpFlags !== undefined) t.tcpFlags[s.tcpFlags] = (t.tcpFlags[s.tcpFlags] ?? 0) + 1;
    if (s.icmp !== undefined) t.icmp[s.icmp] = (t.icmp[s.icmp] ?? 0) + 1;
  }

  const fillerDst = '192.0.2.202';
  const frames = sent.map((s) => s.frame);
  for (let i = 0; i < 3000; i++) {
    frames.push(
      ethernet(
        ipv4({
          src: '192.0.2.201',
          dst: fillerDst,
          protocol: 17,
          body: udp(10_000 + (i % 300), 9, payload(36)),
        }),
      ),
    );
  }
  const pcap = writePcap(frames.map((frame, i) => ({ tsMs: startMs + i * 0.2, frame })));
  return { pcap, truth, fillerDst, packets: frames.length };
}
