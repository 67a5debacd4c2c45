/**
 * Carpet bombing over an IPv4 /24 and an IPv6 /120 (every host under its own thresholds, the
 * prefix over its total), and the IPv6 attack families, generated as one capture and exported
 * second by second by real softflowd as NetFlow v9 (v5 carries no IPv6).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttackFamily, Incident } from '../../core/incident/incident.js';
import { makeScenario, requireTool, type StreamSpec } from '../lab/scenario.js';
import { exportPerSecond } from './exporter.js';
import { detectorFor, latestById, replay } from './replay.js';
import {
  CUSTOMERS_V4,
  CUSTOMERS_V6,
  SCENARIO_CONFIG,
  SCENARIO_EPOCH,
  SERVERS_V6,
} from './scenario-config.js';

const V6_ATTACKS: { dst: string; family: AttackFamily; stream: StreamSpec }[] = [
  {
    dst: '2001:db8:feed::12',
    family: 'tcp_syn_flood',
    stream: { kind: 'syn-flood', dst: '2001:db8:feed::12', dstPort: 443, sources: 5000, pps: 2000 },
  },
  {
    dst: '2001:db8:feed::13',
    family: 'tcp_ack_rst_flood',
    stream: { kind: 'ack-flood', dst: '2001:db8:feed::13', sources: 3000, pps: 2000 },
  },
  {
    dst: '2001:db8:feed::15',
    family: 'icmp_flood',
    stream: { kind: 'icmp-flood', dst: '2001:db8:feed::15', sources: 300, pps: 2000 },
  },
  {
    dst: '2001:db8:feed::16',
    family: 'fragment_flood',
    stream: { kind: 'fragment-flood', dst: '2001:db8:feed::16', sources: 300, pps: 2000 },
  },
  {
    dst: '2001:db8:feed::17',
    family: 'gre_flood',
    stream: { kind: 'gre-flood', dst: '2001:db8:feed::17', sources: 50, pps: 2000 },
  },
  {
    dst: '2001:db8:feed::21',
    family: 'dns_amplification',
    stream: {
      kind: 'udp-reflection',
      dst: '2001:db8:feed::21',
      srcPort: 53,
      sources: 1000,
      srcPrefix: '2001:db8:aaaa::/48',
      pps: 2000,
      size: 1400,
    },
  },
];

const CARPETS: StreamSpec[] = [
  // 6000 pps of DNS answers over the customer /24: 24 pps per host, 4000 pps allowed in total.
  {
    kind: 'carpet-bomb',
    prefix: CUSTOMERS_V4,
    srcPort: 53,
    sources: 800,
    srcPrefix: '100.20.0.0/16',
    pps: 6000,
  },
  // NTP over the IPv6 customer /120.
  {
    kind: 'carpet-bomb',
    prefix: CUSTOMERS_V6,
    srcPort: 123,
    size: 468,
    sources: 500,
    srcPrefix: '2001:db8:bbbb::/48',
    pps: 6000,
  },
];

let dir = '';
let incidents: Incident[] = [];

beforeAll(async () => {
  requireTool('softflowd');
  requireTool('python3-scapy');
  dir = mkdtempSync(join(tmpdir(), 'fg-carpet-'));
  const { pcapPath } = await makeScenario(
    {
      seed: 23,
      startEpoch: SCENARIO_EPOCH,
      durationSeconds: 4,
      streams: [...CARPETS, ...V6_ATTACKS.map((a) => a.stream)],
    },
    dir,
  );
  const arrivals = await exportPerSecond(pcapPath, { version: 9 });
  const detector = detectorFor(SCENARIO_CONFIG);
  incidents = [...latestById(replay(detector, arrivals, arrivals.at(-1)!.arrivalMs + 5000)).values()];
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('carpet bombing through softflowd NetFlow v9', () => {
  it.each([
    [CUSTOMERS_V4, 'dns_amplification', 53, 254],
    [CUSTOMERS_V6, 'ntp_amplification', 123, 256],
  ] as const)('opens one incident on %s itself, carrying the %s vector', (prefix, vector, port, hosts) => {
    const onPrefix = incidents.filter((i) => i.network === prefix);
    expect(onPrefix).toHaveLength(1);
    const incident = onPrefix[0]!;
    expect(incident).toMatchObject({
      target: prefix,
      targetKind: 'prefix',
      family: 'carpet_bombing',
      triggers: ['totals.pps'],
    });
    expect(incident.vectors![0]).toEqual({ family: vector, share: 1 });
    expect(incident.fingerprint.sourcePorts).toEqual([port]);
    expect(Math.abs(incident.fingerprint.distinctTargets! - hosts) / hosts).toBeLessThan(0.15);
    expect(incident.fingerprint.topTargets!.length).toBeGreaterThan(0);
    expect(incident.confidence).toBeGreaterThan(0.9);
    expect(incident.peak.pps).toBeGreaterThan(5000);
  });
});

describe('IPv6 families through softflowd NetFlow v9', () => {
  it('opens one incident per attacked IPv6 host, and no host incident inside the carpets', () => {
    const hosts = incidents.filter((i) => i.targetKind === 'host').map((i) => i.target);
    expect(hosts.sort()).toEqual(V6_ATTACKS.map((a) => a.dst).sort());
  });

  it.each(V6_ATTACKS.map((a) => [a.family, a.dst] as const))('classifies %s on %s', (family, dst) => {
    const incident = incidents.find((i) => i.target === dst)!;
    expect(incident).toMatchObject({ family, ipVersion: 6, network: SERVERS_V6 });
    expect(incident.confidence).toBeGreaterThan(0.9);
  });

  it('fingerprints IPv6 attacks with IPv6 protocol numbers and addresses', () => {
    const icmp = incidents.find((i) => i.target === '2001:db8:feed::15')!;
    expect(icmp.fingerprint.protocols).toEqual([58]);
    const dns = incidents.find((i) => i.target === '2001:db8:feed::21')!;
    expect(dns.fingerprint.sourcePorts).toEqual([53]);
    expect(dns.fingerprint.topSources!.every((s) => s.address.startsWith('2001:db8:aaaa:'))).toBe(true);
    // softflowd reports non-initial IPv6 fragments as protocol 0, ports 0: fragments all the same.
    const fragments = incidents.find((i) => i.target === '2001:db8:feed::16')!;
    expect(fragments.fingerprint.shares?.fragment).toBe(1);
    expect(fragments.triggers).toEqual(['fragment.pps']);
    const syn = incidents.find((i) => i.target === '2001:db8:feed::12')!;
    expect(syn.fingerprint).toMatchObject({ destinationPorts: [443], synShare: 1 });
  });
});
