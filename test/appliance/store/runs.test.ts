/** What the store keeps for the runbook engine and the dispatcher's retry schedule. */
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../appliance/store/sqlite-store.js';
import { runbookSchema } from '../../../core/escalation/config.js';
import type { EscalationRun } from '../../../core/escalation/run.js';
import { incident, mitigation } from './fixtures.js';

function run(id: string, state: EscalationRun['state'], startedAtMs: number): EscalationRun {
  return {
    id,
    target: '203.0.113.5',
    runbook: runbookSchema.parse({ name: 'r', tiers: [{ intents: ['rtbh'] }] }),
    state,
    incidentId: 'inc-1',
    incidentIds: ['inc-1'],
    incident: incident(),
    startedAtMs,
    updatedAtMs: startedAtMs,
    closedAtMs: null,
    endedAtMs: null,
    ttlMs: 0,
    repeat: 0,
    level: 0,
    tiers: [
      {
        state: 'active',
        activatedAtMs: startedAtMs,
        releaseAtMs: null,
        releasedAtMs: null,
        reason: 'x',
        intents: [],
        refused: [],
      },
    ],
  };
}

describe('store: escalation runs, target history, retries', () => {
  it('keeps runs, newest first, filtered by state', () => {
    const store = openSqliteStore(':memory:');
    store.saveRun(run('run-a', 'ended', 1_000));
    store.saveRun(run('run-b', 'open', 2_000));
    store.saveRun({ ...run('run-a', 'ended', 1_000), level: 1 });
    expect(store.listRuns().map((r) => r.id)).toEqual(['run-b', 'run-a']);
    expect(store.listRuns({ states: ['open', 'ending'] }).map((r) => r.id)).toEqual(['run-b']);
    expect(store.listRuns({ states: [] })).toEqual([]);
    expect(store.getRun('run-a')?.level).toBe(1);
    expect(store.getRun('nope')).toBeUndefined();
    store.close();
  });

  it('keeps one history entry per target', () => {
    const store = openSqliteStore(':memory:');
    store.saveTargetHistory({ target: '203.0.113.5', repeat: 0, lastEndedAtMs: 1 });
    store.saveTargetHistory({ target: '203.0.113.5', repeat: 1, lastEndedAtMs: 2 });
    store.saveTargetHistory({ target: '2001:db8::5', repeat: 0, lastEndedAtMs: 3 });
    expect(store.listTargetHistory()).toEqual([
      { target: '2001:db8::5', repeat: 0, lastEndedAtMs: 3 },
      { target: '203.0.113.5', repeat: 1, lastEndedAtMs: 2 },
    ]);
    store.close();
  });

  it('finds mitigations by intent and the failed ones whose retry is due', () => {
    const store = openSqliteStore(':memory:');
    store.saveMitigation(mitigation({ id: 'a@x', intentId: 'a', state: 'failed', nextAttemptAtMs: 5_000 }));
    store.saveMitigation(mitigation({ id: 'a@y', intentId: 'a', state: 'active', nextAttemptAtMs: 1_000 }));
    store.saveMitigation(mitigation({ id: 'b@x', intentId: 'b', state: 'failed', nextAttemptAtMs: null }));
    expect(
      store
        .listMitigations({ intentId: 'a' })
        .map((m) => m.id)
        .sort(),
    ).toEqual(['a@x', 'a@y']);
    expect(store.listMitigations({ retryDueAtMs: 4_999 })).toEqual([]);
    expect(store.listMitigations({ retryDueAtMs: 5_000 }).map((m) => m.id)).toEqual(['a@x']);
    store.close();
  });
});
