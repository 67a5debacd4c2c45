import { describe, expect, it } from 'vitest';
import { classify, severityOf, tcpFlagLetters } from '../../../core/detect/classifier.js';
import { AMPLIFICATION_PORTS, ATTACK_FAMILIES } from '../../../core/incident/incident.js';
import { REFLECTOR_PORTS, type TrafficBreakdown } from '../../../core/traffic/breakdown.js';
import type { FocusReport } from '../../../core/traffic/focus.js';

function breakdown(parts: Partial<TrafficBreakdown>): TrafficBreakdown {
  const b: TrafficBreakdown = {
    packets: 0,
    tcp: 0,
    udp: 0,
    icmp: 0,
    gre: 0,
    other: 0,
    tcpSynOnly: 0,
    tcpAckRstOnly: 0,
    tcpAckOnly: 0,
    tcpRst: 0,
    fragments: 0,
    amplification: 0,
    bytes: 0,
    flows: 0,
    sampledPackets: 0,
    bogonSourcePackets: 0,
    distinctSources: 0,
    classes: [],
    udpReflectorPorts: [],
    topDestinationPorts: [],
    packetSizes: [0, 0, 0, 0, 0, 0, 0],
    ...parts,
  };
  b.packets = b.tcp + b.udp + b.icmp + b.gre + b.other;
  if (parts.amplification === undefined)
    b.amplification = b.udpReflectorPorts.reduce((s, p) => s + p.packets, 0);
  const byClass = [
    b.tcp,
    b.udp,
    b.icmp,
    b.gre,
    b.other,
    b.tcpSynOnly,
    b.tcpAckRstOnly,
    b.fragments,
    b.amplification,
  ];
  b.classes = byClass.map((packets) => ({ packets, bytes: packets * 100, flows: packets / 10 }));
  return b;
}

describe('classify', () => {
  it('names each amplification family by its reflector source port', () => {
    const cases: [number, string][] = [
      [53, 'dns_amplification'],
      [123, 'ntp_amplification'],
      [11211, 'memcached_amplification'],
      [1900, 'ssdp_amplification'],
      [389, 'cldap_amplification'],
      [19, 'chargen_amplification'],
      [161, 'snmp_amplification'],
      [111, 'rpcbind_amplification'],
      [3702, 'ws_discovery_amplification'],
      [37810, 'dvr_amplification'],
    ];
    for (const [port, family] of cases) {
      const c = classify(
        breakdown({ udp: 1000, tcp: 50, udpReflectorPorts: [{ port, packets: 900 }] }),
        4,
        480,
      );
      expect(c.family).toBe(family);
      expect(c.confidence).toBeCloseTo(900 / 1050, 3);
      expect(c.fingerprint.sourcePorts).toEqual([port]);
      expect(c.fingerprint.protocols).toEqual([17]);
      expect(c.fingerprint.meanPacketBytes).toBe(480);
    }
  });

  it('calls UDP without a dominant reflector port a UDP flood', () => {
    const c = classify(breakdown({ udp: 1000, udpReflectorPorts: [{ port: 53, packets: 300 }] }), 4, 100);
    expect(c.family).toBe('udp_flood');
    expect(c.confidence).toBe(1);
    expect(c.fingerprint.sourcePorts).toEqual([53]);
  });

  it('tells SYN floods and ACK/RST floods apart', () => {
    const syn = classify(
      breakdown({ tcp: 1000, tcpSynOnly: 950, topDestinationPorts: [{ port: 80, packets: 990 }] }),
      4,
      60,
    );
    expect(syn.family).toBe('tcp_syn_flood');
    expect(syn.confidence).toBe(0.95);
    expect(syn.fingerprint).toMatchObject({ protocols: [6], synShare: 0.95, destinationPorts: [80] });
    const ack = classify(breakdown({ tcp: 1000, tcpAckRstOnly: 800 }), 4, 60);
    expect(ack.family).toBe('tcp_ack_rst_flood');
    const established = classify(breakdown({ tcp: 1000, tcpSynOnly: 100, tcpAckRstOnly: 100 }), 4, 900);
    expect(established.family).toBe('mixed');
  });

  it('recognises ICMP (v4 and v6), GRE and fragment floods', () => {
    expect(classify(breakdown({ icmp: 900, udp: 100 }), 4, 84)).toMatchObject({
      family: 'icmp_flood',
      fingerprint: { protocols: [1, 17] },
    });
    expect(classify(breakdown({ icmp: 900 }), 6, 84).fingerprint.protocols).toEqual([58]);
    expect(classify(breakdown({ gre: 700, tcp: 300 }), 4, 500).family).toBe('gre_flood');
    const frag = classify(breakdown({ udp: 1000, fragments: 800 }), 4, 1480);
    expect(frag.family).toBe('fragment_flood');
    expect(frag.confidence).toBe(0.8);
  });

  it('prefers amplification to fragments when the reflector port dominates UDP', () => {
    const c = classify(
      breakdown({ udp: 1000, fragments: 600, udpReflectorPorts: [{ port: 11211, packets: 700 }] }),
      4,
      1400,
    );
    expect(c.family).toBe('memcached_amplification');
  });

  it('says mixed when nothing dominates, with confidence = how far from any dominant kind', () => {
    const c = classify(breakdown({ tcp: 400, udp: 350, icmp: 250 }), 4, 300);
    expect(c.family).toBe('mixed');
    expect(c.confidence).toBe(0.6);
    expect(c.fingerprint.protocols).toEqual([6, 17, 1]);
    expect(classify(breakdown({}), 4, 0)).toMatchObject({ family: 'mixed', confidence: 0 });
  });
});

describe('classify: vectors, spoofing and the fingerprint', () => {
  it('lists the components of a mixed attack with their shares', () => {
    const c = classify(
      breakdown({
        tcp: 350,
        tcpSynOnly: 350,
        udp: 330,
        icmp: 320,
        udpReflectorPorts: [{ port: 123, packets: 100 }],
      }),
      4,
      200,
    );
    expect(c.family).toBe('mixed');
    expect(c.vectors).toEqual([
      { family: 'tcp_syn_flood', share: 0.35 },
      { family: 'icmp_flood', share: 0.32 },
      { family: 'udp_flood', share: 0.23 },
      { family: 'ntp_amplification', share: 0.1 },
    ]);
    expect(c.fingerprint.shares).toMatchObject({
      tcp: 0.35,
      udp: 0.33,
      icmp: 0.32,
      syn: 0.35,
      amplification: 0.1,
    });
  });

  it('has an amplification family for every reflector port the breakdown counts', () => {
    expect(REFLECTOR_PORTS.filter((port) => AMPLIFICATION_PORTS[port] === undefined)).toEqual([]);
    expect(
      Object.keys(AMPLIFICATION_PORTS)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([...REFLECTOR_PORTS].sort((a, b) => a - b));
    const families = Object.values(AMPLIFICATION_PORTS);
    expect(families.every((f) => ATTACK_FAMILIES.includes(f))).toBe(true);
    expect(new Set(families).size).toBe(families.length);
  });

  it('says sources look spoofed when most packets come from bogons', () => {
    const c = classify(
      breakdown({ tcp: 1000, tcpSynOnly: 1000, bogonSourcePackets: 800, distinctSources: 40 }),
      4,
      40,
    );
    expect(c.fingerprint.spoofing).toMatchObject({ likely: true, bogonShare: 0.8 });
    expect(c.fingerprint.spoofing?.reason).toContain('80%');
  });

  it('says sources look spoofed when thousands of them send a packet or two each, and not when they repeat', () => {
    const random = classify(breakdown({ tcp: 6000, tcpSynOnly: 6000, distinctSources: 5000 }), 4, 40);
    expect(random.fingerprint.spoofing).toMatchObject({ likely: true, packetsPerSource: 1.2 });
    const reflectors = classify(
      breakdown({ udp: 60_000, udpReflectorPorts: [{ port: 123, packets: 60_000 }], distinctSources: 1500 }),
      4,
      468,
    );
    expect(reflectors.fingerprint.spoofing).toMatchObject({ likely: false, packetsPerSource: 40 });
    expect(reflectors.fingerprint.distinctSources).toBe(1500);
  });

  it('takes top sources, source ports, TCP flags and packet sizes from the focus slot when there is one', () => {
    const focus: FocusReport = {
      sinceMs: 0,
      records: 100,
      packets: 10_000,
      bytes: 600_000,
      sampledPackets: 10_000,
      topSources: [
        { address: '192.0.2.7', packets: 6000 },
        { address: '192.0.2.8', packets: 3000.4 },
      ],
      topDestinations: [],
      topSourcePorts: [
        { key: 443, packets: 9000 },
        { key: 5555, packets: 50 },
      ],
      topDestinationPorts: [{ key: 80, packets: 9990 }],
      tcpFlags: [
        { key: 0x10, packets: 7000 },
        { key: 0x14, packets: 2500 },
        { key: 0x18, packets: 500 },
      ],
      distinctSources: 2,
      distinctDestinations: 1,
      packetSizes: { p10: 48, p50: 48, p90: 80 },
    };
    const c = classify(breakdown({ tcp: 10_000, tcpAckRstOnly: 9500, distinctSources: 2 }), 4, 60, focus);
    expect(c.family).toBe('tcp_ack_rst_flood');
    expect(c.fingerprint).toMatchObject({
      topSources: [
        { address: '192.0.2.7', packets: 6000 },
        { address: '192.0.2.8', packets: 3000 },
      ],
      topSourcePorts: [443],
      tcpFlags: [
        { flags: 'A', share: 0.7 },
        { flags: 'AR', share: 0.25 },
      ],
      packetSizes: { p10: 48, p50: 48, p90: 80 },
      distinctSources: 2,
    });
  });

  it('gives coarse packet sizes from the breakdown when nobody watched closely', () => {
    const c = classify(breakdown({ udp: 100, packetSizes: [0, 0, 0, 95, 5, 0, 0] }), 4, 480);
    expect(c.fingerprint.packetSizes).toEqual({ p10: 257, p50: 385, p90: 512 });
    expect(c.fingerprint.topSources).toBeUndefined();
  });

  it('writes TCP flags as letters', () => {
    expect(tcpFlagLetters(0x02)).toBe('S');
    expect(tcpFlagLetters(0x12)).toBe('AS');
    expect(tcpFlagLetters(0x1b)).toBe('APSF');
    expect(tcpFlagLetters(0xc0)).toBe('CE');
    expect(tcpFlagLetters(0)).toBe('-');
  });
});

describe('severityOf', () => {
  it('is peak / threshold on the metric that went furthest over, skipping disabled ones', () => {
    expect(severityOf({ pps: 60_000, bps: 1e9 }, { pps: 20_000, bps: 1e9 })).toBe(3);
    expect(severityOf({ pps: 30_000, bps: 5e9 }, { pps: 20_000, bps: 1e9 })).toBe(5);
    expect(severityOf({ pps: 30_000, bps: 5e9 }, { pps: 20_000, bps: 0 })).toBe(1.5);
    expect(severityOf({ pps: 30_000, bps: 5e9 }, { pps: 0, bps: 0 })).toBe(0);
  });
});
