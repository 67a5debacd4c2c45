import { describe, expect, it } from 'vitest';
import type { CommandStep } from '../../../../adapters/node/actions/action-type.js';
import { runSteps } from '../../../../adapters/node/actions/run-steps.js';
import { FloodgateError } from '../../../../core/errors.js';
import { fakeRunner } from './fixtures.js';

const step = (...argv: string[]): CommandStep => ({ argv });

describe('runSteps', () => {
  it('runs every step in order and reports exactly what ran', async () => {
    const runner = fakeRunner((argv) => ({ stdout: `out of ${argv[1]}`, stderr: '', exitCode: 0 }));
    const outcomes = await runSteps([step('tool', 'one'), step('tool', 'two words')], runner);
    expect(runner.calls).toEqual([
      ['tool', 'one'],
      ['tool', 'two words'],
    ]);
    expect(outcomes.map((o) => [o.command, o.ok, o.skipped, o.exitCode, o.stdout])).toEqual([
      ['tool one', true, false, 0, 'out of one'],
      ["tool 'two words'", true, false, 0, 'out of two words'],
    ]);
    expect(outcomes[0]!.ms).toBeGreaterThanOrEqual(0);
  });

  it('skips a step when any of its checks passes, and runs it when none does', async () => {
    const runner = fakeRunner((argv) => {
      if (argv[1] === '-C') return { exitCode: argv[2] === 'present' ? 0 : 1 };
      if (argv[1] === 'list') return { stdout: 'Number of entries: 3\nReferences: 1\n' };
      return {};
    });
    const outcomes = await runSteps(
      [
        { argv: ['tool', 'add', 'present'], skipIf: [{ argv: ['tool', '-C', 'present'] }] },
        { argv: ['tool', 'add', 'absent'], skipIf: [{ argv: ['tool', '-C', 'absent'] }] },
        {
          argv: ['tool', 'destroy'],
          skipIf: [
            { argv: ['tool', 'list'], stdoutMatches: '^Number of entries: 0$' },
            { argv: ['tool', 'list'], stdoutLacks: '^References: 0$' },
          ],
        },
      ],
      runner,
    );
    expect(outcomes.map((o) => o.skipped)).toEqual([true, false, true]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(outcomes[0]!.exitCode).toBeNull();
    expect(outcomes[2]!.checks.map((c) => c.passed)).toEqual([false, true]);
    expect(runner.calls).toEqual([
      ['tool', '-C', 'present'],
      ['tool', '-C', 'absent'],
      ['tool', 'add', 'absent'],
      ['tool', 'list'],
      ['tool', 'list'],
    ]);
  });

  it('lets a step run when its check fails for another reason, so the step reports it', async () => {
    const runner = fakeRunner((argv) =>
      argv[1] === '-C' ? { exitCode: 2 } : { exitCode: 2, stderr: 'unknown option\nmore' },
    );
    const [outcome] = await runSteps(
      [{ argv: ['tool', '-I', 'x'], skipIf: [{ argv: ['tool', '-C', 'x'] }] }],
      runner,
    );
    expect(outcome).toMatchObject({
      ok: false,
      skipped: false,
      exitCode: 2,
      error: 'exited 2: unknown option',
    });
  });

  it('stops an apply at the first failure', async () => {
    const runner = fakeRunner((argv) => ({ exitCode: argv[1] === 'b' ? 1 : 0 }));
    const outcomes = await runSteps([step('t', 'a'), step('t', 'b'), step('t', 'c')], runner);
    expect(outcomes.map((o) => [o.argv[1], o.ok])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(runner.calls).toHaveLength(2);
  });

  it('goes on through every undo step after a failure', async () => {
    const runner = fakeRunner((argv) => ({ exitCode: argv[1] === 'b' ? 1 : 0 }));
    const outcomes = await runSteps([step('t', 'a'), step('t', 'b'), step('t', 'c')], runner, {
      mode: 'undo',
    });
    expect(outcomes.map((o) => [o.argv[1], o.ok])).toEqual([
      ['a', true],
      ['b', false],
      ['c', true],
    ]);
  });

  it('turns a runner that cannot run the command into a failed outcome, never a throw', async () => {
    const runner = fakeRunner((argv) =>
      argv[0] === 'missing'
        ? new FloodgateError('FG_ERR_EXEC_START', 'missing: not found')
        : argv[1] === 'check'
          ? new Error('ssh down')
          : {},
    );
    const outcomes = await runSteps(
      [step('missing'), { argv: ['t', 'x'], skipIf: [{ argv: ['t', 'check'] }] }, step('t', 'fine')],
      runner,
      { mode: 'undo' },
    );
    expect(outcomes[0]).toMatchObject({
      ok: false,
      exitCode: null,
      error: 'FG_ERR_EXEC_START: missing: not found',
    });
    expect(outcomes[1]).toMatchObject({ ok: false, error: 'check `t check` could not run: ssh down' });
    expect(outcomes[2]!.ok).toBe(true);
  });

  it('checks what a step must print', async () => {
    const runner = fakeRunner(() => ({ stdout: 'Status: inactive\n' }));
    const [outcome] = await runSteps(
      [{ argv: ['ufw', 'status'], expect: { stdoutMatches: '^Status: active' } }],
      runner,
    );
    expect(outcome).toMatchObject({
      ok: false,
      exitCode: 0,
      error: 'its output does not show /^Status: active/',
    });
  });

  it('accepts the exit codes a step declares', async () => {
    const runner = fakeRunner(() => ({ exitCode: 3 }));
    const [outcome] = await runSteps([{ argv: ['t'], expect: { exitCodes: [0, 3] } }], runner);
    expect(outcome!.ok).toBe(true);
  });

  it('refuses a malformed step read back from storage without running it', async () => {
    const runner = fakeRunner();
    const outcomes = await runSteps(
      [
        { argv: [] },
        { argv: ['t', 1 as unknown as string] },
        { argv: ['t'], skipIf: [{ argv: 'rm -rf /' as unknown as string[] }] },
      ],
      runner,
      { mode: 'undo' },
    );
    expect(outcomes.map((o) => o.ok)).toEqual([false, false, false]);
    expect(outcomes[0]!.error).toMatch(/malformed step/);
    expect(runner.calls).toEqual([]);
  });
});
