/**
 * A real OpenSSH server for the interop lab, inside a lab namespace, reachable from the test
 * process (which stays outside) over a veth pair: one end in the namespace, one on the host, a
 * random /30 from 100.127.0.0/16 (shared address space, unused on test machines). Keys are made
 * with ssh-keygen into the test's temp dir; sshd runs with its own config, pid file and
 * authorized_keys there, never the system ones, in the foreground (-D) so the PID we hold is
 * the listener's. Restarting kills the listener and every session it forked, which drops the
 * client's connection as a rebooted node would.
 *
 * Deleting the namespace removes the veth pair with it; `removeLink` deletes the host end by
 * name too, for an orderly afterAll.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, type Netns, type NetnsProcess } from './netns.js';
import { waitFor } from './wait.js';

export const SSHD = '/usr/sbin/sshd';
const IP = '/usr/sbin/ip';

export interface HostLink {
  /** The host end's name (`fgh` + 6 hex digits). */
  hostIf: string;
  hostAddress: string;
  /** The address inside the namespace the host reaches. */
  nsAddress: string;
  removeLink(): void;
}

function ip(args: readonly string[]): void {
  const r = spawnSync(IP, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`"ip ${args.join(' ')}" failed: ${r.stderr.trim() || r.stdout.trim()}`);
}

/** Connects the namespace to the host with a veth pair and a /30 on it. */
export function linkToHost(ns: Netns): HostLink {
  const id = randomBytes(3).toString('hex');
  const hostIf = `fgh${id}`;
  const nsIf = `fgn${id}`;
  const block = randomInt(0, 1 << 14) * 4; // a /30 inside 100.127.0.0/16
  const base = `100.127.${block >> 8}.`;
  const hostAddress = `${base}${(block & 0xff) + 1}`;
  const nsAddress = `${base}${(block & 0xff) + 2}`;
  ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', ns.name]);
  const removeLink = (): void => {
    spawnSync(IP, ['link', 'delete', hostIf], { stdio: 'ignore', timeout: 10_000 });
  };
  try {
    ip(['addr', 'add', `${hostAddress}/30`, 'dev', hostIf]);
    ip(['link', 'set', hostIf, 'up']);
    ip(['-n', ns.name, 'addr', 'add', `${nsAddress}/30`, 'dev', nsIf]);
    ip(['-n', ns.name, 'link', 'set', nsIf, 'up']);
  } catch (e) {
    removeLink();
    throw e;
  }
  return { hostIf, hostAddress, nsAddress, removeLink };
}

/** Makes an ed25519 key pair without a passphrase; returns the private key's path. */
export function makeKey(path: string, comment = 'floodgate-test'): string {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  return path;
}

/** The fingerprint as `ssh-keygen -lf` prints it (what docs tell operators to copy). */
export function fingerprintOf(publicKeyPath: string): string {
  const r = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyPath], { encoding: 'utf8' });
  const m = /\b(SHA256:[A-Za-z0-9+/]{43})\b/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`ssh-keygen -lf ${publicKeyPath} failed: ${r.stderr}${r.stdout}`);
  return m[1]!;
}

export interface TestUser {
  name: string;
  remove(): void;
}

const liveUsers = new Set<string>();
let userHookInstalled = false;

function sudoersFile(name: string): string {
  return `/etc/sudoers.d/${name}`;
}

function deleteUser(name: string): void {
  rmSync(sudoersFile(name), { force: true });
  spawnSync('userdel', [name], { stdio: 'ignore', timeout: 10_000 });
  liveUsers.delete(name);
}

/**
 * A throwaway unprivileged login for the lab: `fgssh` + 4 hex digits, shell /bin/sh, no home
 * directory made, password field "*" (sshd refuses a locked "!" account). Tests log in as it
 * rather than as root because (1) that is how the docs tell operators to deploy, (2) a root
 * login runs commands through root's bash, which sources the machine's ~/.bashrc (Debian's bash
 * does so under sshd) and whatever that does, and (3) OpenSSH skips privilege separation after a
 * root login and then refuses "signal" requests, so only a non-root session shows a timed-out
 * command being killed. `groups` adds supplementary groups (frrvty for vtysh); `sudo` allows it
 * passwordless sudo through a file in /etc/sudoers.d. Both go in remove(), and at process exit if
 * a test never got there.
 */
export function addTestUser(home: string, options: { groups?: string[]; sudo?: boolean } = {}): TestUser {
  const name = `fgssh${randomBytes(2).toString('hex')}`;
  const groups = options.groups?.length ? ['-G', options.groups.join(',')] : [];
  const r = spawnSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', '-p', '*', ...groups, name], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`useradd ${name} failed: ${r.stderr}`);
  liveUsers.add(name);
  if (!userHookInstalled) {
    userHookInstalled = true;
    process.once('exit', () => {
      for (const user of [...liveUsers]) deleteUser(user);
    });
  }
  if (options.sudo) {
    writeFileSync(sudoersFile(name), `${name} ALL=(root) NOPASSWD: ALL\n`, { mode: 0o440 });
    const check = spawnSync('visudo', ['-cf', sudoersFile(name)], { encoding: 'utf8' });
    if (check.status !== 0) {
      deleteUser(name);
      throw new Error(`visudo refused ${sudoersFile(name)}: ${check.stdout}${check.stderr}`);
    }
  }
  return { name, remove: () => deleteUser(name) };
}

export interface RunningSshd {
  address: string;
  port: number;
  /** The SHA256 fingerprint of the server's ed25519 host key. */
  hostKey: string;
  /** A private key whose public half is in authorized_keys (one file for every user). */
  clientKeyFile: string;
  /** The listener process. */
  process(): NetnsProcess;
  /** Everything sshd logged (-e), across restarts. */
  log(): string;
  /** How many public-key logins sshd accepted so far. */
  acceptedLogins(): number;
  /** Kills the listener and every session it forked, then starts a fresh sshd (same keys). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The ppid is the 2nd field after the ")" that ends the command name.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

function descendantsOf(pid: number): number[] {
  const all: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    for (const child of childrenOf(todo.pop()!)) {
      all.push(child);
      todo.push(child);
    }
  }
  return all;
}

function bannerSeen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('data', (d: Buffer) => done(d.toString('latin1').startsWith('SSH-2.0-')));
    socket.once('error', () => done(false));
  });
}

export async function startSshd(
  ns: Netns,
  dir: string,
  options: { address: string; port?: number },
): Promise<RunningSshd> {
  const port = options.port ?? 22;
  const sshDir = join(dir, 'sshd');
  mkdirSync(sshDir, { recursive: true });
  // sshd refuses to start without its privilege separation directory (normally made by systemd).
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKeyFile = makeKey(join(sshDir, 'ssh_host_ed25519_key'), 'fg-lab-host');
  const clientKeyFile = makeKey(join(sshDir, 'client_ed25519'), 'fg-lab-client');
  writeFileSync(join(sshDir, 'authorized_keys'), readFileSync(`${clientKeyFile}.pub`), { mode: 0o644 });
  // sshd reads authorized_keys as the user logging in, who may be an unprivileged test user.
  chmodSync(dir, 0o755);
  chmodSync(sshDir, 0o755);
  const conf = join(sshDir, 'sshd_config');
  writeFileSync(
    conf,
    [
      `Port ${port}`,
      `ListenAddress ${options.address}`,
      `HostKey ${hostKeyFile}`,
      `PidFile ${join(sshDir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(sshDir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UseDNS no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  let logText = '';
  let current: NetnsProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = ns.start([SSHD, '-D', '-e', '-f', conf], {
      name: 'sshd',
      logFile: join(sshDir, 'sshd.log'),
    });
    current = proc;
    proc.child.stdout?.on('data', (d: Buffer) => (logText += d.toString('utf8')));
    proc.child.stderr?.on('data', (d: Buffer) => (logText += d.toString('utf8')));
    await waitFor(
      `sshd listening on ${options.address}:${port}`,
      async () => {
        if (!proc.running()) throw new Error(`sshd exited: ${proc.output()}`);
        return (await bannerSeen(options.address, port)) || undefined;
      },
      { timeoutMs: 15_000, describe: () => proc.output() },
    );
  };

  const kill = async (): Promise<void> => {
    if (!current) return;
    for (const pid of descendantsOf(current.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    await current.stop();
  };

  await launch();
  return {
    address: options.address,
    port,
    hostKey: fingerprintOf(`${hostKeyFile}.pub`),
    clientKeyFile,
    process: () => current!,
    log: () => logText,
    acceptedLogins: () => (logText.match(/Accepted publickey for /g) ?? []).length,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: kill,
  };
}

/** A namespace reached from the host over a veth pair, with sshd in it and throwaway users. */
export interface SshLab {
  ns: Netns;
  /** The lab's temporary directory (sshd's keys and config, the users' home). */
  dir: string;
  link: HostLink;
  sshd: RunningSshd;
  /** A throwaway user (addTestUser), logged out and removed by close(). */
  addUser(options?: { groups?: string[]; sudo?: boolean }): TestUser;
  /** Ends the users' sessions, stops sshd, removes users, link, namespace and directory. */
  close(): Promise<void>;
}

export async function openSshLab(label: string): Promise<SshLab> {
  const ns = await createNetns(label);
  const dir = mkdtempSync(join(tmpdir(), `fg-interop-${label}-`));
  const users: TestUser[] = [];
  let link: HostLink | undefined;
  let sshd: RunningSshd | undefined;
  const close = async () => {
    for (const user of users) await ns.run(['pkill', '-KILL', '-u', user.name]);
    await sshd?.stop();
    for (const user of users.splice(0)) user.remove();
    link?.removeLink();
    await ns.cleanup();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    link = linkToHost(ns);
    sshd = await startSshd(ns, dir, { address: link.nsAddress });
  } catch (e) {
    await close();
    throw e;
  }
  return {
    ns,
    dir,
    link,
    sshd,
    addUser(options = {}) {
      const user = addTestUser(dir, options);
      users.push(user);
      return user;
    },
    close,
  };
}
