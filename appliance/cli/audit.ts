/**
 * `floodgate audit verify` and `floodgate audit export --format json|csv`: the audit chain of the
 * store in the configured state directory, read directly (the daemon may be running: SQLite lets
 * readers in beside it).
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { AuditEntry } from '../../core/audit/chain.js';
import {
  ConfigError,
  defaultConfig,
  formatProblem,
  type LoadedConfig,
  loadConfigFile,
} from '../config/load.js';
import { storePath } from '../store/config.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import type { CliIo } from './check-config.js';

export type AuditFormat = 'json' | 'csv';

const PAGE = 1000;

/** The store the configuration points to; undefined (after saying why) when there is none. */
export function openConfiguredStore(configFile: string | undefined, io: CliIo): Store | undefined {
  let loaded: LoadedConfig;
  try {
    loaded = configFile === undefined ? defaultConfig() : loadConfigFile(configFile);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`${String(e.details['source'])}: invalid configuration (${e.code})\n`);
      for (const p of e.problems) io.err(`  ${formatProblem(p)}\n`);
      return undefined;
    }
    throw e;
  }
  const path = storePath(loaded.config.store);
  if (!existsSync(path)) {
    io.err(
      `no store at ${path} (store.stateDir and store.file of ${loaded.source}); has floodgate run ever started with it?\n`,
    );
    return undefined;
  }
  return openSqliteStore(path);
}

function* entries(store: Store): Generator<AuditEntry> {
  let afterSeq = 0;
  for (;;) {
    const page = store.listAudit({ afterSeq, limit: PAGE });
    yield* page;
    if (page.length < PAGE) return;
    afterSeq = page.at(-1)!.seq;
  }
}

/** Exit code 0 when the chain is intact, 1 when it is broken or cannot be read. */
export function auditVerify(configFile: string | undefined, io: CliIo): number {
  const store = openConfiguredStore(configFile, io);
  if (store === undefined) return 1;
  try {
    const result = store.verifyAudit();
    if (result.ok) {
      io.out(`audit chain intact: ${result.count} entries\n`);
      return 0;
    }
    io.err(`audit chain BROKEN at seq ${result.seq}: ${result.reason}\n`);
    io.err('every entry from there on is unproven; compare with an earlier export to see what changed\n');
    return 1;
  } finally {
    store.close();
  }
}

const CSV_COLUMNS = [
  'seq',
  'time',
  'atMs',
  'actor',
  'action',
  'result',
  'rule',
  'incidentId',
  'mitigationId',
  'adapter',
  'command',
  'detail',
  'prevHash',
  'hash',
] as const;

/** RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled. */
function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvRow(entry: AuditEntry): string {
  const values: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    seq: entry.seq,
    time: new Date(entry.atMs).toISOString(),
    atMs: entry.atMs,
    actor: entry.actor,
    action: entry.action,
    result: entry.result,
    rule: entry.rule,
    incidentId: entry.incidentId,
    mitigationId: entry.mitigationId,
    adapter: entry.adapter,
    command: entry.command,
    detail: entry.detail,
    prevHash: entry.prevHash,
    hash: entry.hash,
  };
  return CSV_COLUMNS.map((c) => csvField(values[c])).join(',');
}

/**
 * Writes every entry, oldest first: JSON as an array with one entry per line (each exactly as
 * stored and hashed, so the chain can be re-verified from the export), CSV with a header row.
 * The chain is verified first and the result said on stderr.
 */
export function auditExport(
  configFile: string | undefined,
  format: AuditFormat,
  outFile: string | undefined,
  io: CliIo,
): number {
  const store = openConfiguredStore(configFile, io);
  if (store === undefined) return 1;
  try {
    const verification = store.verifyAudit();
    const lines: string[] = [];
    if (format === 'csv') {
      lines.push(CSV_COLUMNS.join(','));
      for (const entry of entries(store)) lines.push(csvRow(entry));
    } else {
      const items = [...entries(store)].map((e) => JSON.stringify(e));
      lines.push(items.length === 0 ? '[]' : `[\n${items.join(',\n')}\n]`);
    }
    const text = `${lines.join('\n')}\n`;
    if (outFile === undefined) io.out(text);
    else writeFileSync(outFile, text);
    io.err(
      verification.ok
        ? `audit chain intact: ${verification.count} entries exported\n`
        : `warning: audit chain BROKEN at seq ${verification.seq}: ${verification.reason}\n`,
    );
    return 0;
  } finally {
    store.close();
  }
}
