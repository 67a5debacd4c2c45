/**
 * A node that reboots loses its firewall rules without telling anyone, while the node adapter's
 * state file still says they are in place. Reconciliation (at start, and when a node's connection
 * comes back) asks the adapter to reassert what the store wants: the recorded apply runs again,
 * idempotently, so a rule still there is left alone and a lost one is put back, audited. Real
 * iptables and ipset in a namespace; the "reboot" flushes them.
 *
 * Needs root, iptables and ipset (scripts/test.sh installs them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterAuditEntry, MitigationAdapter } from '../../adapters/contract.js';
import { builtinNodeCatalogue } from '../../adapters/node/builtin-catalogue.js';
import { nodeConfigSchema } from '../../adapters/node/config.js';
import { createNodeAdapter } from '../../adapters/node/node-adapter.js';
import { createDispatcher, type Dispatcher } from '../../appliance/dispatcher.js';
import { dispatchConfigSchema } from '../../appliance/dispatcher-config.js';
import { openSqliteStore } from '../../appliance/store/sqlite-store.js';
import type { Store } from '../../appliance/store/store.js';
import { nullLogger } from '../../core/logger.js';
import { defaultMitigationConfig } from '../../core/mitigation/config.js';
import type { FirewallIntent } from '../../core/mitigation/intent.js';
import { makeNodeRule } from '../core/node-rules/rule-fixture.js';
import { createNetns, type Netns, requireRoot } from './netns.js';

const rules = [
  makeNodeRule('ntp-port', {
    trigger: { type: 'family-in', families: ['ntp_amplification'] },
    action: { type: 'iptables.drop-udp-source-port', params: {} },
  }),
  makeNodeRule('ntp-sources', {
    trigger: { type: 'family-in', families: ['ntp_amplification'] },
    action: { type: 'ipset.add-source', params: { set: 'fg-reassert', timeout: 600 } },
  }),
];

const intent: FirewallIntent = {
  kind: 'firewall',
  id: 'fw4-reassert000001',
  incidentId: 'inc-reassert',
  ipVersion: 4,
  target: '203.0.113.10/32',
  action: { type: 'drop-protocol', protocol: 17, sourcePorts: [123] },
  facts: {
    family: 'ntp_amplification',
    severity: 3,
    pps: 90_000,
    bps: 8e8,
    sources: ['198.51.100.7'],
    sourcePorts: [123],
    destinationPorts: [],
    protocols: [17],
  },
};

describe('node adapter: what a rebooted node lost is put back at reconciliation', () => {
  let ns: Netns;
  let dir: string;
  let store: Store;
  let adapter: MitigationAdapter;
  let dispatcher: Dispatcher;
  const audits: AdapterAuditEntry[] = [];

  const sh = async (argv: string[]) => {
    const r = await ns.run(argv);
    if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  /** The INPUT chain and the sets, without what changes by itself (entry timeouts, a new set's hash seed). */
  const firewall = async () =>
    `${await sh(['iptables', '-w', '-S', 'INPUT'])}\n${await sh(['ipset', 'list'])}`
      .replace(/ timeout \d+/g, ' timeout')
      .replace(/ initval 0x[0-9a-f]+/g, '');

  beforeAll(async () => {
    requireRoot();
    ns = await createNetns('reassert');
    dir = mkdtempSync(join(tmpdir(), 'fg-node-reassert-'));
    store = openSqliteStore(join(dir, 'floodgate.db'), Date.now);
    adapter = createNodeAdapter(
      nodeConfigSchema.parse({ nodes: [{ name: 'web', netns: ns.name }] }),
      {
        name: 'hosts',
        logger: nullLogger,
        now: Date.now,
        stateDir: dir,
        nodeRules: () => rules,
        audit: (e) => audits.push(e),
      },
      { catalogue: builtinNodeCatalogue() },
    );
    await adapter.start();
    dispatcher = createDispatcher({
      store,
      adapters: [adapter],
      caps: defaultMitigationConfig().caps,
      retry: dispatchConfigSchema.parse({}).retry,
      logger: nullLogger,
      now: Date.now,
    });
  });

  afterAll(async () => {
    await adapter?.stop();
    store?.close();
    await ns?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('leaves intact runs alone, puts back lost ones, and the undo still ends at the original ruleset', async () => {
    const before = await firewall();
    await dispatcher.activate({
      type: 'activate',
      atMs: Date.now(),
      runId: 'run-1',
      incidentId: intent.incidentId,
      runbook: 'hosts',
      tier: 0,
      tierName: 'host-firewall',
      mode: 'automatic',
      holder: 'run-1/0',
      deliveries: [{ intent, adapters: ['hosts'] }],
      refused: [],
      cause: 'detected',
      reason: 'incident opened',
    });
    const inPlace = await firewall();
    expect(inPlace).toMatch(/-A INPUT -d 203\.0\.113\.10\/32 -p udp -m udp --sport 123 .* -j DROP/);
    expect(inPlace).toMatch(/Name: fg-reassert[\s\S]*198\.51\.100\.7 timeout/);

    // Nothing lost: reconciliation checks and changes nothing.
    const [quiet] = await dispatcher.reconcile('reconnect');
    expect(quiet).toMatchObject({ adapter: 'hosts', restored: 0, reapplied: 0, orphansWithdrawn: 0 });
    expect(await firewall()).toBe(inPlace);

    // The "reboot": rules and sets are gone.
    await sh(['iptables', '-w', '-F', 'INPUT']);
    await sh(['ipset', 'destroy']);
    expect(await firewall()).toBe(before);

    const [report] = await dispatcher.reconcile('reconnect');
    expect(report).toMatchObject({ adapter: 'hosts', restored: 2, reapplied: 0, error: null });
    expect(await firewall()).toBe(inPlace);
    const corrections = store
      .listAudit()
      .filter((e) => e.action === 'reconcile')
      .map((e) => [(e.detail as { correction: string }).correction, e.incidentId]);
    expect(corrections).toEqual([
      ['lost on node web: put back', intent.incidentId],
      ['lost on node web: put back', intent.incidentId],
    ]);
    expect(
      audits.some(
        (a) =>
          a.action === 'apply' &&
          a.incidentId === intent.incidentId &&
          (a.detail as { phase: string }).phase === 'reassert' &&
          /^iptables -w -I INPUT 1 -d 203\.0\.113\.10/.test(a.command ?? ''),
      ),
    ).toBe(true);

    // The set and its rule were made again by the reassert: the undo removes them as its own.
    const record = store.listMitigations()[0]!;
    await dispatcher.withdraw(record.id, 'test');
    expect(await firewall()).toBe(before);
  });
});
