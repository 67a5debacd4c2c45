/**
 * Real pmacctd (sfprobe plugin, sampling 1 in 1) exports generated captures as sFlow v5;
 * Floodgate's decoder table must account for every packet and byte of the ground truth exactly,
 * per destination and protocol, with bytes as IP packet lengths. tshark decodes the same
 * datagrams independently and must agree field by field on every sample, including that sFlow's
 * frame_length is the IP length + 14 (Ethernet header) + 4 (FCS), which is why the decoder does
 * not use it. The IPv6 attack capture goes through the same agent in test/lab/pmacctd-sfprobe-ipv6.
 *
 * Needs the Debian packages pmacct, tshark and python3-scapy; fails naming them when missing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAGMENT_NO, FRAGMENT_YES } from '../../../core/flow/flow-batch.js';
import {
  type DecodedPerDatagram,
  decodePerDatagram,
  sflowFields,
  totalsBy,
} from '../../lab/decoded-totals.js';
import { runPmacctdSfprobe } from '../../lab/pmacctd-sfprobe.js';
import {
  collectDatagrams,
  type DatagramSink,
  makeScenario,
  type ReceivedDatagram,
  requireTool,
  type ScenarioTruth,
} from '../../lab/scenario.js';
import { tsharkSflowSamples } from '../../lab/tshark-sflow.js';
import { buildEdgeCapture, type EdgeCapture, type EdgeTruth } from './edge-capture.js';

const NTP_TARGET = '203.0.113.10';
const SYN_TARGET = '203.0.113.20';
const ICMP_TARGET = '203.0.113.40';
const UDP_FLOOD_TARGET = '203.0.113.50';
const SUB_AGENT = 7;
const IF_INDEX = 5;

/** sFlow datagram sequence numbers (IPv4 agent: at byte 16) must run 1..N: nothing lost. */
function sequences(datagrams: readonly ReceivedDatagram[]): number[] {
  return datagrams.map((d) => d.data.readUInt32BE(16)).sort((a, b) => a - b);
}

async function exportWithPmacctd(
  pcapPath: string,
  dir: string,
): Promise<{ sink: DatagramSink; datagrams: ReceivedDatagram[] }> {
  const sink = await collectDatagrams(0);
  const run = await runPmacctdSfprobe({
    pcapPath,
    dir,
    port: sink.port,
    subAgentId: SUB_AGENT,
    ifIndex: IF_INDEX,
  });
  expect(run.completed, `pmacctd exited with ${run.exitCode}:\n${run.stderr}`).toBe(true);
  const datagrams = await sink.settle({ atLeast: 1, quietMs: 500, timeoutMs: 10_000 });
  return { sink, datagrams };
}

describe('pmacctd sfprobe sFlow v5 from a generated attack capture', () => {
  let dir = '';
  let sink: DatagramSink | undefined;
  let truth: ScenarioTruth;
  let datagrams: ReceivedDatagram[];
  let decoded: DecodedPerDatagram;
  let sinkPort = 0;

  beforeAll(async () => {
    requireTool('pmacctd');
    requireTool('python3-scapy');
    requireTool('tshark');
    dir = mkdtempSync(join(tmpdir(), 'fg-lab-sflow-'));
    const scenario = await makeScenario(
      {
        seed: 7,
        startEpoch: Math.floor(Date.now() / 1000) - 30,
        durationSeconds: 3,
        streams: [
          { kind: 'udp-reflection', dst: NTP_TARGET, srcPort: 123, sources: 2000, pps: 2000, size: 496 },
          { kind: 'syn-flood', dst: SYN_TARGET, dstPort: 80, sources: 3000, pps: 1500 },
          { kind: 'icmp-flood', dst: ICMP_TARGET, sources: 300, pps: 500 },
          {
            kind: 'udp-flood',
            dst: UDP_FLOOD_TARGET,
            dstPorts: [53, 80],
            sources: 1000,
            pps: 500,
            size: 200,
          },
          { kind: 'tcp-session', client: '198.51.100.7', server: '203.0.113.30', port: 443, packets: 200 },
          { kind: 'dns', client: '198.51.100.8', resolver: '203.0.113.53', queries: 50 },
          { kind: 'udp-stream', src: '198.51.100.9', dst: '203.0.113.60', pps: 50, size: 200 },
        ],
        filler: { packets: 3000, flows: 300 },
      },
      dir,
    );
    truth = scenario.truth;
    const exported = await exportWithPmacctd(scenario.pcapPath, dir);
    sink = exported.sink;
    sinkPort = sink.port;
    datagrams = exported.datagrams;
    decoded = decodePerDatagram(datagrams);
  }, 120_000);

  afterAll(async () => {
    await sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('receives every datagram pmacctd sent and decodes all of them without error', () => {
    expect(sink!.errors).toEqual([]);
    expect(sequences(datagrams)).toEqual(Array.from({ length: datagrams.length }, (_, i) => i + 1));
    expect(decoded.errors).toEqual({});
    // Every sample is an IP packet with its header: nothing skipped, no default rate.
    expect(decoded.notices).toEqual({});
    // One row per sampled packet; pmacctd may lose some of the filler at end of file, never more.
    expect(decoded.rows.length).toBeLessThanOrEqual(truth.packets);
    expect(decoded.rows.length).toBeGreaterThan(truth.packets - truth.filler.packets);
  });

  it('counts exactly the packets and bytes of the ground truth per destination and protocol', () => {
    const got = totalsBy(decoded.rows, (r) => `${r.dstAddr}/${r.protocol}`);
    const expected: Record<string, { packets: number; bytes: number }> = {};
    for (const [dst, d] of Object.entries(truth.destinations)) {
      for (const [proto, counted] of Object.entries(d.protocols)) expected[`${dst}/${proto}`] = counted;
    }
    expect(Object.keys(expected)).toEqual(
      expect.arrayContaining([
        `${NTP_TARGET}/17`,
        `${SYN_TARGET}/6`,
        `${ICMP_TARGET}/1`,
        `${UDP_FLOOD_TARGET}/17`,
      ]),
    );
    const scenarioOnly = Object.fromEntries(
      Object.keys(expected).map((k) => [k, got[k] ?? { packets: 0, bytes: 0 }]),
    );
    expect(scenarioOnly).toEqual(expected);
    // Nothing else but the filler.
    const others = Object.keys(got).filter((k) => !(k in expected));
    expect(others).toEqual([`${truth.filler.dst}/17`]);
  });

  it('reads ports, flags and ICMP types the way the attack was built', () => {
    const ntp = decoded.rows.filter((r) => r.dstAddr === NTP_TARGET);
    expect(new Set(ntp.map((r) => r.srcPort))).toEqual(new Set([123]));
    expect(ntp.length).toBe(truth.destinations[NTP_TARGET]!.udpSourcePorts['123']);
    const syn = decoded.rows.filter((r) => r.dstAddr === SYN_TARGET);
    expect(new Set(syn.map((r) => `${r.dstPort}/${r.tcpFlags}`))).toEqual(new Set(['80/2']));
    const pings = decoded.rows.filter((r) => r.dstAddr === ICMP_TARGET);
    expect(new Set(pings.map((r) => `${r.icmpType}/${r.icmpCode}/${r.srcPort}/${r.dstPort}`))).toEqual(
      new Set(['8/0/0/0']),
    );
    expect(new Set(decoded.rows.filter((r) => r.dstAddr === UDP_FLOOD_TARGET).map((r) => r.dstPort))).toEqual(
      new Set([53, 80]),
    );
  });

  it('carries the agent settings: sub-agent id, input ifIndex, no output interface, rate 1', () => {
    const seen = new Set(
      decoded.rows.map(
        (r) => `${r.sourceId}/${r.inputIf}/${r.outputIf}/${r.samplingRate}/${r.sampledPackets}/${r.fragment}`,
      ),
    );
    expect(seen).toEqual(new Set([`${SUB_AGENT}/${IF_INDEX}/0/1/1/${FRAGMENT_NO}`]));
    expect(decoded.rows.every((r) => r.startMs === r.arrivalMs && r.endMs === r.arrivalMs)).toBe(true);
  });

  it('agrees with tshark field by field on every sample; frame_length is the IP length + 18', async () => {
    const theirs = await tsharkSflowSamples(datagrams, sinkPort);
    expect(theirs).toHaveLength(datagrams.length);
    let frameBytes = 0;
    let ipBytes = 0;
    theirs.forEach((samples, i) => {
      const ours = decoded.perDatagram[i]!.map(sflowFields);
      const stated = samples.map(({ frameLength: _f, stripped: _s, ...fields }) => fields);
      expect(ours, `datagram ${i + 1}`).toEqual(stated);
      // A datagram may carry only counter samples (pmacctd sends them on its own timer): no flow samples then.
      for (const x of samples) expect(x.stripped, `datagram ${i + 1}`).toBe(4);
      for (const x of samples) frameBytes += x.frameLength;
      ipBytes += decoded.perDatagram[i]!.reduce((a, r) => a + r.bytes!, 0);
    });
    // The documented adjustment: 14 bytes of Ethernet header and 4 of FCS per sampled frame.
    expect(frameBytes - ipBytes).toBe(18 * decoded.rows.length);
  }, 120_000);
});

describe('pmacctd sfprobe sFlow v5: IPv6, VLAN, QinQ, MPLS, fragments, ICMP errors', () => {
  let dir = '';
  let sink: DatagramSink | undefined;
  let capture: EdgeCapture;
  let datagrams: ReceivedDatagram[];
  let decoded: DecodedPerDatagram;

  beforeAll(async () => {
    requireTool('pmacctd');
    dir = mkdtempSync(join(tmpdir(), 'fg-lab-sflow-edge-'));
    capture = buildEdgeCapture(Date.now() - 30_000);
    const pcapPath = join(dir, 'edge.pcap');
    writeFileSync(pcapPath, capture.pcap);
    const exported = await exportWithPmacctd(pcapPath, dir);
    sink = exported.sink;
    datagrams = exported.datagrams;
    decoded = decodePerDatagram(datagrams);
  }, 120_000);

  afterAll(async () => {
    await sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('receives every datagram and decodes every sample without error', () => {
    expect(sequences(datagrams)).toEqual(Array.from({ length: datagrams.length }, (_, i) => i + 1));
    expect(decoded.errors).toEqual({});
    expect(decoded.notices).toEqual({});
    expect(decoded.rows.length).toBeLessThanOrEqual(capture.packets);
  });

  it('matches the truth exactly per destination and protocol: packets, bytes, fragments, ports, flags, ICMP', () => {
    const got: Record<string, EdgeTruth> = {};
    for (const r of decoded.rows) {
      if (r.dstAddr === capture.fillerDst) continue;
      const key = `${r.dstAddr}/${r.protocol}`;
      const t = got[key] ?? { packets: 0, bytes: 0, fragments: 0, dstPorts: {}, tcpFlags: {}, icmp: {} };
      got[key] = t;
      const packets = r.packets!;
      t.packets += packets;
      t.bytes += r.bytes!;
      if (r.fragment === FRAGMENT_YES) t.fragments += packets;
      t.dstPorts[r.dstPort!] = (t.dstPorts[r.dstPort!] ?? 0) + packets;
      if (r.protocol === 6) t.tcpFlags[r.tcpFlags!] = (t.tcpFlags[r.tcpFlags!] ?? 0) + packets;
      if (r.protocol === 1 || r.protocol === 58) {
        const k = `${r.icmpType}/${r.icmpCode}`;
        t.icmp[k] = (t.icmp[k] ?? 0) + packets;
      }
    }
    expect(got).toEqual(capture.truth);
  });

  it('stores IPv6 addresses in full and IPv4 ones mapped', () => {
    const versions = totalsBy(decoded.rows, (r) => `${r.ipVersion}/${r.dstAddr.includes(':') ? 6 : 4}`);
    expect(Object.keys(versions).sort()).toEqual(['4/4', '6/6']);
  });
});
