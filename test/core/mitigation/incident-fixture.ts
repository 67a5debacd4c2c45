import type { AttackFamily, Fingerprint, Incident } from '../../../core/incident/incident.js';

/** An open incident with plausible numbers; tests override what they are about. */
export function makeIncident(
  overrides: Partial<Omit<Incident, 'fingerprint'>> & { fingerprint?: Partial<Fingerprint> } = {},
): Incident {
  const family: AttackFamily = overrides.family ?? 'udp_flood';
  const target = overrides.target ?? '203.0.113.5';
  const { fingerprint, ...rest } = overrides;
  return {
    id: `inc-20261121T141900Z-${target}`,
    state: 'open',
    ipVersion: target.includes(':') ? 6 : 4,
    target,
    network: '203.0.113.0/24',
    family,
    confidence: 0.9,
    severity: 4,
    triggers: ['pps'],
    thresholds: { pps: 10_000, bps: 100_000_000 },
    current: { pps: 40_000, bps: 400_000_000 },
    peak: { pps: 40_000, bps: 400_000_000 },
    openedAtMs: 1_763_734_740_000,
    lastOverAtMs: 1_763_734_741_000,
    closedAtMs: null,
    ...rest,
    fingerprint: {
      protocols: [17],
      sourcePorts: [],
      destinationPorts: [],
      synShare: 0,
      meanPacketBytes: 480,
      ...fingerprint,
    },
  };
}
