/**
 * Real softflowd exports a generated attack capture as NetFlow v5; Floodgate's decoder table
 * must account for every packet and byte of the scenario exactly, per destination and protocol.
 * Needs softflowd and python3-scapy (Debian packages); fails saying so when they are missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecoderTable } from '../../collectors/registry.js';
import { ADDRESS_WORDS, FlowBatch } from '../../core/flow/flow-batch.js';
import { formatAddressWords } from '../../core/net/address.js';
import {
  collectDatagrams,
  type DatagramSink,
  makeScenario,
  requireTool,
  runSoftflowd,
  type ScenarioTruth,
} from './scenario.js';

const NTP_TARGET = '203.0.113.10';
const SYN_TARGET = '203.0.113.20';
const PROTO_UDP = 17;

interface Decoded {
  /** "dst/proto" -> packets and bytes summed over records. */
  totals: Map<string, { packets: number; bytes: number }>;
  /** UDP packets to the NTP target by source port. */
  ntpSourcePorts: Map<number, number>;
  records: number;
  errors: Record<string, number>;
}

function decodeAll(datagrams: readonly { data: Buffer; arrivalMs: number; from: string }[]): Decoded {
  const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } });
  const batch = new FlowBatch(1024);
  const totals = new Map<string, { packets: number; bytes: number }>();
  const ntpSourcePorts = new Map<number, number>();
  let records = 0;
  const drain = (b: FlowBatch): void => {
    for (let row = 0; row < b.length; row++) {
      const dst = formatAddressWords(b.dstAddr, row * ADDRESS_WORDS);
      const key = `${dst}/${b.protocol[row]}`;
      const t = totals.get(key) ?? { packets: 0, bytes: 0 };
      t.packets += b.packets[row]!;
      t.bytes += b.bytes[row]!;
      totals.set(key, t);
      if (dst === NTP_TARGET && b.protocol[row] === PROTO_UDP) {
        const port = b.srcPort[row]!;
        ntpSourcePorts.set(port, (ntpSourcePorts.get(port) ?? 0) + b.packets[row]!);
      }
      records += 1;
    }
    b.clear();
  };
  for (const d of datagrams) table.decode(d.data, d.from, d.arrivalMs, batch, drain);
  drain(batch);
  return { totals, ntpSourcePorts, records, errors: table.snapshot().totals.errors };
}

describe('softflowd NetFlow v5 from a generated capture, decoded by the v5 decoder', () => {
  let dir = '';
  let sink: DatagramSink | undefined;
  let truth: ScenarioTruth;
  let decoded: Decoded;
  let exported: { records: number; datagrams: number; failures: number };

  beforeAll(async () => {
    requireTool('softflowd');
    requireTool('python3-scapy');
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
    const datagrams = await sink.settle({ atLeast: exported.datagrams, quietMs: 300, timeoutMs: 10_000 });
    decoded = decodeAll(datagrams);
  }, 60_000);

  afterAll(async () => {
    await sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('receives every datagram softflowd sent and decodes every record without error', () => {
    expect(exported.failures).toBe(0);
    expect(sink!.datagrams).toHaveLength(exported.datagrams);
    expect(sink!.errors).toEqual([]);
    expect(decoded.errors).toEqual({});
    expect(decoded.records).toBe(exported.records);
  });

  it('counts exactly the packets and bytes of the ground truth per destination and protocol', () => {
    const expected: Record<string, { packets: number; bytes: number }> = {};
    const got: Record<string, { packets: number; bytes: number }> = {};
    for (const [dst, d] of Object.entries(truth.destinations)) {
      for (const [proto, counted] of Object.entries(d.protocols)) {
        const key = `${dst}/${proto}`;
        expected[key] = counted;
        got[key] = decoded.totals.get(key) ?? { packets: 0, bytes: 0 };
      }
    }
    // The attack, the benign traffic and the replies to clients all appear.
    expect(Object.keys(expected).sort()).toEqual(
      [
        `${NTP_TARGET}/17`,
        `${SYN_TARGET}/6`,
        '203.0.113.30/6',
        '198.51.100.7/6',
        '203.0.113.53/17',
        '198.51.100.8/17',
        '203.0.113.60/17',
      ].sort(),
    );
    expect(got).toEqual(expected);
  });

  it('sees no destination outside the scenario but the filler', () => {
    const scenarioDestinations = new Set(Object.keys(truth.destinations));
    const others = [...decoded.totals.keys()]
      .map((key) => key.split('/')[0]!)
      .filter((dst) => !scenarioDestinations.has(dst));
    expect(new Set(others)).toEqual(new Set([truth.filler.dst]));
  });

  it('has every packet to the NTP target coming from UDP source port 123', () => {
    expect(truth.destinations[NTP_TARGET]!.udpSourcePorts).toEqual({ '123': 6000 });
    expect([...decoded.ntpSourcePorts]).toEqual([[123, 6000]]);
  });
});
