/**
 * The generator's newer kinds (ACK, RST, GRE, fragment floods, carpet bombing, bulk TCP, game
 * UDP, a busy resolver) and IPv6 destinations, checked against the pcap by an independent
 * reader: the truth is what the capture holds, and every checksum verifies, IPv6
 * pseudo-headers included.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAddressWords } from '../../core/net/address.js';
import {
  type DestinationTruth,
  makeScenario,
  requireTool,
  type ScenarioSpec,
  type ScenarioTruth,
} from './scenario.js';

interface Parsed {
  v6: boolean;
  src: string;
  dst: string;
  proto: number;
  ipLength: number;
  /** Offset of the transport header, -1 for a non-initial fragment. */
  l4: number;
  frame: Buffer;
}

function readPcap(path: string): Buffer[] {
  const b = readFileSync(path);
  const out: Buffer[] = [];
  for (let o = 24; o < b.length; ) {
    const len = b.readUInt32LE(o + 8);
    out.push(b.subarray(o + 16, o + 16 + len));
    o += 16 + len;
  }
  return out;
}

function address(f: Buffer, o: number, v6: boolean): string {
  if (!v6) return `${f[o]}.${f[o + 1]}.${f[o + 2]}.${f[o + 3]}`;
  const words = [0, 1, 2, 3].map((w) => f.readUInt32BE(o + w * 4));
  return formatAddressWords(words);
}

function parse(f: Buffer): Parsed {
  const v6 = f.readUInt16BE(12) === 0x86dd;
  if (v6) {
    let proto = f[20]!;
    let l4 = 54;
    if (proto === 44) {
      // Fragment header: next header, reserved, offset (13 bits) and flags, identification.
      proto = f[54]!;
      l4 = f.readUInt16BE(56) >> 3 ? -1 : 62;
    }
    return {
      v6,
      src: address(f, 22, true),
      dst: address(f, 38, true),
      proto,
      ipLength: 40 + f.readUInt16BE(18),
      l4,
      frame: f,
    };
  }
  const fragmentOffset = f.readUInt16BE(20) & 0x1fff;
  return {
    v6,
    src: address(f, 26, false),
    dst: address(f, 30, false),
    proto: f[23]!,
    ipLength: f.readUInt16BE(16),
    l4: fragmentOffset ? -1 : 34,
    frame: f,
  };
}

function sum16(b: Buffer, start: number, end: number): number {
  let s = 0;
  for (let i = start; i + 1 < end; i += 2) s += b.readUInt16BE(i);
  if ((end - start) % 2 === 1) s += b[end - 1]! << 8;
  return s;
}

const fold = (s: number) => {
  let v = s;
  while (v > 0xffff) v = (v & 0xffff) + (v >>> 16);
  return v;
};

function checksumsVerify(p: Parsed): boolean {
  const f = p.frame;
  if (!p.v6 && fold(sum16(f, 14, 34)) !== 0xffff) return false;
  if (p.l4 < 0 || p.proto === 47) return true; // fragments and GRE carry no L4 checksum here
  const l4Length = f.length - p.l4;
  if (p.proto === 1) return fold(sum16(f, p.l4, f.length)) === 0xffff;
  const pseudo = p.v6 ? sum16(f, 22, 54) : sum16(f, 26, 34);
  return fold(pseudo + p.proto + l4Length + sum16(f, p.l4, f.length)) === 0xffff;
}

function recount(packets: readonly Parsed[]): Record<string, DestinationTruth> {
  const out: Record<string, DestinationTruth> = {};
  for (const p of packets) {
    const d = out[p.dst] ?? { protocols: {}, udpSourcePorts: {} };
    out[p.dst] = d;
    const c = d.protocols[String(p.proto)] ?? { packets: 0, bytes: 0 };
    d.protocols[String(p.proto)] = c;
    c.packets += 1;
    c.bytes += p.ipLength;
    if (p.l4 < 0) d.fragments = (d.fragments ?? 0) + 1;
    else if (p.proto === 17) {
      const port = String(p.frame.readUInt16BE(p.l4));
      d.udpSourcePorts[port] = (d.udpSourcePorts[port] ?? 0) + 1;
    }
  }
  return out;
}

const spec: ScenarioSpec = {
  seed: 9,
  startEpoch: 1_763_700_000,
  durationSeconds: 1,
  streams: [
    { kind: 'ack-flood', dst: '203.0.113.1', sources: 100, pps: 200 },
    { kind: 'rst-flood', dst: '203.0.113.2', dstPort: 443, sources: 100, pps: 200 },
    { kind: 'gre-flood', dst: '203.0.113.3', sources: 10, pps: 100 },
    { kind: 'fragment-flood', dst: '203.0.113.4', sources: 10, pps: 100 },
    { kind: 'carpet-bomb', prefix: '198.51.100.0/28', sources: 20, pps: 500, size: 300 },
    { kind: 'carpet-bomb', prefix: '2001:db8:c0::/124', srcPort: 123, sources: 20, pps: 500, size: 300 },
    { kind: 'udp-reflection', dst: '2001:db8::5', srcPort: 389, sources: 30, pps: 100 },
    { kind: 'syn-flood', dst: '2001:db8::6', dstPort: 80, sources: 30, pps: 100 },
    { kind: 'ack-flood', dst: '2001:db8::7', sources: 30, pps: 100 },
    { kind: 'icmp-flood', dst: '2001:db8::8', sources: 30, pps: 100 },
    { kind: 'udp-flood', dst: '2001:db8::9', sources: 30, pps: 100, dstPorts: [27015] },
    { kind: 'gre-flood', dst: '2001:db8::a', sources: 30, pps: 100 },
    { kind: 'fragment-flood', dst: '2001:db8::b', sources: 30, pps: 100 },
    { kind: 'tcp-bulk', server: '100.40.0.80', client: '203.0.113.30', port: 443, streams: 2, pps: 400 },
    { kind: 'game-udp', server: '203.0.113.40', clients: 20, pps: 200 },
    { kind: 'dns-resolver', resolver: '203.0.113.53', clients: 50, qps: 100 },
  ],
  filler: { packets: 100, flows: 10 },
};

let dir = '';
let truth: ScenarioTruth;
let packets: Parsed[] = [];

beforeAll(async () => {
  requireTool('python3-scapy');
  dir = mkdtempSync(join(tmpdir(), 'fg-lab-kinds-'));
  const made = await makeScenario(spec, dir);
  truth = made.truth;
  packets = readPcap(made.pcapPath).map(parse);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('make-scenario.py: newer kinds and IPv6', () => {
  it('reports as truth exactly what the pcap holds, fragments counted apart', () => {
    const scenario = packets.slice(0, truth.packets - truth.filler.packets);
    expect(truth.destinations).toEqual(recount(scenario));
    expect(truth.destinations['203.0.113.4']).toEqual({
      protocols: { '17': { packets: 100, bytes: 150_000 } },
      udpSourcePorts: {},
      fragments: 100,
    });
    expect(truth.destinations['2001:db8::b']).toEqual({
      protocols: { '17': { packets: 100, bytes: 150_000 } },
      udpSourcePorts: {},
      fragments: 100,
    });
  });

  it('sends IPv6 fragments with a Fragment header: UDP, offset 1480, a fresh identification each', () => {
    const fragments = packets.filter((p) => p.dst === '2001:db8::b');
    expect(fragments).toHaveLength(100);
    for (const p of fragments) {
      expect(p.frame[20]).toBe(44);
      expect(p.frame[54]).toBe(17);
      expect(p.frame.readUInt16BE(56)).toBe(185 << 3);
      expect(p.frame.length).toBe(14 + 1500);
      expect(p.src.startsWith('2001:2:')).toBe(true);
    }
    expect(new Set(fragments.map((p) => p.frame.readUInt32BE(58))).size).toBeGreaterThan(95);
  });

  it('writes valid checksums on every packet, IPv6 pseudo-headers included', () => {
    expect(packets.filter((p) => !checksumsVerify(p))).toEqual([]);
    expect(packets.filter((p) => p.v6 && p.proto === 58)).toHaveLength(100);
    // The verifier catches a flipped bit in an IPv6 address (it is in the pseudo-header).
    const v6 = packets.find((p) => p.v6 && p.proto === 6)!;
    const corrupted = Buffer.from(v6.frame);
    corrupted[30]! ^= 1;
    expect(checksumsVerify(parse(corrupted))).toBe(false);
  });

  it('sets the flags of ACK and RST floods and sends IPv6 attacks from IPv6 sources', () => {
    const flags = (dst: string) =>
      new Set(packets.filter((p) => p.dst === dst).map((p) => p.frame[p.l4 + 13]));
    expect(flags('203.0.113.1')).toEqual(new Set([0x10]));
    expect(flags('203.0.113.2')).toEqual(new Set([0x04]));
    expect(flags('2001:db8::6')).toEqual(new Set([0x02]));
    expect(packets.filter((p) => p.dst === '2001:db8::7').every((p) => p.src.startsWith('2001:2:'))).toBe(
      true,
    );
    expect(truth.destinations['2001:db8::5']!.udpSourcePorts).toEqual({ '389': 100 });
  });

  it('spreads a carpet bomb over every address of its prefix', () => {
    const hit = (prefix: string) => Object.keys(truth.destinations).filter((d) => d.startsWith(prefix));
    expect(hit('198.51.100.').length).toBe(14); // a /28 without network and broadcast addresses
    expect(hit('2001:db8:c0::').length).toBe(16);
  });

  it('makes bulk TCP with a handshake, PSH on every 8th segment and the client acknowledging', () => {
    const data = packets.filter((p) => p.src === '100.40.0.80' && p.proto === 6);
    const flags = data.map((p) => p.frame[p.l4 + 13]!);
    expect(flags.filter((f) => f === 0x12)).toHaveLength(2); // SYN-ACK per stream
    const segments = data.filter((p) => p.ipLength === 1500);
    expect(segments).toHaveLength(400);
    expect(segments.filter((p) => (p.frame[p.l4 + 13]! & 0x08) !== 0)).toHaveLength(50);
    expect(truth.destinations['100.40.0.80']!.protocols['6']!.packets).toBeGreaterThanOrEqual(200);
  });

  it('refuses an IPv4 source prefix for an IPv6 destination, naming it', async () => {
    const bad = {
      ...spec,
      streams: [
        {
          kind: 'syn-flood',
          dst: '2001:db8::6',
          dstPort: 80,
          sources: 3,
          pps: 10,
          srcPrefix: '198.18.0.0/15',
        },
      ],
    };
    await expect(makeScenario(bad as ScenarioSpec, dir)).rejects.toThrow(
      /'198\.18\.0\.0\/15' is not an IPv6 prefix/,
    );
  });
});
