/**
 * The driver between detector, engine, dispatcher and store: a run's whole life as the audit
 * tells it, and the restart path (a tier recorded as fired whose mitigations never got recorded is
 * delivered; incidents the previous process left open are closed and de-escalate on schedule).
 */
import { describe, expect, it } from 'vitest';
import { createAdapterRegistry, registerBuiltinAdapters } from '../../adapters/registry.js';
import { createDispatcher } from '../../appliance/dispatcher.js';
import { dispatchConfigSchema } from '../../appliance/dispatcher-config.js';
import { createEscalationDriver, RESTART_NOTE } from '../../appliance/escalation-driver.js';
import { openSqliteStore } from '../../appliance/store/sqlite-store.js';
import type { Store } from '../../appliance/store/store.js';
import { runbookSchema } from '../../core/escalation/config.js';
import { EscalationEngine } from '../../core/escalation/engine.js';
import type { Incident } from '../../core/incident/incident.js';
import { nullLogger } from '../../core/logger.js';
import { defaultMitigationConfig } from '../../core/mitigation/config.js';
import { makeIncident } from '../core/mitigation/incident-fixture.js';

const T0 = 1_763_734_800_000;
const runbook = runbookSchema.parse({
  name: 'two-step',
  notify: ['noc'],
  ttl: { seconds: 120 },
  tiers: [
    { name: 'flowspec', intents: ['flowspec'], escalate: { afterSeconds: 10 } },
    { name: 'rtbh', intents: ['rtbh'] },
  ],
});

async function pipeline(store: Store, clock: { now: number }) {
  const now = () => clock.now;
  const registry = createAdapterRegistry();
  registerBuiltinAdapters(registry);
  const adapters = registry.instantiate([{ name: 'edge', type: 'dry-run' }], { logger: nullLogger, now });
  for (const a of adapters) await a.start();
  const engine = new EscalationEngine({
    runbooks: [runbook],
    mitigation: defaultMitigationConfig(),
    hostGroups: [],
    severityLevels: { medium: 2, high: 5, critical: 10 },
  });
  const dispatcher = createDispatcher({
    store,
    adapters,
    caps: defaultMitigationConfig().caps,
    retry: dispatchConfigSchema.parse({}).retry,
    logger: nullLogger,
    now,
  });
  return {
    engine,
    adapters,
    driver: createEscalationDriver({ engine, dispatcher, store, logger: nullLogger }),
  };
}

const at = (s: number) => T0 + s * 1000;

describe('escalation driver', () => {
  it('tells a run’s whole life in the audit, in order, and stores the run', async () => {
    const clock = { now: T0 };
    const store = openSqliteStore(':memory:', () => clock.now);
    const { driver, adapters } = await pipeline(store, clock);
    const incident: Incident = makeIncident({
      family: 'ntp_amplification',
      openedAtMs: T0,
      lastOverAtMs: T0,
    });
    await driver.handleEvents([{ type: 'opened', atMs: T0, incident }]);
    clock.now = at(10);
    await driver.handleEvents([
      { type: 'updated', atMs: at(10), incident: { ...incident, lastOverAtMs: at(10) } },
    ]);
    clock.now = at(20);
    await driver.handleEvents([
      {
        type: 'closed',
        atMs: at(20),
        incident: { ...incident, state: 'closed', closedAtMs: at(20), lastOverAtMs: at(10) },
      },
    ]);
    for (const s of [100, 119, 120, 129, 130]) {
      clock.now = at(s);
      await driver.tick(at(s));
    }
    expect(
      store
        .listAudit()
        .map((e) => `${e.action}${e.rule ? ` ${e.rule}` : ''}${e.adapter ? ` @${e.adapter}` : ''}`),
    ).toEqual([
      'incident-open',
      'notify two-step',
      'escalate two-step/1 flowspec',
      'apply two-step/1 flowspec @edge',
      'escalate two-step/2 rtbh',
      'apply two-step/2 rtbh @edge',
      'incident-close',
      'de-escalate two-step/1 flowspec',
      'withdraw two-step/1 flowspec @edge',
      'de-escalate two-step/2 rtbh',
      'withdraw two-step/2 rtbh @edge',
      'notify two-step',
    ]);
    expect(store.listAudit().find((e) => e.action === 'de-escalate')?.atMs).toBe(at(120));
    expect(await adapters[0]!.list()).toEqual([]);
    const [run] = store.listRuns();
    expect(run).toMatchObject({ id: `run-${incident.id}`, state: 'ended', level: 1 });
    expect(store.listTargetHistory()).toEqual([{ target: '203.0.113.5', repeat: 0, lastEndedAtMs: at(130) }]);
    expect(store.verifyAudit().ok).toBe(true);
  });

  it('after a restart delivers a fired tier whose mitigations were never recorded and closes what was left open', async () => {
    const clock = { now: T0 };
    const store = openSqliteStore(':memory:', () => clock.now);
    // The previous process decided (and stored the run) but died before the dispatcher recorded anything.
    const before = new EscalationEngine({
      runbooks: [runbook],
      mitigation: defaultMitigationConfig(),
      hostGroups: [],
      severityLevels: { medium: 2, high: 5, critical: 10 },
    });
    const incident = makeIncident({ openedAtMs: T0, lastOverAtMs: T0 });
    before.handle({ type: 'opened', atMs: T0, incident });
    for (const run of before.takeChangedRuns()) store.saveRun(run);
    store.saveIncident(incident);

    clock.now = at(30);
    const { driver, adapters } = await pipeline(store, clock);
    await driver.resume(at(30));
    const [record] = store.listMitigations();
    expect(record).toMatchObject({
      state: 'active',
      holders: [`run-${incident.id}/0`],
      rule: 'two-step/1 flowspec',
    });
    expect((await adapters[0]!.list()).map((r) => r.intentId)).toEqual([record!.intentId]);
    expect(store.getIncident(incident.id)).toMatchObject({ state: 'closed', closedAtMs: at(30) });
    const close = store.listAudit().find((e) => e.action === 'incident-close');
    expect(close?.detail).toEqual({ reason: RESTART_NOTE });
    expect(store.listRuns()[0]).toMatchObject({ state: 'ending' });

    // The TTL (120 s from when the tier fired) decides when it goes.
    clock.now = at(119);
    await driver.tick(at(119));
    expect(store.listMitigations()[0]!.state).toBe('active');
    clock.now = at(120);
    await driver.tick(at(120));
    expect(store.listMitigations()[0]!.state).toBe('withdrawn');
  });
});
