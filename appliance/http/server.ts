/**
 * The read-only HTTP API over the store: health for probes, incidents, mitigations, the audit
 * chain and live counters as JSON. Built as a plain fastify instance so tests inject requests
 * without a socket; the component decides where it listens.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { FloodgateError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../store/store.js';
import { auditQuery, errorBody, incidentsQuery, mitigationsQuery, parseQuery } from './queries.js';

export interface HealthReport {
  ok: boolean;
  components: Record<string, unknown>;
}

export interface HttpApiDeps {
  store: Store;
  /** Live counters (flows decoded, incidents open, ...), served as they are. */
  stats: () => Record<string, unknown>;
  health: () => Promise<HealthReport>;
  logger: Logger;
}

export function buildHttpApi(deps: HttpApiDeps): FastifyInstance {
  const { store, logger } = deps;
  // fastify's own pino stays off: everything goes through the appliance's logger.
  const app = Fastify({ logger: false });

  app.addHook('onSend', async (_request, reply, payload) => {
    // State changes every second; a cached incident list is a wrong one.
    reply.header('cache-control', 'no-store');
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    logger.debug(
      {
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'http request',
    );
  });

  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send(errorBody('FG_ERR_HTTP_NOT_FOUND', `no route for ${request.method} ${request.url}`)),
  );

  app.setErrorHandler(async (error: unknown, request, reply) => {
    const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
    const status = typeof statusCode === 'number' ? statusCode : 500;
    const message = error instanceof Error ? error.message : String(error);
    if (status < 500) {
      // fastify's own refusals (malformed URL, bad content type...): the client's mistake.
      return reply.code(status).send(errorBody('FG_ERR_HTTP_BAD_REQUEST', message));
    }
    logger.error({ err: error, method: request.method, url: request.url }, 'http request failed');
    const code = error instanceof FloodgateError ? error.code : 'FG_ERR_HTTP_INTERNAL';
    return reply.code(500).send(errorBody(code, message));
  });

  app.get('/healthz', async (_request, reply) => {
    let report: HealthReport;
    try {
      report = await deps.health();
    } catch (e) {
      logger.error({ err: e }, 'health check failed');
      const message = e instanceof Error ? e.message : String(e);
      return reply.code(503).send({ status: 'unhealthy', error: message, components: {} });
    }
    return reply
      .code(report.ok ? 200 : 503)
      .send({ status: report.ok ? 'ok' : 'unhealthy', components: report.components });
  });

  app.get('/api/v1/incidents', async (request, reply) => {
    const query = parseQuery(incidentsQuery, request.query);
    if (!query.ok) return reply.code(400).send(query.body);
    const { state, limit } = query.value;
    return { items: store.listIncidents(state === undefined ? { limit } : { state, limit }) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/incidents/:id', async (request, reply) => {
    const incident = store.getIncident(request.params.id);
    if (incident === undefined) {
      return reply
        .code(404)
        .send(errorBody('FG_ERR_HTTP_NOT_FOUND', `no incident with id ${JSON.stringify(request.params.id)}`));
    }
    return incident;
  });

  app.get('/api/v1/mitigations', async (request, reply) => {
    const query = parseQuery(mitigationsQuery, request.query);
    if (!query.ok) return reply.code(400).send(query.body);
    const { incident, state, limit } = query.value;
    return {
      items: store.listMitigations({
        limit,
        ...(incident === undefined ? {} : { incidentId: incident }),
        ...(state === undefined ? {} : { states: state }),
      }),
    };
  });

  app.get<{ Params: { id: string } }>('/api/v1/mitigations/:id', async (request, reply) => {
    const record = store.getMitigation(request.params.id);
    if (record === undefined) {
      return reply
        .code(404)
        .send(
          errorBody('FG_ERR_HTTP_NOT_FOUND', `no mitigation with id ${JSON.stringify(request.params.id)}`),
        );
    }
    return record;
  });

  app.get('/api/v1/audit', async (request, reply) => {
    const query = parseQuery(auditQuery, request.query);
    if (!query.ok) return reply.code(400).send(query.body);
    return { items: store.listAudit(query.value) };
  });

  app.get('/api/v1/stats', async () => deps.stats());

  return app;
}
