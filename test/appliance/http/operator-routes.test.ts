/**
 * The operator routes (approve, withdraw) and the escalation runs, injected without a socket, with
 * a real dispatcher and dry-run adapter behind them.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdapterRegistry, registerBuiltinAdapters } from '../../../adapters/registry.js';
import { createDispatcher, type Dispatcher } from '../../../appliance/dispatcher.js';
import { dispatchConfigSchema } from '../../../appliance/dispatcher-config.js';
import { buildHttpApi } from '../../../appliance/http/server.js';
import { openSqliteStore } from '../../../appliance/store/sqlite-store.js';
import type { Store } from '../../../appliance/store/store.js';
import { runbookSchema } from '../../../core/escalation/config.js';
import { EscalationEngine } from '../../../core/escalation/engine.js';
import type { ActivateAction } from '../../../core/escalation/run.js';
import { nullLogger } from '../../../core/logger.js';
import { defaultMitigationConfig } from '../../../core/mitigation/config.js';
import { makeIncident } from '../../core/mitigation/incident-fixture.js';

const T0 = 1_763_734_800_000;

describe('HTTP operator routes', () => {
  let store: Store;
  let dispatcher: Dispatcher;
  let app: FastifyInstance;
  let pendingIds: string[];
  const incident = makeIncident({ family: 'ntp_amplification', fingerprint: { sourcePorts: [123] } });

  beforeEach(async () => {
    store = openSqliteStore(':memory:', () => T0);
    const registry = createAdapterRegistry();
    registerBuiltinAdapters(registry);
    const adapters = registry.instantiate([{ name: 'edge', type: 'dry-run' }], {
      logger: nullLogger,
      now: () => T0,
    });
    for (const a of adapters) await a.start();
    dispatcher = createDispatcher({
      store,
      adapters,
      caps: defaultMitigationConfig().caps,
      retry: dispatchConfigSchema.parse({}).retry,
      logger: nullLogger,
      now: () => T0,
    });
    // A manual runbook fires: its mitigations wait for approval.
    const engine = new EscalationEngine({
      runbooks: [
        runbookSchema.parse({ name: 'ask', mode: 'manual', tiers: [{ intents: ['flowspec', 'rtbh'] }] }),
      ],
      mitigation: defaultMitigationConfig(),
      hostGroups: [],
      severityLevels: { medium: 2, high: 5, critical: 10 },
    });
    const actions = engine.handle({ type: 'opened', atMs: T0, incident });
    for (const a of actions) if (a.type === 'activate') await dispatcher.activate(a as ActivateAction);
    for (const run of engine.takeChangedRuns()) store.saveRun(run);
    pendingIds = store.listMitigations({ states: ['pending'] }).map((m) => m.id);
    app = buildHttpApi({
      store,
      logger: nullLogger,
      health: async () => ({ ok: true, components: {} }),
      stats: () => ({}),
      operations: dispatcher,
    });
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
    store.close();
  });

  const post = async (
    url: string,
    payload?: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) => {
    const response = await app.inject({
      method: 'POST',
      url,
      ...(payload === undefined ? {} : { payload }),
      headers,
    });
    return { status: response.statusCode, body: response.json() };
  };

  it('approves a pending mitigation, naming the operator in the audit', async () => {
    expect(pendingIds).toHaveLength(2);
    const id = pendingIds[0]!;
    const { status, body } = await post(`/api/v1/mitigations/${encodeURIComponent(id)}/approve`, {
      operator: 'alice',
    });
    expect(status).toBe(200);
    expect(body.item).toMatchObject({ id, state: 'active', approvedBy: 'alice' });
    expect(store.listAudit().find((e) => e.action === 'approve')).toMatchObject({
      actor: 'operator:alice',
      mitigationId: id,
    });

    const again = await post(`/api/v1/mitigations/${encodeURIComponent(id)}/approve`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('FG_ERR_MITIGATION_STATE');
  });

  it('takes the operator from a header, and "api" when nobody is named', async () => {
    await post(`/api/v1/mitigations/${encodeURIComponent(pendingIds[0]!)}/approve`, undefined, {
      'x-floodgate-operator': 'bob',
    });
    await post(`/api/v1/mitigations/${encodeURIComponent(pendingIds[1]!)}/approve`);
    expect(
      store
        .listAudit()
        .filter((e) => e.action === 'approve')
        .map((e) => e.actor),
    ).toEqual(['operator:bob', 'operator:api']);
  });

  it('approves every pending mitigation of an incident', async () => {
    const { status, body } = await post(`/api/v1/incidents/${encodeURIComponent(incident.id)}/approve`, {
      operator: 'carol',
    });
    expect(status).toBe(200);
    expect(body.items.map((m: { state: string }) => m.state)).toEqual(['active', 'active']);
    expect((await post(`/api/v1/incidents/${encodeURIComponent(incident.id)}/approve`, {})).status).toBe(404);
  });

  it('withdraws by hand, and answers 404 and 409 with coded errors', async () => {
    const id = pendingIds[0]!;
    await post(`/api/v1/mitigations/${encodeURIComponent(id)}/approve`, {});
    const { status, body } = await post(`/api/v1/mitigations/${encodeURIComponent(id)}/withdraw`, {
      operator: 'dave',
    });
    expect(status).toBe(200);
    expect(body.item).toMatchObject({ id, state: 'withdrawn' });
    expect((await post(`/api/v1/mitigations/${encodeURIComponent(id)}/withdraw`, {})).body.error.code).toBe(
      'FG_ERR_MITIGATION_STATE',
    );
    const missing = await post('/api/v1/mitigations/nope/withdraw', {});
    expect(missing).toEqual({
      status: 404,
      body: {
        error: {
          code: 'FG_ERR_MITIGATION_NOT_FOUND',
          message: 'FG_ERR_MITIGATION_NOT_FOUND: no mitigation with id nope',
        },
      },
    });
  });

  it('refuses a bad operator name or an unknown field with 400', async () => {
    const id = encodeURIComponent(pendingIds[0]!);
    const bad = await post(`/api/v1/mitigations/${id}/approve`, { operator: 'rm -rf /' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].parameter).toBe('operator');
    const unknown = await post(`/api/v1/mitigations/${id}/approve`, { operatr: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.issues[0]).toEqual({
      parameter: 'operatr',
      message: 'is not a field of this request',
    });
    expect(store.getMitigation(pendingIds[0]!)?.state).toBe('pending');
  });

  it('serves the escalation runs with their tiers', async () => {
    const list = await app.inject({ method: 'GET', url: '/api/v1/escalations?state=open' });
    expect(list.statusCode).toBe(200);
    const [run] = list.json().items;
    expect(run).toMatchObject({
      id: `run-${incident.id}`,
      state: 'open',
      level: 0,
      runbook: { name: 'ask', mode: 'manual' },
    });
    expect(run.tiers[0].intents.map((i: { kind: string }) => i.kind)).toEqual(['flowspec', 'rtbh']);
    const one = await app.inject({ method: 'GET', url: `/api/v1/escalations/${encodeURIComponent(run.id)}` });
    expect(one.json().id).toBe(run.id);
    expect((await app.inject({ method: 'GET', url: '/api/v1/escalations/nope' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/v1/escalations?state=over' })).statusCode).toBe(400);
  });

  it('answers 503 on a read-only API without operations', async () => {
    const readOnly = buildHttpApi({
      store,
      logger: nullLogger,
      health: async () => ({ ok: true, components: {} }),
      stats: () => ({}),
    });
    const response = await readOnly.inject({
      method: 'POST',
      url: `/api/v1/mitigations/${encodeURIComponent(pendingIds[0]!)}/approve`,
    });
    expect(response.statusCode).toBe(503);
    expect(response.json().error.code).toBe('FG_ERR_HTTP_UNAVAILABLE');
    await readOnly.close();
  });
});
