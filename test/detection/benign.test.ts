/**
 * Heavy everyday traffic that must not open an incident, under the same configuration that
 * catches every attack family (scenario-config.ts): a large download, a speed test in both
 * directions, a busy recursive resolver, a game server, and a busy evening on the customer /24.
 * Exported second by second by real softflowd as NetFlow v5.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkTotals } from '../../core/detect/detector.js';
import type { IncidentEvent } from '../../core/incident/incident.js';
import { makeScenario, requireTool, type StreamSpec } from '../lab/scenario.js';
import { exportPerSecond } from './exporter.js';
import { detectorFor, replay } from './replay.js';
import { SCENARIO_CONFIG, SCENARIO_EPOCH } from './scenario-config.js';

const SERVER_OUTSIDE = '100.40.0.80';
const SPEEDTEST = '100.40.0.81';

const STREAMS: StreamSpec[] = [
  // A large download: 4000 full segments a second (48 Mb/s), the client acknowledging.
  { kind: 'tcp-bulk', server: SERVER_OUTSIDE, client: '203.0.113.100', port: 443, pps: 4000 },
  // A speed test: four streams down and, at the same time (the worst case), four up.
  { kind: 'tcp-bulk', server: SPEEDTEST, client: '203.0.113.101', port: 8080, streams: 4, pps: 6000 },
  // Upload: the host inside sends, the speed test server's ACK-only segments come in.
  { kind: 'tcp-bulk', server: '203.0.113.101', client: SPEEDTEST, port: 5201, streams: 4, pps: 6000 },
  // A busy resolver: 1000 queries a second in, and as many answers from authorities' port 53.
  { kind: 'dns-resolver', resolver: '203.0.113.53', clients: 2000, qps: 1000 },
  // A game server: 400 players, 4000 packets a second both ways.
  { kind: 'game-udp', server: '203.0.113.60', clients: 400, pps: 4000 },
  // A busy evening on the customer /24: 50 customers streaming video.
  ...Array.from(
    { length: 50 },
    (_, i): StreamSpec => ({
      kind: 'udp-stream',
      src: `100.50.0.${i + 1}`,
      dst: `198.51.100.${i + 10}`,
      pps: 40,
      size: 1300,
      dstPort: 5004,
    }),
  ),
];

let dir = '';
let events: IncidentEvent[] = [];
let busiest: NetworkTotals[] = [];

beforeAll(async () => {
  requireTool('softflowd');
  requireTool('python3-scapy');
  dir = mkdtempSync(join(tmpdir(), 'fg-benign-'));
  const { pcapPath } = await makeScenario(
    { seed: 5, startEpoch: SCENARIO_EPOCH, durationSeconds: 3, streams: STREAMS },
    dir,
  );
  const arrivals = await exportPerSecond(pcapPath, { version: 5 });
  const detector = detectorFor(SCENARIO_CONFIG);
  busiest = detector.networkTotals(0);
  events = replay(detector, arrivals, arrivals.at(-1)!.arrivalMs + 5000, {
    afterStep: (t) => {
      const totals = detector.networkTotals(t);
      if (totals[0]!.pps > busiest[0]!.pps) busiest = totals;
    },
  });
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('heavy everyday traffic through softflowd NetFlow v5', () => {
  it('was heavy: the server /24 took over 15000 packets and 100 Mb/s a second, and sent over 10000 packets', () => {
    const [servers, customers] = busiest;
    expect(servers!.pps).toBeGreaterThan(15_000);
    expect(servers!.bps).toBeGreaterThan(100_000_000);
    expect(servers!.outbound.pps).toBeGreaterThan(10_000);
    expect(customers!.pps).toBeGreaterThan(0);
  });

  it('opens no incident, on any host or network', () => {
    expect(events.filter((e) => e.type === 'opened').map((e) => e.incident.target)).toEqual([]);
  });
});
