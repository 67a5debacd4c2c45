/**
 * A node firewall rule, as operators write it: when an incident matches the trigger, run one
 * host-firewall action on the nodes in scope, and undo it when the incident ends. Rules are saved
 * through the API or `floodgate rules add` and kept in the store; the node adapter reads them each
 * time tier 1 fires, so enabling or disabling one takes effect at once.
 */
import { z } from 'zod';
import { ATTACK_FAMILIES, type AttackFamily, type SeverityLevel } from '../incident/incident.js';

export const RULE_SEVERITY_LEVELS = [
  'low',
  'medium',
  'high',
  'critical',
] as const satisfies readonly SeverityLevel[];

export type NodeRuleTrigger =
  /** The incident's peak packet rate is above this many packets per second. */
  | { type: 'pps-over'; pps: number }
  /** The incident's severity level is at least this one. */
  | { type: 'severity-at-least'; level: SeverityLevel }
  /** The incident's family is one of these. */
  | { type: 'family-in'; families: AttackFamily[] }
  /** Every incident that reaches tier 1. */
  | { type: 'any-incident' };

/** A parameter value as the rule gives it; parameters left out are filled from the incident. */
export type ActionParamValue = string | number | (string | number)[];

export interface NodeRuleAction {
  /** An action type id from `floodgate rules actions` ("iptables.drop-source"). */
  type: string;
  params: Record<string, ActionParamValue>;
}

export interface NodeRule {
  /** Lower-case id chosen by the operator ("drop-ntp-reflectors"). */
  id: string;
  description: string;
  trigger: NodeRuleTrigger;
  action: NodeRuleAction;
  /** "all" nodes of the adapter, or the named ones; a node runs a rule only for targets it serves. */
  nodes: 'all' | string[];
  /** Minutes before the rule may run again for the same target (1..1440). */
  cooldownMinutes: number;
  enabled: boolean;
  /** True once an operator acknowledged the risk warning of a broad rule (always false for narrow ones). */
  riskAcknowledged: boolean;
  createdAtMs: number;
  updatedAtMs: number;
  /** Who saved it last ("operator:alice"). */
  updatedBy: string;
}

export const RULE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,47}$/;
export const DEFAULT_COOLDOWN_MINUTES = 5;

const triggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('pps-over'), pps: z.number().int().min(1).max(10_000_000_000) }).strict(),
  z.object({ type: z.literal('severity-at-least'), level: z.enum(RULE_SEVERITY_LEVELS) }).strict(),
  z
    .object({
      type: z.literal('family-in'),
      families: z
        .array(z.enum(ATTACK_FAMILIES))
        .min(1)
        .refine((l) => new Set(l).size === l.length, { message: 'lists a family twice' }),
    })
    .strict(),
  z.object({ type: z.literal('any-incident') }).strict(),
]);

const scalar = z.union([z.string().max(256), z.number()]);
const paramValue = z.union([scalar, z.array(scalar).max(64)]);

/** What an operator sends to save a rule: the stored rule without the bookkeeping fields. */
export const nodeRuleInputSchema = z
  .object({
    id: z.string().regex(RULE_ID_PATTERN, 'must be lower-case letters, digits, "-" and "_", at most 48'),
    description: z.string().max(500).default(''),
    trigger: triggerSchema,
    action: z
      .object({
        type: z
          .string()
          .regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, 'must be an action type id such as iptables.drop-source'),
        params: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9]{0,31}$/), paramValue).default({}),
      })
      .strict(),
    nodes: z
      .union([
        z.literal('all'),
        z
          .array(z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/))
          .min(1)
          .refine((l) => new Set(l).size === l.length, { message: 'lists a node twice' }),
      ])
      .default('all'),
    cooldownMinutes: z.number().int().min(1).max(1440).default(DEFAULT_COOLDOWN_MINUTES),
    enabled: z.boolean().default(true),
    /** Must be true to save a rule whose action is broad (the preview says which are). */
    acknowledgeRisk: z.boolean().default(false),
  })
  .strict();

export type NodeRuleInput = z.input<typeof nodeRuleInputSchema>;
export type ParsedNodeRuleInput = z.output<typeof nodeRuleInputSchema>;

/** The trigger in words, for previews, audit entries and `floodgate rules list`. */
export function describeTrigger(trigger: NodeRuleTrigger): string {
  switch (trigger.type) {
    case 'pps-over':
      return `peak over ${trigger.pps} pps`;
    case 'severity-at-least':
      return `severity ${trigger.level} or higher`;
    case 'family-in':
      return `family ${trigger.families.join(' or ')}`;
    case 'any-incident':
      return 'any incident';
  }
}
