/**
 * The escalation path end to end, with real daemons in one network namespace: real softflowd
 * exports an NTP reflection capture second by second to `floodgate run`; a runbook puts FlowSpec
 * in place through ExaBGP, then RTBH when the attack is still over threshold 3 s later; both
 * routes arrive in a real BIRD's tables, and leave when the attack ends and the tiers' hold-downs
 * and TTL have passed. The incident, both mitigations and the escalation are checked through the
 * HTTP API.
 *
 * Everything runs inside the namespace (floodgate from the sources through tsx, ExaBGP with the
 * helper `floodgate exabgp-config` names, BIRD, each softflowd run), so the test's HTTP requests
 * are made from a Node process started there too. Needs root and exabgp, bird2, softflowd and
 * python3-scapy (scripts/test.sh installs them).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BirdRoute, routeCommunities, routeExtCommunities } from '../../adapters/bird/show-route.js';
import type { AuditEntry } from '../../core/audit/chain.js';
import type { Incident } from '../../core/incident/incident.js';
import type { MitigationRecord } from '../../core/mitigation/mitigation.js';
import { cliArgv, repoRoot, runCli } from '../helpers/cli.js';
import { type BirdDaemon, exabgpDaemon, requireDaemon, startBird } from '../interop/lab/daemons.js';
import { ACTION_COMMUNITY } from '../interop/lab/intents.js';
import { EXABGP_LAB, exabgpAdapterConfig, exabgpReceiverConf } from '../interop/lab/topologies.js';
import { createNetns, type Netns, type NetnsProcess, requireRoot } from '../interop/netns.js';
import { waitFor } from '../interop/wait.js';
import { makeScenario, requireTool } from '../lab/scenario.js';
import { exportLive, type LiveExportReport, sliceCapture } from './live-softflowd.js';

const VICTIM = '203.0.113.10';
const NETWORK = '203.0.113.0/24';
const ATTACK_SECONDS = 12;
const ESCALATE_AFTER_SECONDS = 3;
/** Inside the namespace nothing else listens: fixed ports are free. */
const NETFLOW_PORT = 2055;
const HTTP = '127.0.0.1:8080';

const FLOW_NETWORK = `flow4 { dst ${VICTIM}/32; proto 17; sport 123; }`;
const RTBH_NETWORK = `${VICTIM}/32`;
const SELECTOR = `neighbor ${EXABGP_LAB.receiver}`;
const FLOW_COMMAND = `${SELECTOR} announce flow route { match { destination ${VICTIM}/32; protocol udp; source-port =123; } then { discard; } }`;
const RTBH_COMMAND = `${SELECTOR} announce route ${VICTIM}/32 next-hop 192.0.2.1 community [ 65535:666 ]`;

/** floodgate.yaml: automatic, low thresholds, one ExaBGP adapter, FlowSpec then RTBH. */
function floodgateConfig(dir: string): Record<string, unknown> {
  return {
    mode: 'automatic',
    log: { level: 'info' },
    collectors: { netflow: { listen: [`127.0.0.1:${NETFLOW_PORT}`] }, sflow: { listen: ['127.0.0.1:6343'] } },
    detection: {
      networks: [{ prefix: NETWORK, thresholds: { pps: 300, bps: 100_000_000 } }],
      windowSeconds: 3,
      holdDownSeconds: 3,
    },
    adapters: [{ name: 'edge', type: 'exabgp', config: exabgpAdapterConfig(dir) }],
    runbooks: [
      {
        name: 'escalate',
        match: { networks: [NETWORK] },
        mode: 'automatic',
        ttl: { seconds: 2 },
        tiers: [
          {
            name: 'flowspec',
            intents: ['flowspec'],
            adapters: ['edge'],
            escalate: { afterSeconds: ESCALATE_AFTER_SECONDS },
            holdDownSeconds: 1,
          },
          { name: 'blackhole', intents: ['rtbh'], adapters: ['edge'], holdDownSeconds: 1 },
        ],
      },
    ],
    http: { listen: HTTP },
    store: { stateDir: join(dir, 'state') },
  };
}

/** GETs a URL from inside the namespace (the API listens on the namespace's loopback). */
const FETCH_SCRIPT = `fetch(process.argv[1]).then(async (r) => {
  process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() }));
}, (e) => { process.stderr.write(String(e)); process.exit(2); });`;

describe('escalation end to end: softflowd -> floodgate run -> ExaBGP -> BIRD (network namespace)', () => {
  let ns: Netns | undefined;
  let dir = '';
  let receiver: BirdDaemon;
  let floodgate: NetnsProcess | undefined;
  let exabgpLog = (): string => '';
  const replay = new AbortController();

  async function get<T>(path: string): Promise<T> {
    const r = await ns!.run([process.execPath, '-e', FETCH_SCRIPT, `http://${HTTP}${path}`], {
      timeoutMs: 10_000,
    });
    if (r.code !== 0) throw new Error(`GET ${path}: ${r.stderr.trim()}`);
    const { status, body } = JSON.parse(r.stdout) as { status: number; body: string };
    if (status !== 200) throw new Error(`GET ${path}: HTTP ${status} ${body}`);
    return JSON.parse(body) as T;
  }

  async function describeAll(): Promise<string> {
    const tables = await Promise.all(
      ['ft4', 'master4'].map((t) => receiver.birdc(['show', 'route', 'table', t, 'all'])),
    );
    return [
      ...tables.map((t) => t.stdout),
      `--- floodgate ---\n${floodgate?.output().slice(-5000) ?? ''}`,
      `--- exabgp ---\n${exabgpLog().slice(-2000)}`,
    ].join('\n');
  }

  async function route(table: string, network: string): Promise<BirdRoute | undefined> {
    return (await receiver.routes(table)).find((r) => r.network === network && r.protocol === 'exabgp');
  }

  beforeAll(async () => {
    requireRoot();
    requireDaemon('exabgp');
    requireDaemon('bird');
    requireTool('softflowd');
    requireTool('python3-scapy');
    dir = mkdtempSync(join(tmpdir(), 'fg-e2e-bgp-'));
    mkdirSync(join(dir, 'state'));
    ns = await createNetns('e2ebgp');
    await ns.addAddress(`${EXABGP_LAB.exabgp}/8`);
    await ns.addAddress(`${EXABGP_LAB.receiver}/8`);
    receiver = await startBird(ns, dir, 'receiver', exabgpReceiverConf());

    // YAML is a superset of JSON.
    const configPath = join(dir, 'floodgate.yaml');
    writeFileSync(configPath, JSON.stringify(floodgateConfig(dir), null, 2));
    const confPath = join(dir, 'exabgp.conf');
    const cli = await runCli(['exabgp-config', '--config', configPath, '--out', confPath]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(readFileSync(confPath, 'utf8')).toContain('process floodgate-edge {');

    floodgate = ns.start([process.execPath, ...cliArgv(['run', '--config', configPath])], {
      name: 'floodgate',
      cwd: repoRoot,
      logFile: join(dir, 'floodgate.log'),
    });
    const exabgp = exabgpDaemon(ns, dir, confPath);
    exabgp.start();
    exabgpLog = () => exabgp.log();
    await receiver.waitEstablished('exabgp');
    // Healthy means the helper is connected and ExaBGP reports its BGP session up.
    await waitFor(
      'floodgate to answer /healthz with the ExaBGP adapter healthy',
      async () => (await get<{ status: string }>('/healthz')).status === 'ok',
      { timeoutMs: 30_000, intervalMs: 250, describe: describeAll },
    );
  }, 60_000);

  afterAll(async () => {
    replay.abort();
    await floodgate?.stop(5_000);
    await ns?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('escalates from FlowSpec to RTBH in BIRD while the attack lasts, and withdraws both after it', async () => {
    const startEpoch = Math.floor(Date.now() / 1000);
    const { pcapPath, truth } = await makeScenario(
      {
        seed: 11,
        startEpoch,
        durationSeconds: ATTACK_SECONDS,
        streams: [
          {
            kind: 'udp-reflection',
            dst: VICTIM,
            srcPort: 123,
            sources: 300,
            srcPrefix: '100.20.0.0/16',
            pps: 1000,
            size: 468,
          },
        ],
      },
      dir,
    );
    expect(truth.destinations[VICTIM]?.udpSourcePorts['123']).toBe(ATTACK_SECONDS * 1000);
    const slices = sliceCapture(pcapPath, dir);
    const exportStartMs = Date.now();
    const exported: Promise<LiveExportReport> = exportLive(slices, exportStartMs, {
      host: '127.0.0.1',
      port: NETFLOW_PORT,
      run: (argv, options) => ns!.run(argv, options),
      signal: replay.signal,
    });
    // Surfaced by the await below; keeps an early failure from being an unhandled rejection.
    exported.catch(() => undefined);

    // Tier 1: the FlowSpec rule reaches BIRD while RTBH is not there yet.
    const flow = await waitFor('the FlowSpec rule in BIRD table ft4', () => route('ft4', FLOW_NETWORK), {
      timeoutMs: 10_000,
      describe: describeAll,
    });
    const flowSeenMs = Date.now();
    expect(await route('master4', RTBH_NETWORK)).toBeUndefined();
    expect(routeExtCommunities(flow)).toEqual([ACTION_COMMUNITY.discard]);

    // Tier 2: still over threshold 3 s after FlowSpec went in, RTBH joins it.
    const rtbh = await waitFor('the RTBH route in BIRD table master4', () => route('master4', RTBH_NETWORK), {
      timeoutMs: 10_000,
      describe: describeAll,
    });
    const rtbhSeenMs = Date.now();
    expect(routeCommunities(rtbh)).toEqual(['65535:666']);
    expect(rtbh.attributes['BGP.next_hop']).toBe('192.0.2.1');
    // Polling granularity and BGP propagation blur the edges by a few hundred ms.
    expect(rtbhSeenMs - flowSeenMs).toBeGreaterThanOrEqual(ESCALATE_AFTER_SECONDS * 1000 - 500);
    // FlowSpec stays while RTBH is in place: tiers add up.
    expect(await route('ft4', FLOW_NETWORK)).toBeDefined();
    expect(rtbhSeenMs).toBeLessThan(exportStartMs + (ATTACK_SECONDS + 1) * 1000);

    // The API tells the same story: one incident, both mitigations active through ExaBGP.
    const { items: incidents } = await get<{ items: Incident[] }>('/api/v1/incidents');
    expect(incidents.map((i) => [i.target, i.family, i.state])).toEqual([
      [VICTIM, 'ntp_amplification', 'open'],
    ]);
    const incident = incidents[0]!;
    const active = await waitFor(
      'both mitigations active in the API',
      async () => {
        const { items } = await get<{ items: MitigationRecord[] }>(
          `/api/v1/mitigations?incident=${encodeURIComponent(incident.id)}`,
        );
        return items.length === 2 && items.every((m) => m.state === 'active') ? items : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 200, describe: describeAll },
    );
    const byKind = new Map(active.map((m) => [m.intent.kind, m]));
    expect([...byKind.keys()].sort()).toEqual(['flowspec', 'rtbh']);
    expect(active.every((m) => m.adapter === 'edge')).toBe(true);
    expect(byKind.get('flowspec')).toMatchObject({ rendered: FLOW_COMMAND, rule: 'escalate/1 flowspec' });
    expect(byKind.get('rtbh')).toMatchObject({ rendered: RTBH_COMMAND, rule: 'escalate/2 blackhole' });

    const { items: early } = await get<{ items: AuditEntry[] }>('/api/v1/audit?limit=1000');
    const escalations = early.filter((e) => e.action === 'escalate' && e.incidentId === incident.id);
    expect(escalations.map((e) => e.rule)).toEqual(['escalate/1 flowspec', 'escalate/2 blackhole']);
    const [tier1, tier2] = escalations as [AuditEntry, AuditEntry];
    expect(tier2.atMs - tier1.atMs).toBeGreaterThanOrEqual(ESCALATE_AFTER_SECONDS * 1000);
    expect((tier2.detail as { reason: string }).reason).toContain(
      `still over threshold ${ESCALATE_AFTER_SECONDS} s after the tier became active`,
    );

    // The attack ends; after the detection hold-down, the tiers' hold-downs and TTL, both routes go.
    const report = await exported;
    expect(report.sentAtMs).toHaveLength(slices.length);
    const attackEndMs = report.sentAtMs.at(-1)!;
    await waitFor(
      'both routes to leave BIRD',
      async () =>
        (await route('ft4', FLOW_NETWORK)) === undefined &&
        (await route('master4', RTBH_NETWORK)) === undefined,
      { timeoutMs: 20_000, intervalMs: 100, describe: describeAll },
    );
    expect(Date.now() - attackEndMs).toBeGreaterThanOrEqual(3_000);

    const withdrawn = await waitFor(
      'both mitigations withdrawn in the API',
      async () => {
        const { items } = await get<{ items: MitigationRecord[] }>('/api/v1/mitigations');
        return items.length === 2 && items.every((m) => m.state === 'withdrawn') ? items : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 200, describe: describeAll },
    );
    expect(withdrawn.map((m) => m.id).sort()).toEqual(active.map((m) => m.id).sort());
    const closed = await get<Incident>(`/api/v1/incidents/${encodeURIComponent(incident.id)}`);
    expect(closed.state).toBe('closed');
    expect(closed.closedAtMs).toBeGreaterThan(attackEndMs);

    const { items: audit } = await get<{ items: AuditEntry[] }>('/api/v1/audit?limit=1000');
    const count = (action: string) =>
      audit.filter((e) => e.action === action && e.result === 'ok' && e.adapter === 'edge').length;
    expect(count('apply')).toBe(2);
    expect(count('withdraw')).toBe(2);
    const deEscalations = audit.filter((e) => e.action === 'de-escalate');
    expect(deEscalations.map((e) => e.rule).sort()).toEqual(['escalate/1 flowspec', 'escalate/2 blackhole']);
    // Each tier waits out its own 1 s hold-down after the incident closed.
    for (const e of deEscalations) expect(e.atMs).toBeGreaterThanOrEqual(closed.closedAtMs! + 1000);
  }, 60_000);
});
