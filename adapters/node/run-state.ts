/**
 * What the node adapter has put in place, one receipt per firewall intent, kept in a file of the
 * state directory. Host firewalls have no central table to read back, so this file is the
 * adapter's memory across restarts: list() returns it, and reconciliation undoes what belongs to
 * incidents that are gone. Written whole to a temporary file and renamed, so a crash leaves the
 * old or the new content, never half of one.
 *
 * The same file keeps when each rule last ran against each target, so a restart does not forget
 * a cooldown and run a rule again minutes after it last fired.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AdapterReceipt } from '../contract.js';

export interface RunState {
  get(intentId: string): AdapterReceipt | undefined;
  put(receipt: AdapterReceipt): void;
  delete(intentId: string): boolean;
  all(): AdapterReceipt[];
  /** Last run of a rule against a target (unix ms), keyed by cooldownKey(); read-only view. */
  lastRuns(): ReadonlyMap<string, number>;
  /** Records a run; entries older than `forgetBeforeMs` are dropped at the same time. */
  noteRun(key: string, atMs: number, forgetBeforeMs: number): void;
}

/** Longest cooldown a rule may have (1440 minutes): older run times can never matter again. */
export const LONGEST_COOLDOWN_MS = 1440 * 60_000;

/** In memory only (previews, tests without a state directory). */
export function memoryRunState(): RunState {
  const receipts = new Map<string, AdapterReceipt>();
  const runs = new Map<string, number>();
  return {
    get: (id) => receipts.get(id),
    put: (r) => {
      receipts.set(r.intentId, r);
    },
    delete: (id) => receipts.delete(id),
    all: () => [...receipts.values()],
    lastRuns: () => runs,
    noteRun: (key, atMs, forgetBeforeMs) => {
      for (const [k, t] of runs) if (t < forgetBeforeMs) runs.delete(k);
      runs.set(key, atMs);
    },
  };
}

/** Backed by `path`; an unreadable or corrupt file is reported through `onProblem` and treated as empty. */
export function fileRunState(path: string, onProblem: (message: string) => void): RunState {
  const memory = memoryRunState();
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as {
      receipts?: AdapterReceipt[];
      lastRuns?: Record<string, unknown>;
    };
    for (const r of parsed.receipts ?? []) {
      if (typeof r?.intentId === 'string' && typeof r.adapter === 'string') memory.put(r);
    }
    for (const [key, atMs] of Object.entries(parsed.lastRuns ?? {})) {
      if (typeof atMs === 'number' && Number.isFinite(atMs)) memory.noteRun(key, atMs, 0);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      onProblem(`cannot read ${path} (${(e as Error).message}); starting with no record of rules in place`);
    }
  }
  const save = () => {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp`;
    const body = { receipts: memory.all(), lastRuns: Object.fromEntries(memory.lastRuns()) };
    writeFileSync(tmp, `${JSON.stringify(body, null, 1)}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  };
  return {
    get: memory.get,
    put: (r) => {
      memory.put(r);
      save();
    },
    delete: (id) => {
      const had = memory.delete(id);
      if (had) save();
      return had;
    },
    all: memory.all,
    lastRuns: memory.lastRuns,
    noteRun: (key, atMs, forgetBeforeMs) => {
      memory.noteRun(key, atMs, forgetBeforeMs);
      save();
    },
  };
}
