/**
 * `floodgate rules ...`: node firewall rules. `actions` and `preview` work offline on this
 * build's catalogue; `list`, `add`, `enable`, `disable` and `delete` go through the running
 * daemon's API, which keeps the rules in its store and audits every change.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { builtinNodeCatalogue } from '../../adapters/node/builtin-catalogue.js';
import type { ActionCatalogue } from '../../adapters/node/catalogue.js';
import {
  EXAMPLE_INCIDENT_V4,
  EXAMPLE_INCIDENT_V6,
  parseRuleInput,
  previewRule,
  type RulePreview,
} from '../../adapters/node/rule-check.js';
import { isFloodgateError } from '../../core/errors.js';
import { catalogueJson } from '../http/node-rules-routes.js';
import type { CliIo } from './check-config.js';
import { apiBase, type OperatorOptions } from './operator.js';

export function rulesActions(
  json: boolean,
  io: CliIo,
  catalogue: ActionCatalogue = builtinNodeCatalogue(),
): number {
  const items = catalogueJson(catalogue);
  if (json) {
    io.out(`${JSON.stringify(items, null, 2)}\n`);
    return 0;
  }
  let group = '';
  for (const a of items) {
    if (a.group !== group) {
      group = a.group;
      io.out(`\n${group}\n`);
    }
    io.out(`  ${a.id}  [risk ${a.risk}${a.venue === 'cloud' ? ', cloud API' : ''}]  ${a.title}\n`);
    for (const p of a.params) {
      const from =
        p.fromIncident === undefined ? '' : ` (from the incident's ${p.fromIncident} when not set)`;
      const dflt = p.default === undefined ? '' : ` (default ${p.default})`;
      io.out(`      ${p.name}${p.required ? '' : '?'}: ${p.kind}${dflt}${from}  ${p.description}\n`);
    }
    io.out(`      command: ${a.commandTemplate}\n      undo:    ${a.undoTemplate}\n`);
    if (a.riskNote !== '') io.out(`      risk:    ${a.riskNote}\n`);
  }
  return 0;
}

function readRuleFile(file: string): unknown {
  return parseYaml(readFileSync(file, 'utf8'));
}

function printPreview(p: RulePreview, io: CliIo): void {
  io.out(`rule ${p.ruleId}: when ${p.trigger}, ${p.title} (${p.actionType}, risk ${p.risk})\n`);
  io.out(
    `example incident: ${p.exampleIncident.family} on ${p.exampleIncident.target}, sources ${p.exampleIncident.sources.join(' ')}\n`,
  );
  io.out('command:\n');
  for (const line of p.commands.apply) io.out(`  ${line}\n`);
  io.out('undo:\n');
  for (const line of p.commands.undo) io.out(`  ${line}\n`);
  if (p.commands.note !== undefined) io.out(`note: ${p.commands.note}\n`);
  if (p.broad) io.out(`WARNING: broad rule. ${p.riskNote} Saving it needs --acknowledge-risk.\n`);
}

export function rulesPreview(
  file: string,
  options: { ipv6?: boolean; json?: boolean },
  io: CliIo,
  catalogue: ActionCatalogue = builtinNodeCatalogue(),
): number {
  try {
    const rule = parseRuleInput(readRuleFile(file));
    const preview = previewRule(rule, catalogue, options.ipv6 ? EXAMPLE_INCIDENT_V6 : EXAMPLE_INCIDENT_V4);
    if (options.json) io.out(`${JSON.stringify(preview, null, 2)}\n`);
    else printPreview(preview, io);
    return 0;
  } catch (e) {
    io.err(`${file}: ${isFloodgateError(e) ? e.message : (e as Error).message}\n`);
    return 1;
  }
}

interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

async function callApi(
  options: OperatorOptions,
  method: string,
  path: string,
  body: unknown,
  io: CliIo,
): Promise<ApiAnswer | undefined> {
  let base: string;
  try {
    base = apiBase(options);
  } catch (e) {
    io.err(`${(e as Error).message}\n`);
    return undefined;
  }
  try {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        'x-floodgate-operator': options.operator ?? process.env['USER'] ?? 'cli',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      body: (await response.json().catch(() => ({}))) as Record<string, unknown>,
    };
  } catch (e) {
    io.err(
      `cannot reach the daemon at ${base}: ${(e as Error).message} (is floodgate run up? --api sets the address)\n`,
    );
    return undefined;
  }
}

function refused(answer: ApiAnswer, what: string, io: CliIo): number {
  const error = answer.body['error'] as { message?: string } | undefined;
  io.err(`${what} refused (HTTP ${answer.status}): ${error?.message ?? 'no reason given'}\n`);
  return 1;
}

export async function rulesAdd(
  file: string,
  options: OperatorOptions & { acknowledgeRisk?: boolean },
  io: CliIo,
): Promise<number> {
  let rule: unknown;
  try {
    rule = readRuleFile(file);
  } catch (e) {
    io.err(`${file}: ${(e as Error).message}\n`);
    return 1;
  }
  const body =
    options.acknowledgeRisk && typeof rule === 'object' && rule !== null
      ? { ...rule, acknowledgeRisk: true }
      : rule;
  const answer = await callApi(options, 'POST', '/api/v1/node-rules', body, io);
  if (answer === undefined) return 1;
  if (answer.status === 409 && answer.body['preview'] !== undefined) {
    printPreview(answer.body['preview'] as RulePreview, io);
  }
  if (answer.status >= 400) return refused(answer, `saving ${file}`, io);
  printPreview(answer.body['preview'] as RulePreview, io);
  io.out(answer.status === 201 ? 'saved\n' : 'saved (replaced the rule with this id)\n');
  return 0;
}

export async function rulesList(options: OperatorOptions & { json?: boolean }, io: CliIo): Promise<number> {
  const answer = await callApi(options, 'GET', '/api/v1/node-rules', undefined, io);
  if (answer === undefined) return 1;
  if (answer.status >= 400) return refused(answer, 'listing rules', io);
  const items = (answer.body['items'] ?? []) as {
    id: string;
    enabled: boolean;
    action: { type: string };
    cooldownMinutes: number;
    nodes: string[] | 'all';
    trigger: { type: string };
  }[];
  if (options.json) {
    io.out(`${JSON.stringify(items, null, 2)}\n`);
    return 0;
  }
  for (const r of items) {
    const nodes = r.nodes === 'all' ? 'all nodes' : r.nodes.join(',');
    io.out(
      `${r.enabled ? 'on ' : 'off'}  ${r.id}  ${r.trigger.type} -> ${r.action.type} on ${nodes}, cooldown ${r.cooldownMinutes} min\n`,
    );
  }
  if (items.length === 0) io.out('no node rules\n');
  return 0;
}

export async function rulesChange(
  verb: 'enable' | 'disable' | 'delete',
  id: string,
  options: OperatorOptions,
  io: CliIo,
): Promise<number> {
  const path = `/api/v1/node-rules/${encodeURIComponent(id)}${verb === 'delete' ? '' : `/${verb}`}`;
  const answer = await callApi(options, verb === 'delete' ? 'DELETE' : 'POST', path, undefined, io);
  if (answer === undefined) return 1;
  if (answer.status >= 400) return refused(answer, `${verb} ${id}`, io);
  io.out(`${id}: ${verb === 'delete' ? 'deleted' : `${verb}d`}\n`);
  return 0;
}
