/**
 * The adapter's end of the helper socket: listens on the unix socket, keeps the one helper that
 * said hello as the current link, sends commands and resolves each with ExaBGP's answer.
 *
 * A command's answer may come back over a later connection of the same helper (the socket
 * dropped and the helper reconnected), so commands wait across reconnections until their own
 * timeout; a hello from a different helper (ExaBGP restarted, or its helper was respawned) ends
 * the wait at once, since that helper never saw the command.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { FloodgateError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import {
  type AdapterMessage,
  HELPER_PROTOCOL_VERSION,
  type HelperEntry,
  type HelperMessage,
  lineSplitter,
  parseHelperMessage,
  type TableEffect,
} from './protocol.js';

export type Hello = Extract<HelperMessage, { t: 'hello' }>;
export type Reply = Extract<HelperMessage, { t: 'reply' }>;
export type SessionChange = Extract<HelperMessage, { t: 'session' }>;

export interface HelperLinkEvents {
  onHello(hello: Hello): void;
  /** Every reply, also to commands this process did not send (their effect still applies). */
  onReply(reply: Reply): void;
  onSession(change: SessionChange): void;
  onDisconnect(): void;
}

export interface HelperLink {
  listen(): Promise<void>;
  close(): Promise<void>;
  connected(): boolean;
  /** Resolves true once a helper has said hello, false after `timeoutMs` without one. */
  waitConnected(timeoutMs: number): Promise<boolean>;
  /** Writes a command through the helper; resolves with ExaBGP's answer, rejects on timeout. */
  send(line: string, effect: TableEffect, timeoutMs: number): Promise<'done' | 'error'>;
  adopt(table: HelperEntry[]): void;
}

interface InFlight {
  resolve(answer: 'done' | 'error'): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  helperPid: number;
  line: string;
}

/** True when something answers on the socket path: another process is listening there. */
function somebodyListens(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    const done = (answer: boolean) => {
      probe.destroy();
      resolve(answer);
    };
    probe.once('connect', () => done(true));
    probe.once('error', () => done(false));
    probe.setTimeout(1_000, () => done(false));
  });
}

export function createHelperLink(
  options: { name: string; socketPath: string; socketMode: number; logger: Logger },
  events: HelperLinkEvents,
): HelperLink {
  const { name, socketPath, logger } = options;
  let server: Server | undefined;
  let current: { socket: Socket; hello: Hello } | undefined;
  const inFlight = new Map<string, InFlight>();
  const waiters = new Set<() => void>();
  let nextId = 0;
  // Ids stay unique across this adapter's restarts and other processes on the same helper.
  const idPrefix = `${process.pid}-${Date.now().toString(36)}-`;

  function write(socket: Socket, message: AdapterMessage): void {
    socket.write(`${JSON.stringify(message)}\n`);
  }

  function onHello(socket: Socket, hello: Hello): void {
    if (hello.v !== HELPER_PROTOCOL_VERSION) {
      logger.error(
        { helperPid: hello.helperPid, version: hello.v },
        `ExaBGP helper speaks protocol ${hello.v}, this Floodgate ${HELPER_PROTOCOL_VERSION}: run the helper of this Floodgate version (floodgate exabgp-config)`,
      );
      socket.destroy();
      return;
    }
    const previous = current;
    if (previous && previous.socket !== socket) {
      if (previous.hello.helperPid !== hello.helperPid) {
        logger.warn(
          { previousHelperPid: previous.hello.helperPid, helperPid: hello.helperPid },
          'another ExaBGP helper connected; it replaces the previous one (two ExaBGP processes on one socket?)',
        );
      }
      previous.socket.destroy();
    }
    current = { socket, hello };
    for (const [id, f] of inFlight) {
      if (f.helperPid !== hello.helperPid) {
        inFlight.delete(id);
        clearTimeout(f.timer);
        f.reject(
          new Error(
            `ExaBGP's helper changed (pid ${f.helperPid} -> ${hello.helperPid}: ExaBGP or its helper restarted) before answering "${f.line}"`,
          ),
        );
      }
    }
    events.onHello(hello);
    for (const wake of [...waiters]) wake();
  }

  function onMessage(socket: Socket, message: HelperMessage): void {
    if (message.t === 'hello') {
      onHello(socket, message);
      return;
    }
    if (current?.socket !== socket) return;
    if (message.t === 'reply') {
      events.onReply(message);
      const f = inFlight.get(message.id);
      if (f) {
        inFlight.delete(message.id);
        clearTimeout(f.timer);
        f.resolve(message.answer);
      }
      return;
    }
    events.onSession(message);
  }

  function onConnection(socket: Socket): void {
    socket.on(
      'data',
      lineSplitter(
        (line) => {
          if (line === '') return;
          const message = parseHelperMessage(line);
          if (message === undefined) {
            logger.warn(
              { line: line.slice(0, 200) },
              'ExaBGP helper sent a line that is not a helper message',
            );
            return;
          }
          onMessage(socket, message);
        },
        () => {
          logger.error('ExaBGP helper sent an over-long line; closing its connection');
          socket.destroy();
        },
      ),
    );
    socket.on('error', (e) => logger.debug({ err: e }, 'helper socket error'));
    socket.on('close', () => {
      if (current?.socket === socket) {
        current = undefined;
        logger.warn({ socket: socketPath }, 'ExaBGP helper disconnected');
        events.onDisconnect();
      }
    });
  }

  return {
    async listen() {
      let stat: ReturnType<typeof lstatSync> | undefined;
      try {
        stat = lstatSync(socketPath);
      } catch {
        stat = undefined;
      }
      if (stat !== undefined) {
        if (!stat.isSocket()) {
          throw new FloodgateError(
            'FG_ERR_LISTEN',
            `exabgp adapter "${name}": ${socketPath} exists and is not a socket; move it away or set config.socket`,
            { adapter: name, socket: socketPath },
          );
        }
        if (await somebodyListens(socketPath)) {
          throw new FloodgateError(
            'FG_ERR_LISTEN',
            `exabgp adapter "${name}": another process listens on ${socketPath} (a second Floodgate?)`,
            { adapter: name, socket: socketPath },
          );
        }
        unlinkSync(socketPath);
      }
      const s = createServer(onConnection);
      await new Promise<void>((resolve, reject) => {
        s.once('error', (e) =>
          reject(
            new FloodgateError(
              'FG_ERR_LISTEN',
              `exabgp adapter "${name}": cannot listen on ${socketPath}: ${e.message}`,
              { adapter: name, socket: socketPath },
              { cause: e },
            ),
          ),
        );
        s.listen(socketPath, () => resolve());
      });
      chmodSync(socketPath, options.socketMode);
      server = s;
    },

    async close() {
      const s = server;
      server = undefined;
      current?.socket.destroy();
      current = undefined;
      for (const [id, f] of inFlight) {
        inFlight.delete(id);
        clearTimeout(f.timer);
        f.reject(new Error(`adapter "${name}" stopped before ExaBGP answered "${f.line}"`));
      }
      for (const wake of [...waiters]) wake();
      if (s) {
        await new Promise<void>((resolve) => s.close(() => resolve()));
        try {
          unlinkSync(socketPath);
        } catch {
          // Already gone (node removes it on close on some versions).
        }
      }
    },

    connected: () => current !== undefined,

    waitConnected(timeoutMs) {
      if (current !== undefined) return Promise.resolve(true);
      if (server === undefined || timeoutMs <= 0) return Promise.resolve(false);
      return new Promise((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(current !== undefined);
        };
        const timer = setTimeout(wake, timeoutMs);
        waiters.add(wake);
      });
    },

    send(line, effect, timeoutMs) {
      const link = current;
      if (link === undefined) return Promise.reject(new Error('ExaBGP helper is not connected'));
      const id = `${idPrefix}${nextId++}`;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          inFlight.delete(id);
          reject(
            new Error(
              `ExaBGP did not answer within ${timeoutMs} ms (is exabgp.api.ack off, or ExaBGP overloaded?): "${line}"`,
            ),
          );
        }, timeoutMs);
        inFlight.set(id, { resolve, reject, timer, helperPid: link.hello.helperPid, line });
        write(link.socket, { t: 'send', id, line, effect });
      });
    },

    adopt(table) {
      if (current) write(current.socket, { t: 'adopt', table });
    },
  };
}
