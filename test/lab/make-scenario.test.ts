/**
 * The generator's promises, checked against the pcap it wrote by an independent reader: the
 * truth is what the capture holds, every checksum verifies (byte-patched copies included),
 * times follow the spec, the output is deterministic, and bad specs are refused by name.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DestinationTruth, makeScenario, requireTool, type ScenarioSpec } from './scenario.js';

interface PcapPacket {
  timeUs: number;
  frame: Buffer;
}

/** Classic little-endian microsecond pcap, Ethernet: what make-scenario.py writes. */
function readPcap(path: string): PcapPacket[] {
  const b = readFileSync(path);
  expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
  expect(b.readUInt32LE(20)).toBe(1); // LINKTYPE_ETHERNET
  const out: PcapPacket[] = [];
  for (let o = 24; o < b.length; ) {
    const timeUs = b.readUInt32LE(o) * 1_000_000 + b.readUInt32LE(o + 4);
    const len = b.readUInt32LE(o + 8);
    expect(b.readUInt32LE(o + 12)).toBe(len);
    out.push({ timeUs, frame: b.subarray(o + 16, o + 16 + len) });
    o += 16 + len;
  }
  return out;
}

function sum16(b: Buffer, start: number, end: number): number {
  let s = 0;
  for (let i = start; i + 1 < end; i += 2) s += b.readUInt16BE(i);
  if ((end - start) % 2 === 1) s += b[end - 1]! << 8;
  return s;
}

function folds(s: number): number {
  let v = s;
  while (v > 0xffff) v = (v & 0xffff) + (v >>> 16);
  return v;
}

/** True when the IPv4 header checksum and the TCP/UDP/ICMP checksum verify. */
function checksumsVerify(f: Buffer): boolean {
  if (folds(sum16(f, 14, 34)) !== 0xffff) return false;
  const proto = f[23]!;
  const l4Len = f.readUInt16BE(16) - 20;
  if (proto === 1) return folds(sum16(f, 34, 34 + l4Len)) === 0xffff;
  const pseudo = sum16(f, 26, 34) + proto + l4Len;
  return folds(pseudo + sum16(f, 34, 34 + l4Len)) === 0xffff;
}

function ipText(f: Buffer, o: number): string {
  return `${f[o]}.${f[o + 1]}.${f[o + 2]}.${f[o + 3]}`;
}

function recount(packets: readonly PcapPacket[]): Record<string, DestinationTruth> {
  const out: Record<string, DestinationTruth> = {};
  for (const { frame } of packets) {
    const dst = ipText(frame, 30);
    const proto = String(frame[23]);
    const d = out[dst] ?? { protocols: {}, udpSourcePorts: {} };
    out[dst] = d;
    const c = d.protocols[proto] ?? { packets: 0, bytes: 0 };
    d.protocols[proto] = c;
    c.packets += 1;
    c.bytes += frame.readUInt16BE(16);
    if (proto === '17') {
      const port = String(frame.readUInt16BE(34));
      d.udpSourcePorts[port] = (d.udpSourcePorts[port] ?? 0) + 1;
    }
  }
  return out;
}

const START = 1_763_700_000.25;

const spec: ScenarioSpec = {
  seed: 3,
  startEpoch: START,
  durationSeconds: 2,
  streams: [
    { kind: 'udp-reflection', dst: '203.0.113.10', srcPort: 123, sources: 500, pps: 1000, size: 468 },
    { kind: 'syn-flood', dst: '203.0.113.20', dstPort: 80, sources: 800, pps: 1000 },
    { kind: 'icmp-flood', dst: '203.0.113.40', sources: 100, pps: 300, size: 1001 },
    { kind: 'udp-flood', dst: '203.0.113.50', dstPorts: [53, 80], sources: 200, pps: 500, size: 99 },
    { kind: 'tcp-session', client: '198.51.100.7', server: '203.0.113.30', port: 443, packets: 40 },
    { kind: 'dns', client: '198.51.100.8', resolver: '203.0.113.53', queries: 10, offsetSeconds: 0.5 },
    { kind: 'udp-stream', src: '198.51.100.9', dst: '203.0.113.60', pps: 50, durationSeconds: 1 },
  ],
  filler: { packets: 500, flows: 50 },
};

describe('make-scenario.py', () => {
  let dir = '';
  beforeAll(() => {
    requireTool('python3-scapy');
    dir = mkdtempSync(join(tmpdir(), 'fg-lab-gen-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports as truth exactly what the pcap holds, filler apart', async () => {
    const { pcapPath, truth } = await makeScenario(spec, dir);
    const packets = readPcap(pcapPath);
    expect(packets).toHaveLength(truth.packets);
    const scenario = packets.slice(0, truth.packets - truth.filler.packets);
    const filler = packets.slice(truth.packets - truth.filler.packets);
    expect(truth.destinations).toEqual(recount(scenario));
    expect(Object.keys(recount(filler))).toEqual([truth.filler.dst]);
    expect(truth.destinations[truth.filler.dst]).toBeUndefined();
    expect(truth.filler.bytes).toBe(filler.reduce((s, p) => s + p.frame.readUInt16BE(16), 0));

    const byKind = Object.fromEntries(truth.streams.map((s) => [s.kind, s.packets]));
    expect(byKind).toEqual({
      'udp-reflection': 2000,
      'syn-flood': 2000,
      'icmp-flood': 600,
      'udp-flood': 1000,
      'tcp-session': 40,
      dns: 20,
      'udp-stream': 50,
    });
    expect(truth.destinations['203.0.113.10']!.udpSourcePorts).toEqual({ '123': 2000 });
    expect(truth.destinations['203.0.113.10']!.protocols['17']).toEqual({ packets: 2000, bytes: 2000 * 468 });
    expect(truth.destinations['203.0.113.40']!.protocols['1']).toEqual({ packets: 600, bytes: 600 * 1001 });
    expect(truth.destinations['203.0.113.20']!.protocols['6']).toEqual({ packets: 2000, bytes: 2000 * 40 });
    // Both directions of the benign exchanges are destinations.
    expect(truth.destinations['198.51.100.7']!.protocols['6']!.packets).toBeGreaterThan(0);
    expect(truth.destinations['198.51.100.8']!.udpSourcePorts).toEqual({ '53': 10 });
  });

  it('writes valid IPv4 and TCP/UDP/ICMP checksums on every packet', async () => {
    const { pcapPath } = await makeScenario(spec, dir);
    const packets = readPcap(pcapPath);
    const bad = packets.filter((p) => !checksumsVerify(p.frame));
    expect(bad).toHaveLength(0);
    // The verifier itself catches a flipped address bit and a flipped payload bit.
    for (const offset of [29, 60]) {
      const corrupted = Buffer.from(packets[0]!.frame);
      corrupted[offset]! ^= 0x10;
      expect(checksumsVerify(corrupted)).toBe(false);
    }
  });

  it('puts the first packet at startEpoch, keeps time order, and the filler after the scenario', async () => {
    const { pcapPath, truth } = await makeScenario(spec, dir);
    const packets = readPcap(pcapPath);
    const startUs = Math.round(START * 1e6);
    expect(packets[0]!.timeUs).toBe(startUs);
    for (let i = 1; i < packets.length; i++)
      expect(packets[i]!.timeUs).toBeGreaterThanOrEqual(packets[i - 1]!.timeUs);
    const scenarioCount = truth.packets - truth.filler.packets;
    expect(packets[scenarioCount - 1]!.timeUs).toBeLessThanOrEqual(startUs + 2_001_000);
    expect(packets[scenarioCount]!.timeUs).toBeGreaterThan(packets[scenarioCount - 1]!.timeUs);
    expect(truth.firstEpoch).toBeCloseTo(START, 6);
    // The windowed streams stay inside their windows.
    const udpStream = packets.filter((p) => ipText(p.frame, 30) === '203.0.113.60');
    expect(udpStream.at(-1)!.timeUs - startUs).toBeLessThan(1_000_000);
    const dns = packets.filter((p) => ipText(p.frame, 30) === '203.0.113.53');
    expect(dns[0]!.timeUs - startUs).toBeGreaterThanOrEqual(500_000);
  });

  it('is deterministic for a seed and changes with it', async () => {
    const a = await makeScenario(spec, dir);
    const b = await makeScenario(spec, dir);
    const c = await makeScenario({ ...spec, seed: 4 }, dir);
    expect(readFileSync(b.pcapPath).equals(readFileSync(a.pcapPath))).toBe(true);
    expect({ ...b.truth, pcap: '' }).toEqual({ ...a.truth, pcap: '' });
    expect(readFileSync(c.pcapPath).equals(readFileSync(a.pcapPath))).toBe(false);
  });

  it('writes 70k packets in seconds', async () => {
    const started = Date.now();
    const { truth } = await makeScenario(
      {
        startEpoch: START,
        durationSeconds: 10,
        streams: [
          { kind: 'udp-reflection', dst: '203.0.113.10', srcPort: 123, sources: 2000, pps: 3000, size: 468 },
          { kind: 'syn-flood', dst: '203.0.113.20', dstPort: 80, sources: 5000, pps: 3000 },
          { kind: 'tcp-session', client: '198.51.100.7', server: '203.0.113.30', port: 443, packets: 200 },
        ],
      },
      dir,
    );
    expect(truth.packets).toBe(60_000 + 200 + 3000);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it.each([
    [{ ...spec, streams: [{ kind: 'ping-of-death', dst: '203.0.113.1' }] }, /unknown kind 'ping-of-death'/],
    [{ ...spec, streams: [{ ...spec.streams[0]!, pps_: 5 }] }, /unknown keys pps_/],
    [
      { ...spec, filler: { dst: '203.0.113.10' } },
      /filler: 203\.0\.113\.10 is a destination of the scenario/,
    ],
    [{ ...spec, streams: [{ ...spec.streams[0]!, size: 20 }] }, /size 20 is smaller than the IP and 8-byte/],
    [
      { ...spec, streams: [{ ...spec.streams[1]!, dst: '203.0.113.300' }] },
      /'203\.0\.113\.300' is not an IPv4/,
    ],
    [{ ...spec, startEpoch: undefined }, /missing "startEpoch"/],
  ])('refuses a bad spec, naming the problem (%#)', async (bad, message) => {
    await expect(makeScenario(bad as unknown as ScenarioSpec, dir)).rejects.toThrow(message);
  });
});
