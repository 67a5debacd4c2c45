/**
 * The `runbooks` section of floodgate.yaml: which incidents a runbook takes, the tiers it climbs
 * and when, who hears about it, how long mitigations stay, and whether it acts at all.
 *
 * The default (one runbook, one automatic tier of FlowSpec + RTBH, withdrawn as soon as the
 * incident closes) is what Floodgate did before runbooks existed.
 */
import { z } from 'zod';
import { cidr } from '../config/formats.js';
import { ATTACK_FAMILIES, type SeverityLevel } from '../incident/incident.js';
import { INTENT_KINDS } from '../mitigation/intent.js';

export const SEVERITY_LEVELS = [
  'low',
  'medium',
  'high',
  'critical',
] as const satisfies readonly SeverityLevel[];

export const RUNBOOK_MODES = ['detect-only', 'manual', 'automatic'] as const;
/**
 * detect-only: plans and records what each tier would do, delivers nothing.
 * manual: each tier's mitigations wait as `pending` until an operator approves them.
 * automatic: each tier is delivered as soon as it fires.
 */
export type RunbookMode = (typeof RUNBOOK_MODES)[number];

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lower-case letters, digits, "-" and "_"');
const channel = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'must be lower-case letters, digits, ".", "-" and "_"');
const seconds = z
  .number()
  .min(0)
  .max(30 * 86400);

const unique = <T extends z.ZodType<unknown[]>>(list: T, what: string) =>
  list.refine((items) => new Set(items.map((i) => JSON.stringify(i))).size === items.length, {
    message: `lists a ${what} twice`,
  });

/** What makes the engine climb from this tier to the next; any one condition is enough. */
export const escalateSchema = z
  .object({
    /** The attack is still over threshold this many seconds after this tier became active. */
    afterSeconds: seconds.optional(),
    /** The attack's current rate is above this (packets/s, bits/s). */
    ppsAbove: z.number().positive().optional(),
    bpsAbove: z.number().positive().optional(),
    /** The incident's severity (peak rate / threshold) is above this. */
    severityAbove: z.number().positive().optional(),
    /** The incident's severity level is at least this. */
    severityAtLeast: z.enum(SEVERITY_LEVELS).optional(),
  })
  .strict()
  .refine((e) => Object.values(e).some((v) => v !== undefined), {
    message: 'names no condition: give afterSeconds, ppsAbove, bpsAbove, severityAbove or severityAtLeast',
  });

export type EscalateConditions = z.infer<typeof escalateSchema>;

export const tierSchema = z
  .object({
    /** Shown in the audit and the timeline; "tier N" when absent. */
    name: name.optional(),
    /** What this tier puts in place: firewall (tier 1), flowspec (2), rtbh (3), scrubbing (4), any mix. */
    intents: unique(z.array(z.enum(INTENT_KINDS)).min(1), 'kind'),
    /** Adapters (names from `adapters`) that deliver this tier; every adapter able to when empty. */
    adapters: unique(z.array(z.string().min(1)).default([]), 'adapter'),
    /** When to add the next tier; absent: this tier is as far as the runbook goes. */
    escalate: escalateSchema.optional(),
    /** Notification channels told when this tier fires and when it is withdrawn. */
    notify: unique(z.array(channel).default([]), 'channel'),
    /** Seconds this tier stays after the incident closed (each tier its own). */
    holdDownSeconds: seconds.default(0),
  })
  .strict();

export type Tier = z.infer<typeof tierSchema>;

export const runbookMatchSchema = z
  .object({
    /** The target lies in one of these prefixes. */
    networks: z.array(cidr).default([]),
    /** The target lies in one of these host groups (names from detection.hostGroups). */
    hostGroups: unique(z.array(z.string().min(1)).default([]), 'host group'),
    /** The attack is of one of these families. */
    families: unique(z.array(z.enum(ATTACK_FAMILIES)).default([]), 'family'),
    /** The incident's severity is at least this (a level name or a peak / threshold ratio). */
    minSeverity: z.union([z.enum(SEVERITY_LEVELS), z.number().positive()]).optional(),
  })
  .strict();

export type RunbookMatch = z.infer<typeof runbookMatchSchema>;

export const runbookSchema = z
  .object({
    name,
    /** Which incidents this runbook takes; every criterion given must hold. Empty: all of them. */
    match: runbookMatchSchema.prefault({}),
    mode: z.enum(RUNBOOK_MODES).default('automatic'),
    tiers: z.array(tierSchema).min(1).max(16),
    /** Channels told when an incident is taken on and when it is resolved. */
    notify: unique(z.array(channel).default([]), 'channel'),
    /**
     * After every tier has been withdrawn, a new incident on the same target within this many
     * seconds resumes this run at the tier it had reached, instead of starting again from tier 1
     * (a sustained attack that pauses does not refire the same actions).
     */
    cooldownSeconds: seconds.default(300),
    /**
     * Least time a tier stays in place once fired, whatever the incident does: protects against
     * an attack that goes quiet because the mitigation hides it (RTBH drops the traffic the flows
     * would show). Re-checked before withdrawal; doubles for each repeat attack on the target.
     */
    ttl: z
      .object({
        seconds: seconds.default(0),
        maxSeconds: seconds.default(86400),
        /** A target quiet this long starts again from `seconds`. */
        forgetAfterSeconds: seconds.default(86400),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Runbook = z.infer<typeof runbookSchema>;

/** What Floodgate did before runbooks: FlowSpec and RTBH at once, through every able adapter. */
export const DEFAULT_RUNBOOK_INPUT = {
  name: 'default',
  tiers: [{ name: 'flowspec-and-rtbh', intents: ['flowspec', 'rtbh'] }],
} as const;

export const runbooksConfigSchema = z
  .array(runbookSchema)
  .min(1, 'lists no runbook: give at least one (an incident no runbook takes is only recorded)')
  .default(() => [runbookSchema.parse(DEFAULT_RUNBOOK_INPUT)])
  .superRefine((list, ctx) => {
    const first = new Map<string, number>();
    list.forEach((runbook, i) => {
      const earlier = first.get(runbook.name);
      if (earlier !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `runbook ${runbook.name} is already defined by runbooks[${earlier}]`,
        });
      } else {
        first.set(runbook.name, i);
      }
      runbook.tiers.forEach((tier, t) => {
        if (tier.escalate !== undefined && t === runbook.tiers.length - 1) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'tiers', t, 'escalate'],
            message: 'the last tier has nothing to escalate to; remove escalate or add a tier',
          });
        }
      });
    });
  });

export type RunbooksConfig = z.infer<typeof runbooksConfigSchema>;

/** The name a tier is shown under: its own, or "tier N" (1-based). */
export function tierLabel(tier: Pick<Tier, 'name'>, index: number): string {
  return tier.name ?? `tier ${index + 1}`;
}
