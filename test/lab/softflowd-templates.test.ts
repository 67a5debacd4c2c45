/**
 * Real softflowd exports generated attack captures, IPv4 and IPv6, as NetFlow v9 and IPFIX;
 * Floodgate's decoder table must account for every packet and byte exactly per destination
 * and protocol, agree with tshark record by record, and survive the same datagrams damaged.
 * Needs softflowd, python3-scapy and tshark (Debian packages); fails saying so when missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecoderTable } from '../../collectors/registry.js';
import { FlowBatch } from '../../core/flow/flow-batch.js';
import { mutate, mutation } from '../helpers/datagram-mutations.js';
import { type Decoded, decodeAll, expectedTotals, pick } from './decoded-totals.js';
import { makeIpv6Scenario, V6_ICMP_TARGET, V6_NTP_TARGET, type V6Truth } from './ipv6-scenario.js';
import {
  collectDatagrams,
  makeScenario,
  type ReceivedDatagram,
  requireTool,
  runSoftflowd,
  type ScenarioTruth,
  type SoftflowdVersion,
} from './scenario.js';
import { tsharkFlowRecords } from './tshark-flows.js';

const NTP_TARGET = '203.0.113.10';
const SYN_TARGET = '203.0.113.20';
const ICMP_TARGET = '203.0.113.40';
const UDP_FLOOD_TARGET = '203.0.113.50';

interface Export {
  datagrams: ReceivedDatagram[];
  port: number;
  exported: { records: number; datagrams: number; failures: number };
}

async function exportWithSoftflowd(pcapPath: string, version: SoftflowdVersion): Promise<Export> {
  const sink = await collectDatagrams(0);
  try {
    const run = await runSoftflowd({ pcapPath, version, port: sink.port });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.exported, `softflowd printed no export summary:\n${run.stdout}`).toBeDefined();
    const exported = run.exported!;
    const datagrams = await sink.settle({ atLeast: exported.datagrams, quietMs: 300, timeoutMs: 10_000 });
    expect(sink.errors).toEqual([]);
    return { datagrams: [...datagrams], port: sink.port, exported };
  } finally {
    await sink.close();
  }
}

let dir = '';
let v4: { pcapPath: string; truth: ScenarioTruth };
let v6: { pcapPath: string; truth: V6Truth };

beforeAll(async () => {
  requireTool('softflowd');
  requireTool('python3-scapy');
  requireTool('tshark');
  dir = mkdtempSync(join(tmpdir(), 'fg-lab-templates-'));
  const startEpoch = Math.floor(Date.now() / 1000) - 30;
  v4 = await makeScenario(
    {
      seed: 9,
      startEpoch,
      durationSeconds: 3,
      streams: [
        { kind: 'udp-reflection', dst: NTP_TARGET, srcPort: 123, sources: 2000, pps: 2000, size: 468 },
        { kind: 'syn-flood', dst: SYN_TARGET, dstPort: 80, sources: 3000, pps: 2000 },
        { kind: 'icmp-flood', dst: ICMP_TARGET, sources: 300, pps: 500 },
        { kind: 'udp-flood', dst: UDP_FLOOD_TARGET, dstPorts: [53, 80], sources: 500, pps: 500 },
        { kind: 'tcp-session', client: '198.51.100.7', server: '203.0.113.30', port: 443, packets: 200 },
        { kind: 'dns', client: '198.51.100.8', resolver: '203.0.113.53', queries: 50 },
        { kind: 'udp-stream', src: '198.51.100.9', dst: '203.0.113.60', pps: 50, size: 200 },
      ],
      filler: { packets: 3000, flows: 300 },
    },
    dir,
  );
  expect(v4.truth.flows).toBeLessThan(65536);
  v6 = makeIpv6Scenario(dir, startEpoch * 1000);
  expect(v6.truth.flows).toBeLessThan(65536);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each([
  { version: 9 as const, name: 'NetFlow v9' },
  { version: 10 as const, name: 'IPFIX' },
])('softflowd $name from generated captures', ({ version }) => {
  describe('IPv4', () => {
    let run: Export;
    let decoded: Decoded;

    beforeAll(async () => {
      run = await exportWithSoftflowd(v4.pcapPath, version);
      decoded = decodeAll(run.datagrams);
    }, 60_000);

    it('receives every datagram and decodes every record without error', () => {
      expect(run.exported.failures).toBe(0);
      expect(run.datagrams).toHaveLength(run.exported.datagrams);
      expect(decoded.errors).toEqual({});
      // softflowd announces its (unsampled) rate in options data: the default is never needed.
      expect(decoded.notices).toEqual({});
      expect(decoded.records).toHaveLength(run.exported.records);
    });

    it('counts exactly the packets and bytes of the ground truth per destination and protocol', () => {
      const expected = expectedTotals(v4.truth.destinations);
      expect(Object.keys(expected)).toHaveLength(9);
      expect(pick(decoded, Object.keys(expected))).toEqual(expected);
      const known = new Set([...Object.keys(v4.truth.destinations), v4.truth.filler.dst]);
      expect([...decoded.totals.keys()].map((k) => k.split('/')[0]!).filter((d) => !known.has(d))).toEqual(
        [],
      );
    });

    it('keeps UDP source ports and ICMP type/code', () => {
      expect([...decoded.udpSourcePorts.get(NTP_TARGET)!]).toEqual([[123, 6000]]);
      expect([...decoded.icmp.get(ICMP_TARGET)!]).toEqual(['8/0']);
    });

    it('agrees with tshark field by field on every record', async () => {
      const theirs = await tsharkFlowRecords(run.datagrams, run.port);
      expect(theirs).toHaveLength(decoded.records.length);
      expect(theirs).toEqual(decoded.records);
    }, 60_000);

    it('takes a configured override over the rate softflowd states in options data', () => {
      // softflowd states 1 in 1; an operator who knows better forces 50 for its domain 0.
      const forced = decodeAll(run.datagrams, {
        overrides: [{ exporter: '127.0.0.0/8', sourceId: 0, rate: 50 }],
      });
      const expected = expectedTotals(v4.truth.destinations);
      const scaled = Object.fromEntries(
        Object.entries(expected).map(([k, t]) => [k, { packets: t.packets * 50, bytes: t.bytes * 50 }]),
      );
      expect(pick(forced, Object.keys(expected))).toEqual(scaled);
      expect(Object.keys(forced.notices)).toEqual(['sampling-override-used']);
    });

    it('survives the same datagrams damaged, without an exception escaping the decoder table', () => {
      const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } });
      const real = run.datagrams.map((d) => new Uint8Array(d.data));
      const out = new FlowBatch(64);
      fc.assert(
        fc.property(fc.constantFrom(...real), fc.array(mutation, { minLength: 1, maxLength: 3 }), (d, ms) => {
          const n = table.decode(mutate(d, ms), '192.0.2.1', 1_700_000_000_000, out, (b) => b.clear());
          expect(n).toBeGreaterThanOrEqual(0);
        }),
        { numRuns: 2000 },
      );
      expect(table.snapshot().totals.errors['decoder-exception']).toBeUndefined();
    });
  });

  describe('IPv6', () => {
    let run: Export;
    let decoded: Decoded;

    beforeAll(async () => {
      run = await exportWithSoftflowd(v6.pcapPath, version);
      decoded = decodeAll(run.datagrams);
    }, 60_000);

    it('counts exactly the packets and bytes of the ground truth per destination and protocol', () => {
      expect(run.datagrams).toHaveLength(run.exported.datagrams);
      expect(decoded.errors).toEqual({});
      expect(decoded.records).toHaveLength(run.exported.records);
      expect(pick(decoded, Object.keys(v6.truth.totals))).toEqual(v6.truth.totals);
      expect([...decoded.udpSourcePorts.get(V6_NTP_TARGET)!]).toEqual([[123, 3000]]);
      expect([...decoded.icmp.get(V6_ICMP_TARGET)!]).toEqual(['128/0']);
    });

    it('agrees with tshark field by field on every record', async () => {
      const theirs = await tsharkFlowRecords(run.datagrams, run.port);
      expect(theirs).toEqual(decoded.records);
    }, 60_000);
  });
});
