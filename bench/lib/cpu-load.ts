/**
 * How busy the whole machine is, from /proc/stat (not namespaced: it counts every process on
 * the machine, ours and everyone else's). On a shared 2-core machine another job's burst of
 * work can cost a collector a step; the ingest benchmark waits for a quiet machine before each
 * step and reports, per step, how much CPU went to processes other than its own.
 */
import { readFileSync } from 'node:fs';

export interface CpuTimes {
  /** Clock ticks spent not idle, over all cores. */
  busy: number;
  total: number;
}

/** The aggregate "cpu " line: user nice system idle iowait irq softirq steal ... */
export function parseCpuTimes(stat: string): CpuTimes {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate cpu line');
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

export function readCpuTimes(): CpuTimes {
  return parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
}

/** Cores' worth of busy time between two readings taken `seconds` apart, at `ticks` per second. */
export function busyCores(before: CpuTimes, after: CpuTimes, seconds: number, ticks: number): number {
  return seconds > 0 ? (after.busy - before.busy) / ticks / seconds : 0;
}

export interface Quiet {
  quiet: boolean;
  /** Busy cores in the last second looked at. */
  busyCores: number;
  waitedSeconds: number;
}

/**
 * Waits until a whole second passes with less than `maxBusyCores` busy (the benchmark's own
 * receivers are idle between steps), giving up after `timeoutMs`.
 */
export async function waitForQuiet(maxBusyCores: number, timeoutMs: number, ticks: number): Promise<Quiet> {
  const start = Date.now();
  for (;;) {
    const before = readCpuTimes();
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    const cores = busyCores(before, readCpuTimes(), (Date.now() - t0) / 1000, ticks);
    const waitedSeconds = (Date.now() - start) / 1000;
    if (cores < maxBusyCores) return { quiet: true, busyCores: cores, waitedSeconds };
    if (Date.now() - start >= timeoutMs) return { quiet: false, busyCores: cores, waitedSeconds };
  }
}
