/**
 * Crash recovery with a real `floodgate run`: mitigations are active when the daemon is killed
 * with SIGKILL; meanwhile the "router" (a dry-run adapter whose table persists in the state
 * directory, as a router keeps its routes while Floodgate restarts) loses one route and holds one
 * nobody asked for. After the restart nothing is lost, nothing is duplicated, the orphan is
 * withdrawn, and every correction is in an intact audit chain.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AdapterReceipt } from '../../adapters/contract.js';
import { runCli } from '../helpers/cli.js';
import { createHarness, type Harness } from './daemon-harness.js';

interface MitigationJson {
  id: string;
  intentId: string;
  state: string;
  intent: { kind: string };
}
interface AuditJson {
  action: string;
  result: string;
  detail?: { correction?: string; trigger?: string };
}

const TARGET = '203.0.113.10';
let harness: Harness | undefined;
afterAll(async () => harness?.cleanup());

describe('crash recovery: SIGKILL while mitigations are active', () => {
  it('restarts with nothing lost, nothing duplicated and the orphan withdrawn, all audited', async () => {
    const h = await createHarness([
      'mode: detect-only',
      'detection:',
      '  networks: [{ prefix: 203.0.113.0/24, thresholds: { pps: 1000, bps: 50000000 } }]',
      '  windowSeconds: 3',
      '  holdDownSeconds: 4',
      'adapters:',
      '  - { name: edge, type: dry-run, config: { persist: true } }',
      'runbooks:',
      '  - name: hold',
      '    ttl: { seconds: 3600 }',
      '    tiers: [{ name: flowspec-and-rtbh, intents: [flowspec, rtbh], adapters: [edge] }]',
    ]);
    harness = h;
    const routerTable = join(h.stateDir, 'dry-run-edge.json');
    const routerIntents = () =>
      (JSON.parse(readFileSync(routerTable, 'utf8')) as { receipts: AdapterReceipt[] }).receipts
        .map((r) => r.intentId)
        .sort();

    h.start();
    await h.waitHealthy();
    await h.attack(TARGET);
    const before = await h.waitFor('two active mitigations', async () => {
      const { items } = await h.getJson<{ items: MitigationJson[] }>('/api/v1/mitigations?state=active');
      return items.length === 2 ? items : undefined;
    });
    expect(routerIntents()).toEqual(before.map((m) => m.intentId).sort());

    // Killed without a chance to clean up.
    await h.stop('SIGKILL');

    // While Floodgate is down the router loses the RTBH route and holds a route nobody wants.
    const table = JSON.parse(readFileSync(routerTable, 'utf8')) as {
      adapter: string;
      receipts: AdapterReceipt[];
    };
    const rtbh = before.find((m) => m.intent.kind === 'rtbh')!;
    const orphan: AdapterReceipt = {
      adapter: 'edge',
      intentId: 'bh4-00000000000000aa',
      kind: 'rtbh',
      command: 'announce route 203.0.113.99/32 next-hop 192.0.2.1 community [ 65535:666 ]',
      appliedAtMs: Date.now() - 60_000,
      details: { render: 'exabgp', withdrawCommand: 'withdraw route 203.0.113.99/32 next-hop 192.0.2.1' },
    };
    table.receipts = [...table.receipts.filter((r) => r.intentId !== rtbh.intentId), orphan];
    writeFileSync(routerTable, JSON.stringify(table));

    h.start();
    await h.waitHealthy();
    await h.waitFor('the router table to match the store', async () =>
      JSON.stringify(routerIntents()) === JSON.stringify(before.map((m) => m.intentId).sort())
        ? true
        : undefined,
    );

    // Nothing lost and nothing duplicated: the same two mitigations, both active, each once in the router.
    const { items: after } = await h.getJson<{ items: MitigationJson[] }>('/api/v1/mitigations');
    expect(after.map((m) => [m.id, m.state]).sort()).toEqual(before.map((m) => [m.id, 'active']).sort());
    expect(routerIntents()).toHaveLength(2);

    const { items: audit } = await h.getJson<{ items: AuditJson[] }>('/api/v1/audit?limit=1000');
    const corrections = audit
      .filter((e) => e.action === 'reconcile')
      .map((e) => `${e.detail?.trigger}: ${e.detail?.correction}`)
      .sort();
    expect(corrections).toEqual([
      'start: in place but wanted by nothing: withdrawn (orphan)',
      'start: missing from the adapter: applying again',
    ]);
    expect(audit.filter((e) => e.action === 'apply' && e.result === 'ok')).toHaveLength(3);
    expect(audit.filter((e) => e.action === 'withdraw')).toHaveLength(0);

    // The detector restarted blind: the incident is closed, the run waits out its TTL with the tier held.
    const { items: runs } = await h.getJson<{
      items: { state: string; tiers: { state: string; releaseAtMs: number }[] }[];
    }>('/api/v1/escalations');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.state).toBe('ending');
    expect(runs[0]!.tiers[0]!.state).toBe('active');
    expect(runs[0]!.tiers[0]!.releaseAtMs).toBeGreaterThan(Date.now() + 3_000_000);

    await h.stop();
    // Kept across a clean stop too (dispatch.onShutdown defaults to keep).
    expect(routerIntents()).toHaveLength(2);
    const verify = await runCli(['audit', 'verify', '--config', h.configPath]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^audit chain intact: \d+ entries/);
    expect(existsSync(join(h.stateDir, 'floodgate.db'))).toBe(true);
  }, 90_000);
});
