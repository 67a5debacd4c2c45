/**
 * A mitigation is one intent delivered by one adapter, tracked as a persisted state machine so
 * that a restart or a lost BGP session never orphans or forgets what was announced.
 *
 *   pending ──approve──► applying ──► active ──► withdrawing ──► withdrawn
 *      │                    │                        │
 *      └──cancel──► withdrawn   └──► failed ◄────────┘   (failed keeps the error and retries
 *                                                         towards `desired` on a schedule)
 */
import type { MitigationIntent } from './intent.js';

export const MITIGATION_STATES = [
  'pending',
  'applying',
  'active',
  'withdrawing',
  'withdrawn',
  'failed',
] as const;
export type MitigationState = (typeof MITIGATION_STATES)[number];

/** Where a mitigation is heading: in place, or gone. A failed one retries towards it. */
export type MitigationGoal = 'active' | 'withdrawn';

export interface MitigationRecord {
  /** `${intent.id}@${adapter}`: one intent through one adapter. */
  id: string;
  intentId: string;
  /** The incident that first asked for it. */
  incidentId: string;
  adapter: string;
  intent: MitigationIntent;
  state: MitigationState;
  /** The exact text or request the adapter sends (for display and audit). */
  rendered: string;
  /** What the adapter returned from apply: everything withdraw needs. Null until applied. */
  receipt: unknown;
  error: string | null;
  createdAtMs: number;
  updatedAtMs: number;
  /** Where the state machine is heading; absent on records written before runbooks (read as active). */
  desired?: MitigationGoal;
  /**
   * Who wants it in place: `${runId}/${tierIndex}` of every escalation tier that planned this
   * intent. Identical intents of several incidents share one mitigation; it is withdrawn when
   * the last holder lets go.
   */
  holders?: string[];
  /** The rule that asked for it first: runbook name and tier ("default/1 flowspec-and-rtbh"). */
  rule?: string;
  /** Failed attempts in a row; 0 after a success. */
  attempts?: number;
  /** When a failed mitigation is tried again; null when no retry is scheduled. */
  nextAttemptAtMs?: number | null;
  appliedAtMs?: number | null;
  withdrawnAtMs?: number | null;
  /** Manual approval: who approved it and when. */
  approvedBy?: string;
  approvedAtMs?: number;
}

const ALLOWED: Readonly<Record<MitigationState, readonly MitigationState[]>> = {
  pending: ['applying', 'withdrawn', 'failed'],
  applying: ['active', 'failed', 'withdrawing'],
  active: ['withdrawing', 'failed'],
  withdrawing: ['withdrawn', 'failed'],
  withdrawn: ['pending', 'applying'],
  failed: ['applying', 'withdrawing', 'withdrawn'],
};

export function canTransition(from: MitigationState, to: MitigationState): boolean {
  return ALLOWED[from].includes(to);
}

export function mitigationId(intentId: string, adapter: string): string {
  return `${intentId}@${adapter}`;
}

/** The goal of a record, for records written before `desired` existed. */
export function goalOf(record: MitigationRecord): MitigationGoal {
  if (record.desired !== undefined) return record.desired;
  return record.state === 'withdrawn' || record.state === 'withdrawing' ? 'withdrawn' : 'active';
}
