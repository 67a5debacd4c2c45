import { describe, expect, it } from 'vitest';
import type { AdapterReceipt, MitigationAdapter } from '../../adapters/contract.js';
import { createAdapterRegistry, registerBuiltinAdapters } from '../../adapters/registry.js';
import { createDispatcher } from '../../appliance/dispatcher.js';
import { openSqliteStore } from '../../appliance/store/sqlite-store.js';
import { nullLogger } from '../../core/logger.js';
import { defaultMitigationConfig } from '../../core/mitigation/config.js';
import { planMitigation } from '../../core/mitigation/planner.js';
import { makeIncident } from '../core/mitigation/incident-fixture.js';

const now = () => 1_763_734_800_000;

async function setup(
  options: { caps?: { flowspec: number; rtbh: number }; adapters?: MitigationAdapter[] } = {},
) {
  const store = openSqliteStore(':memory:', now);
  const registry = createAdapterRegistry();
  registerBuiltinAdapters(registry);
  const adapters =
    options.adapters ??
    registry.instantiate([{ name: 'dry-run', type: 'dry-run' }], { logger: nullLogger, now });
  for (const a of adapters) await a.start();
  const caps = options.caps ?? defaultMitigationConfig().caps;
  const dispatcher = createDispatcher({ store, adapters, caps, logger: nullLogger, now });
  return { store, adapters, dispatcher };
}

describe('dispatcher', () => {
  it('applies every planned intent through the dry-run adapter, audited, and withdraws them', async () => {
    const { store, adapters, dispatcher } = await setup();
    const incident = makeIncident({ family: 'ntp_amplification', fingerprint: { sourcePorts: [123] } });
    store.saveIncident(incident);
    const plan = planMitigation(incident, defaultMitigationConfig());
    expect(plan.intents.map((i) => i.kind).sort()).toEqual(['flowspec', 'rtbh']);
    await dispatcher.apply(incident, plan.intents, plan.refused);

    const active = store.listMitigations({ incidentId: incident.id });
    expect(active.map((m) => m.state)).toEqual(['active', 'active']);
    expect((await adapters[0]!.list()).length).toBe(2);
    const rtbh = active.find((m) => m.intent.kind === 'rtbh')!;
    expect(rtbh.rendered).toBe('announce route 203.0.113.5/32 next-hop 192.0.2.1 community [ 65535:666 ]');

    // The same intents again (a re-trigger) are not applied twice.
    await dispatcher.apply(incident, plan.intents, []);
    expect(store.listAudit({}).filter((e) => e.action === 'apply')).toHaveLength(2);

    await dispatcher.withdrawIncident(incident.id);
    expect(store.listMitigations({ incidentId: incident.id }).map((m) => m.state)).toEqual([
      'withdrawn',
      'withdrawn',
    ]);
    expect(await adapters[0]!.list()).toEqual([]);
    const withdraws = store.listAudit({}).filter((e) => e.action === 'withdraw');
    expect(withdraws.map((e) => e.command).sort()).toEqual([
      'withdraw flow route { match { destination 203.0.113.5/32; protocol udp; source-port =123; } }',
      'withdraw route 203.0.113.5/32 next-hop 192.0.2.1',
    ]);
    expect(store.verifyAudit().ok).toBe(true);
  });

  it('refuses past the cap and audits the refusal with its reason', async () => {
    const { store, dispatcher } = await setup({ caps: { flowspec: 1, rtbh: 1 } });
    const first = makeIncident({ target: '203.0.113.5' });
    const second = makeIncident({ target: '203.0.113.6' });
    for (const incident of [first, second]) {
      const plan = planMitigation(incident, defaultMitigationConfig());
      await dispatcher.apply(incident, plan.intents, plan.refused);
    }
    expect(store.listMitigations({ states: ['active'] })).toHaveLength(2);
    const refusals = store.listAudit({}).filter((e) => e.action === 'refuse');
    expect(refusals).toHaveLength(2);
    expect(JSON.stringify(refusals[0]!.detail)).toContain('FG_ERR_SAFETY_CAP');
    expect(JSON.stringify(refusals[0]!.detail)).toContain('mitigation.caps.');
  });

  it('records refusals from the planner (protected prefix)', async () => {
    const { store, dispatcher } = await setup();
    const incident = makeIncident({ target: '203.0.113.5' });
    const plan = planMitigation(incident, {
      ...defaultMitigationConfig(),
      protectedPrefixes: ['203.0.113.0/24'],
    });
    expect(plan.intents).toHaveLength(0);
    await dispatcher.apply(incident, plan.intents, plan.refused);
    const refusals = store.listAudit({}).filter((e) => e.action === 'refuse');
    expect(refusals.length).toBe(plan.refused.length);
    expect(JSON.stringify(refusals[0]!.detail)).toContain('FG_ERR_SAFETY_PROTECTED');
    expect(store.listMitigations({})).toHaveLength(0);
  });

  it('marks a mitigation failed with the adapter error when apply throws', async () => {
    const registry = createAdapterRegistry();
    registerBuiltinAdapters(registry);
    const [inner] = registry.instantiate([{ name: 'flaky', type: 'dry-run' }], { logger: nullLogger, now });
    const flaky: MitigationAdapter = Object.assign(Object.create(inner!) as MitigationAdapter, {
      apply: async (): Promise<AdapterReceipt> => {
        throw new Error('router said no: session down');
      },
    });
    const { store, dispatcher } = await setup({ adapters: [flaky] });
    const incident = makeIncident();
    const plan = planMitigation(incident, defaultMitigationConfig());
    await dispatcher.apply(incident, plan.intents, []);
    const records = store.listMitigations({});
    expect(records.every((m) => m.state === 'failed' && m.error === 'router said no: session down')).toBe(
      true,
    );
    expect(store.listAudit({}).filter((e) => e.action === 'fail')).toHaveLength(records.length);
  });

  it('after a restart withdraws what the previous run left in place and closes its incidents', async () => {
    const { store, adapters, dispatcher } = await setup();
    const incident = makeIncident();
    store.saveIncident(incident);
    const plan = planMitigation(incident, defaultMitigationConfig());
    await dispatcher.apply(incident, plan.intents, []);
    const restarted = createDispatcher({
      store,
      adapters,
      caps: defaultMitigationConfig().caps,
      logger: nullLogger,
      now,
    });
    await restarted.recoverAfterRestart();
    expect(store.listMitigations({}).every((m) => m.state === 'withdrawn')).toBe(true);
    expect(store.getIncident(incident.id)?.state).toBe('closed');
    expect(await adapters[0]!.list()).toEqual([]);
  });
});
