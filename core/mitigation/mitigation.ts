/**
 * A mitigation is one intent delivered by one adapter, tracked as a persisted state machine so
 * that a restart or a lost BGP session never orphans or forgets what was announced.
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

export interface MitigationRecord {
  /** `${intent.id}@${adapter}`: one intent through one adapter. */
  id: string;
  intentId: string;
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
}

const ALLOWED: Readonly<Record<MitigationState, readonly MitigationState[]>> = {
  pending: ['applying', 'withdrawn', 'failed'],
  applying: ['active', 'failed', 'withdrawing'],
  active: ['withdrawing', 'failed'],
  withdrawing: ['withdrawn', 'failed'],
  withdrawn: [],
  failed: ['applying', 'withdrawing', 'withdrawn'],
};

export function canTransition(from: MitigationState, to: MitigationState): boolean {
  return ALLOWED[from].includes(to);
}

export function mitigationId(intentId: string, adapter: string): string {
  return `${intentId}@${adapter}`;
}
