import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalRunner, localArgv } from '../../../adapters/exec/local-runner.js';
import { isFloodgateError } from '../../../core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-local-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (e) {
    return { code: isFloodgateError(e) ? e.code : 'not a FloodgateError', message: (e as Error).message };
  }
  throw new Error('expected a rejection');
}

function processAlive(pattern: RegExp): boolean {
  // Every process's command line, read from /proc (pgrep would see itself).
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .some((p) => {
      try {
        return pattern.test(readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ').trim());
      } catch {
        return false;
      }
    });
}

describe('local command runner', () => {
  it('runs argv without a shell and reports exit code, stdout, stderr and duration', async () => {
    const run = createLocalRunner();
    expect(run.where).toBe('local');
    const out = await run.run(['printf', '%s|', '$HOME', 'a b', "it's", '', '`id`; echo x']);
    expect(out).toMatchObject({ exitCode: 0, stdout: "$HOME|a b|it's||`id`; echo x|", stderr: '' });
    expect(out.durationMs).toBeGreaterThanOrEqual(0);
    const failing = await run.run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(failing).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    expect((await run.run(['false'])).exitCode).toBe(1);
  });

  it('writes stdin then closes it; without stdin the command reads end of file', async () => {
    const run = createLocalRunner();
    expect((await run.run(['cat'], { stdin: 'line 1\nline 2' })).stdout).toBe('line 1\nline 2');
    expect((await run.run(['cat'])).stdout).toBe('');
    // A command that never reads its input still succeeds.
    expect((await run.run(['true'], { stdin: 'x'.repeat(1 << 20) })).exitCode).toBe(0);
  });

  it('a process killed by a signal reports 128 + the signal number', async () => {
    const run = createLocalRunner();
    expect((await run.run(['sh', '-c', 'kill -TERM $$'])).exitCode).toBe(128 + 15);
    expect((await run.run(['sh', '-c', 'kill -KILL $$'])).exitCode).toBe(128 + 9);
  });

  it('a missing or non-executable binary is FG_ERR_EXEC_START', async () => {
    const run = createLocalRunner();
    const missing = await failure(run.run(['/nonexistent/floodgate-tool', 'x']));
    expect(missing.code).toBe('FG_ERR_EXEC_START');
    expect(missing.message).toMatch(/cannot start \/nonexistent\/floodgate-tool \(ENOENT\)/);
    const notExecutable = join(dir, 'not-executable');
    writeFileSync(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
    expect((await failure(run.run([notExecutable]))).code).toBe('FG_ERR_EXEC_START');
    expect((await failure(run.run([]))).code).toBe('FG_ERR_EXEC_START');
  });

  it('a command past its deadline is killed with everything it started: FG_ERR_EXEC_TIMEOUT', async () => {
    const run = createLocalRunner({ timeoutMs: 300 });
    const started = Date.now();
    // The shell starts a child of its own: the whole process group goes.
    const timedOut = await failure(run.run(['sh', '-c', 'sleep 41.3 & sleep 41.4; wait']));
    expect(timedOut.code).toBe('FG_ERR_EXEC_TIMEOUT');
    expect(timedOut.message).toMatch(/did not finish within 300 ms and was killed/);
    expect(Date.now() - started).toBeLessThan(3_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(processAlive(/^sleep 41\.[34]$/)).toBe(false);
    // The per-command deadline overrides the runner's.
    expect((await run.run(['sleep', '0.5'], { timeoutMs: 5_000 })).exitCode).toBe(0);
  });

  it('puts the prefix in front of every command', async () => {
    const run = createLocalRunner({ prefix: ['env', 'FG_TEST_VAR=from prefix'] });
    expect((await run.run(['sh', '-c', 'echo "$FG_TEST_VAR"'])).stdout).toBe('from prefix\n');
  });

  it('with sudo runs sudo -n -- before the prefix and the command', async () => {
    expect(localArgv({}, ['id'])).toEqual(['id']);
    expect(localArgv({ sudo: true, prefix: ['ip', 'netns', 'exec', 'ns1'] }, ['vtysh', '-c', 'x'])).toEqual([
      'sudo',
      '-n',
      '--',
      'ip',
      'netns',
      'exec',
      'ns1',
      'vtysh',
      '-c',
      'x',
    ]);
    // A fake sudo shows the argv it receives, word for word.
    const fakeSudo = join(dir, 'fake-sudo');
    writeFileSync(fakeSudo, '#!/bin/sh\nprintf \'[%s]\' "$@"\n');
    chmodSync(fakeSudo, 0o755);
    const viaFake = createLocalRunner({ sudo: { path: fakeSudo }, prefix: ['env'] });
    expect((await viaFake.run(['ipset', 'add', 'a b', ''])).stdout).toBe('[-n][--][env][ipset][add][a b][]');
    // The real sudo (the tests run as root, so -n needs no password).
    const viaSudo = createLocalRunner({ sudo: true });
    const real = await viaSudo.run(['sh', '-c', 'echo "$(id -u) $SUDO_COMMAND"']);
    expect(real.exitCode, real.stderr).toBe(0);
    expect(real.stdout).toMatch(/^0 \S*\/sh -c echo "\$\(id -u\) \$SUDO_COMMAND"\n$/);
  });

  it('with sudo and a user runs sudo -n -u USER --, as that user', async () => {
    expect(localArgv({ sudo: { user: 'fwadmin' } }, ['iptables', '-S'])).toEqual([
      'sudo',
      '-n',
      '-u',
      'fwadmin',
      '--',
      'iptables',
      '-S',
    ]);
    // The tests run as root, so sudo -n -u nobody needs no password.
    const asNobody = await createLocalRunner({ sudo: { user: 'nobody' } }).run(['id', '-un']);
    expect(asNobody.exitCode, asNobody.stderr).toBe(0);
    expect(asNobody.stdout).toBe('nobody\n');
  });
});
