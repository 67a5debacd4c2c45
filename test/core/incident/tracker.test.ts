import { describe, expect, it } from 'vitest';
import { compactUtc, IncidentIdAllocator, incidentIdBase } from '../../../core/incident/incident-id.js';
import {
  type Assessment,
  IncidentTracker,
  type Observation,
  type OpeningFacts,
} from '../../../core/incident/tracker.js';
import { T0 } from '../synthetic-flows.js';

const assessment: Assessment = {
  family: 'udp_flood',
  confidence: 1,
  fingerprint: { protocols: [17], sourcePorts: [], destinationPorts: [], synShare: 0, meanPacketBytes: 100 },
};
const facts: OpeningFacts = {
  target: '203.0.113.5',
  targetKind: 'host',
  ipVersion: 4,
  network: '203.0.113.0/24',
  thresholds: { pps: 1000, bps: 0 },
  flowsThreshold: 0,
  triggers: ['pps'],
  triggerThresholds: { pps: 1000 },
  assessment,
  evidence: { records: 500, sampledPackets: 4000, samplingRate: 1, sufficient: true },
};
const levels = { medium: 2, high: 5, critical: 10 };

/** One step's observation against a 1000 pps threshold. */
function at(pps: number, extra: Partial<Observation> = {}): Observation {
  return {
    current: { pps, bps: pps * 800 },
    currentFlows: pps / 10,
    over: pps > 1000,
    ratio: pps / 1000,
    ...extra,
  };
}

describe('incident ids', () => {
  it('are inc-<UTC second of opening>-<target>, IPv6 colons as dashes', () => {
    expect(compactUtc(T0 + 999)).toBe('20261121T141900Z');
    expect(incidentIdBase(T0, '203.0.113.5')).toBe('inc-20261121T141900Z-203.0.113.5');
    expect(incidentIdBase(T0, '2001:db8::5')).toBe('inc-20261121T141900Z-2001-db8--5');
    expect(incidentIdBase(T0, '203.0.113.0/24')).toBe('inc-20261121T141900Z-203.0.113.0~24');
    expect(incidentIdBase(T0, '2001:db8:c0::/120')).toBe('inc-20261121T141900Z-2001-db8-c0--~120');
  });

  it('get a suffix when the same target opens twice in one second', () => {
    const ids = new IncidentIdAllocator();
    expect(ids.next(T0, '2001:db8::5')).toBe('inc-20261121T141900Z-2001-db8--5');
    expect(ids.next(T0 + 500, '2001:db8::5')).toBe('inc-20261121T141900Z-2001-db8--5_2');
    expect(ids.next(T0 + 600, '2001:db8::5:2')).toBe('inc-20261121T141900Z-2001-db8--5-2');
    expect(ids.next(T0 + 1000, '2001:db8::5')).toBe('inc-20261121T141901Z-2001-db8--5');
  });
});

describe('IncidentTracker', () => {
  it('opens, updates peaks and severity, and closes after the hold-down since last over', () => {
    const tracker = new IncidentTracker<number>({ holdDownMs: 5000, severityLevels: levels });
    const opened = tracker.openIncident(7, facts, at(2000), T0);
    expect(opened.type).toBe('opened');
    expect(opened.incident).toMatchObject({
      state: 'open',
      severity: 2,
      severityLevel: 'medium',
      openedAtMs: T0,
      lastOverAtMs: T0,
      targetKind: 'host',
      triggerThresholds: { pps: 1000 },
      flows: { current: 200, peak: 200, threshold: 0 },
      retriggers: 0,
    });
    const up = tracker.observe(7, at(6000, { assessment }), T0 + 1000);
    expect(up?.type).toBe('updated');
    expect(up?.incident).toMatchObject({
      peak: { pps: 6000, bps: 4.8e6 },
      flows: { current: 600, peak: 600 },
      severity: 6,
      severityLevel: 'high',
      lastOverAtMs: T0 + 1000,
    });
    for (let t = 2; t < 6; t++) expect(tracker.observe(7, at(10), T0 + t * 1000)?.type).toBe('updated');
    const closed = tracker.observe(7, at(0), T0 + 6000);
    expect(closed?.type).toBe('closed');
    expect(closed?.incident).toMatchObject({
      state: 'closed',
      closedAtMs: T0 + 6000,
      peak: { pps: 6000 },
      severity: 6,
      flows: { current: 0, peak: 600 },
    });
    expect(tracker.has(7)).toBe(false);
    expect(tracker.observe(7, at(0), T0 + 7000)).toBeUndefined();
  });

  it('merges a re-trigger within the hold-down into the same incident and counts it', () => {
    const tracker = new IncidentTracker<number>({ holdDownMs: 5000, severityLevels: levels });
    const id = tracker.openIncident(1, facts, at(2000), T0).incident.id;
    tracker.observe(1, at(100), T0 + 1000);
    tracker.observe(1, at(100), T0 + 4000);
    const again = tracker.observe(
      1,
      at(20_000, { assessment: { ...assessment, family: 'icmp_flood' } }),
      T0 + 5000,
    );
    expect(again?.incident).toMatchObject({
      id,
      retriggers: 1,
      family: 'icmp_flood',
      severityLevel: 'critical',
    });
    // The hold-down counts again from the re-trigger.
    expect(tracker.observe(1, at(0), T0 + 9000)?.type).toBe('updated');
    expect(tracker.observe(1, at(0), T0 + 10_000)?.type).toBe('closed');
  });

  it('keeps the last assessment while below threshold, and takes new evidence while over', () => {
    const tracker = new IncidentTracker<number>({ holdDownMs: 5000, severityLevels: levels });
    tracker.openIncident(1, facts, at(2000), T0);
    const thin = { records: 3, sampledPackets: 3, samplingRate: 1000, sufficient: false, note: 'thin' };
    tracker.observe(
      1,
      at(3000, { assessment: { ...assessment, confidence: 0.7 }, evidence: thin }),
      T0 + 1000,
    );
    const below = tracker.observe(1, at(10), T0 + 2000);
    expect(below?.incident).toMatchObject({ confidence: 0.7, evidence: thin, family: 'udp_flood' });
  });

  it('emits snapshots that later steps do not change', () => {
    const tracker = new IncidentTracker<number>({ holdDownMs: 5000, severityLevels: levels });
    const opened = tracker.openIncident(1, facts, at(2000), T0);
    tracker.observe(1, at(9000, { assessment }), T0 + 1000);
    expect(opened.incident.current.pps).toBe(2000);
    expect(opened.incident.peak.pps).toBe(2000);
    expect(opened.incident.flows?.peak).toBe(200);
    expect(tracker.incidents()[0]!.peak.pps).toBe(9000);
  });

  it('refuses to open a second incident for a key that has one', () => {
    const tracker = new IncidentTracker<number>({ holdDownMs: 5000, severityLevels: levels });
    tracker.openIncident(1, facts, at(2000), T0);
    expect(() => tracker.openIncident(1, facts, at(2000), T0)).toThrow(/already open/);
  });
});
