/**
 * The ExaBGP helper's logic, apart from process wiring so tests can drive it with plain streams.
 *
 * ExaBGP reads commands from the helper's stdout, one a line, and (with exabgp.api.ack=true, its
 * default) answers each with exactly one `done` or `error` line on the helper's stdin, in order.
 * Other lines arrive there too (`neighbor X up` with `neighbor-changes;`, `shutdown ...`): only an
 * exact `done`/`error` is an answer. So replies are matched to commands by order alone, through a
 * FIFO of what was written and not yet answered.
 *
 * The helper connects to the adapter's unix socket and keeps reconnecting: Floodgate may restart
 * while ExaBGP and its routes stay, and the helper's table (what ExaBGP holds) survives that.
 */
import { createConnection, type Socket } from 'node:net';
import {
  type AdapterMessage,
  applyEffect,
  HELPER_PROTOCOL_VERSION,
  type HelperEntry,
  type HelperMessage,
  lineSplitter,
  type PeerSession,
  parseAdapterMessage,
  parseNeighborChange,
  type TableEffect,
} from './protocol.js';

export interface RelayOptions {
  socketPath: string;
  /** Wait between connection attempts while the adapter is not listening. */
  retryMs: number;
  /** Writes one command line (with its newline) to ExaBGP. */
  writeToExabgp(line: string): void;
  exabgpPid: number;
  exabgpStart: string | null;
  helperPid: number;
  log(message: string): void;
}

export interface Relay {
  /** Feed every line ExaBGP writes to the helper's stdin. */
  fromExabgp(line: string): void;
  start(): void;
  stop(): void;
  /** For tests: the table as the helper holds it. */
  table(): HelperEntry[];
}

interface Pending {
  id: string;
  effect: TableEffect;
}

export function createRelay(options: RelayOptions): Relay {
  const table = new Map<string, HelperEntry>();
  const sessions: Record<string, PeerSession> = {};
  /** Commands written to ExaBGP and not yet answered, oldest first. */
  const pending: Pending[] = [];
  let socket: Socket | undefined;
  let connected = false;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let lastError = '';

  function send(message: HelperMessage): void {
    if (socket && connected) socket.write(`${JSON.stringify(message)}\n`);
  }

  function onAdapterMessage(message: AdapterMessage): void {
    if (message.t === 'adopt') {
      for (const entry of message.table) if (!table.has(entry.intentId)) table.set(entry.intentId, entry);
      return;
    }
    // One message must never become two commands: that would shift every later answer.
    if (/[\r\n]/.test(message.line) || message.line.trim() === '') {
      options.log(`refusing a command that is empty or spans lines (id ${message.id})`);
      send({ t: 'reply', id: message.id, answer: 'error', effect: message.effect });
      return;
    }
    pending.push({ id: message.id, effect: message.effect });
    options.writeToExabgp(`${message.line}\n`);
  }

  function connect(): void {
    if (stopped) return;
    const s = createConnection(options.socketPath);
    socket = s;
    s.on('connect', () => {
      connected = true;
      lastError = '';
      options.log(`connected to ${options.socketPath}`);
      send({
        t: 'hello',
        v: HELPER_PROTOCOL_VERSION,
        helperPid: options.helperPid,
        exabgpPid: options.exabgpPid,
        exabgpStart: options.exabgpStart,
        table: [...table.values()],
        sessions,
      });
    });
    s.on(
      'data',
      lineSplitter(
        (line) => {
          if (line === '') return;
          const message = parseAdapterMessage(line);
          if (message === undefined) options.log(`ignoring a line that is not a Floodgate message`);
          else onAdapterMessage(message);
        },
        () => {
          options.log('the adapter sent an over-long line; reconnecting');
          s.destroy();
        },
      ),
    );
    s.on('error', (e) => {
      // Logged once per kind of failure, not every retry: the adapter may be down for a while.
      if (e.message !== lastError) options.log(`socket ${options.socketPath}: ${e.message}; retrying`);
      lastError = e.message;
    });
    s.on('close', () => {
      if (socket === s) {
        socket = undefined;
        if (connected) options.log('disconnected; reconnecting');
        connected = false;
      }
      if (!stopped) retryTimer = setTimeout(connect, options.retryMs);
    });
  }

  return {
    fromExabgp(raw) {
      const line = raw.trim();
      if (line === 'done' || line === 'error') {
        const head = pending.shift();
        // An answer to nothing we sent (a previous helper's command): nothing to match it to.
        if (head === undefined) return;
        if (line === 'done') applyEffect(table, head.effect);
        send({ t: 'reply', id: head.id, answer: line, effect: head.effect });
        return;
      }
      const change = parseNeighborChange(line);
      if (change) {
        sessions[change.peer] = { state: change.state, detail: change.detail };
        send({ t: 'session', ...change });
      }
    },
    start() {
      connect();
    },
    stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      socket?.destroy();
    },
    table: () => [...table.values()],
  };
}
