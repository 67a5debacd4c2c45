/**
 * Runs vtysh with one `-c` argument per command, without a shell. vtysh exits non-zero on an
 * unknown or failed command; some refusals ("% Refusing to remove a non-existent route") still
 * exit 0, so lines starting with "%" count as errors too.
 */
import { execFile } from 'node:child_process';
import { type ErrorCode, FloodgateError } from '../../core/errors.js';

export interface VtyshOptions {
  vtysh: string;
  vtySocket?: string;
  timeoutMs: number;
}

export type VtyshRunner = (commands: readonly string[], code: ErrorCode) => Promise<string>;

export function vtyshRunner(options: VtyshOptions): VtyshRunner {
  const base = options.vtySocket === undefined ? [] : ['--vty_socket', options.vtySocket];
  return (commands, code) =>
    new Promise((resolve, reject) => {
      const args = [...base, ...commands.flatMap((c) => ['-c', c])];
      execFile(
        options.vtysh,
        args,
        { timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const problems = `${stdout}\n${stderr}`
            .split('\n')
            .map((l) => l.trim())
            .filter((l) => l.startsWith('%'));
          if (err || problems.length > 0) {
            const why = problems.join('; ') || stderr.trim() || (err as Error).message;
            reject(
              new FloodgateError(code, `vtysh ${commands.map((c) => `-c '${c}'`).join(' ')} failed: ${why}`, {
                commands,
                exitCode: (err as { code?: unknown } | null)?.code ?? 0,
              }),
            );
            return;
          }
          resolve(stdout);
        },
      );
    });
}
