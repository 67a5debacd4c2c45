/**
 * The long-lived processes a benchmark starts (receivers, senders, a reference collector): each
 * one is tracked by PID and killed by PID when the benchmark ends, however it ends (normal
 * exit, an exception, Ctrl-C), so no collector is left holding a port or a core.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const tracked = new Set<ChildProcess>();
/** Processes we did not spawn directly but own (a daemon's plugin processes). */
const trackedPids = new Set<number>();

function alive(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

function killByPid(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = (): void => {
    for (const child of tracked) if (alive(child)) killByPid(child.pid, 'SIGKILL');
    for (const pid of trackedPids) killByPid(pid, 'SIGKILL');
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

export interface StartedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** `signal` (default SIGTERM), then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number, signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  /** Extra environment; the benchmark's own is inherited. */
  env?: NodeJS.ProcessEnv;
  /** Open an IPC channel (for Node children started with `startNode`). */
  ipc?: boolean;
}

export function startProcess(argv: readonly string[], options: StartOptions = {}): StartedProcess {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('startProcess needs a non-empty argv');
  installHooks();
  const child = spawn(command, args, {
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  tracked.add(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => err.push(d));
  const exited = new Promise<number | string>((resolve) => {
    child.once('close', (code, signal) => {
      tracked.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const pid = child.pid;
  return {
    child,
    pid,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
    exited,
    async stop(graceMs = 3000, signal: NodeJS.Signals = 'SIGTERM') {
      if (!alive(child)) return;
      killByPid(pid, signal);
      const timer = setTimeout(() => killByPid(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A TypeScript entry point in its own Node process, with an IPC channel. */
export function startNode(script: string, args: readonly string[] = []): StartedProcess {
  return startProcess([process.execPath, '--import', 'tsx', script, ...args], { ipc: true });
}

/**
 * Kills `pid` at exit unless `release` is called first: for processes a started daemon forked
 * itself, which would outlive it if the daemon were killed hard.
 */
export function ownPid(pid: number): { release(): void } {
  installHooks();
  trackedPids.add(pid);
  return { release: () => trackedPids.delete(pid) };
}

/** SIGKILL, if the process still exists. */
export function killIfAlive(pid: number): void {
  if (statFields(pid) !== undefined) killByPid(pid, 'SIGKILL');
}

let clockTicks: number | undefined;

/** Kernel clock ticks per second, the unit of /proc/PID/stat and /proc/stat CPU times. */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    clockTicks = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** Fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** User plus system CPU seconds the process has used (all its threads); 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  if (!f) return 0;
  // After the name: state(0) ppid(1) ... utime(11) stime(12).
  return (Number(f[11]) + Number(f[12])) / ticksPerSecond();
}

/** PIDs whose parent is `pid` (a daemon's plugin processes). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f && Number(f[1]) === pid) out.push(Number(entry));
  }
  return out.sort((a, b) => a - b);
}
