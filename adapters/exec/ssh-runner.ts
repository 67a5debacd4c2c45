/**
 * Runs commands on a node over SSH (ssh2): key authentication only, the server's host key pinned
 * by fingerprint and checked during the key exchange, before authentication and before any
 * command. One connection is kept per runner and every command is an exec channel on it, so a
 * burst of changes costs one handshake. A connection that drops (keepalives notice a silent
 * one) is re-established by the next command, and the `onReconnect` listeners then hear about
 * it: the node may have lost state while we were away, so adapters reconcile. (A first
 * connection that comes up after failed attempts counts too: whatever the caller tried while the
 * node was unreachable did not happen.)
 *
 * An exec request is a string the remote user's shell parses: every argv word is quoted for a
 * POSIX shell (posix-quote.ts), so the remote command receives exactly these words.
 */
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { FloodgateError } from '../../core/errors.js';
import type { CommandResult, CommandRunner, RunOptions } from './command-runner.js';
import { hostKeyFingerprint, hostKeyType } from './host-key.js';
import { DEFAULT_COMMAND_TIMEOUT_MS } from './local-runner.js';
import { outputBuffer } from './output-buffer.js';
import { posixCommand } from './posix-quote.js';
import type { SshTarget } from './ssh-config.js';

export interface SshRunnerOptions
  extends Pick<SshTarget, 'host' | 'user' | 'hostKey'>,
    Partial<
      Pick<
        SshTarget,
        'port' | 'sudo' | 'connectTimeoutMs' | 'keepaliveIntervalMs' | 'privateKeyFile' | 'passphraseFile'
      >
    > {
  /** The private key itself (OpenSSH or PEM text) instead of privateKeyFile. */
  privateKey?: string | Buffer;
  /** For an encrypted private key, instead of passphraseFile. */
  passphrase?: string;
  /** Default deadline of a command, from the moment the connection is up. */
  timeoutMs?: number;
}

export interface SshRunner extends CommandRunner {
  onReconnect(listener: () => void): void;
}

/** Unanswered keepalives before the connection counts as lost. */
const KEEPALIVE_COUNT_MAX = 3;
/**
 * Exec channels open at once on the kept connection; more commands wait for a free one. Kept
 * below OpenSSH's default MaxSessions (10), past which sshd refuses to open a channel.
 */
export const MAX_CHANNELS = 8;
/** Pauses before sending again a command the server never received (about 1.5 s in all). */
const RESEND_PAUSES_MS = [50, 100, 200, 400, 800];

/** A command that never reached the server, so sending it again cannot run it twice. */
class NotSent extends Error {
  constructor(readonly error: FloodgateError) {
    super(error.message);
  }
}

function whereOf(options: SshRunnerOptions): string {
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return `ssh ${options.user}@${host}:${options.port ?? 22}`;
}

function signalExitCode(signal: string | undefined): number {
  const name = signal?.startsWith('SIG') ? signal : `SIG${signal}`;
  const number = signal ? constants.signals[name as NodeJS.Signals] : undefined;
  return 128 + (number ?? 0);
}

/**
 * Sends SIGKILL to the command of an exec channel. ssh2's public `signal()` is a no-op once our
 * side of the channel has ended, and we end it at once (the command must see EOF on its
 * standard input), so the same request goes through the channel's protocol object in that case.
 * test/interop/ssh-runner.test.ts checks against sshd that the remote command really dies.
 */
function killRemote(channel: ClientChannel): void {
  if (channel.writable) {
    channel.signal('KILL');
    return;
  }
  const inner = channel as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
  };
  const id = inner.outgoing?.id;
  const protocol = inner._client?._protocol;
  const state = inner.outgoing?.state;
  // After our EOF the state is 'eof': requests are still allowed, only data is not.
  if (id !== undefined && (state === 'open' || state === 'eof') && typeof protocol?.signal === 'function') {
    protocol.signal(id, 'KILL');
  }
}

export function createSshRunner(options: SshRunnerOptions): SshRunner {
  const where = whereOf(options);
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const defaultTimeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const listeners: (() => void)[] = [];
  let connection: Client | undefined;
  let connecting: Promise<Client> | undefined;
  /** A connection was lost, or an attempt failed, since the last one that came up. */
  let lost = false;
  /** Connections we are closing ourselves: their end is not a loss. */
  const closingByUs = new WeakSet<Client>();
  let channelsInUse = 0;
  const waitingForChannel: (() => void)[] = [];

  /** Takes a channel slot; the returned function gives it back (straight to a waiting command). */
  async function channelSlot(): Promise<() => void> {
    if (channelsInUse < MAX_CHANNELS) channelsInUse++;
    else await new Promise<void>((resolve) => waitingForChannel.push(resolve));
    return () => {
      const next = waitingForChannel.shift();
      if (next) next();
      else channelsInUse--;
    };
  }

  async function privateKey(): Promise<string | Buffer> {
    if (options.privateKey !== undefined) return options.privateKey;
    if (options.privateKeyFile === undefined) {
      throw new FloodgateError('FG_ERR_SSH_CONNECT', `${where}: no private key configured (privateKeyFile)`, {
        where,
      });
    }
    try {
      return await readFile(options.privateKeyFile);
    } catch (e) {
      throw new FloodgateError(
        'FG_ERR_SSH_CONNECT',
        `${where}: cannot read the private key file ${options.privateKeyFile}: ${(e as Error).message}`,
        { where, privateKeyFile: options.privateKeyFile },
      );
    }
  }

  /** The passphrase given, or the first line of passphraseFile, read at each connection (rotations apply). */
  async function passphrase(): Promise<string | undefined> {
    if (options.passphrase !== undefined) return options.passphrase;
    if (options.passphraseFile === undefined) return undefined;
    try {
      return (await readFile(options.passphraseFile, 'utf8')).split(/\r?\n/, 1)[0];
    } catch (e) {
      throw new FloodgateError(
        'FG_ERR_SSH_CONNECT',
        `${where}: cannot read the passphrase file ${options.passphraseFile}: ${(e as Error).message}`,
        { where, passphraseFile: options.passphraseFile },
      );
    }
  }

  /** What to change when ssh2 cannot use the key. */
  function keyHint(why: string): string {
    if (/no passphrase given/i.test(why)) {
      return ': the key is encrypted; put its passphrase in a file and name it in passphraseFile';
    }
    if (/bad passphrase|integrity check failed|bad decrypt/i.test(why)) {
      return options.passphraseFile === undefined
        ? ': the passphrase does not open this key'
        : `: the passphrase in ${options.passphraseFile} does not open this key`;
    }
    return '';
  }

  function connectError(e: Error & { level?: string; code?: unknown }): FloodgateError {
    const why = e.message;
    let hint = '';
    if (/authentication methods failed/i.test(why)) {
      hint = `: the server refused the key for user ${options.user}; add its public key to that user's ~/.ssh/authorized_keys`;
    } else if (/timed out/i.test(why)) {
      hint = ` (no SSH handshake within ${connectTimeoutMs} ms: check the address, port and firewalls)`;
    }
    return new FloodgateError('FG_ERR_SSH_CONNECT', `${where}: cannot connect: ${why}${hint}`, {
      where,
      level: e.level,
      code: e.code,
    });
  }

  async function open(): Promise<Client> {
    const key = await privateKey();
    const keyPassphrase = await passphrase();
    return new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let presented: { fingerprint: string; type: string } | undefined;
      let ready = false;
      client.on('ready', () => {
        ready = true;
        resolve(client);
      });
      client.on('error', (e: Error) => {
        if (ready) return; // the 'close' that follows ends the connection and its commands
        reject(
          presented && presented.fingerprint !== options.hostKey
            ? new FloodgateError(
                'FG_ERR_SSH_HOST_KEY',
                `${where}: the server presented host key ${presented.fingerprint} (${presented.type}), but the configuration pins ${options.hostKey}; ` +
                  'nothing was sent. If the key really changed, check it on the node with "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub" and update hostKey',
                {
                  where,
                  expected: options.hostKey,
                  presented: presented.fingerprint,
                  keyType: presented.type,
                },
              )
            : connectError(e),
        );
        client.destroy(); // a failed handshake leaves no socket behind
      });
      client.on('close', () => {
        if (!ready) {
          reject(
            new FloodgateError('FG_ERR_SSH_CONNECT', `${where}: the connection closed during the handshake`),
          );
          return;
        }
        if (connection === client) connection = undefined;
        if (!closingByUs.has(client)) lost = true;
      });
      const config: ConnectConfig = {
        host: options.host,
        port: options.port ?? 22,
        username: options.user,
        privateKey: key,
        ...(keyPassphrase === undefined ? {} : { passphrase: keyPassphrase }),
        authHandler: ['publickey'],
        hostVerifier: (blob: Buffer) => {
          presented = { fingerprint: hostKeyFingerprint(blob), type: hostKeyType(blob) };
          return presented.fingerprint === options.hostKey;
        },
        readyTimeout: connectTimeoutMs,
        keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      };
      try {
        client.connect(config);
      } catch (e) {
        // ssh2 parses the key synchronously: a bad key or passphrase lands here.
        client.destroy();
        reject(
          new FloodgateError(
            'FG_ERR_SSH_CONNECT',
            `${where}: unusable private key${options.privateKeyFile === undefined ? '' : ` ${options.privateKeyFile}`}: ${(e as Error).message}${keyHint((e as Error).message)}`,
            {
              where,
            },
          ),
        );
      }
    });
  }

  function connect(): Promise<Client> {
    if (connection) return Promise.resolve(connection);
    if (connecting) return connecting;
    const attempt = open().then(
      (client) => {
        connecting = undefined;
        connection = client;
        if (lost) {
          lost = false;
          for (const listener of listeners) {
            try {
              listener();
            } catch {
              // A listener's failure is its own business; the others still hear about it.
            }
          }
        }
        return client;
      },
      (e: unknown) => {
        connecting = undefined;
        lost = true;
        throw e;
      },
    );
    connecting = attempt;
    return attempt;
  }

  /** Drops a connection whose socket is gone but whose close we have not seen yet. */
  function discard(client: Client): void {
    if (connection === client) connection = undefined;
    lost = true;
    client.destroy();
  }

  function exec(client: Client, line: string, runOptions: RunOptions): Promise<CommandResult> {
    const timeoutMs = runOptions.timeoutMs ?? defaultTimeoutMs;
    const started = performance.now();
    return new Promise<CommandResult>((resolve, reject) => {
      const stdout = outputBuffer();
      const stderr = outputBuffer();
      let channel: ClientChannel | undefined;
      let exitCode: number | undefined;
      let settled = false;
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.removeListener('close', onLost);
        outcome();
      };
      const stop = (): void => {
        if (!channel) return;
        try {
          // OpenSSH delivers the signal to the command; closing alone would leave it running.
          killRemote(channel);
          channel.close();
        } catch {
          // The channel is already gone.
        }
      };
      const onLost = (): void =>
        finish(() =>
          reject(
            new FloodgateError(
              'FG_ERR_SSH_CONNECT',
              `${where}: the connection was lost while running ${line}; it may or may not have run`,
              { where, command: line },
            ),
          ),
        );
      const timer = setTimeout(() => {
        stop();
        finish(() =>
          reject(
            new FloodgateError(
              'FG_ERR_EXEC_TIMEOUT',
              `${where}: ${line} did not finish within ${timeoutMs} ms and was killed`,
              { where, command: line, timeoutMs, stderr: stderr.text().slice(-2048) },
            ),
          ),
        );
      }, timeoutMs);
      client.once('close', onLost);
      try {
        client.exec(line, (err, stream) => {
          if (err) {
            // The server refused the channel (sshd frees a finished session's slot a moment
            // after closing it, so a burst can meet MaxSessions): the command did not start.
            finish(() =>
              reject(
                new NotSent(
                  new FloodgateError(
                    'FG_ERR_SSH_CONNECT',
                    `${where}: the server did not open a session for ${line}: ${err.message}`,
                    { where, command: line },
                  ),
                ),
              ),
            );
            return;
          }
          channel = stream;
          if (settled) {
            stop();
            return;
          }
          const overflow = (): void => {
            stop();
            finish(() =>
              reject(
                new FloodgateError(
                  'FG_ERR_EXEC_FAILED',
                  `${where}: ${line} printed more output than allowed`,
                  {
                    where,
                    command: line,
                  },
                ),
              ),
            );
          };
          stream.on('data', (d: Buffer) => stdout.push(d) || overflow());
          stream.stderr.on('data', (d: Buffer) => stderr.push(d) || overflow());
          stream.on('exit', (code: number | null, signal?: string) => {
            exitCode = code ?? signalExitCode(signal);
          });
          stream.on('close', () => {
            if (exitCode === undefined) {
              // No exit status: the session ended under the command (the connection's close
              // listener reports a lost connection first when that is what happened).
              finish(() =>
                reject(
                  new FloodgateError(
                    'FG_ERR_EXEC_FAILED',
                    `${where}: ${line} ended without an exit status; it may or may not have run`,
                    { where, command: line, stderr: stderr.text().slice(-2048) },
                  ),
                ),
              );
              return;
            }
            const code = exitCode;
            finish(() =>
              resolve({
                exitCode: code,
                stdout: stdout.text(),
                stderr: stderr.text(),
                durationMs: Math.round(performance.now() - started),
              }),
            );
          });
          stream.end(runOptions.stdin);
        });
      } catch (e) {
        // "Not connected": the socket died before we saw it close. Nothing was sent.
        discard(client);
        finish(() =>
          reject(
            new NotSent(
              new FloodgateError('FG_ERR_SSH_CONNECT', `${where}: not connected: ${(e as Error).message}`, {
                where,
              }),
            ),
          ),
        );
      }
    });
  }

  async function run(argv: readonly string[], runOptions: RunOptions = {}): Promise<CommandResult> {
    if (argv.length === 0) throw new FloodgateError('FG_ERR_EXEC_START', `${where}: empty command`, { argv });
    const line = posixCommand([...(options.sudo ? ['sudo', '-n', '--'] : []), ...argv]);
    const release = await channelSlot();
    try {
      return await execWithResend(line, runOptions);
    } finally {
      release();
    }
  }

  /** Runs the command, trying again, after a pause, while it never reached the server. */
  async function execWithResend(line: string, runOptions: RunOptions): Promise<CommandResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await exec(await connect(), line, runOptions);
      } catch (e) {
        if (!(e instanceof NotSent)) throw e;
        const pause = RESEND_PAUSES_MS[attempt];
        if (pause === undefined) throw e.error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  async function close(): Promise<void> {
    const pending = connecting;
    if (pending) await pending.catch(() => undefined);
    const client = connection;
    connection = undefined;
    lost = false;
    if (!client) return;
    closingByUs.add(client);
    await new Promise<void>((resolve) => {
      client.once('close', () => resolve());
      client.end();
      // A peer that never answers the disconnect must not hold close() forever.
      setTimeout(() => {
        client.destroy();
        resolve();
      }, 2_000).unref();
    });
  }

  return {
    where,
    run,
    close,
    onReconnect(listener) {
      listeners.push(listener);
    },
  };
}
