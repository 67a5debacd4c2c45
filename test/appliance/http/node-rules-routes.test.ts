/**
 * Node rules over HTTP, injected without a socket: previews show the exact commands, broad rules
 * need the risk acknowledged, the enabled switch is stored at once, every change is audited.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RetiredRuns } from '../../../appliance/http/node-rules-routes.js';
import { buildHttpApi } from '../../../appliance/http/server.js';
import { openSqliteStore } from '../../../appliance/store/sqlite-store.js';
import type { Store } from '../../../appliance/store/store.js';
import { nullLogger } from '../../../core/logger.js';
import { fakeCatalogue } from '../../adapters/node/fake-catalogue.js';

const T0 = 1_763_734_800_000;

const narrow = {
  id: 'drop-ntp',
  trigger: { type: 'family-in', families: ['ntp_amplification'] },
  action: { type: 'test.drop-port', params: { port: 123 } },
};
const broad = { ...narrow, id: 'drop-any', action: { type: 'test.drop-port', params: {} } };

describe('HTTP node rule routes', () => {
  let store: Store;
  let app: FastifyInstance;
  let retired: string[];
  beforeEach(() => {
    retired = [];
    store = openSqliteStore(':memory:', () => T0);
    app = buildHttpApi({
      store,
      stats: () => ({}),
      health: async () => ({ ok: true, components: {} }),
      logger: nullLogger,
      nodeActions: fakeCatalogue,
      now: () => T0,
      retireNodeRule: async (ruleId): Promise<RetiredRuns> => {
        retired.push(ruleId);
        return {
          undone: [{ adapter: 'hosts', intentId: 'fw4-1', venue: 'node web1', commands: ['fw del 123'] }],
          failures: [],
        };
      },
    });
  });
  afterEach(async () => {
    await app.close();
    store.close();
  });

  it('lists the action catalogue', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/node-actions' });
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toEqual([
      expect.objectContaining({
        id: 'test.drop-port',
        commandTemplate: 'fw add {port}',
        undoTemplate: 'fw del {port}',
      }),
    ]);
  });

  it('previews the exact command and undo with the example incident, v4 or v6', async () => {
    const v4 = await app.inject({ method: 'POST', url: '/api/v1/node-rules/preview', payload: narrow });
    expect(v4.statusCode).toBe(200);
    expect(v4.json().preview).toMatchObject({
      ruleId: 'drop-ntp',
      trigger: 'family ntp_amplification',
      broad: false,
      commands: { apply: ['fw add 123 203.0.113.5 fg-example'], undo: ['fw del 123 203.0.113.5 fg-example'] },
    });
    const v6 = await app.inject({
      method: 'POST',
      url: '/api/v1/node-rules/preview?ipv6=true',
      payload: narrow,
    });
    expect(v6.json().preview.commands.apply).toEqual(['fw add 123 2001:db8::5 fg-example']);
    expect(store.listNodeRules()).toEqual([]);
  });

  it('refuses hostile parameters and unknown actions with the reason, saving nothing', async () => {
    const hostile = await app.inject({
      method: 'POST',
      url: '/api/v1/node-rules',
      payload: { ...narrow, action: { type: 'test.drop-port', params: { port: '123; reboot' } } },
    });
    expect(hostile.statusCode).toBe(400);
    expect(hostile.json().error.code).toBe('FG_ERR_NODE_PARAM');
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/v1/node-rules',
      payload: { ...narrow, action: { type: 'test.nothing', params: {} } },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toContain('unknown action type "test.nothing"');
    const badCooldown = await app.inject({
      method: 'POST',
      url: '/api/v1/node-rules',
      payload: { ...narrow, cooldownMinutes: 2000 },
    });
    expect(badCooldown.statusCode).toBe(400);
    expect(badCooldown.json().error.issues[0].parameter).toBe('cooldownMinutes');
    expect(store.listNodeRules()).toEqual([]);
  });

  it('saves a narrow rule at once, a broad one only with the risk acknowledged, and audits both', async () => {
    const saved = await app.inject({
      method: 'POST',
      url: '/api/v1/node-rules',
      payload: { ...narrow, operator: 'alice' },
    });
    expect(saved.statusCode).toBe(201);
    expect(saved.json().item).toMatchObject({
      id: 'drop-ntp',
      enabled: true,
      cooldownMinutes: 5,
      updatedBy: 'operator:alice',
    });

    const refused = await app.inject({ method: 'POST', url: '/api/v1/node-rules', payload: broad });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('FG_ERR_NODE_RISK');
    expect(refused.json().preview.broad).toBe(true);
    expect(store.getNodeRule('drop-any')).toBeUndefined();

    const acked = await app.inject({
      method: 'POST',
      url: '/api/v1/node-rules',
      payload: { ...broad, acknowledgeRisk: true },
    });
    expect(acked.statusCode).toBe(201);
    expect(store.getNodeRule('drop-any')?.riskAcknowledged).toBe(true);

    const audit = store.listAudit();
    expect(audit.map((a) => [a.action, a.actor, a.rule])).toEqual([
      ['rule-save', 'operator:alice', 'node-rule/drop-ntp'],
      ['rule-save', 'operator:api', 'node-rule/drop-any'],
    ]);
    expect(audit[0]?.detail).toMatchObject({ commands: { apply: ['fw add 123 203.0.113.5 fg-example'] } });
  });

  it('switches a rule off and on, deletes it, and answers 404 for unknown ids', async () => {
    await app.inject({ method: 'POST', url: '/api/v1/node-rules', payload: narrow });
    const off = await app.inject({
      method: 'POST',
      url: '/api/v1/node-rules/drop-ntp/disable',
      payload: { operator: 'bob' },
    });
    expect(off.statusCode).toBe(200);
    expect(store.getNodeRule('drop-ntp')?.enabled).toBe(false);
    await app.inject({ method: 'POST', url: '/api/v1/node-rules/drop-ntp/enable' });
    expect(store.getNodeRule('drop-ntp')?.enabled).toBe(true);
    const got = await app.inject({ method: 'GET', url: '/api/v1/node-rules/drop-ntp' });
    expect(got.json().preview.commands.undo).toEqual(['fw del 123 203.0.113.5 fg-example']);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/node-rules/drop-ntp' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/node-rules/drop-ntp' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/api/v1/node-rules/nope/enable' })).statusCode).toBe(
      404,
    );
    expect(store.listAudit().map((a) => a.action)).toEqual([
      'rule-save',
      'rule-disable',
      'rule-enable',
      'rule-delete',
    ]);
  });

  it('disabling or deleting a rule undoes its runs in place at once, unless keepRuns says otherwise', async () => {
    await app.inject({ method: 'POST', url: '/api/v1/node-rules', payload: narrow });
    const off = await app.inject({ method: 'POST', url: '/api/v1/node-rules/drop-ntp/disable' });
    expect(off.json()).toMatchObject({
      keepRuns: false,
      undone: [{ adapter: 'hosts', intentId: 'fw4-1', venue: 'node web1', commands: ['fw del 123'] }],
      failures: [],
    });
    expect(retired).toEqual(['drop-ntp']);
    await app.inject({ method: 'POST', url: '/api/v1/node-rules/drop-ntp/enable' });
    const kept = await app.inject({
      method: 'POST',
      url: '/api/v1/node-rules/drop-ntp/disable?keepRuns=true',
    });
    expect(kept.json()).toMatchObject({ keepRuns: true, undone: [] });
    // Saving the rule again with enabled false is a disable too.
    await app.inject({ method: 'POST', url: '/api/v1/node-rules/drop-ntp/enable' });
    await app.inject({ method: 'POST', url: '/api/v1/node-rules', payload: { ...narrow, enabled: false } });
    await app.inject({ method: 'DELETE', url: '/api/v1/node-rules/drop-ntp' });
    expect(retired).toEqual(['drop-ntp', 'drop-ntp', 'drop-ntp']);
    const audit = store.listAudit().filter((a) => a.action !== 'rule-enable');
    expect(
      audit.map((a) => [a.action, (a.detail as { keepRuns?: boolean; undone?: string[] }).undone]),
    ).toEqual([
      ['rule-save', []],
      ['rule-disable', ['hosts fw4-1 node web1']],
      ['rule-disable', []],
      ['rule-save', ['hosts fw4-1 node web1']],
      ['rule-delete', ['hosts fw4-1 node web1']],
    ]);
  });
});
