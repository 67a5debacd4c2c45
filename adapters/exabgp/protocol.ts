/**
 * The local-socket protocol between the ExaBGP adapter (inside `floodgate run`, listening on a
 * unix socket) and the helper ExaBGP runs as its `process` (which connects to it). One JSON
 * object per line each way.
 *
 * The helper owns the table of what ExaBGP holds: it lives exactly as long as ExaBGP's own RIB of
 * injected routes (ExaBGP forgets them when it restarts, and then starts a new helper), so a
 * helper that says hello with an empty table means ExaBGP lost everything and the adapter's
 * reconciliation must replay. Each command carries the table change it makes, applied by the
 * helper only when ExaBGP answers `done`, and echoed back with the reply so the adapter's copy
 * follows the same change even when the reply belongs to a connection since replaced.
 *
 * Only node: built-ins and types here: the helper is started by ExaBGP without the rest of Floodgate.
 */
import type { AdapterReceipt } from '../contract.js';

export const HELPER_PROTOCOL_VERSION = 1;
/** Longest line either side accepts; a longer one is a protocol error, not a memory leak. */
export const MAX_LINE_BYTES = 1024 * 1024;

/** One route ExaBGP holds because Floodgate asked it to, keyed by intent id. */
export interface HelperEntry {
  intentId: string;
  receipt: AdapterReceipt;
}

/** What ExaBGP doing a command changes in the table, once it answered `done`. */
export type TableEffect = { op: 'put'; entry: HelperEntry } | { op: 'delete'; intentId: string };

export type SessionState = 'connected' | 'up' | 'down';

export interface PeerSession {
  state: SessionState;
  /** ExaBGP's reason for a `down`, as it wrote it. */
  detail: string;
}

/** Helper -> adapter. */
export type HelperMessage =
  | {
      t: 'hello';
      v: number;
      helperPid: number;
      /** ExaBGP's pid (the helper's parent) and its start time, to tell a helper respawn from an ExaBGP restart. */
      exabgpPid: number;
      exabgpStart: string | null;
      table: HelperEntry[];
      sessions: Record<string, PeerSession>;
    }
  | { t: 'reply'; id: string; answer: 'done' | 'error'; effect: TableEffect }
  | { t: 'session'; peer: string; state: SessionState; detail: string };

/** Adapter -> helper. */
export type AdapterMessage =
  /** Write `line` to ExaBGP; apply `effect` to the table when it answers `done`. */
  | { t: 'send'; id: string; line: string; effect: TableEffect }
  /** Entries ExaBGP still holds that a respawned helper cannot know about: add them to its table. */
  | { t: 'adopt'; table: HelperEntry[] };

/** Splits a byte stream into lines; a line over MAX_LINE_BYTES calls `onOverflow` and is dropped. */
export function lineSplitter(
  onLine: (line: string) => void,
  onOverflow: () => void,
): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      nl = pending.indexOf('\n');
    }
    if (pending.length > MAX_LINE_BYTES) {
      pending = '';
      onOverflow();
    }
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEntry(v: unknown): v is HelperEntry {
  return (
    isObject(v) &&
    typeof v['intentId'] === 'string' &&
    isObject(v['receipt']) &&
    v['receipt']['intentId'] === v['intentId'] &&
    typeof v['receipt']['command'] === 'string'
  );
}

function isEffect(v: unknown): v is TableEffect {
  if (!isObject(v)) return false;
  if (v['op'] === 'put') return isEntry(v['entry']);
  return v['op'] === 'delete' && typeof v['intentId'] === 'string';
}

const SESSION_STATES: readonly string[] = ['connected', 'up', 'down'];

/** Parses one line from the helper; undefined when it is not a message of this protocol. */
export function parseHelperMessage(line: string): HelperMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(v)) return undefined;
  switch (v['t']) {
    case 'hello':
      if (
        typeof v['v'] === 'number' &&
        typeof v['helperPid'] === 'number' &&
        typeof v['exabgpPid'] === 'number' &&
        (v['exabgpStart'] === null || typeof v['exabgpStart'] === 'string') &&
        Array.isArray(v['table']) &&
        v['table'].every(isEntry) &&
        isObject(v['sessions'])
      ) {
        return v as HelperMessage;
      }
      return undefined;
    case 'reply':
      return typeof v['id'] === 'string' &&
        (v['answer'] === 'done' || v['answer'] === 'error') &&
        isEffect(v['effect'])
        ? (v as HelperMessage)
        : undefined;
    case 'session':
      return typeof v['peer'] === 'string' &&
        typeof v['state'] === 'string' &&
        SESSION_STATES.includes(v['state']) &&
        typeof v['detail'] === 'string'
        ? (v as HelperMessage)
        : undefined;
    default:
      return undefined;
  }
}

/** Parses one line from the adapter; undefined when it is not a message of this protocol. */
export function parseAdapterMessage(line: string): AdapterMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(v)) return undefined;
  if (v['t'] === 'send') {
    return typeof v['id'] === 'string' && typeof v['line'] === 'string' && isEffect(v['effect'])
      ? (v as AdapterMessage)
      : undefined;
  }
  if (v['t'] === 'adopt') {
    return Array.isArray(v['table']) && v['table'].every(isEntry) ? (v as AdapterMessage) : undefined;
  }
  return undefined;
}

/**
 * What ExaBGP writes to a text-encoder process about a peer with `neighbor-changes;`:
 * `neighbor 127.0.0.2 up`, `neighbor 127.0.0.2 connected`, `neighbor 127.0.0.2 down - reason`.
 */
export function parseNeighborChange(
  line: string,
): { peer: string; state: SessionState; detail: string } | undefined {
  const m = /^neighbor (\S+) (up|connected|down)(?: - (.*))?$/.exec(line.trim());
  if (!m) return undefined;
  return { peer: m[1]!, state: m[2] as SessionState, detail: m[3] ?? '' };
}

/** Applies an effect to a table (the helper's or the adapter's copy). */
export function applyEffect(table: Map<string, HelperEntry>, effect: TableEffect): void {
  if (effect.op === 'put') table.set(effect.entry.intentId, effect.entry);
  else table.delete(effect.intentId);
}
