/**
 * The FRR adapter on top of a command runner: the vtysh argv it hands the runner (the same
 * locally and over SSH), how it reads vtysh's answers, and how runner failures (SSH down, host
 * key mismatch) surface in apply() and health(). The real sshd + FRR run in
 * test/interop/frr-ssh.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AdapterContext } from '../../../adapters/contract.js';
import type { CommandResult, CommandRunner } from '../../../adapters/exec/command-runner.js';
import { commandText } from '../../../adapters/frr/commands.js';
import { frrConfigSchema } from '../../../adapters/frr/config.js';
import { createFrrAdapter } from '../../../adapters/frr/frr-adapter.js';
import { frrPlugin } from '../../../adapters/frr/plugin.js';
import { createAdapterRegistry } from '../../../adapters/registry.js';
import { FloodgateError, isFloodgateError } from '../../../core/errors.js';
import { nullLogger } from '../../../core/logger.js';
import type { BlackholeIntent } from '../../../core/mitigation/intent.js';
import { type BlackholeContent, intentId } from '../../../core/mitigation/intent-id.js';
import { runAdapterConformance } from '../../conformance/adapter.js';
import { type FakeFrr, fakeFrr } from './fake-frr.js';

const HOST_KEY = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';
const dir = mkdtempSync(join(tmpdir(), 'fg-frr-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ctx(): AdapterContext {
  let clock = 1_763_734_740_000;
  return { name: 'edge-frr', logger: nullLogger, now: () => clock++ };
}

function rtbh(content: Partial<BlackholeContent> = {}): BlackholeIntent {
  const c: BlackholeContent = {
    kind: 'rtbh',
    ipVersion: 4,
    prefix: '203.0.113.66/32',
    nextHop: '192.0.2.1',
    communities: ['65535:666'],
    ...content,
  };
  return { ...c, id: intentId(c), incidentId: 'inc-frr' };
}

/** A runner in front of the fake router that records every argv, like an SSH runner would see it. */
interface FakeRunner extends CommandRunner {
  argvs: string[][];
  /** The next run rejects with this error (what the SSH runner throws). */
  failWith: FloodgateError | undefined;
  /** The next run resolves with this result instead of asking the fake router. */
  answer: Partial<CommandResult> | undefined;
  closed: number;
  reconnect(): void;
}

function fakeRunner(frr: FakeFrr, where = 'ssh floodgate@192.0.2.10:22'): FakeRunner {
  const listeners: (() => void)[] = [];
  const runner: FakeRunner = {
    where,
    argvs: [],
    failWith: undefined,
    answer: undefined,
    closed: 0,
    async run(argv) {
      runner.argvs.push([...argv]);
      if (runner.failWith) {
        const e = runner.failWith;
        runner.failWith = undefined;
        throw e;
      }
      if (runner.answer) {
        const a = runner.answer;
        runner.answer = undefined;
        return { exitCode: 0, stdout: '', stderr: '', durationMs: 1, ...a };
      }
      const commands = argv.flatMap((w, i) => (argv[i - 1] === '-c' ? [w] : []));
      try {
        return {
          exitCode: 0,
          stdout: await frr.run(commands, 'FG_ERR_ADAPTER_APPLY'),
          stderr: '',
          durationMs: 1,
        };
      } catch (e) {
        // vtysh prints FRR's complaint and exits 1.
        return {
          exitCode: 1,
          stdout: `${(e as Error).message.replace(/^.*?(%)/, '$1')}\n`,
          stderr: '',
          durationMs: 1,
        };
      }
    },
    async close() {
      runner.closed++;
    },
    onReconnect(listener) {
      listeners.push(listener);
    },
    reconnect() {
      for (const l of listeners) l();
    },
  };
  return runner;
}

function make(runner: CommandRunner, config: Record<string, unknown> = {}) {
  return createFrrAdapter(frrConfigSchema.parse(config), ctx(), { runner });
}

runAdapterConformance('frr (fake runner)', () => make(fakeRunner(fakeFrr())));

describe('FRR adapter through a command runner', () => {
  it('hands the runner the vtysh argv: binary, --vty_socket, one -c per command', async () => {
    const frr = fakeFrr();
    const runner = fakeRunner(frr);
    const adapter = make(runner, { vtysh: '/usr/local/bin/vtysh', vtySocket: '/run/frr-edge' });
    await adapter.start();
    expect(runner.argvs[0]).toEqual([
      '/usr/local/bin/vtysh',
      '--vty_socket',
      '/run/frr-edge',
      '-c',
      'show running-config',
    ]);
    const receipt = await adapter.apply(rtbh());
    const applied = runner.argvs.at(-1)!;
    expect(applied.slice(0, 5)).toEqual([
      '/usr/local/bin/vtysh',
      '--vty_socket',
      '/run/frr-edge',
      '-c',
      'configure terminal',
    ]);
    // The receipt shows the same commands as the argv carried.
    expect(receipt.command).toBe(commandText(applied.filter((_, i) => applied[i - 1] === '-c')));
    expect(frr.statics.get('ip 203.0.113.66/32')).toBe((receipt.details as { tag: number }).tag);
    expect((await adapter.list()).map((r) => r.intentId)).toEqual([rtbh().id]);
    expect((await adapter.withdraw(receipt)).wasPresent).toBe(true);
    expect(frr.statics.size).toBe(0);
    await adapter.stop();
    expect(runner.closed).toBe(1);
  });

  it('a "%" line with exit 0, or a non-zero exit, fails the change naming where vtysh ran', async () => {
    const runner = fakeRunner(fakeFrr());
    const adapter = make(runner);
    await adapter.start();
    runner.answer = { exitCode: 0, stdout: '% Unknown command: bogus\n' };
    await expect(adapter.apply(rtbh())).rejects.toThrow(
      /^FG_ERR_ADAPTER_APPLY: vtysh -c 'show running-config' failed on ssh floodgate@192\.0\.2\.10:22: % Unknown command: bogus$/,
    );
    runner.answer = { exitCode: 1, stderr: 'sudo: a password is required\nsecond line\n' };
    await expect(adapter.apply(rtbh())).rejects.toThrow(
      /failed on ssh .*: sudo: a password is required; second line$/,
    );
    // vtysh's notice about a vtysh.conf a frrvty-only user may not read is not a failure: the
    // configuration it printed after it is read (here it lacks the redistribution).
    runner.answer = {
      exitCode: 0,
      stdout:
        "% Can't open configuration file /etc/frr/vtysh.conf due to 'Permission denied'.\nrouter bgp 65001\n",
    };
    expect((await adapter.health()).detail).toMatch(/^FRR's bgpd does not "redistribute static route-map/);
    runner.answer = { exitCode: 127, stderr: '' };
    await expect(adapter.apply(rtbh())).rejects.toThrow(/: exit status 127$/);
  });

  it('runner failures pass through with their code; health says what is wrong in one line', async () => {
    const runner = fakeRunner(fakeFrr());
    const adapter = make(runner);
    await adapter.start();
    const mismatch = new FloodgateError(
      'FG_ERR_SSH_HOST_KEY',
      'ssh floodgate@192.0.2.10:22: the server presented host key SHA256:x (ssh-ed25519), but the configuration pins SHA256:y',
    );
    runner.failWith = mismatch;
    let error: unknown;
    try {
      await adapter.apply(rtbh());
    } catch (e) {
      error = e;
    }
    expect(isFloodgateError(error) && error.code).toBe('FG_ERR_SSH_HOST_KEY');
    runner.failWith = mismatch;
    const h = await adapter.health();
    expect(h.ok).toBe(false);
    expect(h.detail).toBe(`FRR via /usr/bin/vtysh over ssh floodgate@192.0.2.10:22: ${mismatch.message}`);
    runner.failWith = new FloodgateError('FG_ERR_EXEC_TIMEOUT', 'first\nsecond');
    expect((await adapter.health()).detail).not.toContain('\n');
    expect((await adapter.health()).detail).toBe(
      'FRR via /usr/bin/vtysh over ssh floodgate@192.0.2.10:22: route map FLOODGATE-RTBH redistributed',
    );
  });

  it('forwards the runner reconnects to onReconnect; a local vtysh has no onReconnect', async () => {
    const runner = fakeRunner(fakeFrr());
    const adapter = make(runner);
    const heard: number[] = [];
    adapter.onReconnect!(() => heard.push(1));
    runner.reconnect();
    expect(heard).toEqual([1]);
    expect(createFrrAdapter(frrConfigSchema.parse({}), ctx()).onReconnect).toBeUndefined();
  });

  it('configuration: an ssh block with defaults, and its refusals with their paths', () => {
    const config = frrConfigSchema.parse({
      ssh: {
        host: '192.0.2.10',
        user: 'floodgate',
        privateKeyFile: '/etc/floodgate/frr_ed25519',
        hostKey: HOST_KEY,
      },
    });
    expect(config.ssh).toEqual({
      host: '192.0.2.10',
      port: 22,
      user: 'floodgate',
      privateKeyFile: '/etc/floodgate/frr_ed25519',
      hostKey: HOST_KEY,
      sudo: false,
      connectTimeoutMs: 10_000,
      keepaliveIntervalMs: 15_000,
    });
    const registry = createAdapterRegistry();
    registry.register(frrPlugin);
    expect(() =>
      registry.instantiate(
        [
          {
            name: 'f',
            type: 'frr',
            config: {
              ssh: { host: '192.0.2.10', user: 'floodgate', privateKeyFile: 'key', hostKey: 'ab:cd' },
            },
          },
        ],
        { logger: nullLogger, now: () => 0 },
      ),
    ).toThrow(/adapters\[0\]\.config\.ssh\.privateKeyFile.*adapters\[0\]\.config\.ssh\.hostKey/s);
  });

  it('with an ssh block, vtysh goes over SSH: an unreachable router is an FG_ERR_SSH_CONNECT health line', async () => {
    const key = join(dir, 'id_ed25519');
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status).toBe(0);
    const adapter = createFrrAdapter(
      frrConfigSchema.parse({
        ssh: { host: '127.0.0.1', port: 1, user: 'floodgate', privateKeyFile: key, hostKey: HOST_KEY },
      }),
      ctx(),
    );
    expect(adapter.onReconnect).toBeTypeOf('function');
    await adapter.start();
    const h = await adapter.health();
    expect(h.ok).toBe(false);
    expect(h.detail).toMatch(
      /^FRR via \/usr\/bin\/vtysh over ssh floodgate@127\.0\.0\.1:1: FG_ERR_SSH_CONNECT: ssh floodgate@127\.0\.0\.1:1: cannot connect: .*ECONNREFUSED/,
    );
    await expect(adapter.apply(rtbh())).rejects.toThrow(/^FG_ERR_SSH_CONNECT: /);
    await adapter.stop();
  });
});
