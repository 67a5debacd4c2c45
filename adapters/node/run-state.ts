/**
 * What the node adapter has put in place, one receipt per firewall intent, kept in a file of the
 * state directory. Host firewalls have no central table to read back, so this file is the
 * adapter's memory across restarts: list() returns it, and reconciliation undoes what belongs to
 * incidents that are gone. Written whole to a temporary file and renamed, so a crash leaves the
 * old or the new content, never half of one.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AdapterReceipt } from '../contract.js';

export interface RunState {
  get(intentId: string): AdapterReceipt | undefined;
  put(receipt: AdapterReceipt): void;
  delete(intentId: string): boolean;
  all(): AdapterReceipt[];
}

/** In memory only (previews, tests without a state directory). */
export function memoryRunState(): RunState {
  const receipts = new Map<string, AdapterReceipt>();
  return {
    get: (id) => receipts.get(id),
    put: (r) => {
      receipts.set(r.intentId, r);
    },
    delete: (id) => receipts.delete(id),
    all: () => [...receipts.values()],
  };
}

/** Backed by `path`; an unreadable or corrupt file is reported through `onProblem` and treated as empty. */
export function fileRunState(path: string, onProblem: (message: string) => void): RunState {
  const memory = memoryRunState();
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { receipts?: AdapterReceipt[] };
    for (const r of parsed.receipts ?? []) {
      if (typeof r?.intentId === 'string' && typeof r.adapter === 'string') memory.put(r);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      onProblem(`cannot read ${path} (${(e as Error).message}); starting with no record of rules in place`);
    }
  }
  const save = () => {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ receipts: memory.all() }, null, 1)}\n`, { mode: 0o600 });
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
  };
}
