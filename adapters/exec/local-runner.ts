/**
 * Runs commands on the appliance host itself: spawn with an argv array, never a shell. An
 * optional prefix goes in front of every command (tests use `ip netns exec NS`), and with sudo
 * configured the whole line runs as `sudo -n [-u USER] -- ...` (-n: fail instead of waiting for a
 * password nobody will type). The process gets its own process group, so a timeout kills whatever it
 * started too, not only the first process.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { FloodgateError } from '../../core/errors.js';
import type { CommandResult, CommandRunner, RunOptions } from './command-runner.js';
import { outputBuffer } from './output-buffer.js';
import { posixCommand } from './posix-quote.js';

export interface LocalRunnerOptions {
  /**
   * Run every command through sudo (`true`: `sudo` from PATH, as root; `{ path }`: that binary;
   * `{ user }`: as that user, `sudo -u USER`).
   */
  sudo?: boolean | { path?: string; user?: string };
  /** argv words put in front of every command, after sudo: e.g. ['ip', 'netns', 'exec', 'NS']. */
  prefix?: readonly string[];
  /** Default deadline of a command. */
  timeoutMs?: number;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

/** The argv actually executed for `argv`: sudo, then the prefix, then the command. */
export function localArgv(options: LocalRunnerOptions, argv: readonly string[]): string[] {
  const sudo = options.sudo;
  if (sudo === undefined || sudo === false) return [...(options.prefix ?? []), ...argv];
  const how = typeof sudo === 'object' ? sudo : {};
  return [
    how.path ?? 'sudo',
    '-n',
    ...(how.user === undefined ? [] : ['-u', how.user]),
    '--',
    ...(options.prefix ?? []),
    ...argv,
  ];
}

/** A process killed by a signal reports 128 + the signal number, as a shell does. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

export function createLocalRunner(options: LocalRunnerOptions = {}): CommandRunner {
  const defaultTimeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;

  function run(argv: readonly string[], runOptions: RunOptions = {}): Promise<CommandResult> {
    const full = localArgv(options, argv);
    const text = posixCommand(full);
    const timeoutMs = runOptions.timeoutMs ?? defaultTimeoutMs;
    if (argv.length === 0) {
      return Promise.reject(new FloodgateError('FG_ERR_EXEC_START', 'local: empty command', { argv }));
    }
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const [command, ...args] = full as [string, ...string[]];
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn(command, args, {
          stdio: [runOptions.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
          detached: true,
        });
      } catch (e) {
        reject(
          new FloodgateError('FG_ERR_EXEC_START', `local: cannot start ${text}: ${(e as Error).message}`, {
            argv: full,
          }),
        );
        return;
      }
      const stdout = outputBuffer();
      const stderr = outputBuffer();
      let settled = false;
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const timer = setTimeout(() => {
        killGroup(child.pid);
        finish(() =>
          reject(
            new FloodgateError(
              'FG_ERR_EXEC_TIMEOUT',
              `local: ${text} did not finish within ${timeoutMs} ms and was killed`,
              { argv: full, timeoutMs, stderr: stderr.text().slice(-2048) },
            ),
          ),
        );
      }, timeoutMs);
      const overflow = (): void => {
        killGroup(child.pid);
        finish(() =>
          reject(
            new FloodgateError('FG_ERR_EXEC_FAILED', `local: ${text} printed more output than allowed`, {
              argv: full,
            }),
          ),
        );
      };
      child.stdout?.on('data', (d: Buffer) => stdout.push(d) || overflow());
      child.stderr?.on('data', (d: Buffer) => stderr.push(d) || overflow());
      child.once('error', (e: NodeJS.ErrnoException) => {
        killGroup(child.pid);
        finish(() =>
          reject(
            new FloodgateError(
              'FG_ERR_EXEC_START',
              `local: cannot start ${command} (${e.code ?? e.message}): check that it is installed and executable`,
              { argv: full, errno: e.code },
            ),
          ),
        );
      });
      child.once('close', (code, signal) =>
        finish(() =>
          resolve({
            exitCode: exitCodeOf(code, signal),
            stdout: stdout.text(),
            stderr: stderr.text(),
            durationMs: Math.round(performance.now() - started),
          }),
        ),
      );
      if (runOptions.stdin !== undefined && child.stdin) {
        // A command that exits without reading its input must not fail the run with EPIPE.
        child.stdin.on('error', () => undefined);
        child.stdin.end(runOptions.stdin);
      }
    });
  }

  return {
    where: 'local',
    run,
    close: async () => undefined,
  };
}
