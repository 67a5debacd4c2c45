/**
 * The dispatcher's persisted state machine: delivery and sharing of intents between tiers,
 * refusals, failures and their retry schedule, manual approval, operator withdrawal, shutdown,
 * and reconciliation of each adapter's real table with the store.
 */
import { describe, expect, it } from 'vitest';
import type { AdapterReceipt, MitigationAdapter } from '../../adapters/contract.js';
import { createAdapterRegistry, registerBuiltinAdapters } from '../../adapters/registry.js';
import { createDispatcher } from '../../appliance/dispatcher.js';
import { dispatchConfigSchema } from '../../appliance/dispatcher-config.js';
import { openSqliteStore } from '../../appliance/store/sqlite-store.js';
import { isFloodgateError } from '../../core/errors.js';
import type { ActivateAction, ReleaseAction } from '../../core/escalation/run.js';
import { nullLogger } from '../../core/logger.js';
import {
  defaultMitigationConfig,
  type MitigationConfig,
  mitigationConfigSchema,
} from '../../core/mitigation/config.js';
import type { IntentKind } from '../../core/mitigation/intent.js';
import { planMitigation } from '../../core/mitigation/planner.js';
import { makeIncident } from '../core/mitigation/incident-fixture.js';

const T0 = 1_763_734_800_000;

function dryRuns(names: string[], now: () => number, config: unknown = {}): MitigationAdapter[] {
  const registry = createAdapterRegistry();
  registerBuiltinAdapters(registry);
  return registry.instantiate(
    names.map((name) => ({ name, type: 'dry-run', config })),
    { logger: nullLogger, now },
  );
}

async function setup(
  options: { adapters?: MitigationAdapter[]; caps?: Partial<MitigationConfig['caps']>; retry?: unknown } = {},
) {
  let clock = T0;
  const now = () => clock;
  const store = openSqliteStore(':memory:', now);
  const adapters = options.adapters ?? dryRuns(['dry-run'], now);
  for (const a of adapters) await a.start();
  const dispatcher = createDispatcher({
    store,
    adapters,
    caps: { ...defaultMitigationConfig().caps, ...options.caps },
    retry: dispatchConfigSchema.parse({ retry: options.retry ?? {} }).retry,
    logger: nullLogger,
    now,
  });
  return { store, adapters, dispatcher, advance: (ms: number) => (clock += ms), now };
}

const incident = makeIncident({ family: 'ntp_amplification', fingerprint: { sourcePorts: [123] } });

function activation(
  overrides: Partial<ActivateAction> & {
    kinds?: IntentKind[];
    mitigation?: MitigationConfig;
    target?: string;
  } = {},
): ActivateAction {
  const { kinds = ['flowspec', 'rtbh'], mitigation = defaultMitigationConfig(), target, ...rest } = overrides;
  const inc = target === undefined ? incident : makeIncident({ ...incident, target, id: `inc-${target}` });
  const plan = planMitigation(inc, mitigation, kinds);
  const tier = rest.tier ?? 0;
  return {
    type: 'activate',
    atMs: T0,
    runId: `run-${inc.id}`,
    incidentId: inc.id,
    runbook: 'test',
    tier,
    tierName: `tier ${tier + 1}`,
    mode: 'automatic',
    holder: `run-${inc.id}/${tier}`,
    deliveries: plan.intents.map((intent) => ({ intent, adapters: null })),
    refused: plan.refused,
    cause: 'detected',
    reason: 'incident opened',
    ...rest,
  };
}

function releaseOf(action: ActivateAction, reason = 'the incident closed'): ReleaseAction {
  return {
    type: 'release',
    atMs: T0,
    runId: action.runId,
    incidentId: action.incidentId,
    runbook: action.runbook,
    tier: action.tier,
    tierName: action.tierName,
    holder: action.holder,
    intents: action.deliveries.map((d) => d.intent),
    reason,
  };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isFloodgateError(e) ? e.code : String(e);
  }
  return undefined;
}

/** A dry-run adapter whose apply/withdraw fail while `failing` is set. */
function flaky(inner: MitigationAdapter): MitigationAdapter & { failing: boolean } {
  const wrapped = {
    ...inner,
    failing: true,
    async apply(intent: Parameters<MitigationAdapter['apply']>[0]) {
      if (wrapped.failing) throw new Error('router said no: session down');
      return inner.apply(intent);
    },
  };
  return wrapped;
}

describe('dispatcher', () => {
  it('applies a tier through the adapter, audited with its rule, and withdraws it on release', async () => {
    const { store, adapters, dispatcher } = await setup();
    const act = activation();
    await dispatcher.activate(act);
    const records = store
      .listMitigations({ incidentId: incident.id })
      .sort((a, b) => a.intent.kind.localeCompare(b.intent.kind));
    expect(records.map((m) => [m.intent.kind, m.state, m.desired, m.holders, m.rule])).toEqual([
      ['flowspec', 'active', 'active', [act.holder], 'test/1 tier 1'],
      ['rtbh', 'active', 'active', [act.holder], 'test/1 tier 1'],
    ]);
    expect((await adapters[0]!.list()).length).toBe(2);
    const rtbh = records.find((m) => m.intent.kind === 'rtbh')!;
    expect(rtbh.rendered).toBe('announce route 203.0.113.5/32 next-hop 192.0.2.1 community [ 65535:666 ]');
    expect(
      store
        .listAudit()
        .filter((e) => e.action === 'apply')
        .map((e) => [e.rule, e.adapter, e.result]),
    ).toEqual([
      ['test/1 tier 1', 'dry-run', 'ok'],
      ['test/1 tier 1', 'dry-run', 'ok'],
    ]);

    // The same tier again (a restart, a second incident) is not applied twice.
    await dispatcher.activate(act);
    expect(store.listAudit().filter((e) => e.action === 'apply')).toHaveLength(2);

    await dispatcher.release(releaseOf(act));
    expect(store.listMitigations({ incidentId: incident.id }).map((m) => m.state)).toEqual([
      'withdrawn',
      'withdrawn',
    ]);
    expect(await adapters[0]!.list()).toEqual([]);
    const withdraws = store.listAudit().filter((e) => e.action === 'withdraw');
    expect(withdraws.map((e) => e.command).sort()).toEqual([
      'withdraw flow route { match { destination 203.0.113.5/32; protocol udp; source-port =123; } }',
      'withdraw route 203.0.113.5/32 next-hop 192.0.2.1',
    ]);
    expect(withdraws[0]!.detail).toEqual({ reason: 'the incident closed', wasPresent: true });
    expect(store.verifyAudit().ok).toBe(true);
  });

  it('shares one mitigation between tiers that plan the same intent, withdrawn when the last lets go', async () => {
    const { store, adapters, dispatcher } = await setup();
    const tier1 = activation({ kinds: ['flowspec'] });
    const tier2 = activation({ kinds: ['flowspec', 'rtbh'], tier: 1 });
    await dispatcher.activate(tier1);
    await dispatcher.activate(tier2);
    const flowspec = store.listMitigations().find((m) => m.intent.kind === 'flowspec')!;
    expect(flowspec.holders).toEqual([tier1.holder, tier2.holder]);
    expect(store.listAudit().filter((e) => e.action === 'apply')).toHaveLength(2);

    await dispatcher.release(releaseOf(tier2));
    expect(store.listMitigations().map((m) => [m.intent.kind, m.state])).toEqual(
      expect.arrayContaining([
        ['flowspec', 'active'],
        ['rtbh', 'withdrawn'],
      ]),
    );
    await dispatcher.release(releaseOf(tier1));
    expect(store.listMitigations().every((m) => m.state === 'withdrawn')).toBe(true);
    expect(await adapters[0]!.list()).toEqual([]);
  });

  it('refuses past the cap of each kind and audits the refusal with its rule and reason', async () => {
    const { store, dispatcher } = await setup({ caps: { flowspec: 1, rtbh: 1 } });
    await dispatcher.activate(activation({ target: '203.0.113.5' }));
    await dispatcher.activate(activation({ target: '203.0.113.6' }));
    expect(store.listMitigations({ states: ['active'] })).toHaveLength(2);
    const refusals = store.listAudit().filter((e) => e.action === 'refuse');
    expect(refusals.map((e) => [e.rule, e.adapter, (e.detail as { code: string }).code])).toEqual([
      ['test/1 tier 1', 'dry-run', 'FG_ERR_SAFETY_CAP'],
      ['test/1 tier 1', 'dry-run', 'FG_ERR_SAFETY_CAP'],
    ]);
    expect((refusals[0]!.detail as { reason: string }).reason).toContain('(mitigation.caps.flowspec)');
    expect(refusals[0]!.command).toMatch(/^announce flow route/);
  });

  it('records the guards’ refusals and intents no adapter can deliver', async () => {
    const { store, dispatcher } = await setup({
      adapters: dryRuns(['v4-only'], () => T0, { capabilities: ['rtbh4'] }),
    });
    const guarded = activation({
      mitigation: mitigationConfigSchema.parse({ protectedPrefixes: ['203.0.113.0/24'] }),
    });
    expect(guarded.deliveries).toEqual([]);
    await dispatcher.activate(guarded);
    await dispatcher.activate(activation({ kinds: ['flowspec'], target: '198.51.100.9' }));
    const refusals = store.listAudit().filter((e) => e.action === 'refuse');
    expect(refusals.map((e) => (e.detail as { code: string }).code)).toEqual([
      'FG_ERR_SAFETY_PROTECTED',
      'FG_ERR_SAFETY_PROTECTED',
      'FG_ERR_ADAPTER_CAPABILITY',
    ]);
    expect(refusals[0]!.command).toBe('flowspec to 203.0.113.5/32 udp source-port 123: discard');
    expect((refusals[2]!.detail as { reason: string }).reason).toBe(
      'no configured adapter can deliver flowspec4 for flowspec to 198.51.100.9/32 udp source-port 123: discard (test/1 tier 1)',
    );
    expect(store.listMitigations()).toEqual([]);
  });

  it('sends a delivery only to the adapters it names', async () => {
    const { store, dispatcher } = await setup({ adapters: dryRuns(['edge-a', 'edge-b'], () => T0) });
    const act = activation({ kinds: ['rtbh'] });
    await dispatcher.activate({
      ...act,
      deliveries: act.deliveries.map((d) => ({ ...d, adapters: ['edge-b'] })),
    });
    expect(store.listMitigations().map((m) => m.adapter)).toEqual(['edge-b']);
  });

  it('marks a failed apply with the error and a doubling retry schedule, and retries when due', async () => {
    const [inner] = dryRuns(['flaky'], () => T0);
    const adapter = flaky(inner!);
    const { store, dispatcher, advance, now } = await setup({
      adapters: [adapter],
      retry: { firstSeconds: 5, maxSeconds: 20 },
    });
    await dispatcher.activate(activation({ kinds: ['rtbh'] }));
    let [record] = store.listMitigations();
    expect(record).toMatchObject({
      state: 'failed',
      desired: 'active',
      error: 'router said no: session down',
      attempts: 1,
    });
    expect(record!.nextAttemptAtMs).toBe(now() + 5_000);

    advance(4_000);
    await dispatcher.retryDue();
    expect(store.listMitigations()[0]!.attempts).toBe(1);
    advance(1_000);
    await dispatcher.retryDue();
    [record] = store.listMitigations();
    expect(record).toMatchObject({ state: 'failed', attempts: 2, nextAttemptAtMs: now() + 10_000 });
    advance(10_000);
    await dispatcher.retryDue();
    expect(store.listMitigations()[0]!.nextAttemptAtMs).toBe(now() + 20_000);

    adapter.failing = false;
    advance(20_000);
    await dispatcher.retryDue();
    expect(store.listMitigations()[0]).toMatchObject({
      state: 'active',
      attempts: 0,
      nextAttemptAtMs: null,
      error: null,
    });
    const trail = store.listAudit().filter((e) => e.mitigationId !== undefined);
    expect(trail.map((e) => [e.action, e.result])).toEqual([
      ['fail', 'error'],
      ['fail', 'error'],
      ['fail', 'error'],
      ['apply', 'ok'],
    ]);
    expect(trail[0]!.detail).toMatchObject({ during: 'apply', attempt: 1, gaveUp: false });
    expect(trail[3]!.detail).toEqual({ retry: true, attempt: 4 });
  });

  it('gives up after maxAttempts and leaves the error for an operator', async () => {
    const [inner] = dryRuns(['flaky'], () => T0);
    const { store, dispatcher, advance } = await setup({
      adapters: [flaky(inner!)],
      retry: { maxAttempts: 2 },
    });
    await dispatcher.activate(activation({ kinds: ['rtbh'] }));
    advance(5_000);
    await dispatcher.retryDue();
    expect(store.listMitigations()[0]).toMatchObject({ state: 'failed', attempts: 2, nextAttemptAtMs: null });
    expect(store.listAudit().at(-1)!.detail).toMatchObject({ gaveUp: true });
  });

  it('keeps manual-mode mitigations pending until approved, and cancels them when the tier lets go first', async () => {
    const { store, adapters, dispatcher } = await setup();
    const act = activation({ mode: 'manual' });
    await dispatcher.activate(act);
    const pending = store.listMitigations();
    expect(pending.map((m) => m.state)).toEqual(['pending', 'pending']);
    expect(await adapters[0]!.list()).toEqual([]);
    expect(
      store
        .listAudit()
        .filter((e) => e.action === 'plan')
        .map((e) => [e.mitigationId, e.detail]),
    ).toEqual(
      pending
        .map((m) => [m.id, { mode: 'manual', state: 'pending', approveWith: `floodgate approve ${m.id}` }])
        .sort((a, b) => (a[0]! < b[0]! ? 1 : -1)),
    );

    const approved = await dispatcher.approve(pending[0]!.id, 'alice');
    expect(approved).toMatchObject({ state: 'active', approvedBy: 'alice' });
    expect(await codeOf(dispatcher.approve(pending[0]!.id, 'alice'))).toBe('FG_ERR_MITIGATION_STATE');
    expect(await codeOf(dispatcher.approve('nope@dry-run', 'alice'))).toBe('FG_ERR_MITIGATION_NOT_FOUND');
    const approval = store.listAudit().find((e) => e.action === 'approve')!;
    expect(approval).toMatchObject({
      actor: 'operator:alice',
      mitigationId: pending[0]!.id,
      rule: 'test/1 tier 1',
    });

    await dispatcher.release(releaseOf(act));
    expect(store.listMitigations().map((m) => m.state)).toEqual(['withdrawn', 'withdrawn']);
    expect(store.listAudit().filter((e) => e.action === 'cancel')).toHaveLength(1);
    expect(store.listAudit().filter((e) => e.action === 'withdraw')).toHaveLength(1);
    expect(await adapters[0]!.list()).toEqual([]);
  });

  it('approves every pending mitigation of an incident at once', async () => {
    const { store, dispatcher } = await setup();
    await dispatcher.activate(activation({ mode: 'manual' }));
    const approved = await dispatcher.approveIncident(incident.id, 'bob');
    expect(approved.map((m) => m.state)).toEqual(['active', 'active']);
    expect(await codeOf(dispatcher.approveIncident(incident.id, 'bob'))).toBe('FG_ERR_MITIGATION_NOT_FOUND');
    expect(store.listAudit().filter((e) => e.actor === 'operator:bob')).toHaveLength(2);
  });

  it('lets an operator withdraw any mitigation by hand; the tier releasing later changes nothing', async () => {
    const { store, adapters, dispatcher } = await setup();
    const act = activation({ kinds: ['rtbh'] });
    await dispatcher.activate(act);
    const [record] = store.listMitigations();
    const withdrawn = await dispatcher.withdraw(record!.id, 'carol');
    expect(withdrawn).toMatchObject({ state: 'withdrawn', desired: 'withdrawn', holders: [] });
    expect(await adapters[0]!.list()).toEqual([]);
    expect(store.listAudit().at(-1)).toMatchObject({ action: 'withdraw', actor: 'operator:carol' });
    expect(await codeOf(dispatcher.withdraw(record!.id, 'carol'))).toBe('FG_ERR_MITIGATION_STATE');
    await dispatcher.release(releaseOf(act));
    expect(store.listAudit().filter((e) => e.action === 'withdraw')).toHaveLength(1);
  });

  it('at a restart re-asserts what was never recorded, never what was withdrawn by hand', async () => {
    const { store, adapters, dispatcher } = await setup();
    const act = activation({ kinds: ['flowspec', 'rtbh'] });
    await dispatcher.activate({ ...act, deliveries: act.deliveries.slice(0, 1) });
    const [flowspec] = store.listMitigations();
    await dispatcher.withdraw(flowspec!.id, 'erin');
    // The run still says the tier is active with both intents: only the unrecorded RTBH route is delivered.
    await dispatcher.activate({ ...act, cause: 'restored', reason: 'restored after a restart' });
    expect(
      store
        .listMitigations()
        .map((m) => [m.intent.kind, m.state])
        .sort(),
    ).toEqual([
      ['flowspec', 'withdrawn'],
      ['rtbh', 'active'],
    ]);
    expect((await adapters[0]!.list()).map((r) => r.kind)).toEqual(['rtbh']);
    expect(store.listAudit().filter((e) => e.action === 'escalate' || e.action === 'refuse')).toEqual([]);
  });

  it('records a detect-only tier as plans with the exact rendering, delivering nothing', async () => {
    const { store, adapters, dispatcher } = await setup();
    await dispatcher.activate(activation({ mode: 'detect-only' }));
    expect(store.listMitigations()).toEqual([]);
    expect(await adapters[0]!.list()).toEqual([]);
    expect(store.listAudit().map((e) => [e.action, e.command])).toEqual([
      [
        'plan',
        'announce flow route { match { destination 203.0.113.5/32; protocol udp; source-port =123; } then { discard; } }',
      ],
      ['plan', 'announce route 203.0.113.5/32 next-hop 192.0.2.1 community [ 65535:666 ]'],
    ]);
  });

  it('withdraws everything at shutdown when told to, and keeps it otherwise', async () => {
    const { store, adapters, dispatcher } = await setup();
    await dispatcher.activate(activation());
    await dispatcher.shutdown('keep');
    expect((await adapters[0]!.list()).length).toBe(2);
    await dispatcher.shutdown('withdraw');
    expect(await adapters[0]!.list()).toEqual([]);
    expect(store.listMitigations().every((m) => m.state === 'withdrawn' && m.desired === 'withdrawn')).toBe(
      true,
    );
  });

  it('reconciles each adapter with the store: re-applies what is missing, withdraws orphans, fixes states', async () => {
    const { store, adapters, dispatcher } = await setup();
    const [adapter] = adapters;
    await dispatcher.activate(activation({ target: '203.0.113.5' }));
    await dispatcher.activate(activation({ target: '203.0.113.6', kinds: ['rtbh'] }));
    const records = store.listMitigations();
    const lost = records.find((m) => m.incidentId === 'inc-203.0.113.5' && m.intent.kind === 'rtbh')!;
    const halfApplied = records.find(
      (m) => m.incidentId === 'inc-203.0.113.5' && m.intent.kind === 'flowspec',
    )!;
    const halfWithdrawn = records.find((m) => m.incidentId === 'inc-203.0.113.6')!;
    // The router lost one route; a crash left one record in applying and one in withdrawing.
    await adapter!.withdraw(lost.receipt as AdapterReceipt);
    store.saveMitigation({ ...halfApplied, state: 'applying', receipt: null });
    store.saveMitigation({ ...halfWithdrawn, state: 'withdrawing', desired: 'withdrawn' });
    // And it holds a route nothing in the store wants.
    const orphan = planMitigation(makeIncident({ target: '203.0.113.99' }), defaultMitigationConfig(), [
      'rtbh',
    ]).intents[0]!;
    await adapter!.apply(orphan);

    const [report] = await dispatcher.reconcile('reconnect', 'dry-run');
    expect(report).toEqual({
      adapter: 'dry-run',
      reapplied: 1,
      orphansWithdrawn: 2,
      corrected: 1,
      restored: 0,
      error: null,
    });
    expect((await adapter!.list()).map((r) => r.intentId).sort()).toEqual(
      [halfApplied.intentId, lost.intentId].sort(),
    );
    expect(store.getMitigation(halfApplied.id)).toMatchObject({ state: 'active' });
    expect(store.getMitigation(lost.id)).toMatchObject({ state: 'active' });
    expect(store.getMitigation(halfWithdrawn.id)).toMatchObject({ state: 'withdrawn' });
    const corrections = store
      .listAudit()
      .filter((e) => e.action === 'reconcile')
      .map((e) => (e.detail as { correction: string; trigger: string }).correction);
    expect(corrections.sort()).toEqual([
      'found in place while the store said applying: marked active',
      'in place but wanted by nothing: withdrawn (orphan)',
      'missing from the adapter: applying again',
      'still in place after it was withdrawn: withdrawing',
    ]);
    expect(store.verifyAudit().ok).toBe(true);

    // A second pass finds nothing to correct.
    const [again] = await dispatcher.reconcile('start');
    expect(again).toEqual({
      adapter: 'dry-run',
      reapplied: 0,
      orphansWithdrawn: 0,
      corrected: 0,
      restored: 0,
      error: null,
    });
  });

  it('withdraws at reconciliation what no runbook tier holds (records written before runbooks)', async () => {
    const { store, adapters, dispatcher } = await setup();
    await dispatcher.activate(activation({ kinds: ['rtbh'] }));
    const [record] = store.listMitigations();
    const { desired: _desired, holders: _holders, ...legacy } = record!;
    store.saveMitigation(legacy);
    const [report] = await dispatcher.reconcile('start');
    expect(report).toMatchObject({ orphansWithdrawn: 1, reapplied: 0 });
    expect(store.getMitigation(record!.id)).toMatchObject({ state: 'withdrawn', desired: 'withdrawn' });
    expect(await adapters[0]!.list()).toEqual([]);
  });

  it('changes nothing on an adapter whose list() fails, and says so', async () => {
    const [inner] = dryRuns(['down'], () => T0);
    const down: MitigationAdapter = {
      ...inner!,
      list: async () => {
        throw new Error('connection refused');
      },
    };
    const { store, dispatcher } = await setup({ adapters: [down] });
    const [report] = await dispatcher.reconcile('start');
    expect(report!.error).toBe('connection refused');
    expect(store.listAudit()[0]).toMatchObject({ action: 'reconcile', result: 'error', adapter: 'down' });
  });
});
