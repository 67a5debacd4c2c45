/**
 * Node firewall rules over HTTP: the action catalogue, previews, and saving, switching and
 * deleting rules. Saving answers with the exact commands the rule runs and undoes; a broad rule is
 * refused (409 FG_ERR_NODE_RISK, with its preview) until the request acknowledges the risk. Every
 * change is an audit entry. The node adapter reads the rules from the store at each apply, so a
 * change takes effect at once; disabling or deleting a rule also undoes its runs in place at once,
 * unless the request says `keepRuns: true` (they are then undone when their incident ends).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ActionCatalogue } from '../../adapters/node/catalogue.js';
import {
  EXAMPLE_INCIDENT_V4,
  EXAMPLE_INCIDENT_V6,
  parseRuleInput,
  previewRule,
  ruleForSave,
} from '../../adapters/node/rule-check.js';
import type { AuditAction } from '../../core/audit/chain.js';
import { type ErrorCode, isFloodgateError } from '../../core/errors.js';
import type { NodeRule } from '../../core/node-rules/rule.js';
import type { Store } from '../store/store.js';
import { errorBody, OPERATOR_NAME } from './queries.js';

/** Runs of a retired rule that were undone, and undo failures, across the node adapters. */
export interface RetiredRuns {
  undone: { adapter: string; intentId: string; venue: string; commands: string[] }[];
  failures: string[];
}

export interface NodeRuleRoutesDeps {
  store: Store;
  catalogue: ActionCatalogue;
  now: () => number;
  /** Undoes the runs in place of a disabled or deleted rule; absent, runs stay until their incident ends. */
  retireRule?: (ruleId: string) => Promise<RetiredRuns>;
}

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  FG_ERR_NODE_RULE: 400,
  FG_ERR_NODE_PARAM: 400,
  FG_ERR_NODE_RISK: 409,
};

/** The catalogue as plain JSON: what `floodgate rules actions --json` prints too. */
export function catalogueJson(catalogue: ActionCatalogue) {
  return catalogue.entries().map((e) => ({
    id: e.id,
    group: e.group,
    title: e.title,
    description: e.description,
    venue: e.venue,
    params: e.params,
    risk: e.risk,
    riskNote: e.riskNote,
    commandTemplate: e.commandTemplate,
    undoTemplate: e.undoTemplate,
  }));
}

/** The audit detail of a retirement: how many runs were undone where, and what failed. */
function retiredDetail(r: RetiredRuns & { keepRuns: boolean }) {
  return {
    keepRuns: r.keepRuns,
    undone: r.undone.map((u) => `${u.adapter} ${u.intentId} ${u.venue}`),
    ...(r.failures.length === 0 ? {} : { undoFailures: r.failures }),
  };
}

/** True when the request (body `keepRuns: true` or `?keepRuns=true`) leaves a retired rule's runs in place. */
function keepsRuns(body: unknown, query: unknown): boolean {
  return (
    (body as { keepRuns?: unknown } | null)?.keepRuns === true ||
    (query as { keepRuns?: unknown } | null)?.keepRuns === 'true'
  );
}

function operatorOf(headers: Record<string, unknown>, body: unknown): string {
  const fromBody = (body as { operator?: unknown } | null)?.operator;
  if (typeof fromBody === 'string' && OPERATOR_NAME.test(fromBody)) return fromBody;
  const header = headers['x-floodgate-operator'];
  return typeof header === 'string' && OPERATOR_NAME.test(header) ? header : 'api';
}

/** The rule part of a request body: everything but `operator`. */
function ruleBody(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const { operator: _operator, keepRuns: _keepRuns, ...rest } = body as Record<string, unknown>;
  return rest;
}

export function registerNodeRuleRoutes(app: FastifyInstance, deps: NodeRuleRoutesDeps): void {
  const { store, catalogue, now } = deps;
  const noneRetired: RetiredRuns = { undone: [], failures: [] };

  /** Undoes a rule's runs in place unless the request keeps them; what happened goes into the answer. */
  async function retire(
    ruleId: string,
    request: { body: unknown; query: unknown },
  ): Promise<RetiredRuns & { keepRuns: boolean }> {
    const keepRuns = keepsRuns(request.body, request.query);
    if (keepRuns || deps.retireRule === undefined) return { ...noneRetired, keepRuns };
    return { ...(await deps.retireRule(ruleId)), keepRuns };
  }

  function refuse(reply: FastifyReply, e: unknown): unknown {
    if (isFloodgateError(e) && STATUS_OF[e.code] !== undefined) {
      const issues = e.details['issues'] as { path: string; message: string }[] | undefined;
      return reply.code(STATUS_OF[e.code] as number).send(
        errorBody(
          e.code,
          e.message,
          issues?.map((i) => ({ parameter: i.path, message: i.message })),
        ),
      );
    }
    throw e;
  }

  function audit(action: AuditAction, operator: string, rule: NodeRule | { id: string }, detail: unknown) {
    store.appendAudit({
      atMs: now(),
      actor: `operator:${operator}`,
      action,
      rule: `node-rule/${rule.id}`,
      result: 'ok',
      detail,
    });
  }

  app.get('/api/v1/node-actions', async () => ({ items: catalogueJson(catalogue) }));

  app.get('/api/v1/node-rules', async () => ({ items: store.listNodeRules() }));

  app.get<{ Params: { id: string } }>('/api/v1/node-rules/:id', async (request, reply) => {
    const rule = store.getNodeRule(request.params.id);
    if (rule === undefined) {
      return reply
        .code(404)
        .send(
          errorBody('FG_ERR_HTTP_NOT_FOUND', `no node rule with id ${JSON.stringify(request.params.id)}`),
        );
    }
    return {
      item: rule,
      preview: previewRule({ ...rule, acknowledgeRisk: rule.riskAcknowledged }, catalogue),
    };
  });

  app.post<{ Querystring: { ipv6?: string } }>('/api/v1/node-rules/preview', async (request, reply) => {
    try {
      const rule = parseRuleInput(ruleBody(request.body));
      const example = request.query.ipv6 === 'true' ? EXAMPLE_INCIDENT_V6 : EXAMPLE_INCIDENT_V4;
      return { preview: previewRule(rule, catalogue, example) };
    } catch (e) {
      return refuse(reply, e);
    }
  });

  app.post('/api/v1/node-rules', async (request, reply) => {
    const operator = operatorOf(request.headers, request.body);
    try {
      const input = parseRuleInput(ruleBody(request.body));
      const previous = store.getNodeRule(input.id);
      const { rule, preview } = ruleForSave(input, catalogue, `operator:${operator}`, now(), previous);
      store.saveNodeRule(rule);
      const retired =
        previous?.enabled === true && !rule.enabled
          ? await retire(rule.id, request)
          : { ...noneRetired, keepRuns: false };
      audit('rule-save', operator, rule, {
        replaced: previous !== undefined,
        rule,
        commands: preview.commands,
        ...retiredDetail(retired),
      });
      return reply.code(previous === undefined ? 201 : 200).send({ item: rule, preview, ...retired });
    } catch (e) {
      if (isFloodgateError(e) && e.code === 'FG_ERR_NODE_RISK') {
        const input = parseRuleInput(ruleBody(request.body));
        return reply
          .code(409)
          .send({ ...errorBody(e.code, e.message), preview: previewRule(input, catalogue) });
      }
      return refuse(reply, e);
    }
  });

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post<{ Params: { id: string } }>(`/api/v1/node-rules/:id/${verb}`, async (request, reply) => {
      const operator = operatorOf(request.headers, request.body);
      const rule = store.getNodeRule(request.params.id);
      if (rule === undefined) {
        return reply
          .code(404)
          .send(
            errorBody('FG_ERR_HTTP_NOT_FOUND', `no node rule with id ${JSON.stringify(request.params.id)}`),
          );
      }
      const changed = { ...rule, enabled, updatedAtMs: now(), updatedBy: `operator:${operator}` };
      store.saveNodeRule(changed);
      const retired = enabled ? { ...noneRetired, keepRuns: false } : await retire(rule.id, request);
      audit(enabled ? 'rule-enable' : 'rule-disable', operator, rule, {
        was: rule.enabled,
        ...retiredDetail(retired),
      });
      return { item: changed, ...retired };
    });
  }

  app.delete<{ Params: { id: string } }>('/api/v1/node-rules/:id', async (request, reply) => {
    const operator = operatorOf(request.headers, request.body);
    const rule = store.getNodeRule(request.params.id);
    if (rule === undefined || !store.deleteNodeRule(rule.id)) {
      return reply
        .code(404)
        .send(
          errorBody('FG_ERR_HTTP_NOT_FOUND', `no node rule with id ${JSON.stringify(request.params.id)}`),
        );
    }
    const retired = await retire(rule.id, request);
    audit('rule-delete', operator, rule, { rule, ...retiredDetail(retired) });
    return { item: rule, ...retired };
  });
}
