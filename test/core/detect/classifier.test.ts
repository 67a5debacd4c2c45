import { describe, expect, it } from 'vitest';
import { classify, severityOf } from '../../../core/detect/classifier.js';
import type { TrafficBreakdown } from '../../../core/traffic/breakdown.js';

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
    fragments: 0,
    udpReflectorPorts: [],
    topDestinationPorts: [],
    ...parts,
  };
  b.packets = b.tcp + b.udp + b.icmp + b.gre + b.other;
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

describe('severityOf', () => {
  it('is peak / threshold on the metric that went furthest over, skipping disabled ones', () => {
    expect(severityOf({ pps: 60_000, bps: 1e9 }, { pps: 20_000, bps: 1e9 })).toBe(3);
    expect(severityOf({ pps: 30_000, bps: 5e9 }, { pps: 20_000, bps: 1e9 })).toBe(5);
    expect(severityOf({ pps: 30_000, bps: 5e9 }, { pps: 20_000, bps: 0 })).toBe(1.5);
    expect(severityOf({ pps: 30_000, bps: 5e9 }, { pps: 0, bps: 0 })).toBe(0);
  });
});
