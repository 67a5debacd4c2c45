/**
 * What happens before a node rule is saved: its action type must exist, its parameters must be
 * valid, and the operator sees the exact command and its undo, filled with an example incident.
 * A broad rule (a whole protocol, an interface-wide police, ...) is refused until its risk is
 * acknowledged. The CLI (`floodgate rules preview|add`) and the API share this.
 */
import { FloodgateError } from '../../core/errors.js';
import {
  describeTrigger,
  type NodeRule,
  nodeRuleInputSchema,
  type ParsedNodeRuleInput,
} from '../../core/node-rules/rule.js';
import type { ActionCatalogue, ActionIncident, ActionPreview, ActionRisk } from './catalogue.js';

/** The incident previews are filled with: an NTP reflection on a documentation address. */
export const EXAMPLE_INCIDENT_V4: ActionIncident = {
  incidentId: 'inc-example',
  target: '203.0.113.5',
  ipVersion: 4,
  family: 'ntp_amplification',
  severity: 4.2,
  severityLevel: 'high',
  pps: 250_000,
  bps: 2_000_000_000,
  sources: ['198.51.100.7', '198.51.100.23'],
  sourcePorts: [123],
  destinationPorts: [80],
  protocols: [17],
};

export const EXAMPLE_INCIDENT_V6: ActionIncident = {
  ...EXAMPLE_INCIDENT_V4,
  target: '2001:db8::5',
  ipVersion: 6,
  sources: ['2001:db8:bad::7', '2001:db8:bad::23'],
};

/** The tag previews show where a run's own tag goes. */
export const EXAMPLE_TAG = 'fg-example';

export interface RulePreview {
  ruleId: string;
  trigger: string;
  actionType: string;
  title: string;
  group: string;
  /** Where it runs: on each node in scope, or once against the cloud provider. */
  venue: 'node' | 'cloud';
  risk: ActionRisk;
  riskNote: string;
  /** True when the rule needs its risk acknowledged to be saved. */
  broad: boolean;
  /** Exact commands (or requests) and their undo, filled with the example incident. */
  commands: ActionPreview;
  exampleIncident: ActionIncident;
}

function issuesText(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || 'rule'}: ${i.message}`).join('; ');
}

/** Parses what an operator sent; FG_ERR_NODE_RULE names every problem. */
export function parseRuleInput(input: unknown): ParsedNodeRuleInput {
  const parsed = nodeRuleInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new FloodgateError('FG_ERR_NODE_RULE', `invalid node rule: ${issuesText(parsed.error)}`, {
      issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    });
  }
  return parsed.data;
}

export function previewRule(
  rule: ParsedNodeRuleInput,
  catalogue: ActionCatalogue,
  incident: ActionIncident = EXAMPLE_INCIDENT_V4,
): RulePreview {
  const entry = catalogue.get(rule.action.type);
  if (entry === undefined) {
    throw new FloodgateError(
      'FG_ERR_NODE_RULE',
      `rule "${rule.id}": unknown action type "${rule.action.type}" (floodgate rules actions lists them)`,
      { rule: rule.id, actionType: rule.action.type, known: catalogue.entries().map((e) => e.id) },
    );
  }
  const known = new Set(entry.params.map((p) => p.name));
  const unknown = Object.keys(rule.action.params).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new FloodgateError(
      'FG_ERR_NODE_PARAM',
      `rule "${rule.id}": ${entry.id} has no parameter ${unknown.join(', ')}; it takes ${[...known].join(', ') || 'none'}`,
      { rule: rule.id, actionType: entry.id, unknown },
    );
  }
  const commands = entry.preview(rule.action.params, incident, EXAMPLE_TAG);
  return {
    ruleId: rule.id,
    trigger: describeTrigger(rule.trigger),
    actionType: entry.id,
    title: entry.title,
    group: entry.group,
    venue: entry.venue,
    risk: entry.risk,
    riskNote: entry.riskNote,
    broad: entry.isBroad(rule.action.params),
    commands,
    exampleIncident: incident,
  };
}

/**
 * The rule as it will be stored, after the preview succeeded; FG_ERR_NODE_RISK when it is broad
 * and the risk was not acknowledged. `previous` keeps the creation time of a replaced rule.
 */
export function ruleForSave(
  rule: ParsedNodeRuleInput,
  catalogue: ActionCatalogue,
  actor: string,
  nowMs: number,
  previous?: NodeRule,
): { rule: NodeRule; preview: RulePreview } {
  const preview = previewRule(rule, catalogue);
  if (preview.broad && !rule.acknowledgeRisk) {
    throw new FloodgateError(
      'FG_ERR_NODE_RISK',
      `rule "${rule.id}" is broad (${preview.title}): ${preview.riskNote} Save it again with the risk acknowledged (acknowledgeRisk: true, or --acknowledge-risk).`,
      { rule: rule.id, actionType: preview.actionType, risk: preview.risk, riskNote: preview.riskNote },
    );
  }
  const { acknowledgeRisk, ...rest } = rule;
  return {
    rule: {
      ...rest,
      riskAcknowledged: preview.broad && acknowledgeRisk,
      createdAtMs: previous?.createdAtMs ?? nowMs,
      updatedAtMs: nowMs,
      updatedBy: actor,
    },
    preview,
  };
}
