/**
 * The walking skeleton end to end: real softflowd exports a generated attack capture as NetFlow v5
 * to a running `floodgate run`; everything is checked through the HTTP API.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.js';
import { freeTcpPort, freeUdpPort } from '../helpers/ports.js';
import { makeScenario, requireTool, runSoftflowd } from '../lab/scenario.js';

interface IncidentJson {
  id: string;
  state: string;
  target: string;
  family: string;
  peak: { pps: number; bps: number };
}
interface MitigationJson {
  id: string;
  incidentId: string;
  adapter: string;
  state: string;
  rendered: string;
  intent: { kind: string };
}

const NTP_TARGET = '203.0.113.10';
const SYN_TARGET = '203.0.113.20';
const BENIGN = ['203.0.113.30', '203.0.113.40', '203.0.113.50'] as const;

let dir = '';
let daemon: ChildProcess | undefined;
let daemonLog = '';
let api = '';
let netflowPort = 0;

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${api}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n--- daemon log ---\n${daemonLog.slice(-4000)}`,
  );
}

beforeAll(async () => {
  requireTool('softflowd');
  requireTool('python3-scapy');
  dir = mkdtempSync(join(tmpdir(), 'fg-e2e-'));
  netflowPort = await freeUdpPort();
  const sflowPort = await freeUdpPort();
  const httpPort = await freeTcpPort();
  api = `http://127.0.0.1:${httpPort}`;
  const config = [
    'mode: detect-only',
    'log: { level: info }',
    'collectors:',
    `  netflow: { listen: ["127.0.0.1:${netflowPort}"] }`,
    `  sflow: { listen: ["127.0.0.1:${sflowPort}"] }`,
    'detection:',
    '  networks:',
    '    - prefix: 203.0.113.0/24',
    '      thresholds: { pps: 1000, bps: 50000000 }',
    '  windowSeconds: 3',
    '  holdDownSeconds: 4',
    `http: { listen: "127.0.0.1:${httpPort}" }`,
    `store: { stateDir: ${JSON.stringify(join(dir, 'state'))} }`,
  ].join('\n');
  const configPath = join(dir, 'floodgate.yaml');
  writeFileSync(configPath, config);
  daemon = spawnCli(['run', '--config', configPath]);
  daemon.stdout?.on('data', (d: Buffer) => {
    daemonLog += d.toString();
  });
  daemon.stderr?.on('data', (d: Buffer) => {
    daemonLog += d.toString();
  });
  await waitFor(
    'the daemon to answer /healthz',
    async () => ((await fetch(`${api}/healthz`)).ok ? true : undefined),
    30_000,
  );
}, 60_000);

afterAll(async () => {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon?.once('exit', r));
    daemon.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('walking skeleton: softflowd NetFlow v5 -> floodgate run -> incidents and intents', () => {
  it('detects both attacks, plans and records RTBH + FlowSpec, and withdraws after the attack', async () => {
    const durationSeconds = 6;
    const { pcapPath, truth } = await makeScenario(
      {
        seed: 7,
        startEpoch: Date.now() / 1000 - durationSeconds,
        durationSeconds,
        streams: [
          {
            kind: 'udp-reflection',
            dst: NTP_TARGET,
            srcPort: 123,
            sources: 1500,
            srcPrefix: '198.18.0.0/15',
            pps: 2500,
            size: 468,
          },
          { kind: 'syn-flood', dst: SYN_TARGET, dstPort: 443, sources: 3000, pps: 2500 },
          { kind: 'tcp-session', client: '198.51.100.7', server: BENIGN[0], port: 443, packets: 300 },
          { kind: 'dns', client: BENIGN[1], resolver: '198.51.100.53', queries: 60 },
          { kind: 'udp-stream', src: '198.51.100.9', dst: BENIGN[2], pps: 50, size: 200 },
        ],
      },
      dir,
    );
    expect(Object.keys(truth).length).toBeGreaterThan(0);

    const exported = await runSoftflowd({ pcapPath, version: 5, port: netflowPort });
    expect(exported.exitCode).toBe(0);

    const incidents = await waitFor(
      'incidents for both attacked hosts',
      async () => {
        const { items } = await getJson<{ items: IncidentJson[] }>('/api/v1/incidents');
        const targets = new Set(items.map((i) => i.target));
        return targets.has(NTP_TARGET) && targets.has(SYN_TARGET) ? items : undefined;
      },
      15_000,
    );
    const ntp = incidents.find((i) => i.target === NTP_TARGET)!;
    const syn = incidents.find((i) => i.target === SYN_TARGET)!;
    expect(ntp.family).toBe('ntp_amplification');
    expect(syn.family).toBe('tcp_syn_flood');
    for (const benign of BENIGN) expect(incidents.find((i) => i.target === benign)).toBeUndefined();
    expect(incidents).toHaveLength(2);

    const expected: Record<string, { rtbh: string; flowspec: string }> = {
      [ntp.id]: {
        rtbh: `announce route ${NTP_TARGET}/32 next-hop 192.0.2.1 community [ 65535:666 ]`,
        flowspec: `announce flow route { match { destination ${NTP_TARGET}/32; protocol udp; source-port =123; } then { discard; } }`,
      },
      [syn.id]: {
        rtbh: `announce route ${SYN_TARGET}/32 next-hop 192.0.2.1 community [ 65535:666 ]`,
        flowspec: `announce flow route { match { destination ${SYN_TARGET}/32; protocol tcp; tcp-flags [ syn&!ack ]; } then { discard; } }`,
      },
    };
    for (const incident of [ntp, syn]) {
      const active = await waitFor(
        `RTBH and FlowSpec mitigations for ${incident.target}`,
        async () => {
          const { items } = await getJson<{ items: MitigationJson[] }>(
            `/api/v1/mitigations?incident=${encodeURIComponent(incident.id)}`,
          );
          return items.filter((m) => m.state === 'active').length >= 2 ? items : undefined;
        },
        10_000,
      );
      expect(active.every((m) => m.adapter === 'dry-run')).toBe(true);
      const rtbh = active.find((m) => m.intent.kind === 'rtbh')!;
      const flowspec = active.find((m) => m.intent.kind === 'flowspec')!;
      expect(rtbh.rendered).toBe(expected[incident.id]!.rtbh);
      expect(flowspec.rendered).toBe(expected[incident.id]!.flowspec);
    }

    // Traffic has stopped: after the window and the hold-down both incidents close and everything is withdrawn.
    await waitFor(
      'incidents to close',
      async () => {
        const { items } = await getJson<{ items: IncidentJson[] }>('/api/v1/incidents?state=open');
        return items.length === 0 ? true : undefined;
      },
      20_000,
    );
    await waitFor(
      'mitigations to be withdrawn',
      async () => {
        const { items } = await getJson<{ items: MitigationJson[] }>('/api/v1/mitigations');
        return items.length === 4 && items.every((m) => m.state === 'withdrawn') ? items : undefined;
      },
      10_000,
    );
    const { items: audit } = await getJson<{ items: { action: string; result: string }[] }>(
      '/api/v1/audit?limit=1000',
    );
    expect(audit.filter((e) => e.action === 'apply' && e.result === 'ok')).toHaveLength(4);
    expect(audit.filter((e) => e.action === 'withdraw' && e.result === 'ok')).toHaveLength(4);
  }, 90_000);
});
