/** Starts and steers fake-exabgp.ts processes; every one is killed by PID in `stopAll`. */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineSplitter } from '../../../adapters/exabgp/protocol.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..', '..');
const program = join(here, 'fake-exabgp.ts');

export interface FakeExabgp {
  /** Every command line the helper wrote, in order. */
  readonly commands: string[];
  readonly helperPids: number[];
  control(line: string): void;
  /** Resolves when `count` commands have been seen in total. */
  waitCommands(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves when the helper has been (re)started `count` times in total. */
  waitHelpers(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
});

function waitUntil(
  check: () => boolean,
  what: string,
  timeoutMs: number,
  subscribe: (wake: () => void) => () => void,
): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`fake ExaBGP: timed out waiting for ${what}`));
    }, timeoutMs);
    const unsubscribe = subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}

export function startFakeExabgp(socketPath: string, retryMs = 50): FakeExabgp {
  const child = spawn(process.execPath, ['--import', 'tsx', program, socketPath, String(retryMs)], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  running.add(child);
  const commands: string[] = [];
  const helperPids: number[] = [];
  const wakers = new Set<() => void>();
  const subscribe = (wake: () => void) => {
    wakers.add(wake);
    return () => wakers.delete(wake);
  };
  child.stdout?.on(
    'data',
    lineSplitter(
      (line) => {
        const event = JSON.parse(line) as { event: string; line?: string; pid?: number };
        if (event.event === 'command') commands.push(event.line!);
        if (event.event === 'helper') helperPids.push(event.pid!);
        for (const wake of [...wakers]) wake();
      },
      () => {},
    ),
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    commands,
    helperPids,
    control: (line) => child.stdin?.write(`${line}\n`),
    waitCommands: (count, timeoutMs = 10_000) =>
      waitUntil(() => commands.length >= count, `${count} commands`, timeoutMs, subscribe),
    waitHelpers: (count, timeoutMs = 10_000) =>
      waitUntil(() => helperPids.length >= count, `${count} helper starts`, timeoutMs, subscribe),
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGTERM');
        await exited;
      }
      running.delete(child);
    },
  };
}
