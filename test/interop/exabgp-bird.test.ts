/**
 * The ExaBGP adapter driving a real ExaBGP 4.2 (configured by `floodgate exabgp-config`, running
 * Floodgate's helper) that peers with a real BIRD 2 receiver, all in one network namespace:
 * IPv4 and IPv6 FlowSpec with each action and RTBH with communities arrive in BIRD's tables and
 * leave on withdraw; ExaBGP restarted mid-incident gets its routes replayed through the
 * dispatcher's reconciliation; a restarted Floodgate finds what ExaBGP holds and reconciles it.
 * Needs root (network namespaces); installs nothing itself (scripts/test.sh does).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BirdRoute, routeCommunities, routeExtCommunities } from '../../adapters/bird/show-route.js';
import type { AdapterReceipt, MitigationAdapter } from '../../adapters/contract.js';
import { type ExabgpConfig, exabgpConfigSchema } from '../../adapters/exabgp/config.js';
import { createExabgpAdapter } from '../../adapters/exabgp/exabgp-adapter.js';
import { nullLogger } from '../../core/logger.js';
import type { MitigationIntent } from '../../core/mitigation/intent.js';
import { runCli } from '../helpers/cli.js';
import { type BirdDaemon, type ExabgpDaemon, exabgpDaemon, requireDaemon, startBird } from './lab/daemons.js';
import { activation, type LabDispatch, labDispatch, release } from './lab/dispatch.js';
import { ACTION_COMMUNITY, FLOW4, FLOW6, RTBH4, RTBH6 } from './lab/intents.js';
import { EXABGP_LAB, exabgpAdapterConfig, exabgpReceiverConf } from './lab/topologies.js';
import { createNetns, type Netns, requireRoot } from './netns.js';
import { waitFor } from './wait.js';

/** How BIRD shows each flow route ExaBGP sends for the lab's intents (checked against BIRD 2.0.12). */
const SHOWN: Record<string, { table: string; network: string; community: readonly number[] }> = {
  [FLOW4.discard.id]: {
    table: 'ft4',
    network: 'flow4 { dst 203.0.113.5/32; proto 17; sport 123; }',
    community: ACTION_COMMUNITY.discard,
  },
  [FLOW4.rateLimit.id]: {
    table: 'ft4',
    network: 'flow4 { dst 203.0.113.6/32; proto 6; tcp flags !0x0/0x2 && 0x0/0x10; }',
    community: ACTION_COMMUNITY.rateLimit125k,
  },
  [FLOW4.redirect.id]: {
    table: 'ft4',
    network: 'flow4 { dst 203.0.113.7/32; proto 6,17; dport 53; }',
    community: ACTION_COMMUNITY.redirect65000_100,
  },
  [FLOW4.mark.id]: {
    table: 'ft4',
    network: 'flow4 { dst 203.0.113.8/32; src 198.51.100.0/24; length 512..1500; fragment !!is_fragment; }',
    community: ACTION_COMMUNITY.mark10,
  },
  [FLOW6.discard.id]: {
    table: 'ft6',
    network: 'flow6 { dst 2001:db8::5/128; next header 17; sport 53; length >= 512; }',
    community: ACTION_COMMUNITY.discard,
  },
  [FLOW6.rateLimit.id]: {
    table: 'ft6',
    network: 'flow6 { dst 2001:db8::6/128; next header 58; }',
    community: ACTION_COMMUNITY.rateLimit1k,
  },
  [FLOW6.redirect.id]: {
    table: 'ft6',
    network: 'flow6 { dst 2001:db8::7/128; src 2001:db8:bad::/48; next header 6; dport 80,443; }',
    community: ACTION_COMMUNITY.redirect65000_200,
  },
  [FLOW6.mark.id]: {
    table: 'ft6',
    network: 'flow6 { dst 2001:db8::8/128; next header 17; }',
    community: ACTION_COMMUNITY.mark46,
  },
};

describe('ExaBGP adapter -> ExaBGP 4.2 -> BIRD 2 (network namespace)', () => {
  let ns: Netns | undefined;
  let dir = '';
  let receiver: BirdDaemon;
  let exabgp: ExabgpDaemon;
  let config: ExabgpConfig;
  let confText = '';
  const adapters: MitigationAdapter[] = [];
  const labs: LabDispatch[] = [];

  const newAdapter = (): MitigationAdapter => {
    const adapter = createExabgpAdapter(config, { name: 'edge', logger: nullLogger, now: Date.now });
    adapters.push(adapter);
    return adapter;
  };

  async function describeTables(): Promise<string> {
    const tables = await Promise.all(
      ['ft4', 'ft6', 'master4', 'master6'].map((t) => receiver.birdc(['show', 'route', 'table', t, 'all'])),
    );
    return `${tables.map((t) => t.stdout).join('\n')}\nexabgp output:\n${exabgp.log().slice(-3000)}`;
  }

  async function routeIn(table: string, network: string): Promise<BirdRoute | undefined> {
    return (await receiver.routes(table)).find((r) => r.network === network && r.protocol === 'exabgp');
  }

  const arrives = (table: string, network: string) =>
    waitFor(`${network} in BIRD table ${table}`, () => routeIn(table, network), { describe: describeTables });

  const leaves = (table: string, network: string) =>
    waitFor(
      `${network} to leave BIRD table ${table}`,
      async () => (await routeIn(table, network)) === undefined,
      {
        describe: describeTables,
      },
    );

  beforeAll(async () => {
    requireRoot();
    requireDaemon('exabgp');
    requireDaemon('bird');
    dir = mkdtempSync(join(tmpdir(), 'fg-interop-exabgp-'));
    ns = await createNetns('exabgp');
    await ns.addAddress(`${EXABGP_LAB.exabgp}/8`);
    await ns.addAddress(`${EXABGP_LAB.receiver}/8`);
    receiver = await startBird(ns, dir, 'receiver', exabgpReceiverConf());

    // The operator's path: floodgate.yaml -> `floodgate exabgp-config` -> exabgp.conf.
    const adapterConfig = exabgpAdapterConfig(dir);
    mkdirSync(join(dir, 'state'));
    const yamlPath = join(dir, 'floodgate.yaml');
    writeFileSync(
      yamlPath,
      `store: { stateDir: ${JSON.stringify(join(dir, 'state'))} }\nadapters:\n  - name: edge\n    type: exabgp\n    config: ${JSON.stringify(adapterConfig)}\n`,
    );
    const confPath = join(dir, 'exabgp.conf');
    const cli = await runCli(['exabgp-config', '--config', yamlPath, '--out', confPath]);
    expect(cli.stderr).toContain(`wrote ${confPath}`);
    expect(cli.code).toBe(0);
    confText = readFileSync(confPath, 'utf8');
    config = exabgpConfigSchema.parse(adapterConfig);

    await newAdapter().start();
    exabgp = exabgpDaemon(ns, dir, confPath);
    exabgp.start();
    await receiver.waitEstablished('exabgp');
    await waitFor('the helper to connect', async () => (await adapters[0]!.health()).ok, {
      timeoutMs: 20_000,
    });
  }, 90_000);

  afterAll(async () => {
    for (const lab of labs) lab.close();
    for (const adapter of adapters) await adapter.stop().catch(() => undefined);
    await ns?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('floodgate exabgp-config wrote a process block running the helper and the neighbor', () => {
    expect(confText).toContain('process floodgate-edge {');
    expect(confText).toMatch(/run \S+node\S* .*helper\.(ts|js) --socket \S+edge\.sock --retry-ms 100;/);
    expect(confText).toContain('neighbor 127.0.0.3 {');
    expect(confText).toMatch(
      /family \{\n {8}ipv4 unicast;\n {8}ipv6 unicast;\n {8}ipv4 flow;\n {8}ipv6 flow;\n {4}\}/,
    );
    expect(confText).toContain('processes [ floodgate-edge ];');
  });

  async function roundTrip(intents: readonly MitigationIntent[]): Promise<void> {
    const adapter = adapters[0]!;
    const receipts: AdapterReceipt[] = [];
    for (const intent of intents) receipts.push(await adapter.apply(intent));
    for (const intent of intents) {
      const shown = SHOWN[intent.id]!;
      const route = await arrives(shown.table, shown.network);
      expect(routeExtCommunities(route)).toEqual([shown.community]);
    }
    expect((await adapter.list()).map((r) => r.intentId).sort()).toEqual(intents.map((i) => i.id).sort());
    for (const receipt of receipts) expect((await adapter.withdraw(receipt)).wasPresent).toBe(true);
    for (const intent of intents) await leaves(SHOWN[intent.id]!.table, SHOWN[intent.id]!.network);
    expect(await adapter.list()).toEqual([]);
  }

  it('IPv4 FlowSpec with discard, rate-limit, redirect and mark arrives in BIRD and leaves on withdraw', async () => {
    await roundTrip(Object.values(FLOW4));
  });

  it('IPv6 FlowSpec with discard, rate-limit, redirect and mark arrives in BIRD and leaves on withdraw', async () => {
    await roundTrip(Object.values(FLOW6));
  });

  it('RTBH for IPv4 and IPv6 arrives with its communities and next hop, and leaves on withdraw', async () => {
    const adapter = adapters[0]!;
    const r4 = await adapter.apply(RTBH4);
    const r6 = await adapter.apply(RTBH6);
    const v4 = await arrives('master4', '203.0.113.66/32');
    expect(routeCommunities(v4).sort()).toEqual(['65000:1', '65535:666']);
    expect(v4.attributes['BGP.next_hop']).toBe('192.0.2.1');
    const v6 = await arrives('master6', '2001:db8::66/128');
    expect(routeCommunities(v6)).toEqual(['65535:666']);
    expect(v6.attributes['BGP.next_hop']).toBe('100::1');
    await adapter.withdraw(r4);
    await adapter.withdraw(r6);
    await leaves('master4', '203.0.113.66/32');
    await leaves('master6', '2001:db8::66/128');
  });

  it('ExaBGP restarted mid-incident: its routes are replayed through reconciliation', async () => {
    const adapter = adapters[0]!;
    const lab = labDispatch(join(dir, 'restart-exabgp.db'), [adapter]);
    labs.push(lab);
    const intents = [FLOW4.discard, FLOW6.rateLimit, RTBH4];
    await lab.dispatcher.activate(activation(intents));
    for (const i of [FLOW4.discard, FLOW6.rateLimit]) await arrives(SHOWN[i.id]!.table, SHOWN[i.id]!.network);
    await arrives('master4', '203.0.113.66/32');

    await exabgp.stop();
    // ExaBGP gone: its session drops and BIRD flushes what it sent.
    await leaves('ft4', SHOWN[FLOW4.discard.id]!.network);
    await leaves('master4', '203.0.113.66/32');
    exabgp.start();
    // The new helper says hello with an empty table; the dispatcher re-applies what it wants.
    await receiver.waitEstablished('exabgp');
    for (const i of [FLOW4.discard, FLOW6.rateLimit]) await arrives(SHOWN[i.id]!.table, SHOWN[i.id]!.network);
    await arrives('master4', '203.0.113.66/32');
    await lab.dispatcher.idle();
    const replayed = lab.store
      .listAudit()
      .filter(
        (e) =>
          e.action === 'reconcile' &&
          (e.detail as { correction?: string } | undefined)?.correction ===
            'missing from the adapter: applying again',
      );
    expect(replayed.length).toBe(3);
    expect(lab.store.listMitigations({}).every((m) => m.state === 'active')).toBe(true);

    await lab.dispatcher.release(release(intents));
    await leaves('ft4', SHOWN[FLOW4.discard.id]!.network);
    await leaves('master4', '203.0.113.66/32');
    expect((await adapter.list()).length).toBe(0);
  });

  it('Floodgate restarted while ExaBGP holds routes: list() finds them, an orphan is withdrawn', async () => {
    const storeFile = join(dir, 'restart-floodgate.db');
    const first = adapters[0]!;
    const lab1 = labDispatch(storeFile, [first]);
    labs.push(lab1);
    const wanted = [FLOW6.discard, RTBH6];
    await lab1.dispatcher.activate(activation(wanted));
    // Announced behind the store's back: after the restart nothing wants it.
    await first.apply(FLOW4.redirect);
    await arrives('ft6', SHOWN[FLOW6.discard.id]!.network);
    await arrives('ft4', SHOWN[FLOW4.redirect.id]!.network);
    const before = (await routeIn('ft6', SHOWN[FLOW6.discard.id]!.network))!.summary;

    // Floodgate stops (keeping its mitigations, the default); ExaBGP and its routes stay.
    await lab1.dispatcher.idle();
    lab1.close();
    await first.stop();

    const second = newAdapter();
    await second.start();
    const lab2 = labDispatch(storeFile, [second]);
    labs.push(lab2);
    expect((await second.list()).map((r) => r.intentId).sort()).toEqual(
      [...wanted, FLOW4.redirect].map((i) => i.id).sort(),
    );
    const [report] = await lab2.dispatcher.reconcile('start');
    expect(report).toMatchObject({ adapter: 'edge', reapplied: 0, orphansWithdrawn: 1, error: null });
    await leaves('ft4', SHOWN[FLOW4.redirect.id]!.network);
    // The wanted route was never re-sent: BIRD still has the very same route.
    expect((await routeIn('ft6', SHOWN[FLOW6.discard.id]!.network))?.summary).toBe(before);
    await arrives('master6', '2001:db8::66/128');

    await lab2.dispatcher.release(release(wanted));
    await leaves('ft6', SHOWN[FLOW6.discard.id]!.network);
    await leaves('master6', '2001:db8::66/128');
    // The instance the next tests (if any) use is the one listening now.
    adapters.unshift(adapters.splice(adapters.indexOf(second), 1)[0]!);
  });
});
