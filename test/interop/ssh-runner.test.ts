/**
 * The SSH command runner against a real OpenSSH server (Debian's sshd) in a lab namespace,
 * reached from the test process over a veth pair: exact argv through the remote shell, exit
 * codes, the pinned host key refused before anything is sent, one kept connection for many
 * commands, reconnect after sshd restarts, timeouts that kill the remote command.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../adapters/exec/command-runner.js';
import { createSshRunner, type SshRunner, type SshRunnerOptions } from '../../adapters/exec/ssh-runner.js';
import { isFloodgateError } from '../../core/errors.js';
import { type Netns, requireRoot } from './netns.js';
import {
  fingerprintOf,
  makeKey,
  openSshLab,
  type RunningSshd,
  type SshLab,
  type TestUser,
} from './sshd-lab.js';
import { waitFor } from './wait.js';

/** Words a shell would happily interpret; each must arrive unchanged. */
const HOSTILE = [
  'plain',
  'two words',
  '',
  "it's",
  "'",
  "''",
  '"double"',
  '$HOME',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, sent literally.
  '${PATH}',
  '`id`',
  '$(id)',
  '; echo injected',
  '&& echo injected',
  '| cat',
  'line1\nline2',
  '\ttab',
  '*',
  '?',
  '~',
  '#not a comment',
  '\\',
  '\\n',
  '-n',
  '--',
  '%s %d',
  '!',
  'é ünïcödé 😀',
];

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    return isFloodgateError(e) ? e.code : `not a FloodgateError: ${(e as Error).message}`;
  }
  return 'resolved';
}

describe('SSH runner against a real sshd', () => {
  let ns: Netns;
  let dir: string;
  let lab: SshLab | undefined;
  let sshd: RunningSshd;
  /** The login every runner uses: unprivileged, /bin/sh, passwordless sudo (see sshd-lab.ts). */
  let user: TestUser | undefined;
  const runners: CommandRunner[] = [];

  function runner(overrides: Partial<SshRunnerOptions> = {}): SshRunner {
    const r = createSshRunner({
      host: sshd.address,
      user: user!.name,
      privateKeyFile: sshd.clientKeyFile,
      hostKey: sshd.hostKey,
      connectTimeoutMs: 5_000,
      keepaliveIntervalMs: 1_000,
      ...overrides,
    });
    runners.push(r);
    return r;
  }

  /** Established TCP connections to sshd, as "peer address:port" (seen inside the namespace). */
  async function sshConnections(): Promise<string[]> {
    const r = await ns.run(['ss', '-tnH', 'state', 'established', `( sport = :${sshd.port} )`]);
    expect(r.code).toBe(0);
    return r.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 4)
      .map((f) => f[f.length - 1]!)
      .sort();
  }

  beforeAll(async () => {
    requireRoot();
    lab = await openSshLab('sshrun');
    ({ ns, sshd, dir } = lab);
    user = lab.addUser({ sudo: true });
  });

  afterAll(async () => {
    for (const r of runners) await r.close();
    await lab?.close();
  });

  it('gives the remote command exactly its argv, whatever the words hold', async () => {
    const r = runner();
    expect(r.where).toBe(`ssh ${user!.name}@${sshd.address}:22`);
    expect((await r.run(['id', '-un'])).stdout).toBe(`${user!.name}\n`);
    const out = await r.run(['printf', '%s\\n', ...HOSTILE]);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe(HOSTILE.map((w) => `${w}\n`).join(''));
    // NUL-separated, so word boundaries are exact (a word may hold a newline).
    const exact = await r.run(['printf', '%s\\0', ...HOSTILE]);
    expect(exact.stdout.split('\0').slice(0, -1)).toEqual(HOSTILE);
    expect(exact.stdout.endsWith('\0')).toBe(true);
    // A word that would run a command if the shell saw it unquoted ran nothing.
    const marker = join(dir, 'injected');
    await r.run(['echo', `$(touch ${marker})`, `; touch ${marker}`, `\`touch ${marker}\``]);
    expect(existsSync(marker)).toBe(false);
  });

  it('reports exit codes, stderr, stdin and signals; a missing remote binary is exit 127', async () => {
    const r = runner();
    expect((await r.run(['true'])).exitCode).toBe(0);
    expect((await r.run(['false'])).exitCode).toBe(1);
    const failing = await r.run(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(failing).toMatchObject({ exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
    expect(failing.durationMs).toBeGreaterThanOrEqual(0);
    expect((await r.run(['cat'], { stdin: 'to stdin\nline 2' })).stdout).toBe('to stdin\nline 2');
    expect((await r.run(['sh', '-c', 'kill -TERM $$'])).exitCode).toBe(128 + 15);
    expect((await r.run(['/nonexistent/floodgate-binary'])).exitCode).toBe(127);
  });

  it('with sudo: true runs every command through sudo -n --, words still exact', async () => {
    const r = runner({ sudo: true });
    expect((await r.run(['id', '-u'])).stdout).toBe('0\n');
    const out = await r.run(['sh', '-c', 'printf "%s|%s\\n" "$SUDO_COMMAND" "$1"', 'sh', "a 'b' $c"]);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe(`/usr/bin/sh -c printf "%s|%s\\n" "$SUDO_COMMAND" "$1" sh a 'b' $c|a 'b' $c\n`);
    const plain = await runner().run(['sh', '-c', 'echo "[$SUDO_COMMAND]"']);
    expect(plain.stdout).toBe('[]\n');
  });

  it('refuses a host key other than the pinned one before anything is sent', async () => {
    const otherKey = makeKey(join(dir, 'other_host_key'));
    const pinned = fingerprintOf(`${otherKey}.pub`);
    const logins = sshd.acceptedLogins();
    const marker = join(dir, 'should-not-exist');
    const r = runner({ hostKey: pinned });
    let error: unknown;
    try {
      await r.run(['touch', marker]);
    } catch (e) {
      error = e;
    }
    expect(isFloodgateError(error) && error.code).toBe('FG_ERR_SSH_HOST_KEY');
    const message = (error as Error).message;
    expect(message).toContain(`pins ${pinned}`);
    expect(message).toContain(`presented host key ${sshd.hostKey} (ssh-ed25519)`);
    expect(message).toContain('ssh-keygen -lf');
    expect(existsSync(marker)).toBe(false);
    expect(sshd.acceptedLogins()).toBe(logins);
    // Every later command is refused the same way.
    expect(await codeOf(r.run(['true']))).toBe('FG_ERR_SSH_HOST_KEY');
  });

  it('keeps one TCP connection for many commands, also run in parallel', async () => {
    const logins = sshd.acceptedLogins();
    const before = await sshConnections();
    const r = runner();
    for (let i = 0; i < 10; i++) expect((await r.run(['echo', String(i)])).stdout).toBe(`${i}\n`);
    // More at once than sshd's default MaxSessions (10): the runner queues them on its channels.
    const parallel = await Promise.all(
      Array.from({ length: 15 }, (_, i) => r.run(['sh', '-c', `sleep 0.2; echo ${i}`])),
    );
    expect(parallel.map((p) => p.stdout)).toEqual(Array.from({ length: 15 }, (_, i) => `${i}\n`));
    const after = await sshConnections();
    const mine = after.filter((c) => !before.includes(c));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatch(new RegExp(`^${lab!.link.hostAddress.replaceAll('.', '\\.')}:\\d+$`));
    expect(sshd.acceptedLogins()).toBe(logins + 1);
    await r.close();
    await waitFor(
      'the connection closed',
      async () => (await sshConnections()).length === before.length || undefined,
    );
  });

  it('reconnects on the next command after sshd restarted, and tells its onReconnect listeners', async () => {
    const r = runner();
    let reconnects = 0;
    r.onReconnect(() => reconnects++);
    expect((await r.run(['echo', 'first'])).stdout).toBe('first\n');
    // close() and a new command: not a loss, no reconciliation needed.
    await r.close();
    expect((await r.run(['echo', 'again'])).stdout).toBe('again\n');
    expect(reconnects).toBe(0);

    await sshd.restart();
    // A command racing the drop either runs on the new connection or says the connection is gone.
    let out: string | undefined;
    await waitFor('a command on a new connection', async () => {
      out = (await r.run(['echo', 'after restart'])).stdout;
      return true;
    });
    expect(out).toBe('after restart\n');
    expect(reconnects).toBe(1);
    expect((await r.run(['echo', 'steady'])).stdout).toBe('steady\n');
    expect(reconnects).toBe(1);
  });

  it('a command past its deadline fails with FG_ERR_EXEC_TIMEOUT, is killed, and the connection stays usable', async () => {
    const r = runner({ timeoutMs: 20_000 });
    const logins = sshd.acceptedLogins();
    const started = Date.now();
    let error: unknown;
    try {
      await r.run(['sleep', '31.7'], { timeoutMs: 500 });
    } catch (e) {
      error = e;
    }
    expect(isFloodgateError(error) && error.code).toBe('FG_ERR_EXEC_TIMEOUT');
    expect((error as Error).message).toMatch(/'sleep' '31\.7' did not finish within 500 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await waitFor(
      'the remote sleep to be gone',
      async () =>
        (await ns.run(['pgrep', '-u', user!.name, '-f', '^sleep 31\\.7$'])).code === 1 ? true : undefined,
      { describe: () => `sshd log:\n${sshd.log().slice(-3000)}` },
    );
    expect((await r.run(['echo', 'still here'])).stdout).toBe('still here\n');
    expect(sshd.acceptedLogins()).toBe(logins + 1);
  });

  it('connection failures are FG_ERR_SSH_CONNECT with what to fix', async () => {
    // Nothing listens on this port.
    const closed = runner({ port: 2 });
    expect(await codeOf(closed.run(['true']))).toBe('FG_ERR_SSH_CONNECT');
    // A key the server does not know.
    const stranger = makeKey(join(dir, 'stranger_key'));
    const refused = runner({ privateKeyFile: stranger });
    await expect(refused.run(['true'])).rejects.toThrow(
      new RegExp(`FG_ERR_SSH_CONNECT: .*refused the key for user ${user!.name}`),
    );
    // A missing key file.
    await expect(runner({ privateKeyFile: join(dir, 'missing') }).run(['true'])).rejects.toThrow(
      /FG_ERR_SSH_CONNECT: .*cannot read the private key file/,
    );
    // The authorized key, encrypted: it needs its passphrase, read from passphraseFile.
    const encrypted = join(dir, 'client_encrypted');
    copyFileSync(sshd.clientKeyFile, encrypted);
    chmodSync(encrypted, 0o600);
    const p = spawnSync('ssh-keygen', ['-q', '-p', '-N', 'horse battery', '-P', '', '-f', encrypted], {
      encoding: 'utf8',
    });
    expect(p.status, p.stderr).toBe(0);
    await expect(runner({ privateKeyFile: encrypted }).run(['true'])).rejects.toThrow(
      /FG_ERR_SSH_CONNECT: .*unusable private key .*client_encrypted: .*encrypted; .*passphraseFile/,
    );
    const wrongFile = join(dir, 'wrong-passphrase');
    writeFileSync(wrongFile, 'horse\n', { mode: 0o600 });
    await expect(
      runner({ privateKeyFile: encrypted, passphraseFile: wrongFile }).run(['true']),
    ).rejects.toThrow(/FG_ERR_SSH_CONNECT: .*the passphrase in .*wrong-passphrase does not open this key/);
    const rightFile = join(dir, 'passphrase');
    writeFileSync(rightFile, 'horse battery\n', { mode: 0o600 });
    const unlocked = await runner({ privateKeyFile: encrypted, passphraseFile: rightFile }).run([
      'echo',
      'opened',
    ]);
    expect(unlocked).toMatchObject({ exitCode: 0, stdout: 'opened\n' });
    // A server that accepts TCP but never speaks SSH: the connect deadline applies.
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const started = Date.now();
      const mute = runner({ host: '127.0.0.1', port, connectTimeoutMs: 700 });
      await expect(mute.run(['true'])).rejects.toThrow(
        /FG_ERR_SSH_CONNECT: .*no SSH handshake within 700 ms/,
      );
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      silent.close();
    }
  });
});
