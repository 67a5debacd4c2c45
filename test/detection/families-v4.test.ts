/**
 * Every IPv4 attack family, each on its own host of one /24 with everyday traffic beside them,
 * generated as a capture and exported by real softflowd as NetFlow v5:
 * - second by second (an exporter with a 1 s active timeout): every family is detected and
 *   classified, its fingerprint says what FlowSpec needs, and nothing else opens;
 * - in one burst at end of capture: the same families;
 * - with 1-in-512 packet sampling: what still opens says its evidence is thin.
 * Needs softflowd and python3-scapy (Debian packages); fails saying so when they are missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttackFamily, Incident } from '../../core/incident/incident.js';
import { makeScenario, requireTool, type StreamSpec } from '../lab/scenario.js';
import { type Arrival, exportAtOnce, exportPerSecond } from './exporter.js';
import { detectorFor, latestById, openedByTarget, replay } from './replay.js';
import { SCENARIO_CONFIG, SCENARIO_EPOCH } from './scenario-config.js';

const DURATION = 4;
const REFLECTORS = '100.20.0.0/16'; // real-looking reflectors, not bogons
const amp = (dst: string, srcPort: number, size: number): StreamSpec => ({
  kind: 'udp-reflection',
  dst,
  srcPort,
  size,
  sources: 1500,
  srcPrefix: REFLECTORS,
  pps: 2000,
});

/** Target -> the stream(s) attacking it and the family it must get. */
const ATTACKS: { dst: string; family: AttackFamily; streams: StreamSpec[] }[] = [
  {
    dst: '203.0.113.11',
    family: 'udp_flood',
    streams: [{ kind: 'udp-flood', dst: '203.0.113.11', sources: 3000, pps: 4500, size: 512 }],
  },
  {
    dst: '203.0.113.12',
    family: 'tcp_syn_flood',
    streams: [{ kind: 'syn-flood', dst: '203.0.113.12', dstPort: 80, sources: 20_000, pps: 2000 }],
  },
  {
    dst: '203.0.113.13',
    family: 'tcp_ack_rst_flood',
    streams: [{ kind: 'ack-flood', dst: '203.0.113.13', sources: 3000, pps: 2000 }],
  },
  {
    dst: '203.0.113.14',
    family: 'tcp_ack_rst_flood',
    streams: [{ kind: 'rst-flood', dst: '203.0.113.14', dstPort: 443, sources: 3000, pps: 2000 }],
  },
  {
    dst: '203.0.113.15',
    family: 'icmp_flood',
    streams: [{ kind: 'icmp-flood', dst: '203.0.113.15', sources: 500, pps: 2000 }],
  },
  {
    dst: '203.0.113.16',
    family: 'fragment_flood',
    streams: [{ kind: 'fragment-flood', dst: '203.0.113.16', sources: 300, pps: 2000 }],
  },
  {
    dst: '203.0.113.17',
    family: 'gre_flood',
    streams: [{ kind: 'gre-flood', dst: '203.0.113.17', sources: 50, pps: 2000 }],
  },
  { dst: '203.0.113.21', family: 'dns_amplification', streams: [amp('203.0.113.21', 53, 1400)] },
  { dst: '203.0.113.22', family: 'ntp_amplification', streams: [amp('203.0.113.22', 123, 468)] },
  { dst: '203.0.113.23', family: 'memcached_amplification', streams: [amp('203.0.113.23', 11211, 1400)] },
  { dst: '203.0.113.24', family: 'ssdp_amplification', streams: [amp('203.0.113.24', 1900, 400)] },
  { dst: '203.0.113.25', family: 'cldap_amplification', streams: [amp('203.0.113.25', 389, 1400)] },
  { dst: '203.0.113.26', family: 'chargen_amplification', streams: [amp('203.0.113.26', 19, 1000)] },
  { dst: '203.0.113.27', family: 'snmp_amplification', streams: [amp('203.0.113.27', 161, 600)] },
  { dst: '203.0.113.28', family: 'rpcbind_amplification', streams: [amp('203.0.113.28', 111, 486)] },
  { dst: '203.0.113.29', family: 'ws_discovery_amplification', streams: [amp('203.0.113.29', 3702, 1200)] },
  { dst: '203.0.113.31', family: 'dvr_amplification', streams: [amp('203.0.113.31', 37810, 1000)] },
  {
    dst: '203.0.113.30',
    family: 'mixed',
    streams: [
      { kind: 'syn-flood', dst: '203.0.113.30', dstPort: 443, sources: 3000, pps: 1200 },
      { kind: 'icmp-flood', dst: '203.0.113.30', sources: 300, pps: 1200 },
      { kind: 'udp-flood', dst: '203.0.113.30', sources: 300, pps: 1200 },
    ],
  },
];

/** Everyday traffic beside the attacks (the heavy kind has a file of its own). */
const EVERYDAY: StreamSpec[] = [
  { kind: 'tcp-session', client: '100.30.0.7', server: '203.0.113.80', port: 443, packets: 400 },
  { kind: 'dns', client: '203.0.113.81', resolver: '100.30.0.53', queries: 200 },
  { kind: 'udp-stream', src: '100.30.0.9', dst: '203.0.113.82', pps: 50, size: 200 },
];

let dir = '';
let pcapPath = '';
let perSecond: Arrival[] = [];

beforeAll(async () => {
  requireTool('softflowd');
  requireTool('python3-scapy');
  dir = mkdtempSync(join(tmpdir(), 'fg-families-'));
  const scenario = await makeScenario(
    {
      seed: 11,
      startEpoch: SCENARIO_EPOCH,
      durationSeconds: DURATION,
      streams: [...ATTACKS.flatMap((a) => a.streams), ...EVERYDAY],
    },
    dir,
  );
  pcapPath = scenario.pcapPath;
  perSecond = await exportPerSecond(pcapPath, { version: 5 });
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const untilMs = (arrivals: readonly Arrival[]) => arrivals.at(-1)!.arrivalMs + 5000;

describe('IPv4 families through softflowd NetFlow v5, exported second by second', () => {
  let opened: Map<string, Incident>;
  let latest: Incident[];

  beforeAll(() => {
    const detector = detectorFor(SCENARIO_CONFIG);
    const events = replay(detector, perSecond, untilMs(perSecond));
    opened = openedByTarget(events);
    latest = [...latestById(events).values()];
  });

  it('opens one incident per attacked host and none for everyday traffic', () => {
    expect([...opened.keys()].sort()).toEqual(ATTACKS.map((a) => a.dst).sort());
  });

  it.each(ATTACKS.map((a) => [a.family, a.dst] as const))('classifies %s on %s', (family, dst) => {
    const incident = latest.find((i) => i.target === dst)!;
    expect(incident.family).toBe(family);
    expect(incident).toMatchObject({ targetKind: 'host', network: '203.0.113.0/24', ipVersion: 4 });
    if (family !== 'mixed') expect(incident.confidence).toBeGreaterThan(0.9);
    expect(incident.evidence?.sufficient).toBe(true);
  });

  it('opens at the first or second step after the first second of attack records arrives', () => {
    // Records of each second arrive 200 ms after it ends; the appliance steps 700 ms into the
    // second. A record is placed on the time it covers ending at its arrival, so flows that last
    // the whole second (few sources, as in the ICMP flood) spill into the next one and need it.
    const firstArrival = perSecond[0]!.arrivalMs;
    const delays = [...opened.values()].map((i) => i.openedAtMs - firstArrival);
    for (const delay of delays) expect([500, 1500]).toContain(delay);
    expect(delays.filter((d) => d === 500).length).toBeGreaterThanOrEqual(12);
  });

  it('fingerprints what FlowSpec and the operator need', () => {
    const at = (dst: string) => latest.find((i) => i.target === dst)!;
    const ntp = at('203.0.113.22');
    expect(ntp.fingerprint).toMatchObject({ protocols: [17], sourcePorts: [123] });
    // Every packet is 468 bytes: the range a packet-length filter would use holds it.
    expect(ntp.fingerprint.packetSizes).toEqual({ p10: 448, p50: 464, p90: 479 });
    expect(ntp.fingerprint.spoofing?.likely).toBe(false);
    expect(ntp.triggers).toContain('amplification.bps');
    // The focus saw a sample of the 1500 reflectors: the estimate is within its sketch's error.
    expect(Math.abs(ntp.fingerprint.distinctSources! - 1500) / 1500).toBeLessThan(0.15);

    const syn = at('203.0.113.12');
    expect(syn.fingerprint).toMatchObject({ protocols: [6], destinationPorts: [80], synShare: 1 });
    expect(syn.fingerprint.tcpFlags).toEqual([{ flags: 'S', share: 1 }]);
    // Sources from the RFC 2544 benchmarking range, each sending about one packet: spoofed.
    expect(syn.fingerprint.spoofing).toMatchObject({ likely: true, bogonShare: 1 });

    expect(at('203.0.113.14').fingerprint).toMatchObject({ destinationPorts: [443] });
    expect(at('203.0.113.14').fingerprint.tcpFlags).toEqual([{ flags: 'R', share: 1 }]);
    expect(at('203.0.113.13').triggers).toEqual(['ackRst.flows']);
    expect(at('203.0.113.16').fingerprint.shares?.fragment).toBe(1);
    expect(at('203.0.113.17').fingerprint.protocols).toEqual([47]);
    expect(at('203.0.113.15').fingerprint.protocols).toEqual([1]);

    const mixed = at('203.0.113.30');
    expect(mixed.vectors!.map((v) => v.family).sort()).toEqual(['icmp_flood', 'tcp_syn_flood', 'udp_flood']);
    expect(mixed.triggers).toEqual(expect.arrayContaining(['syn.pps', 'icmp.pps']));
  });

  it('closes every incident after the hold-down once the attack is over', () => {
    const detector = detectorFor(SCENARIO_CONFIG);
    const events = replay(detector, perSecond, untilMs(perSecond) + 15_000);
    const closed = events.filter((e) => e.type === 'closed').map((e) => e.incident.target);
    expect(closed.sort()).toEqual(ATTACKS.map((a) => a.dst).sort());
    expect(detector.openIncidents()).toEqual([]);
  });
});

describe('the same capture exported in one burst at end of file', () => {
  it('still finds and classifies every family', async () => {
    const burst = await exportAtOnce(pcapPath, { version: 5 });
    const detector = detectorFor(SCENARIO_CONFIG);
    const events = replay(detector, burst, untilMs(burst));
    const families = Object.fromEntries(
      [...latestById(events).values()].map((i) => [i.target, i.family] as [string, AttackFamily]),
    );
    expect(families).toEqual(Object.fromEntries(ATTACKS.map((a) => [a.dst, a.family])));
  }, 60_000);
});

describe('the same capture sampled 1 in 512', () => {
  it('says that whatever opens rests on few samples', async () => {
    const sampled = await exportPerSecond(pcapPath, { version: 5, extraArgs: ['-s', '512'] });
    const detector = detectorFor(SCENARIO_CONFIG);
    const incidents = [...latestById(replay(detector, sampled, untilMs(sampled))).values()];
    expect(incidents.length).toBeGreaterThan(0);
    for (const incident of incidents) {
      expect(incident.evidence).toMatchObject({ sufficient: false, samplingRate: 512 });
      expect(incident.evidence!.note).toMatch(/1:512 sampling/);
    }
    // The SYN flood is still seen for what it is.
    expect(incidents.find((i) => i.target === '203.0.113.12')?.family).toBe('tcp_syn_flood');
  }, 60_000);
});
