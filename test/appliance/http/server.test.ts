import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildHttpApi, type HttpApiDeps } from '../../../appliance/http/server.js';
import { openSqliteStore } from '../../../appliance/store/sqlite-store.js';
import type { Store } from '../../../appliance/store/store.js';
import { FloodgateError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import { incident, mitigation } from '../store/fixtures.js';

interface LogLine {
  level: keyof Logger;
  args: unknown[];
}

function recordingLogger(lines: LogLine[]): Logger {
  const at =
    (level: keyof Logger) =>
    (...args: unknown[]) =>
      lines.push({ level, args });
  return { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

describe('HTTP API', () => {
  let store: Store;
  let app: FastifyInstance;
  let logs: LogLine[];
  let health: HttpApiDeps['health'];
  let stats: HttpApiDeps['stats'];

  beforeEach(async () => {
    store = openSqliteStore(':memory:');
    logs = [];
    health = async () => ({ ok: true, components: { store: 'ok', 'collector.netflow': 'listening' } });
    stats = () => ({ flowsDecoded: 1234, incidentsOpen: 1 });
    app = buildHttpApi({
      store,
      logger: recordingLogger(logs),
      health: () => health(),
      stats: () => stats(),
    });
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
    store.close();
  });

  const get = async (url: string) => {
    const response = await app.inject({ method: 'GET', url });
    return { status: response.statusCode, body: response.json(), headers: response.headers };
  };

  describe('GET /healthz', () => {
    it('answers 200 with the components when healthy', async () => {
      const { status, body, headers } = await get('/healthz');
      expect(status).toBe(200);
      expect(body).toEqual({ status: 'ok', components: { store: 'ok', 'collector.netflow': 'listening' } });
      expect(headers['content-type']).toMatch(/^application\/json/);
      expect(headers['cache-control']).toBe('no-store');
    });

    it('answers 503 when a component is unhealthy', async () => {
      health = async () => ({ ok: false, components: { 'adapter.exabgp': 'session down' } });
      const { status, body } = await get('/healthz');
      expect(status).toBe(503);
      expect(body).toEqual({ status: 'unhealthy', components: { 'adapter.exabgp': 'session down' } });
    });

    it('answers 503 and logs when the health check itself throws', async () => {
      health = async () => {
        throw new Error('probe timed out');
      };
      const { status, body } = await get('/healthz');
      expect(status).toBe(503);
      expect(body).toMatchObject({ status: 'unhealthy', error: 'probe timed out' });
      expect(logs.some((l) => l.level === 'error' && l.args[1] === 'health check failed')).toBe(true);
    });
  });

  describe('GET /api/v1/incidents', () => {
    beforeEach(() => {
      store.saveIncident(incident({ id: 'old', openedAtMs: 1_000, state: 'closed', closedAtMs: 2_000 }));
      store.saveIncident(incident({ id: 'new', openedAtMs: 3_000 }));
    });

    it('lists incidents newest first', async () => {
      const { status, body } = await get('/api/v1/incidents');
      expect(status).toBe(200);
      expect(body.items.map((i: { id: string }) => i.id)).toEqual(['new', 'old']);
      expect(body.items[0]).toEqual(incident({ id: 'new', openedAtMs: 3_000 }));
    });

    it('filters by state and limits', async () => {
      expect(
        (await get('/api/v1/incidents?state=closed')).body.items.map((i: { id: string }) => i.id),
      ).toEqual(['old']);
      expect((await get('/api/v1/incidents?state=open')).body.items.map((i: { id: string }) => i.id)).toEqual(
        ['new'],
      );
      expect((await get('/api/v1/incidents?limit=1')).body.items).toHaveLength(1);
      expect((await get('/api/v1/incidents?limit=1000')).body.items).toHaveLength(2);
    });

    it('defaults the limit to 100', async () => {
      for (let i = 0; i < 120; i++) store.saveIncident(incident({ id: `bulk-${i}`, openedAtMs: 10_000 + i }));
      expect((await get('/api/v1/incidents')).body.items).toHaveLength(100);
    });

    it.each([
      ['state=half-open', 'state', 'must be open or closed'],
      ['limit=0', 'limit', 'must be a whole number from 1 to 1000'],
      ['limit=1001', 'limit', 'must be a whole number from 1 to 1000'],
      ['limit=ten', 'limit', 'must be a whole number from 1 to 1000'],
      ['limit=1.5', 'limit', 'must be a whole number from 1 to 1000'],
      ['limit=', 'limit', 'must be a whole number from 1 to 1000'],
      ['limit=1&limit=2', 'limit', 'must be given once'],
      ['stat=open', 'stat', 'is not a parameter of this route'],
    ])('refuses ?%s with 400 naming the parameter', async (query, parameter, message) => {
      const { status, body } = await get(`/api/v1/incidents?${query}`);
      expect(status).toBe(400);
      expect(body.error.code).toBe('FG_ERR_HTTP_BAD_REQUEST');
      expect(body.error.issues).toContainEqual({ parameter, message });
      expect(body.error.message).toContain(`${parameter} ${message}`);
    });

    it('lists every bad parameter at once', async () => {
      const { status, body } = await get('/api/v1/incidents?state=x&limit=0');
      expect(status).toBe(400);
      expect(body.error.issues.map((i: { parameter: string }) => i.parameter).sort()).toEqual([
        'limit',
        'state',
      ]);
    });
  });

  describe('GET /api/v1/incidents/:id', () => {
    it('returns the incident, also for ids with IPv6 colons', async () => {
      const v6 = incident({ id: 'inc-20261121T141900Z-2001:db8::5', ipVersion: 6, target: '2001:db8::5' });
      store.saveIncident(v6);
      const { status, body } = await get(`/api/v1/incidents/${encodeURIComponent(v6.id)}`);
      expect(status).toBe(200);
      expect(body).toEqual(v6);
    });

    it('answers 404 with a coded JSON error for an unknown id', async () => {
      const { status, body } = await get('/api/v1/incidents/inc-nope');
      expect(status).toBe(404);
      expect(body).toEqual({
        error: { code: 'FG_ERR_HTTP_NOT_FOUND', message: 'no incident with id "inc-nope"' },
      });
    });
  });

  describe('GET /api/v1/mitigations', () => {
    beforeEach(() => {
      store.saveMitigation(mitigation({ id: 'm1', incidentId: 'inc-a', state: 'active', updatedAtMs: 10 }));
      store.saveMitigation(mitigation({ id: 'm2', incidentId: 'inc-a', state: 'failed', updatedAtMs: 20 }));
      store.saveMitigation(
        mitigation({ id: 'm3', incidentId: 'inc-b', state: 'withdrawn', updatedAtMs: 30 }),
      );
    });
    const ids = async (query: string) =>
      (await get(`/api/v1/mitigations${query}`)).body.items.map((m: { id: string }) => m.id);

    it('lists all, most recently updated first, with full records', async () => {
      expect(await ids('')).toEqual(['m3', 'm2', 'm1']);
      expect((await get('/api/v1/mitigations?incident=inc-b')).body.items).toEqual([
        mitigation({ id: 'm3', incidentId: 'inc-b', state: 'withdrawn', updatedAtMs: 30 }),
      ]);
    });

    it('filters by incident, by one or several states, and limits', async () => {
      expect(await ids('?incident=inc-a')).toEqual(['m2', 'm1']);
      expect(await ids('?state=active')).toEqual(['m1']);
      expect(await ids('?state=active,withdrawn')).toEqual(['m3', 'm1']);
      expect(await ids('?state=active&state=failed')).toEqual(['m2', 'm1']);
      expect(await ids('?incident=inc-a&state=withdrawn')).toEqual([]);
      expect(await ids('?limit=2')).toEqual(['m3', 'm2']);
    });

    it.each([
      ['state=up', 'state'],
      ['state=active,up', 'state'],
      ['incident=', 'incident'],
      ['incident=a&incident=b', 'incident'],
      ['limit=-1', 'limit'],
      ['adapter=dry-run', 'adapter'],
    ])('refuses ?%s with 400', async (query, parameter) => {
      const { status, body } = await get(`/api/v1/mitigations?${query}`);
      expect(status).toBe(400);
      expect(body.error.code).toBe('FG_ERR_HTTP_BAD_REQUEST');
      expect(body.error.issues.map((i: { parameter: string }) => i.parameter)).toContain(parameter);
    });

    it('names the valid states when one is wrong', async () => {
      const { body } = await get('/api/v1/mitigations?state=up');
      expect(body.error.message).toContain('pending, applying, active, withdrawing, withdrawn, failed');
    });

    it('returns one mitigation by id, or 404', async () => {
      expect((await get('/api/v1/mitigations/m2')).body).toMatchObject({ id: 'm2', state: 'failed' });
      const missing = await get('/api/v1/mitigations/m9');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('FG_ERR_HTTP_NOT_FOUND');
    });
  });

  describe('GET /api/v1/audit', () => {
    beforeEach(() => {
      for (let i = 0; i < 5; i++) {
        store.appendAudit({ atMs: i, actor: 'system', action: 'apply', result: 'ok', detail: { i } });
      }
    });

    it('lists entries oldest first with their hashes', async () => {
      const { status, body } = await get('/api/v1/audit');
      expect(status).toBe(200);
      expect(body.items.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(body.items).toEqual(store.listAudit());
    });

    it('pages with afterSeq and limit', async () => {
      const { body } = await get('/api/v1/audit?afterSeq=2&limit=2');
      expect(body.items.map((e: { seq: number }) => e.seq)).toEqual([3, 4]);
      expect((await get('/api/v1/audit?afterSeq=5')).body.items).toEqual([]);
      expect(
        (await get('/api/v1/audit?afterSeq=0&limit=1')).body.items.map((e: { seq: number }) => e.seq),
      ).toEqual([1]);
    });

    it.each([
      ['afterSeq=-1', 'afterSeq'],
      ['afterSeq=abc', 'afterSeq'],
      ['afterSeq=99999999999999999999', 'afterSeq'],
      ['limit=5000', 'limit'],
    ])('refuses ?%s with 400', async (query, parameter) => {
      const { status, body } = await get(`/api/v1/audit?${query}`);
      expect(status).toBe(400);
      expect(body.error.issues.map((i: { parameter: string }) => i.parameter)).toContain(parameter);
    });
  });

  describe('GET /api/v1/stats', () => {
    it('serves the live counters as they are', async () => {
      const { status, body } = await get('/api/v1/stats');
      expect(status).toBe(200);
      expect(body).toEqual({ flowsDecoded: 1234, incidentsOpen: 1 });
    });
  });

  describe('errors', () => {
    it('answers 404 with a coded JSON error for an unknown route', async () => {
      const { status, body } = await get('/api/v1/nothing-here');
      expect(status).toBe(404);
      expect(body).toEqual({
        error: { code: 'FG_ERR_HTTP_NOT_FOUND', message: 'no route for GET /api/v1/nothing-here' },
      });
    });

    it('answers 500 with the store error code when the store fails, and logs it', async () => {
      store.close();
      const { status, body } = await get('/api/v1/incidents');
      expect(status).toBe(500);
      expect(body.error.code).toBe('FG_ERR_STORE');
      expect(body.error.message).toMatch(/listIncidents failed/);
      const logged = logs.find((l) => l.level === 'error');
      expect((logged!.args[0] as { err: unknown }).err).toBeInstanceOf(FloodgateError);
    });

    it('answers 500 with a generic code when a dependency throws a plain error', async () => {
      stats = () => {
        throw new Error('counter registry gone');
      };
      const { status, body } = await get('/api/v1/stats');
      expect(status).toBe(500);
      expect(body).toEqual({ error: { code: 'FG_ERR_HTTP_INTERNAL', message: 'counter registry gone' } });
    });

    it('logs every request at debug level through the given logger', async () => {
      await get('/healthz');
      const line = logs.find((l) => l.level === 'debug');
      expect(line?.args[0]).toMatchObject({ method: 'GET', url: '/healthz', statusCode: 200 });
    });
  });
});
