/**
 * The replay sender: replay-sender.c compiled with gcc at bench time (no binary is kept in the
 * repository) and run once per step as its own process.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../../test/lab/run-process.js';
import { requireTool } from '../../test/lab/tools.js';

const SOURCE = fileURLToPath(new URL('./replay-sender.c', import.meta.url));

export async function buildSender(dir: string): Promise<string> {
  const gcc = requireTool('gcc');
  const binary = join(dir, 'replay-sender');
  const r = await runProcess([gcc, '-O2', '-Wall', '-Wextra', '-o', binary, SOURCE], { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`gcc could not build ${SOURCE}:\n${r.stderr}`);
  return binary;
}

/** Export sequence state carried from one step to the next, per collector. */
export interface SequenceState {
  datagrams: number;
  records: number;
}

export interface SendStep {
  binary: string;
  replayPath: string;
  host: string;
  port: number;
  datagramsPerSecond: number;
  seconds: number;
  sequence: SequenceState;
}

export interface SendResult {
  datagrams: number;
  records: number;
  seconds: number;
  /** Datagrams the kernel refused at the sender (never expected on loopback). */
  errors: number;
  firstError: string;
  /** How late the sender ran at worst; large means it could not hold the rate. */
  behindMaxMs: number;
  /** Times it fell more than 5 ms behind and restarted its schedule rather than burst. */
  resyncs: number;
  cpuSeconds: number;
  batch: number;
  sequence: SequenceState;
}

interface SenderJson {
  datagrams: number;
  records: number;
  seconds: number;
  errors: number;
  firstError: string;
  behindMaxMs: number;
  resyncs: number;
  cpuSeconds: number;
  batch: number;
  seqDatagrams: number;
  seqRecords: number;
}

/** Runs one step to its end: `datagramsPerSecond * seconds` datagrams, paced. */
export async function sendStep(step: SendStep): Promise<SendResult> {
  const argv = [
    step.binary,
    step.replayPath,
    step.host,
    String(step.port),
    step.datagramsPerSecond.toFixed(3),
    String(step.seconds),
    String(step.sequence.datagrams >>> 0),
    String(step.sequence.records >>> 0),
  ];
  const r = await runProcess(argv, { timeoutMs: step.seconds * 3000 + 30_000 });
  if (r.timedOut || r.exitCode !== 0) {
    throw new Error(`replay-sender ${r.timedOut ? 'overran its time' : `exited ${r.exitCode}`}: ${r.stderr}`);
  }
  const j = JSON.parse(r.stdout) as SenderJson;
  return {
    datagrams: j.datagrams,
    records: j.records,
    seconds: j.seconds,
    errors: j.errors,
    firstError: j.firstError,
    behindMaxMs: j.behindMaxMs,
    resyncs: j.resyncs,
    cpuSeconds: j.cpuSeconds,
    batch: j.batch,
    sequence: { datagrams: j.seqDatagrams, records: j.seqRecords },
  };
}
