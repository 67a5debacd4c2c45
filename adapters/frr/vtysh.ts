/**
 * Runs vtysh with one `-c` argument per command, through a command runner: on this machine or on
 * the router over SSH, the same argv either way (never a shell on our side; the SSH runner quotes
 * each word for the remote one). vtysh exits non-zero on an unknown or failed command; some
 * refusals ("% Refusing to remove a non-existent route") still exit 0, so lines starting with
 * "%" count as errors too, except vtysh's notice that it cannot read its own vtysh.conf: Debian
 * keeps /etc/frr readable by the frr group only, so a user in frrvty alone (all vtysh needs to
 * configure FRR) sees it on every run, and it changes nothing about the commands. A runner that cannot run vtysh at all (SSH unreachable, host key
 * mismatch, timeout) rejects with its own FG_ERR_EXEC_* / FG_ERR_SSH_* error, passed on as is.
 */
import { type ErrorCode, FloodgateError } from '../../core/errors.js';
import type { CommandRunner } from '../exec/command-runner.js';

export interface VtyshOptions {
  vtysh: string;
  vtySocket?: string;
  timeoutMs: number;
  runner: CommandRunner;
}

/** Printed by vtysh for a vtysh.conf it may not read; only vtysh's own settings are skipped. */
const HARMLESS_RE = /^% Can't open configuration file \S*vtysh\.conf\b/;

export type VtyshRunner = (commands: readonly string[], code: ErrorCode) => Promise<string>;

/** The argv of one vtysh run. */
export function vtyshArgv(
  options: Pick<VtyshOptions, 'vtysh' | 'vtySocket'>,
  commands: readonly string[],
): string[] {
  return [
    options.vtysh,
    ...(options.vtySocket === undefined ? [] : ['--vty_socket', options.vtySocket]),
    ...commands.flatMap((c) => ['-c', c]),
  ];
}

export function vtyshRunner(options: VtyshOptions): VtyshRunner {
  const where = options.runner.where === 'local' ? '' : ` on ${options.runner.where}`;
  return async (commands, code) => {
    const result = await options.runner.run(vtyshArgv(options, commands), { timeoutMs: options.timeoutMs });
    const problems = `${result.stdout}\n${result.stderr}`
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('%') && !HARMLESS_RE.test(l));
    if (result.exitCode !== 0 || problems.length > 0) {
      const why =
        problems.join('; ') ||
        result.stderr.trim().replace(/\s*\n\s*/g, '; ') ||
        `exit status ${result.exitCode}`;
      throw new FloodgateError(
        code,
        `vtysh ${commands.map((c) => `-c '${c}'`).join(' ')} failed${where}: ${why}`,
        { commands, exitCode: result.exitCode, where: options.runner.where },
      );
    }
    return result.stdout;
  };
}
