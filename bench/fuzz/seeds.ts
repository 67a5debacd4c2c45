/**
 * Real datagrams to mutate, from real exporters: softflowd (NetFlow v5, v9, IPFIX) and pmacctd
 * (NetFlow v9, IPFIX, sFlow v5) on the flow lab's mixed IPv4 scenario and its IPv6 capture.
 * Each stream keeps its exporter's order, so its templates come before the data they describe.
 */

import { sniffProtocol, type WireProtocol } from '../../collectors/registry.js';
import { makeIpv6Scenario } from '../../test/lab/ipv6-scenario.js';
import { makeScenario } from '../../test/lab/scenario.js';
import { softflowdDatagrams } from '../lib/captures.js';
import { pmacctdDatagrams } from '../lib/pmacctd.js';

export interface SeedStream {
  /** Which exporter and capture, for reports ("softflowd v9 IPv6"). */
  source: string;
  protocol: WireProtocol;
  datagrams: Uint8Array[];
}

/** Enough datagrams per stream for variety; more only slows the warm-up. */
const PER_STREAM = 400;

async function ipv4Capture(dir: string): Promise<{ pcapPath: string; flows: number }> {
  const { pcapPath, truth } = await makeScenario(
    {
      seed: 11,
      startEpoch: Math.floor(Date.now() / 1000) - 60,
      durationSeconds: 2,
      streams: [
        { kind: 'udp-reflection', dst: '203.0.113.10', srcPort: 123, sources: 800, pps: 1500 },
        { kind: 'syn-flood', dst: '203.0.113.20', dstPort: 80, sources: 1500, pps: 1500 },
        { kind: 'icmp-flood', dst: '203.0.113.40', sources: 200, pps: 500 },
        { kind: 'udp-flood', dst: '203.0.113.50', dstPorts: [53, 80], sources: 500, pps: 1000 },
        { kind: 'tcp-session', client: '198.51.100.7', server: '203.0.113.30', port: 443, packets: 200 },
        { kind: 'dns', client: '198.51.100.8', resolver: '203.0.113.53', queries: 50 },
        { kind: 'udp-stream', src: '198.51.100.9', dst: '203.0.113.60', pps: 50, size: 200 },
      ],
    },
    dir,
  );
  return { pcapPath, flows: truth.flows };
}

export async function collectSeeds(dir: string, wanted: readonly WireProtocol[]): Promise<SeedStream[]> {
  const v4 = await ipv4Capture(dir);
  const v6 = makeIpv6Scenario(dir, Date.now() - 60_000);
  const v6Capture = { pcapPath: v6.pcapPath, flows: v6.truth.flows };
  const raw: { source: string; datagrams: Buffer[] }[] = [];
  for (const version of [5, 9, 10] as const) {
    raw.push({ source: `softflowd v${version} IPv4`, datagrams: await softflowdDatagrams(v4, version) });
  }
  for (const version of [9, 10] as const) {
    raw.push({
      source: `softflowd v${version} IPv6`,
      datagrams: await softflowdDatagrams(v6Capture, version),
    });
  }
  for (const [label, capture] of [
    ['IPv4', v4],
    ['IPv6', v6Capture],
  ] as const) {
    const p = await pmacctdDatagrams(capture.pcapPath, dir);
    raw.push(
      { source: `pmacctd nfprobe v9 ${label}`, datagrams: p.v9 },
      { source: `pmacctd nfprobe IPFIX ${label}`, datagrams: p.ipfix },
      { source: `pmacctd sfprobe sFlow ${label}`, datagrams: p.sflow },
    );
  }
  const streams: SeedStream[] = [];
  for (const r of raw) {
    const first = r.datagrams[0];
    const protocol = first ? sniffProtocol(first) : undefined;
    if (!protocol || !wanted.includes(protocol)) continue;
    streams.push({
      source: r.source,
      protocol,
      datagrams: r.datagrams.slice(0, PER_STREAM).map((d) => Uint8Array.from(d)),
    });
  }
  const missing = wanted.filter((p) => !streams.some((s) => s.protocol === p));
  if (missing.length > 0) {
    throw new Error(
      `no real datagrams to fuzz ${missing.join(', ')} with: the exporters produced none (sources: ${raw
        .map((r) => `${r.source} ${r.datagrams.length}`)
        .join(', ')})`,
    );
  }
  return streams;
}
