/**
 * Runs one external program of the lab (a generator, an exporter) from an argv array, never
 * through a shell, and kills it by PID when it overruns. Children still alive when the test
 * process exits are killed too, so a failed or timed-out test leaves no exporter behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the process overran `timeoutMs` and was killed. */
  timedOut: boolean;
}

export interface RunOptions {
  /** Written to the child's stdin, which is then closed; stdin is /dev/null without it. */
  stdin?: string;
  timeoutMs: number;
}

const live = new Set<ChildProcess>();

function killByPid(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // Already gone between the check and the kill.
  }
}

process.once('exit', () => {
  for (const child of live) killByPid(child);
});

export function runProcess(argv: readonly string[], options: RunOptions): Promise<ProcessResult> {
  const [command, ...args] = argv;
  if (command === undefined) return Promise.reject(new Error('runProcess needs a non-empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    live.add(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    child.stdout?.on('data', (d: Buffer) => stdout.push(d));
    child.stderr?.on('data', (d: Buffer) => stderr.push(d));
    const timer = setTimeout(() => {
      timedOut = true;
      killByPid(child);
    }, options.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      live.delete(child);
      reject(new Error(`could not start ${command}: ${e.message}`, { cause: e }));
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        timedOut,
      });
    });
    if (options.stdin !== undefined) {
      // A child that exits without reading its stdin makes this write fail with EPIPE; its exit
      // status and stderr say why, so the write error itself is not the story.
      child.stdin?.on('error', () => {});
      child.stdin?.end(options.stdin);
    }
  });
}
