/** What a benchmark ran on, printed with its figures: they mean nothing without it. */
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';

export interface Machine {
  date: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** net.core.rmem_max: the cap on every socket's receive buffer. */
  rmemMaxBytes: number | undefined;
}

function readNumber(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    date: new Date().toISOString(),
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    rmemMaxBytes: readNumber('/proc/sys/net/core/rmem_max'),
  };
}

export function machineLine(m: Machine): string {
  const rmem = m.rmemMaxBytes === undefined ? 'unknown' : `${m.rmemMaxBytes} bytes`;
  return `${m.date}  ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, net.core.rmem_max ${rmem}`;
}
