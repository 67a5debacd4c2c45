/**
 * Outbound incidents (a host of ours sending the attack) are recorded, never mitigated: every
 * tier acts on traffic towards the target, which would cut our host off instead of stopping it.
 */
import { describe, expect, it } from 'vitest';
import { type Runbook, runbooksConfigSchema } from '../../../core/escalation/config.js';
import { EscalationEngine } from '../../../core/escalation/engine.js';
import type { Incident, IncidentEvent } from '../../../core/incident/incident.js';
import { defaultMitigationConfig } from '../../../core/mitigation/config.js';
import { makeIncident } from '../mitigation/incident-fixture.js';

const T0 = 1_763_734_800_000;

function defaultEngine(): EscalationEngine {
  return new EscalationEngine({
    runbooks: runbooksConfigSchema.parse(undefined) as Runbook[],
    mitigation: defaultMitigationConfig(),
    hostGroups: [],
    severityLevels: { medium: 2, high: 5, critical: 10 },
  });
}

const event = (type: IncidentEvent['type'], incident: Incident, atMs: number): IncidentEvent =>
  ({ type, atMs, incident }) as IncidentEvent;

describe('escalation of outbound incidents', () => {
  it('records an outbound incident with a note and starts no run, while an inbound one on the same host does', () => {
    const engine = defaultEngine();
    const outbound = makeIncident({
      id: 'inc-out',
      target: '203.0.113.5',
      direction: 'outbound',
      family: 'dns_amplification',
      triggers: ['outbound.amplification.bps'],
      openedAtMs: T0,
      lastOverAtMs: T0,
    });
    const actions = engine.handle(event('opened', outbound, T0));
    expect(actions.map((a) => a.type)).toEqual(['note']);
    expect(actions[0]).toMatchObject({ runId: null, incidentId: 'inc-out' });
    expect(JSON.stringify(actions[0])).toMatch(/outbound\): recorded only/);
    expect(engine.handle(event('updated', outbound, T0 + 1000))).toEqual([]);
    expect(engine.activeRuns()).toEqual([]);

    const inbound = makeIncident({ id: 'inc-in', target: '203.0.113.5', openedAtMs: T0 + 2000 });
    const started = engine.handle(event('opened', inbound, T0 + 2000));
    expect(started.some((a) => a.type === 'activate')).toBe(true);
    expect(engine.activeRuns().map((r) => r.incidentId)).toEqual(['inc-in']);
  });
});
