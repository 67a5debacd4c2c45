/**
 * Real softflowd exports a generated attack capture as NetFlow v5; Floodgate's decoder table
 * must account for every packet and byte of the scenario exactly, per destination and protocol,
 * agree with tshark field by field on every record, and survive the same datagrams damaged.
 * NetFlow v5 has no room for IPv6: softflowd -v 5 ignores IPv6 packets, which the last case
 * shows so that the matrix in docs/flow-lab.md states it from a run, not from belief.
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
import { makeIpv6Scenario } from './ipv6-scenario.js';
import {
  collectDatagrams,
  type DatagramSink,
  makeScenario,
  type ReceivedDatagram,
  requireTool,
  runSoftflowd,
  type ScenarioTruth,
} from './scenario.js';
import { tsharkFlowRecords } from './tshark-flows.js';

const NTP_TARGET = '203.0.113.10';
const SYN_TARGET = '203.0.113.20';
const ICMP_TARGET = '203.0.113.40';

describe('softflowd NetFlow v5 from a generated capture, decoded by the v5 decoder', () => {
  let dir = '';
  let sink: DatagramSink | undefined;
  let truth: ScenarioTruth;
  let datagrams: ReceivedDatagram[];
  let decoded: Decoded;
  let exported: { records: number; datagrams: number; failures: number };

  beforeAll(async () => {
    requireTool('softflowd');
    requireTool('python3-scapy');
    requireTool('tshark');
    dir = mkdtempSync(join(tmpdir(), 'fg-lab-v5-'));
    const durationSeconds = 3;
    const scenario = await makeScenario(
      {
        seed: 42,
        startEpoch: Math.floor(Date.now() / 1000) - 30,
        durationSeconds,
        streams: [
          {
            kind: 'udp-reflection',
            dst: NTP_TARGET,
            srcPort: 123,
            sources: 2000,
            srcPrefix: '198.18.0.0/15',
            pps: 2000,
            size: 468,
          },
          { kind: 'syn-flood', dst: SYN_TARGET, dstPort: 80, sources: 3000, pps: 2000 },
          { kind: 'icmp-flood', dst: ICMP_TARGET, sources: 300, pps: 300 },
          { kind: 'tcp-session', client: '198.51.100.7', server: '203.0.113.30', port: 443, packets: 200 },
          { kind: 'dns', client: '198.51.100.8', resolver: '203.0.113.53', queries: 50 },
          { kind: 'udp-stream', src: '198.51.100.9', dst: '203.0.113.60', pps: 50, size: 200 },
        ],
        filler: { packets: 3000, flows: 300 },
      },
      dir,
    );
    truth = scenario.truth;
    expect(truth.flows).toBeLessThan(65536); // softflowd's -m: every flow fits in the table

    sink = await collectDatagrams(0);
    const run = await runSoftflowd({ pcapPath: scenario.pcapPath, version: 5, port: sink.port });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.exported, `softflowd printed no export summary:\n${run.stdout}`).toBeDefined();
    exported = run.exported!;
    datagrams = [...(await sink.settle({ atLeast: exported.datagrams, quietMs: 300, timeoutMs: 10_000 }))];
    decoded = decodeAll(datagrams);
  }, 60_000);

  afterAll(async () => {
    await sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('receives every datagram softflowd sent and decodes every record without error', () => {
    expect(exported.failures).toBe(0);
    expect(datagrams).toHaveLength(exported.datagrams);
    expect(sink!.errors).toEqual([]);
    expect(decoded.errors).toEqual({});
    expect(decoded.records).toHaveLength(exported.records);
    // softflowd's v5 header states no sampling interval: the default applies, once a datagram.
    expect(decoded.notices).toEqual({ 'sampling-default-used': exported.datagrams });
  });

  it('counts exactly the packets and bytes of the ground truth per destination and protocol', () => {
    const expected = expectedTotals(truth.destinations);
    // The attack, the benign traffic and the replies to clients all appear.
    expect(Object.keys(expected).sort()).toEqual(
      [
        `${NTP_TARGET}/17`,
        `${SYN_TARGET}/6`,
        `${ICMP_TARGET}/1`,
        '203.0.113.30/6',
        '198.51.100.7/6',
        '203.0.113.53/17',
        '198.51.100.8/17',
        '203.0.113.60/17',
      ].sort(),
    );
    expect(pick(decoded, Object.keys(expected))).toEqual(expected);
  });

  it('sees no destination outside the scenario but the filler', () => {
    const scenarioDestinations = new Set(Object.keys(truth.destinations));
    const others = [...decoded.totals.keys()]
      .map((key) => key.split('/')[0]!)
      .filter((dst) => !scenarioDestinations.has(dst));
    expect(new Set(others)).toEqual(new Set([truth.filler.dst]));
  });

  it('keeps UDP source ports and ICMP type/code', () => {
    expect(truth.destinations[NTP_TARGET]!.udpSourcePorts).toEqual({ '123': 6000 });
    expect([...decoded.udpSourcePorts.get(NTP_TARGET)!]).toEqual([[123, 6000]]);
    expect([...decoded.icmp.get(ICMP_TARGET)!]).toEqual(['8/0']);
  });

  it('agrees with tshark field by field on every record', async () => {
    const theirs = await tsharkFlowRecords(datagrams, sink!.port);
    expect(theirs).toHaveLength(decoded.records.length);
    expect(theirs).toEqual(decoded.records);
  }, 60_000);

  it('scales every record by a configured override instead, counted once a datagram', () => {
    const forced = decodeAll(datagrams, { overrides: [{ exporter: '127.0.0.1', rate: 100 }] });
    const expected = expectedTotals(truth.destinations);
    const scaled = Object.fromEntries(
      Object.entries(expected).map(([k, t]) => [k, { packets: t.packets * 100, bytes: t.bytes * 100 }]),
    );
    expect(pick(forced, Object.keys(expected))).toEqual(scaled);
    expect(forced.notices).toEqual({ 'sampling-override-used': exported.datagrams });
  });

  it('survives the same datagrams damaged, without an exception escaping the decoder table', () => {
    const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } });
    const real = datagrams.map((d) => new Uint8Array(d.data));
    const out = new FlowBatch(64);
    fc.assert(
      fc.property(fc.constantFrom(...real), fc.array(mutation, { minLength: 1, maxLength: 3 }), (d, ms) => {
        const n = table.decode(mutate(d, ms), '192.0.2.1', 1_700_000_000_000, out, (b) => b.clear());
        expect(n).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
    const totals = table.snapshot().totals;
    expect(totals.errors['decoder-exception']).toBeUndefined();
    expect(totals.records).toBeGreaterThan(0);
  });

  it('exports no IPv6 traffic at all: v5 carries IPv4 only, so softflowd -v 5 ignores it', async () => {
    const v6 = makeIpv6Scenario(dir, (Math.floor(Date.now() / 1000) - 30) * 1000);
    const v6Sink = await collectDatagrams(0);
    try {
      const run = await runSoftflowd({ pcapPath: v6.pcapPath, version: 5, port: v6Sink.port });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.exported).toEqual({ flows: 0, records: 0, datagrams: 0, failures: 0 });
      expect(run.stdout).toMatch(/Ignored packets: \d+/);
      expect(v6Sink.datagrams).toEqual([]);
    } finally {
      await v6Sink.close();
    }
  }, 30_000);
});
