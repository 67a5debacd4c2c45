/**
 * The engine's state, as plain data the store keeps: one run per attacked target, from the first
 * incident until every tier has been withdrawn, and what each tier put in place. A returning
 * attack on the same target joins the run (see engine.ts), so a run may span several incidents.
 */
import type { Incident } from '../incident/incident.js';
import type { MitigationIntent, RefusedIntent } from '../mitigation/intent.js';
import type { Runbook, RunbookMode } from './config.js';

/** open: an incident is open; ending: it closed and tiers are waiting to be withdrawn; ended: all withdrawn. */
export type RunState = 'open' | 'ending' | 'ended';

/** idle: not reached yet; active: fired and held; released: withdrawn. */
export type TierState = 'idle' | 'active' | 'released';

export interface TierRun {
  state: TierState;
  activatedAtMs: number | null;
  /** When it is due to be withdrawn; set when the incident closes, cleared when an attack resumes. */
  releaseAtMs: number | null;
  releasedAtMs: number | null;
  /** Why it fired (or was withdrawn, once released). */
  reason: string | null;
  /** What it planned when it last fired, and what the guards refused. */
  intents: MitigationIntent[];
  refused: RefusedIntent[];
}

export interface EscalationRun {
  /** "run-" and the id of the incident that started it. */
  id: string;
  target: string;
  /** The runbook as it was when the run started: a reload changes new runs only. */
  runbook: Runbook;
  state: RunState;
  /** The incident the run follows now, and every incident it has followed. */
  incidentId: string;
  incidentIds: string[];
  /** The latest state of that incident (the planner plans escalations from it). */
  incident: Incident;
  startedAtMs: number;
  updatedAtMs: number;
  closedAtMs: number | null;
  endedAtMs: number | null;
  /** Least time a tier stays once fired: the runbook's TTL doubled `repeat` times, capped. */
  ttlMs: number;
  /** Earlier runs on this target that the backoff remembers. */
  repeat: number;
  /** The highest tier reached (0-based); -1 before the first fires. */
  level: number;
  tiers: TierRun[];
}

/** What the TTL backoff remembers of a target between runs. */
export interface TargetHistory {
  target: string;
  /** `repeat` of the last run that ended on this target. */
  repeat: number;
  lastEndedAtMs: number;
}

/** How a tier's mitigations are held: one holder per run and tier. */
export function holderOf(runId: string, tier: number): string {
  return `${runId}/${tier}`;
}

/** The run a holder belongs to. */
export function runOfHolder(holder: string): string {
  const slash = holder.lastIndexOf('/');
  return slash < 0 ? holder : holder.slice(0, slash);
}

/** Where an intent goes: the named adapters, or null for every adapter able to deliver it. */
export interface Delivery {
  intent: MitigationIntent;
  adapters: string[] | null;
}

interface RunAction {
  atMs: number;
  runId: string;
  incidentId: string;
  runbook: string;
}

/** A tier fires: deliver (automatic), queue for approval (manual) or only record (detect-only). */
export interface ActivateAction extends RunAction {
  type: 'activate';
  tier: number;
  tierName: string;
  mode: RunbookMode;
  holder: string;
  deliveries: Delivery[];
  refused: RefusedIntent[];
  /** restored: a tier a previous process fired, asserted again at start (nothing new fires). */
  cause: 'detected' | 'escalated' | 'resumed' | 'restored';
  reason: string;
}

/** A tier lets go of its mitigations; each is withdrawn once no other holder wants it. */
export interface ReleaseAction extends RunAction {
  type: 'release';
  tier: number;
  tierName: string;
  holder: string;
  intents: MitigationIntent[];
  reason: string;
}

export const NOTIFY_STAGES = ['detected', 'escalated', 'resumed', 'de-escalated', 'resolved'] as const;
export type NotifyStage = (typeof NOTIFY_STAGES)[number];

/** Channels to tell (notification adapters deliver later; today it is recorded). */
export interface NotifyAction extends RunAction {
  type: 'notify';
  channels: string[];
  stage: NotifyStage;
  message: string;
}

/** A decision worth a line in the timeline that changes nothing by itself. */
export interface NoteAction {
  type: 'note';
  atMs: number;
  incidentId: string;
  runId: string | null;
  runbook: string | null;
  message: string;
}

export type EscalationAction = ActivateAction | ReleaseAction | NotifyAction | NoteAction;
