import { describe, expect, it } from 'vitest';
import { severityOf } from '../../../core/detect/classifier.js';
import { compactUtc, IncidentIdAllocator, incidentIdBase } from '../../../core/incident/incident-id.js';
import { type Assessment, IncidentTracker, type OpeningFacts } from '../../../core/incident/tracker.js';
import { T0 } from '../synthetic-flows.js';

const assessment: Assessment = {
  family: 'udp_flood',
  confidence: 1,
  fingerprint: { protocols: [17], sourcePorts: [], destinationPorts: [], synShare: 0, meanPacketBytes: 100 },
};
const facts: OpeningFacts = {
  target: '203.0.113.5',
  ipVersion: 4,
  network: '203.0.113.0/24',
  thresholds: { pps: 1000, bps: 0 },
  triggers: ['pps'],
  assessment,
};

describe('incident ids', () => {
  it('are inc-<UTC second of opening>-<target>, IPv6 colons as dashes', () => {
    expect(compactUtc(T0 + 999)).toBe('20261121T141900Z');
    expect(incidentIdBase(T0, '203.0.113.5')).toBe('inc-20261121T141900Z-203.0.113.5');
    expect(incidentIdBase(T0, '2001:db8::5')).toBe('inc-20261121T141900Z-2001-db8--5');
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
  it('opens, updates peak and severity, and closes after the hold-down since last over', () => {
    const tracker = new IncidentTracker<number>({ holdDownMs: 5000, severity: severityOf });
    const opened = tracker.openIncident(7, facts, { pps: 2000, bps: 1e6 }, T0);
    expect(opened.type).toBe('opened');
    expect(opened.incident).toMatchObject({ state: 'open', severity: 2, openedAtMs: T0, lastOverAtMs: T0 });
    const up = tracker.observe(7, { current: { pps: 4000, bps: 2e6 }, over: true, assessment }, T0 + 1000);
    expect(up?.type).toBe('updated');
    expect(up?.incident).toMatchObject({
      peak: { pps: 4000, bps: 2e6 },
      severity: 4,
      lastOverAtMs: T0 + 1000,
    });
    for (let t = 2; t < 6; t++) {
      expect(tracker.observe(7, { current: { pps: 10, bps: 1 }, over: false }, T0 + t * 1000)?.type).toBe(
        'updated',
      );
    }
    const closed = tracker.observe(7, { current: { pps: 0, bps: 0 }, over: false }, T0 + 6000);
    expect(closed?.type).toBe('closed');
    expect(closed?.incident).toMatchObject({ state: 'closed', closedAtMs: T0 + 6000, peak: { pps: 4000 } });
    expect(tracker.has(7)).toBe(false);
    expect(tracker.observe(7, { current: { pps: 0, bps: 0 }, over: false }, T0 + 7000)).toBeUndefined();
  });

  it('emits snapshots that later steps do not change', () => {
    const tracker = new IncidentTracker<number>({ holdDownMs: 5000, severity: severityOf });
    const opened = tracker.openIncident(1, facts, { pps: 2000, bps: 0 }, T0);
    tracker.observe(1, { current: { pps: 9000, bps: 0 }, over: true, assessment }, T0 + 1000);
    expect(opened.incident.current.pps).toBe(2000);
    expect(opened.incident.peak.pps).toBe(2000);
    expect(tracker.incidents()[0]!.peak.pps).toBe(9000);
  });

  it('refuses to open a second incident for a key that has one', () => {
    const tracker = new IncidentTracker<number>({ holdDownMs: 5000, severity: severityOf });
    tracker.openIncident(1, facts, { pps: 2000, bps: 0 }, T0);
    expect(() => tracker.openIncident(1, facts, { pps: 2000, bps: 0 }, T0)).toThrow(/already open/);
  });
});
