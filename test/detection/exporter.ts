/**
 * Real softflowd as the exporter of the detection scenarios, in two manners:
 *
 * - per second (`exportPerSecond`): the capture is cut into one-second slices and softflowd
 *   exports each slice on its own, so every flow is reported by the end of the second it was
 *   seen in, the way a router with a 1 s active timeout (or sFlow) reports an attack. The
 *   records of a slice arrive `delayMs` after the slice ends.
 * - at once (`exportAtOnce`): softflowd reads the whole capture and flushes every flow at end of
 *   file, all records arriving together (what the end-to-end test does live).
 *
 * Every slice gets a few hundred filler packets after its end, between two addresses outside
 * the scenario: whatever softflowd loses or repeats at end of file falls on them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDecoderTable } from '../../collectors/registry.js';
import { FlowBatch } from '../../core/flow/flow-batch.js';
import { frame, ipv4Udp, writePcap } from '../helpers/pcap-writer.js';
import { collectDatagrams, runSoftflowd, type SoftflowdVersion } from '../lab/scenario.js';

interface CapturedPacket {
  tsMs: number;
  frame: Uint8Array;
}

/** Decoded records that reach the collector together. */
export interface Arrival {
  arrivalMs: number;
  batch: FlowBatch;
}

export interface ExportOptions {
  version: SoftflowdVersion;
  /** Milliseconds between the end of a slice (or of the capture) and the arrival of its records. Default 200. */
  delayMs?: number;
  /** Extra softflowd arguments, e.g. ['-s', '512'] for 1-in-512 sampling. */
  extraArgs?: readonly string[];
}

const FILLER_PACKETS = 300;

/** Classic little-endian microsecond pcap with Ethernet frames: what make-scenario.py writes. */
function readPcap(path: string): CapturedPacket[] {
  const b = readFileSync(path);
  if (b.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${path}: not a little-endian microsecond pcap`);
  const out: CapturedPacket[] = [];
  for (let o = 24; o < b.length; ) {
    const tsMs = b.readUInt32LE(o) * 1000 + b.readUInt32LE(o + 4) / 1000;
    const len = b.readUInt32LE(o + 8);
    out.push({ tsMs, frame: new Uint8Array(b.subarray(o + 16, o + 16 + len)) });
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

/** Runs softflowd over `packets` (plus filler) and decodes what it sent. */
async function exportSlice(
  packets: readonly CapturedPacket[],
  endMs: number,
  dir: string,
  name: string,
  options: ExportOptions,
): Promise<FlowBatch> {
  const pcapPath = join(dir, `${name}.pcap`);
  writeFileSync(pcapPath, writePcap([...packets, ...filler(endMs)]));
  const sink = await collectDatagrams(0);
  try {
    const run = await runSoftflowd({
      pcapPath,
      version: options.version,
      port: sink.port,
      ...(options.extraArgs ? { extraArgs: options.extraArgs } : {}),
    });
    if (run.exitCode !== 0 || !run.exported) {
      throw new Error(`softflowd failed on ${name} (exit ${run.exitCode}): ${run.stderr}\n${run.stdout}`);
    }
    const datagrams = await sink.settle({ atLeast: run.exported.datagrams, quietMs: 50, timeoutMs: 10_000 });
    if (datagrams.length !== run.exported.datagrams || run.exported.failures > 0) {
      throw new Error(
        `softflowd sent ${run.exported.datagrams} datagrams (${run.exported.failures} failed), ${datagrams.length} arrived`,
      );
    }
    return decode(datagrams.map((d) => ({ data: d.data, from: d.from })));
  } finally {
    await sink.close();
  }
}

/** Decodes datagrams through the decoder table into one batch of records. */
function decode(datagrams: readonly { data: Buffer; from: string }[]): FlowBatch {
  const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } });
  const work = new FlowBatch(4096);
  const parts: FlowBatch[] = [];
  // The decoder keeps writing into `work`: a flush copies its records out and empties it.
  const drain = (full: FlowBatch) => {
    if (full.length === 0) return;
    const copy = new FlowBatch(full.length);
    copyRows(full, copy);
    parts.push(copy);
    full.clear();
  };
  for (const d of datagrams) table.decode(d.data, d.from, 0, work, drain);
  drain(work);
  const errors = table.snapshot().totals.errors;
  if (Object.keys(errors).length > 0) throw new Error(`decode errors: ${JSON.stringify(errors)}`);
  const out = new FlowBatch(
    Math.max(
      1,
      parts.reduce((n, b) => n + b.length, 0),
    ),
  );
  for (const b of parts) copyRows(b, out);
  return out;
}

function copyRows(from: FlowBatch, to: FlowBatch): void {
  const start = to.length;
  const n = from.length;
  const columns = [
    'ipVersion',
    'sourceId',
    'srcPort',
    'dstPort',
    'protocol',
    'tcpFlags',
    'icmpType',
    'icmpCode',
    'fragment',
    'inputIf',
    'outputIf',
    'packets',
    'bytes',
    'sampledPackets',
    'samplingRate',
    'startMs',
    'endMs',
    'arrivalMs',
  ] as const;
  for (const c of columns) to[c].set(from[c].subarray(0, n), start);
  for (const c of ['exporterAddr', 'srcAddr', 'dstAddr'] as const)
    to[c].set(from[c].subarray(0, n * 4), start * 4);
  to.length = start + n;
}

function stamp(batch: FlowBatch, arrivalMs: number): Arrival {
  batch.arrivalMs.fill(arrivalMs, 0, batch.length);
  return { arrivalMs, batch };
}

/** Exports the capture second by second (see above); one Arrival per slice with records. */
export async function exportPerSecond(pcapPath: string, options: ExportOptions): Promise<Arrival[]> {
  const packets = readPcap(pcapPath);
  const dir = mkdtempSync(join(tmpdir(), 'fg-detect-'));
  try {
    const firstSecond = Math.floor(packets[0]!.tsMs / 1000);
    const slices = new Map<number, CapturedPacket[]>();
    for (const p of packets) {
      const s = Math.floor(p.tsMs / 1000) - firstSecond;
      const list = slices.get(s) ?? [];
      list.push(p);
      slices.set(s, list);
    }
    const out: Arrival[] = [];
    for (const [s, list] of [...slices].sort((a, b) => a[0] - b[0])) {
      const endMs = (firstSecond + s + 1) * 1000;
      const batch = await exportSlice(list, endMs, dir, `slice-${s}`, options);
      if (batch.length > 0) out.push(stamp(batch, endMs + (options.delayMs ?? 200)));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Exports the whole capture in one run; its records arrive together after the last packet. */
export async function exportAtOnce(pcapPath: string, options: ExportOptions): Promise<Arrival[]> {
  const packets = readPcap(pcapPath);
  const dir = mkdtempSync(join(tmpdir(), 'fg-detect-'));
  try {
    const endMs = packets.at(-1)!.tsMs;
    const batch = await exportSlice(packets, endMs, dir, 'whole', options);
    return [stamp(batch, endMs + (options.delayMs ?? 200))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
