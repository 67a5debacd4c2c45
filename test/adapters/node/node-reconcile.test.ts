/**
 * After a restart, the dispatcher reconciles the node adapter with the store: what the adapter's
 * state file says is in place for an incident the store no longer wants is undone (its recorded
 * undo runs on the node), and what is still wanted stays in place untouched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MitigationAdapter } from '../../../adapters/contract.js';
import { nodeConfigSchema } from '../../../adapters/node/config.js';
import { createNodeAdapter } from '../../../adapters/node/node-adapter.js';
import { createDispatcher } from '../../../appliance/dispatcher.js';
import { dispatchConfigSchema } from '../../../appliance/dispatcher-config.js';
import { openSqliteStore } from '../../../appliance/store/sqlite-store.js';
import { nullLogger } from '../../../core/logger.js';
import { defaultMitigationConfig } from '../../../core/mitigation/config.js';
import type { FirewallIntent } from '../../../core/mitigation/intent.js';
import { makeNodeRule } from '../../core/node-rules/rule-fixture.js';
import { fakeCatalogue } from './fake-catalogue.js';

const rule = makeNodeRule('ntp', { action: { type: 'test.drop-port', params: {} } });

function intent(n: number): FirewallIntent {
  return {
    kind: 'firewall',
    id: `fw4-00000000000000${n}${n}`,
    incidentId: `inc-${n}`,
    ipVersion: 4,
    target: `203.0.113.${n}/32`,
    action: { type: 'drop-protocol', protocol: 17, sourcePorts: [123] },
    facts: {
      family: 'ntp_amplification',
      severity: 3,
      pps: 1,
      bps: 1,
      sources: [],
      sourcePorts: [123],
      destinationPorts: [],
      protocols: [17],
    },
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('node adapter reconciliation after a restart', () => {
  it('undoes the runs of incidents the store does not want and keeps the wanted ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-node-reconcile-'));
    dirs.push(dir);
    const ran: string[][] = [];
    const build = (): MitigationAdapter =>
      createNodeAdapter(
        nodeConfigSchema.parse({ nodes: [{ name: 'solo' }] }),
        { name: 'hosts', logger: nullLogger, now: () => 1000, stateDir: dir, nodeRules: () => [rule] },
        {
          catalogue: fakeCatalogue,
          runnerFor: () => ({
            where: 'fake',
            run: async (argv) => {
              ran.push([...argv]);
              return { exitCode: 0, stdout: '', stderr: '', durationMs: 0 };
            },
            close: async () => {},
          }),
        },
      );
    const store = openSqliteStore(join(dir, 'floodgate.db'), () => 1000);
    const dispatcher = (adapter: MitigationAdapter) =>
      createDispatcher({
        store,
        adapters: [adapter],
        caps: defaultMitigationConfig().caps,
        retry: dispatchConfigSchema.parse({}).retry,
        logger: nullLogger,
        now: () => 1000,
      });

    // Before the restart: one intent delivered through the dispatcher (the store wants it), one
    // put in place behind the store's back (as if its record was lost with a crash).
    const first = build();
    await first.start();
    await dispatcher(first).activate({
      type: 'activate',
      atMs: 1000,
      runId: 'run-1',
      incidentId: 'inc-1',
      runbook: 'hosts',
      tier: 0,
      tierName: 'host-firewall',
      mode: 'automatic',
      holder: 'run-1/0',
      deliveries: [{ intent: intent(1), adapters: ['hosts'] }],
      refused: [],
      cause: 'detected',
      reason: 'incident opened',
    });
    expect(store.listMitigations().map((r) => r.state)).toEqual(['active']);
    await first.apply(intent(2));
    await first.stop();
    expect(ran.map((a) => a.slice(0, 3).join(' '))).toEqual(['fw add 123', 'fw add 123']);

    // After it: a new adapter reads its state file; reconciliation undoes only the orphan.
    ran.length = 0;
    const second = build();
    await second.start();
    expect((await second.list()).map((r) => r.intentId).sort()).toEqual([intent(1).id, intent(2).id].sort());
    const [report] = await dispatcher(second).reconcile('start');
    expect(report).toMatchObject({ adapter: 'hosts', orphansWithdrawn: 1, reapplied: 0 });
    // The orphan's undo, then the wanted run checked on the node (reassert runs its apply again).
    expect(ran).toEqual([
      ['fw', 'del', '123', '203.0.113.2', expect.stringMatching(/^fg-/)],
      ['fw', 'add', '123', '203.0.113.1', expect.stringMatching(/^fg-/)],
    ]);
    expect((await second.list()).map((r) => r.intentId)).toEqual([intent(1).id]);
    store.close();
  });

  it('reasserts what the store wants and the adapter lists: put back, or audited as an error when the node is down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-node-reassert-'));
    dirs.push(dir);
    const node = { answer: 'ok', down: false };
    const adapter = createNodeAdapter(
      nodeConfigSchema.parse({ nodes: [{ name: 'solo' }] }),
      { name: 'hosts', logger: nullLogger, now: () => 1000, stateDir: dir, nodeRules: () => [rule] },
      {
        catalogue: fakeCatalogue,
        runnerFor: () => ({
          where: 'fake',
          run: async () => {
            if (node.down) throw new Error('connect ECONNREFUSED');
            return { exitCode: 0, stdout: node.answer, stderr: '', durationMs: 0 };
          },
          close: async () => {},
        }),
      },
    );
    await adapter.start();
    const store = openSqliteStore(join(dir, 'floodgate.db'), () => 1000);
    const dispatcher = createDispatcher({
      store,
      adapters: [adapter],
      caps: defaultMitigationConfig().caps,
      retry: dispatchConfigSchema.parse({}).retry,
      logger: nullLogger,
      now: () => 1000,
    });
    await dispatcher.activate({
      type: 'activate',
      atMs: 1000,
      runId: 'run-1',
      incidentId: 'inc-1',
      runbook: 'hosts',
      tier: 0,
      tierName: 'host-firewall',
      mode: 'automatic',
      holder: 'run-1/0',
      deliveries: [{ intent: intent(1), adapters: ['hosts'] }],
      refused: [],
      cause: 'detected',
      reason: 'incident opened',
    });
    const reconciles = () => store.listAudit().filter((e) => e.action === 'reconcile');

    expect((await dispatcher.reconcile('reconnect'))[0]).toMatchObject({ restored: 0 });
    expect(reconciles()).toEqual([]);
    node.answer = 'added';
    expect((await dispatcher.reconcile('reconnect'))[0]).toMatchObject({ restored: 1 });
    expect(reconciles().at(-1)).toMatchObject({
      result: 'ok',
      incidentId: 'inc-1',
      command: expect.stringMatching(/^fw add 123 203\.0\.113\.1 fg-/),
      detail: { trigger: 'reconnect', correction: 'lost on node solo: put back' },
    });
    node.down = true;
    expect((await dispatcher.reconcile('reconnect'))[0]).toMatchObject({ restored: 0, error: null });
    expect(reconciles().at(-1)).toMatchObject({
      result: 'error',
      incidentId: 'inc-1',
      detail: { correction: 'could not check or put back on node solo', error: 'connect ECONNREFUSED' },
    });
    expect(store.verifyAudit().ok).toBe(true);
    await adapter.stop();
    store.close();
  });
});
