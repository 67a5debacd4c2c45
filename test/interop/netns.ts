/**
 * A throwaway network namespace for the BGP interop lab: every daemon of a test runs inside one
 * namespace of its own, on loopback addresses only, so tests never touch the host's routing and
 * two test files never see each other's sessions.
 *
 * Programs run as `ip netns exec NAME argv...` from argv arrays, never through a shell. `ip netns
 * exec` execs the program in place, so the PID we hold is the daemon's own: everything is killed
 * by PID. Cleanup kills every process started here, then any process still inside the namespace
 * (children of our daemons, such as ExaBGP's helper), then deletes the namespace by name. It runs
 * from the test's `afterAll`, and again from process exit and signal hooks, so a failed or
 * interrupted test leaves nothing behind.
 *
 * Usage:
 *   requireRoot();
 *   const ns = await createNetns('exabgp');
 *   await ns.addAddress('127.0.0.2/8');
 *   const bird = ns.start(['bird', '-f', '-c', conf, '-s', sock], { name: 'bird' });
 *   ...
 *   await ns.cleanup();   // in afterAll
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';

const IP = '/usr/sbin/ip';
/** Output kept per process for failure messages; older output is dropped. */
const OUTPUT_KEEP = 64 * 1024;

/** Fails with a message saying what to do when the test process is not root. */
export function requireRoot(): void {
  const uid = process.getuid?.();
  if (uid !== 0) {
    throw new Error(
      `the BGP interop lab needs root (it creates network namespaces with "ip netns add" and runs ` +
        `daemons inside them); this process runs as uid ${uid ?? 'unknown'}. ` +
        'Run the interop tests as root, e.g. "sudo npx vitest run test/interop".',
    );
  }
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** Shown in errors and logs; defaults to the program name. */
  name?: string;
  /** Extra environment, merged over the test process's. */
  env?: Record<string, string>;
  /** Every output line is also appended to this file (handy when a daemon misbehaves). */
  logFile?: string;
  /** Working directory of the program. */
  cwd?: string;
}

/** A program running inside the namespace. */
export interface NetnsProcess {
  readonly name: string;
  readonly argv: readonly string[];
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  /** True until the process has exited. */
  running(): boolean;
  /** The last OUTPUT_KEEP bytes of stdout and stderr, interleaved as they came. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

export interface RunResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

export interface Netns {
  readonly name: string;
  /** Adds an address to `lo`: "127.0.0.2/8", "10.99.0.4/32", "fd00:99::2/128". */
  addAddress(cidr: string): Promise<void>;
  /** Starts a long-running program inside the namespace; it is killed on cleanup. */
  start(argv: readonly string[], options?: StartOptions): NetnsProcess;
  /** Runs a program inside the namespace to completion (killed by PID after `timeoutMs`). */
  run(
    argv: readonly string[],
    options?: { timeoutMs?: number; env?: Record<string, string> },
  ): Promise<RunResult>;
  /** Kills everything started here and deletes the namespace. Safe to call more than once. */
  cleanup(): Promise<void>;
}

const liveNamespaces = new Set<NamespaceState>();

interface NamespaceState {
  name: string;
  processes: Set<ChildProcess>;
  deleted: boolean;
}

function alive(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** PIDs of every process inside the namespace, whoever started it (our daemons' children). */
function pidsInside(name: string): number[] {
  const r = spawnSync(IP, ['netns', 'pids', name], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => Number.parseInt(l.trim(), 10))
    .filter((n) => Number.isInteger(n) && n > 1 && n !== process.pid);
}

/** The synchronous last resort, for exit and signal hooks: SIGKILL everything, delete the namespace. */
function destroySync(state: NamespaceState): void {
  if (state.deleted) return;
  for (const child of state.processes) if (alive(child)) killPid(child.pid as number, 'SIGKILL');
  for (const pid of pidsInside(state.name)) killPid(pid, 'SIGKILL');
  spawnSync(IP, ['netns', 'delete', state.name], { stdio: 'ignore', timeout: 10_000 });
  state.deleted = true;
  liveNamespaces.delete(state);
}

let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', () => {
    for (const state of [...liveNamespaces]) destroySync(state);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      for (const state of [...liveNamespaces]) destroySync(state);
      // Re-raise with the default disposition so the process still dies of the signal.
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function runIp(args: readonly string[], timeoutMs = 10_000): Promise<RunResult> {
  return runToEnd([IP, ...args], timeoutMs, undefined, undefined);
}

function runToEnd(
  argv: readonly string[],
  timeoutMs: number,
  env: Record<string, string> | undefined,
  track: Set<ChildProcess> | undefined,
): Promise<RunResult> {
  const [command, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: env ? { ...process.env, ...env } : process.env,
    });
    track?.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) killPid(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      track?.delete(child);
      reject(new Error(`could not start ${command}: ${e.message}`, { cause: e }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      track?.delete(child);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

async function mustIp(args: readonly string[]): Promise<void> {
  const r = await runIp(args);
  if (r.code !== 0) {
    throw new Error(`"ip ${args.join(' ')}" failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  }
}

/**
 * Creates a namespace named `fg-<label>-<pid>-<random>` with `lo` up. Call `requireRoot()` first
 * for a clear message; this throws the `ip` error otherwise.
 */
export async function createNetns(label = 'lab'): Promise<Netns> {
  installExitHooks();
  const safeLabel = label.replace(/[^a-zA-Z0-9]/g, '').slice(0, 12) || 'lab';
  const name = `fg-${safeLabel}-${process.pid}-${randomBytes(3).toString('hex')}`;
  await mustIp(['netns', 'add', name]);
  const state: NamespaceState = { name, processes: new Set(), deleted: false };
  liveNamespaces.add(state);
  try {
    await mustIp(['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (e) {
    destroySync(state);
    throw e;
  }

  const start = (argv: readonly string[], options: StartOptions = {}): NetnsProcess => {
    if (state.deleted) throw new Error(`namespace ${name} is already deleted`);
    if (argv.length === 0) throw new Error('start needs a non-empty argv');
    const label = options.name ?? argv[0]!;
    const child = spawn(IP, ['netns', 'exec', name, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ? { ...process.env, ...options.env } : process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    if (child.pid === undefined) {
      throw new Error(`could not start ${label} (${argv.join(' ')}) in namespace ${name}`);
    }
    state.processes.add(child);
    let kept = '';
    const keep = (d: Buffer): void => {
      const text = d.toString('utf8');
      kept = (kept + text).slice(-OUTPUT_KEEP);
      if (options.logFile) appendFileSync(options.logFile, text);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => {
        state.processes.delete(child);
        resolve({ code, signal });
      });
      child.once('error', () => {
        state.processes.delete(child);
        resolve({ code: null, signal: null });
      });
    });
    const pid = child.pid;
    return {
      name: label,
      argv: [...argv],
      pid,
      child,
      exited,
      running: () => alive(child),
      output: () => kept,
      stop: async (graceMs = 3_000) => {
        if (!alive(child)) return exited;
        killPid(pid, 'SIGTERM');
        const timer = setTimeout(() => killPid(pid, 'SIGKILL'), graceMs);
        const status = await exited;
        clearTimeout(timer);
        return status;
      },
    };
  };

  return {
    name,
    addAddress: async (cidr) => {
      const v6 = cidr.includes(':');
      await mustIp(['-n', name, 'addr', 'add', cidr, 'dev', 'lo', ...(v6 ? ['nodad'] : [])]);
    },
    start,
    run: (argv, options = {}) => {
      if (state.deleted) return Promise.reject(new Error(`namespace ${name} is already deleted`));
      return runToEnd(
        ['ip', 'netns', 'exec', name, ...argv],
        options.timeoutMs ?? 30_000,
        options.env,
        state.processes,
      );
    },
    cleanup: async () => {
      if (state.deleted) return;
      const stopping = [...state.processes].filter(alive);
      for (const child of stopping) killPid(child.pid as number, 'SIGTERM');
      const gone = Promise.all(
        stopping.map((c) => new Promise<void>((r) => (alive(c) ? c.once('exit', () => r()) : r()))),
      );
      const deadline = new Promise<void>((r) => setTimeout(r, 3_000).unref());
      await Promise.race([gone, deadline]);
      destroySync(state);
    },
  };
}
