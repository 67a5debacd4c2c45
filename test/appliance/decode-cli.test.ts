/**
 * `floodgate decode` on a capture of what real softflowd exported (NetFlow v9, so templates must
 * be learned from the capture itself): the JSON lines add up to the scenario's ground truth.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlowRecordJson } from '../../collectors/flow-record-json.js';
import { runCli } from '../helpers/cli.js';
import { frame, ipv4Udp, writePcap } from '../helpers/pcap-writer.js';
import { collectDatagrams, makeScenario, requireTool, runSoftflowd } from '../lab/scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-decode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('floodgate decode', () => {
  it('prints every record of a capture as JSON lines, matching the ground truth', async () => {
    requireTool('softflowd');
    requireTool('python3-scapy');
    const { pcapPath, truth } = await makeScenario(
      {
        seed: 3,
        startEpoch: Date.now() / 1000 - 5,
        durationSeconds: 4,
        streams: [
          { kind: 'udp-reflection', dst: '203.0.113.10', srcPort: 53, sources: 200, pps: 500, size: 900 },
          { kind: 'syn-flood', dst: '203.0.113.20', dstPort: 22, sources: 300, pps: 400 },
        ],
      },
      dir,
    );
    const sink = await collectDatagrams(0);
    let datagrams: Awaited<ReturnType<typeof sink.settle>>;
    try {
      const run = await runSoftflowd({ pcapPath, version: 9, port: sink.port });
      expect(run.exitCode).toBe(0);
      datagrams = await sink.settle({ atLeast: run.exported?.datagrams ?? 1 });
    } finally {
      await sink.close();
    }
    const capture = join(dir, 'exported.pcap');
    writeFileSync(
      capture,
      writePcap(
        datagrams.map((d) => ({
          tsMs: d.arrivalMs,
          frame: frame(
            1,
            ipv4Udp({ src: '192.0.2.7', dst: '192.0.2.8', srcPort: 40000, dstPort: 2055, payload: d.data }),
          ),
        })),
      ),
    );

    const r = await runCli(['decode', capture, '--port', '2055']);
    expect(r.code, r.stderr).toBe(0);
    const records = r.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as FlowRecordJson);
    expect(records.every((rec) => rec.exporter === '192.0.2.7' && rec.samplingRate === 1)).toBe(true);
    const sum = (dst: string, proto: number) =>
      records
        .filter((rec) => rec.dstAddr === dst && rec.protocol === proto)
        .reduce((acc, rec) => ({ packets: acc.packets + rec.packets, bytes: acc.bytes + rec.bytes }), {
          packets: 0,
          bytes: 0,
        });
    expect(sum('203.0.113.10', 17)).toEqual(truth.destinations['203.0.113.10']!.protocols['17']);
    expect(sum('203.0.113.20', 6)).toEqual(truth.destinations['203.0.113.20']!.protocols['6']);
    const summary = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as {
      datagrams: number;
      totals: { records: number; errors: object };
    };
    expect(summary.datagrams).toBe(datagrams.length);
    expect(summary.totals.records).toBe(records.length);
    expect(summary.totals.errors).toEqual({});
  });

  it('refuses a file that is not a capture, saying why', async () => {
    const bogus = join(dir, 'not-a-pcap');
    writeFileSync(bogus, 'hello');
    const r = await runCli(['decode', bogus]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(bogus);
  });

  it('refuses a bad port', async () => {
    const r = await runCli(['decode', 'x.pcap', '--port', '70000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--port');
  });
});
