/** Small, valid records for store and API tests. */
import type { Incident } from '../../../core/incident/incident.js';
import type { MitigationRecord, MitigationState } from '../../../core/mitigation/mitigation.js';

export function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'inc-20261121T141900Z-203.0.113.5',
    state: 'open',
    ipVersion: 4,
    target: '203.0.113.5',
    network: '203.0.113.0/24',
    family: 'ntp_amplification',
    confidence: 0.9,
    severity: 4.2,
    triggers: ['pps', 'bps'],
    thresholds: { pps: 100_000, bps: 1e9 },
    current: { pps: 420_000, bps: 3.1e9 },
    peak: { pps: 420_000, bps: 3.1e9 },
    fingerprint: {
      protocols: [17],
      sourcePorts: [123],
      destinationPorts: [],
      synShare: 0,
      meanPacketBytes: 468,
    },
    openedAtMs: 1_700_000_000_000,
    lastOverAtMs: 1_700_000_005_000,
    closedAtMs: null,
    ...overrides,
  };
}

export function mitigation(
  overrides: Partial<MitigationRecord> & { state?: MitigationState } = {},
): MitigationRecord {
  const incidentId = overrides.incidentId ?? 'inc-20261121T141900Z-203.0.113.5';
  return {
    id: 'rtbh-203.0.113.5@dry-run',
    intentId: 'rtbh-203.0.113.5',
    incidentId,
    adapter: 'dry-run',
    intent: {
      kind: 'rtbh',
      id: 'rtbh-203.0.113.5',
      incidentId,
      ipVersion: 4,
      prefix: '203.0.113.5/32',
      nextHop: '192.0.2.1',
      communities: ['65535:666'],
    },
    state: 'active',
    rendered: 'announce route 203.0.113.5/32 next-hop 192.0.2.1 community [65535:666]',
    receipt: { announced: 'announce route 203.0.113.5/32 next-hop 192.0.2.1 community [65535:666]' },
    error: null,
    createdAtMs: 1_700_000_001_000,
    updatedAtMs: 1_700_000_001_000,
    ...overrides,
  };
}
