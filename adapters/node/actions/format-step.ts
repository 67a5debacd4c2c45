/**
 * One line per step for previews and audit entries. It is exactly the argv that runs: each
 * word is POSIX-shell-quoted only when it needs it, so pasting the line into a shell runs the
 * same command.
 */
import type { CommandStep, StepCheck } from './action-type.js';

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** A word as a POSIX shell reads it back unchanged: bare when safe, else in single quotes. */
export function quoteWord(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map(quoteWord).join(' ');
}

export function formatStep(step: Pick<CommandStep, 'argv'>): string {
  return formatArgv(step.argv);
}

function formatCheck(check: StepCheck): string {
  const codes = check.exitCodes ?? [0];
  const parts = [`\`${formatArgv(check.argv)}\` exits ${codes.join(' or ')}`];
  if (check.stdoutMatches !== undefined) parts.push(`prints /${check.stdoutMatches}/`);
  if (check.stdoutLacks !== undefined) parts.push(`does not print /${check.stdoutLacks}/`);
  return parts.join(' and ');
}

/** The step and the checks that guard it, for an operator who wants to see why a step may skip. */
export function describeStep(step: CommandStep): string {
  const line = formatStep(step);
  const only =
    step.onlyIfApplied === undefined ? '' : `    # only if apply step ${step.onlyIfApplied + 1} ran`;
  if (!step.skipIf || step.skipIf.length === 0) return `${line}${only}`;
  return `${line}${only}    # skipped if ${step.skipIf.map(formatCheck).join(', or ')}`;
}
