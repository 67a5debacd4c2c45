/**
 * Runs a plan's steps through a CommandRunner, one at a time, and reports each: exactly what ran,
 * its exit code and output. Apply stops at the first failing step (what follows usually depends
 * on it; the caller runs the undo, which is guarded, to clean up). Undo goes on through every
 * step so one failure does not leave the rest in place.
 *
 * Never throws: a step the runner could not start (missing binary, timeout, SSH down) is a failed
 * outcome carrying the runner's message, so the audit sees every attempt.
 */
import { performance } from 'node:perf_hooks';
import type { CommandRunner } from '../../exec/command-runner.js';
import type { CheckOutcome, CommandStep, StepCheck, StepOutcome } from './action-type.js';
import { formatStep } from './format-step.js';

export interface RunStepsOptions {
  /** 'apply' stops at the first failure; 'undo' runs every step. Default 'apply'. */
  mode?: 'apply' | 'undo';
  /** Deadline per command (checks included); the runner's default when absent. */
  timeoutMs?: number;
  /**
   * Undo: which apply steps really ran (appliedSteps()), for steps marked `onlyIfApplied`.
   * Absent (a record from before it was kept): those steps run, guarded by their checks alone.
   */
  appliedSteps?: readonly boolean[];
}

/** Per apply step, whether it ran and succeeded (not skipped, not failed, not reached). */
export function appliedSteps(steps: readonly CommandStep[], outcomes: readonly StepOutcome[]): boolean[] {
  return steps.map((_, i) => outcomes[i]?.ok === true && outcomes[i]?.skipped === false);
}

/** The outcome of an undo step left out because the apply did not make what it removes. */
function notOurs(step: CommandStep): StepOutcome {
  const argv = isArgv(step?.argv) ? [...step.argv] : [];
  return {
    argv,
    command: formatStep({ argv }),
    ok: true,
    skipped: true,
    exitCode: null,
    stdout: '',
    stderr: '',
    ms: 0,
    checks: [],
    error: `left alone: apply step ${(step.onlyIfApplied ?? 0) + 1} found it in place`,
  };
}

function isArgv(value: unknown): value is string[] {
  return (
    Array.isArray(value) && value.length > 0 && value.every((w) => typeof w === 'string') && value[0] !== ''
  );
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function checkPasses(check: StepCheck, exitCode: number, stdout: string): boolean {
  if (!(check.exitCodes ?? [0]).includes(exitCode)) return false;
  if (check.stdoutMatches !== undefined && !new RegExp(check.stdoutMatches, 'm').test(stdout)) return false;
  if (check.stdoutLacks !== undefined && new RegExp(check.stdoutLacks, 'm').test(stdout)) return false;
  return true;
}

async function runStep(step: CommandStep, runner: CommandRunner, timeoutMs?: number): Promise<StepOutcome> {
  const started = performance.now();
  const argv = isArgv(step?.argv) ? [...step.argv] : [];
  const outcome: StepOutcome = {
    argv,
    command: formatStep({ argv }),
    ok: false,
    skipped: false,
    exitCode: null,
    stdout: '',
    stderr: '',
    ms: 0,
    checks: [],
  };
  const done = (): StepOutcome => {
    outcome.ms = Math.round((performance.now() - started) * 10) / 10;
    return outcome;
  };
  const runOptions = timeoutMs === undefined ? undefined : { timeoutMs };
  // Plans are read back from storage: a malformed one is refused here rather than half-run.
  if (argv.length === 0 || !(step.skipIf ?? []).every((c) => isArgv(c?.argv))) {
    outcome.error = 'malformed step: argv must be a non-empty list of strings';
    return done();
  }

  for (const check of step.skipIf ?? []) {
    let passed: boolean;
    let result: CheckOutcome;
    try {
      const r = await runner.run(check.argv, runOptions);
      passed = checkPasses(check, r.exitCode, r.stdout);
      result = { argv: [...check.argv], exitCode: r.exitCode, passed };
    } catch (e) {
      outcome.error = `check \`${formatStep(check)}\` could not run: ${messageOf(e)}`;
      return done();
    }
    outcome.checks.push(result);
    if (passed) {
      outcome.ok = true;
      outcome.skipped = true;
      return done();
    }
  }

  try {
    const r = await runner.run(argv, runOptions);
    outcome.exitCode = r.exitCode;
    outcome.stdout = r.stdout;
    outcome.stderr = r.stderr;
    const codes = step.expect?.exitCodes ?? [0];
    const pattern = step.expect?.stdoutMatches;
    if (!codes.includes(r.exitCode)) {
      outcome.error = `exited ${r.exitCode}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`;
    } else if (pattern !== undefined && !new RegExp(pattern, 'm').test(r.stdout)) {
      outcome.error = `its output does not show /${pattern}/`;
    } else {
      outcome.ok = true;
    }
  } catch (e) {
    outcome.error = messageOf(e);
  }
  return done();
}

export async function runSteps(
  steps: readonly CommandStep[],
  runner: CommandRunner,
  options: RunStepsOptions = {},
): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  for (const step of steps) {
    const applied = step?.onlyIfApplied;
    if (
      typeof applied === 'number' &&
      options.appliedSteps !== undefined &&
      options.appliedSteps[applied] !== true
    ) {
      outcomes.push(notOurs(step));
      continue;
    }
    const outcome = await runStep(step, runner, options.timeoutMs);
    outcomes.push(outcome);
    if (!outcome.ok && (options.mode ?? 'apply') === 'apply') break;
  }
  return outcomes;
}
