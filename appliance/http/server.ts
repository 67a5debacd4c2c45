/**
 * The HTTP API over the store: health for probes, incidents, mitigations, escalation runs, the
 * audit chain and live counters as JSON, and the operator actions (approve a pending mitigation,
 * withdraw one by hand). Built as a plain fastify instance so tests inject requests without a
 * socket; the component decides where it listens.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ActionCatalogue } from '../../adapters/node/catalogue.js';
import { type ErrorCode, FloodgateError, isFloodgateError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { MitigationRecord } from '../../core/mitigation/mitigation.js';
import type { Store } from '../store/store.js';
import { type RetiredRuns, registerNodeRuleRoutes } from './node-rules-routes.js';
import {
  auditQuery,
  errorBody,
  escalationsQuery,
  incidentsQuery,
  mitigationsQuery,
  OPERATOR_NAME,
  operatorBody,
  parseQuery,
} from './queries.js';

export interface HealthReport {
  ok: boolean;
  components: Record<string, unknown>;
}

/** What operators may do through the API; the daemon's dispatcher carries it out. */
export interface OperatorActions {
  approve(mitigationId: string, operator: string): Promise<MitigationRecord>;
  approveIncident(incidentId: string, operator: string): Promise<MitigationRecord[]>;
  withdraw(mitigationId: string, operator: string): Promise<MitigationRecord>;
}

/** Who acts when the request does not say: the API has no authentication yet. */
export const DEFAULT_OPERATOR = 'api';

/** HTTP status for the coded errors operator actions raise. */
const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  FG_ERR_MITIGATION_NOT_FOUND: 404,
  FG_ERR_MITIGATION_STATE: 409,
  FG_ERR_SAFETY_CAP: 409,
};

export interface HttpApiDeps {
  store: Store;
  /** Absent: the operator routes answer 503 (a read-only API, e.g. over a copied store). */
  operations?: OperatorActions;
  /** Live counters (flows decoded, incidents open, ...), served as they are. */
  stats: () => Record<string, unknown>;
  health: () => Promise<HealthReport>;
  logger: Logger;
  /** The node action catalogue: serves /api/v1/node-actions and /api/v1/node-rules when given. */
  nodeActions?: ActionCatalogue;
  /** Clock for rule timestamps and audit entries. */
  now?: () => number;
  /** Undoes the runs in place of a node rule being disabled or deleted (the node adapters). */
  retireNodeRule?: (ruleId: string) => Promise<RetiredRuns>;
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

  app.get('/api/v1/escalations', async (request, reply) => {
    const query = parseQuery(escalationsQuery, request.query);
    if (!query.ok) return reply.code(400).send(query.body);
    const { state, limit } = query.value;
    return { items: store.listRuns({ limit, ...(state === undefined ? {} : { states: state }) }) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/escalations/:id', async (request, reply) => {
    const run = store.getRun(request.params.id);
    if (run === undefined) {
      return reply
        .code(404)
        .send(
          errorBody(
            'FG_ERR_HTTP_NOT_FOUND',
            `no escalation run with id ${JSON.stringify(request.params.id)}`,
          ),
        );
    }
    return run;
  });

  /** The operator named by the body or the x-floodgate-operator header; undefined after a 400 was sent. */
  function operatorOf(request: FastifyRequest, reply: FastifyReply): string | undefined {
    const body = operatorBody.safeParse(request.body);
    if (!body.success) {
      const issues = body.error.issues.map((i) =>
        i.code === 'unrecognized_keys'
          ? { parameter: i.keys.join(','), message: 'is not a field of this request' }
          : { parameter: String(i.path[0] ?? 'body'), message: i.message },
      );
      void reply
        .code(400)
        .send(
          errorBody(
            'FG_ERR_HTTP_BAD_REQUEST',
            `invalid body: ${issues.map((i) => `${i.parameter} ${i.message}`).join('; ')}`,
            issues,
          ),
        );
      return undefined;
    }
    const header = request.headers['x-floodgate-operator'];
    const fromHeader = typeof header === 'string' && OPERATOR_NAME.test(header) ? header : undefined;
    return body.data?.operator ?? fromHeader ?? DEFAULT_OPERATOR;
  }

  async function operate<T>(
    reply: FastifyReply,
    work: (ops: OperatorActions) => Promise<T>,
  ): Promise<unknown> {
    const ops = deps.operations;
    if (ops === undefined) {
      return reply
        .code(503)
        .send(
          errorBody(
            'FG_ERR_HTTP_UNAVAILABLE',
            'this API is read-only: no daemon behind it carries out operator actions',
          ),
        );
    }
    try {
      return await work(ops);
    } catch (e) {
      const status = isFloodgateError(e) ? STATUS_OF[e.code] : undefined;
      if (status === undefined || !isFloodgateError(e)) throw e;
      return reply.code(status).send(errorBody(e.code, e.message));
    }
  }

  app.post<{ Params: { id: string } }>('/api/v1/mitigations/:id/approve', async (request, reply) => {
    const operator = operatorOf(request, reply);
    if (operator === undefined) return reply;
    return operate(reply, async (ops) => ({ item: await ops.approve(request.params.id, operator) }));
  });

  app.post<{ Params: { id: string } }>('/api/v1/mitigations/:id/withdraw', async (request, reply) => {
    const operator = operatorOf(request, reply);
    if (operator === undefined) return reply;
    return operate(reply, async (ops) => ({ item: await ops.withdraw(request.params.id, operator) }));
  });

  app.post<{ Params: { id: string } }>('/api/v1/incidents/:id/approve', async (request, reply) => {
    const operator = operatorOf(request, reply);
    if (operator === undefined) return reply;
    return operate(reply, async (ops) => ({ items: await ops.approveIncident(request.params.id, operator) }));
  });

  app.get('/api/v1/audit', async (request, reply) => {
    const query = parseQuery(auditQuery, request.query);
    if (!query.ok) return reply.code(400).send(query.body);
    return { items: store.listAudit(query.value) };
  });

  app.get('/api/v1/stats', async () => deps.stats());

  if (deps.nodeActions !== undefined) {
    registerNodeRuleRoutes(app, {
      store,
      catalogue: deps.nodeActions,
      now: deps.now ?? Date.now,
      ...(deps.retireNodeRule === undefined ? {} : { retireRule: deps.retireNodeRule }),
    });
  }

  return app;
}
