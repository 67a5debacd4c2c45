/**
 * Real softflowd exporting a capture live, second by second, the way the detection tests export
 * (test/detection/exporter.ts) but on the wall clock: the capture is cut into one-second slices,
 * and at the end of each second of the replay softflowd reads that second's slice and sends its
 * flows to the collector. The collector sees what a router with a 1 s active timeout sends: an
 * attack lasts as long as its capture, not one burst at end of file.
 *
 * Every slice gets a few hundred filler packets after its end, between two addresses outside the
 * scenario: whatever softflowd loses or repeats at end of file falls on them.
 *
 * softflowd runs through a caller's runner, so it can run inside a network namespace.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { frame, ipv4Udp, writePcap } from '../helpers/pcap-writer.js';
import { parseSoftflowdSummary, softflowdArgv } from '../lab/softflowd.js';
import { requireTool } from '../lab/tools.js';

interface CapturedPacket {
  tsMs: number;
  frame: Uint8Array;
}

/** Runs argv to completion (e.g. `ns.run`). */
export type Runner = (
  argv: readonly string[],
  options: { timeoutMs: number },
) => Promise<{ code: number | null; stdout: string; stderr: string }>;

export interface LiveExportOptions {
  /** Where the collector listens, as seen by softflowd. */
  host: string;
  port: number;
  /** NetFlow version softflowd speaks; default 5. */
  version?: 5 | 9 | 10;
  run: Runner;
  /** Stops the replay before its next slice (a test that failed and is cleaning up). */
  signal?: AbortSignal;
}

export interface LiveExportReport {
  /** Wall-clock time each slice's flows were sent (its softflowd finished). */
  sentAtMs: number[];
  records: number;
}

const FILLER_PACKETS = 300;

/** Classic little-endian microsecond pcap with Ethernet frames: what make-scenario.py writes. */
function readPcap(path: string): CapturedPacket[] {
  const b = readFileSync(path);
  if (b.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${path}: not a little-endian microsecond pcap`);
  const out: CapturedPacket[] = [];
  for (let o = 24; o < b.length; ) {
    const len = b.readUInt32LE(o + 8);
    out.push({
      tsMs: b.readUInt32LE(o) * 1000 + b.readUInt32LE(o + 4) / 1000,
      frame: new Uint8Array(b.subarray(o + 16, o + 16 + len)),
    });
    o += 16 + len;
  }
  return out;
}

function filler(afterMs: number): CapturedPacket[] {
  return Array.from({ length: FILLER_PACKETS }, (_, i) => ({
    tsMs: afterMs + 1 + i * 0.03,
    frame: frame(
      1,
      ipv4Udp({
        src: '192.0.2.201',
        dst: '192.0.2.202',
        srcPort: 20_000 + (i % 30),
        dstPort: 9,
        payload: new Uint8Array(36),
      }),
    ),
  }));
}

/** Writes one pcap per second of the capture into `dir`, in order; returns their paths. */
export function sliceCapture(pcapPath: string, dir: string): string[] {
  const packets = readPcap(pcapPath);
  if (packets.length === 0) throw new Error(`${pcapPath} holds no packet`);
  const firstSecond = Math.floor(packets[0]!.tsMs / 1000);
  const slices: CapturedPacket[][] = [];
  for (const p of packets) {
    const s = Math.floor(p.tsMs / 1000) - firstSecond;
    const slice = slices[s] ?? [];
    slice.push(p);
    slices[s] = slice;
  }
  return Array.from(slices, (list, s) => {
    const path = join(dir, `slice-${s}.pcap`);
    const endMs = (firstSecond + s + 1) * 1000;
    writeFileSync(path, writePcap([...(list ?? []), ...filler(endMs)]));
    return path;
  });
}

/**
 * Sends slice N at `startMs + (N + 1) s`, one softflowd run each; resolves when the last one has
 * been sent, rejects when a softflowd run fails or the replay is aborted.
 */
export async function exportLive(
  slices: readonly string[],
  startMs: number,
  options: LiveExportOptions,
): Promise<LiveExportReport> {
  const softflowd = requireTool('softflowd');
  const report: LiveExportReport = { sentAtMs: [], records: 0 };
  for (const [i, pcapPath] of slices.entries()) {
    const dueMs = startMs + (i + 1) * 1000;
    const waitMs = dueMs - Date.now();
    if (waitMs > 0) await setTimeout(waitMs, undefined, options.signal ? { signal: options.signal } : {});
    options.signal?.throwIfAborted();
    const argv = softflowdArgv(softflowd, {
      pcapPath,
      version: options.version ?? 5,
      port: options.port,
      host: options.host,
    });
    const result = await options.run(argv, { timeoutMs: 10_000 });
    const exported = parseSoftflowdSummary(result.stdout);
    if (result.code !== 0 || exported === undefined || exported.failures > 0) {
      throw new Error(
        `softflowd failed on ${pcapPath} (exit ${result.code}): ${result.stderr.trim()}\n${result.stdout.trim()}`,
      );
    }
    report.sentAtMs.push(Date.now());
    report.records += exported.records;
  }
  return report;
}
