import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../appliance/store/sqlite-store.js';
import type { Store } from '../../../appliance/store/store.js';
import type { AuditInput } from '../../../core/audit/chain.js';
import { FloodgateError } from '../../../core/errors.js';
import { incident, mitigation } from './fixtures.js';

const run = promisify(execFile);

const applyInput: AuditInput = {
  atMs: 1_700_000_001_000,
  actor: 'adapter:dry-run',
  action: 'apply',
  incidentId: 'inc-1',
  mitigationId: 'rtbh-1@dry-run',
  adapter: 'dry-run',
  command: 'announce route 203.0.113.5/32 next-hop 192.0.2.1',
  result: 'ok',
};

function expectStoreError(work: () => unknown, operation: string): FloodgateError {
  try {
    work();
  } catch (e) {
    expect(e).toBeInstanceOf(FloodgateError);
    const err = e as FloodgateError;
    expect(err.code).toBe('FG_ERR_STORE');
    expect(err.details['operation']).toBe(operation);
    expect(err.details['path']).toBeTypeOf('string');
    return err;
  }
  throw new Error(`expected ${operation} to fail`);
}

describe('sqlite store in memory', () => {
  let store: Store;
  beforeEach(() => {
    store = openSqliteStore(':memory:');
  });
  afterEach(() => store.close());

  it('round-trips an incident unchanged', () => {
    const saved = incident();
    store.saveIncident(saved);
    expect(store.getIncident(saved.id)).toEqual(saved);
    expect(store.getIncident('inc-missing')).toBeUndefined();
  });

  it('upserts incidents by id', () => {
    store.saveIncident(incident());
    store.saveIncident(incident({ state: 'closed', closedAtMs: 1_700_000_060_000, severity: 5 }));
    const all = store.listIncidents();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ state: 'closed', closedAtMs: 1_700_000_060_000, severity: 5 });
    expect(store.listIncidents({ state: 'open' })).toEqual([]);
  });

  it('lists incidents newest first, filtered by state, time and limit', () => {
    store.saveIncident(incident({ id: 'a', openedAtMs: 1_000, state: 'closed', closedAtMs: 2_000 }));
    store.saveIncident(incident({ id: 'b', openedAtMs: 3_000 }));
    store.saveIncident(incident({ id: 'c', openedAtMs: 5_000, state: 'closed', closedAtMs: 9_000 }));
    store.saveIncident(incident({ id: 'd', openedAtMs: 4_000, state: 'closed', closedAtMs: 4_500 }));
    const ids = (q?: Parameters<Store['listIncidents']>[0]) => store.listIncidents(q).map((i) => i.id);
    expect(ids()).toEqual(['c', 'd', 'b', 'a']);
    expect(ids({ state: 'open' })).toEqual(['b']);
    expect(ids({ state: 'closed' })).toEqual(['c', 'd', 'a']);
    expect(ids({ limit: 2 })).toEqual(['c', 'd']);
    // Still open, or closed at or after the time: long-running incidents are not hidden.
    expect(ids({ sinceMs: 4_500 })).toEqual(['c', 'd', 'b']);
    expect(ids({ sinceMs: 5_000, state: 'closed' })).toEqual(['c']);
  });

  it('round-trips and upserts mitigation records', () => {
    const record = mitigation();
    store.saveMitigation(record);
    expect(store.getMitigation(record.id)).toEqual(record);
    store.saveMitigation({ ...record, state: 'withdrawn', updatedAtMs: record.updatedAtMs + 1 });
    expect(store.listMitigations()).toEqual([
      { ...record, state: 'withdrawn', updatedAtMs: record.updatedAtMs + 1 },
    ]);
    expect(store.getMitigation('nope@dry-run')).toBeUndefined();
  });

  it('lists mitigations by incident and states, most recently updated first', () => {
    store.saveMitigation(mitigation({ id: 'm1', incidentId: 'inc-a', state: 'active', updatedAtMs: 10 }));
    store.saveMitigation(mitigation({ id: 'm2', incidentId: 'inc-a', state: 'failed', updatedAtMs: 30 }));
    store.saveMitigation(mitigation({ id: 'm3', incidentId: 'inc-b', state: 'active', updatedAtMs: 20 }));
    store.saveMitigation(mitigation({ id: 'm4', incidentId: 'inc-b', state: 'withdrawn', updatedAtMs: 40 }));
    const ids = (q?: Parameters<Store['listMitigations']>[0]) => store.listMitigations(q).map((m) => m.id);
    expect(ids()).toEqual(['m4', 'm2', 'm3', 'm1']);
    expect(ids({ incidentId: 'inc-a' })).toEqual(['m2', 'm1']);
    expect(ids({ states: ['active'] })).toEqual(['m3', 'm1']);
    expect(ids({ states: ['active', 'failed'], incidentId: 'inc-a' })).toEqual(['m2', 'm1']);
    expect(ids({ states: [] })).toEqual([]);
    expect(ids({ limit: 1 })).toEqual(['m4']);
  });

  it('appends audit entries in sequence, chained, and lists them by page', () => {
    const first = store.appendAudit(applyInput);
    const second = store.appendAudit({ ...applyInput, action: 'withdraw', atMs: applyInput.atMs + 1 });
    const third = store.appendAudit({ atMs: 5, actor: 'system', action: 'daemon-stop', result: 'ok' });
    expect([first.seq, second.seq, third.seq]).toEqual([1, 2, 3]);
    expect(first.prevHash).toBe('0'.repeat(64));
    expect(second.prevHash).toBe(first.hash);
    expect(third.prevHash).toBe(second.hash);
    expect(store.listAudit()).toEqual([first, second, third]);
    expect(store.listAudit({ afterSeq: 1 })).toEqual([second, third]);
    expect(store.listAudit({ afterSeq: 1, limit: 1 })).toEqual([second]);
    expect(store.listAudit({ afterSeq: 3 })).toEqual([]);
    expect(store.verifyAudit()).toEqual({ ok: true, count: 3 });
  });

  it('verifies an empty audit log', () => {
    expect(store.verifyAudit()).toEqual({ ok: true, count: 0 });
  });

  it('rolls a failed append back completely, leaving the chain intact', () => {
    store.appendAudit(applyInput);
    // BigInt cannot be serialised: the append fails inside the transaction.
    expectStoreError(() => store.appendAudit({ ...applyInput, detail: { big: 10n } }), 'appendAudit');
    const next = store.appendAudit(applyInput);
    expect(next.seq).toBe(2);
    expect(store.verifyAudit()).toEqual({ ok: true, count: 2 });
  });

  it('fails with FG_ERR_STORE naming the operation after close, and closes twice safely', () => {
    store.close();
    store.close();
    const err = expectStoreError(() => store.getIncident('x'), 'getIncident');
    expect(err.details['path']).toBe(':memory:');
    expect(err.message).toMatch(/getIncident failed on :memory:/);
  });
});

describe('sqlite store on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'floodgate-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the parent directory, uses WAL, and keeps data across reopen', () => {
    const path = join(dir, 'nested', 'state', 'floodgate.db');
    const first = openSqliteStore(path);
    first.saveIncident(incident());
    first.saveMitigation(mitigation());
    const entry = first.appendAudit(applyInput);
    first.close();

    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();

    const second = openSqliteStore(path);
    expect(second.getIncident(incident().id)).toEqual(incident());
    expect(second.getMitigation(mitigation().id)).toEqual(mitigation());
    expect(second.listAudit()).toEqual([entry]);
    expect(second.appendAudit(applyInput).seq).toBe(2);
    expect(second.verifyAudit()).toEqual({ ok: true, count: 2 });
    second.close();
  });

  it('refuses UPDATE and DELETE on the audit table', () => {
    const path = join(dir, 'floodgate.db');
    const store = openSqliteStore(path);
    store.appendAudit(applyInput);
    store.close();

    const raw = new Database(path);
    expect(() => raw.prepare("UPDATE audit SET result = 'error' WHERE seq = 1").run()).toThrow(
      /append-only: UPDATE/,
    );
    expect(() => raw.prepare('DELETE FROM audit WHERE seq = 1').run()).toThrow(/append-only: DELETE/);
    expect(raw.prepare('SELECT COUNT(*) AS n FROM audit').get()).toEqual({ n: 1 });
    raw.close();
  });

  it('reports the first altered entry when the triggers were bypassed', () => {
    const path = join(dir, 'floodgate.db');
    const store = openSqliteStore(path);
    for (let i = 0; i < 4; i++) store.appendAudit({ ...applyInput, atMs: i });
    store.close();

    const raw = new Database(path);
    raw.exec('DROP TRIGGER audit_no_update');
    const row = raw.prepare('SELECT json FROM audit WHERE seq = 3').get() as { json: string };
    const forged = { ...JSON.parse(row.json), command: 'announce route 0.0.0.0/0 next-hop 192.0.2.1' };
    raw.prepare('UPDATE audit SET json = ? WHERE seq = 3').run(JSON.stringify(forged));
    raw.close();

    const reopened = openSqliteStore(path);
    expect(reopened.verifyAudit()).toMatchObject({ ok: false, seq: 3 });
    // The iterator was released: the store keeps working after a failed verification.
    expect(reopened.verifyAudit()).toMatchObject({ ok: false, seq: 3 });
    expect(reopened.listAudit()).toHaveLength(4);
    reopened.close();
  });

  it('keeps one unbroken chain when two connections append alternately', () => {
    const path = join(dir, 'floodgate.db');
    const a = openSqliteStore(path);
    const b = openSqliteStore(path);
    for (let i = 0; i < 20; i++) (i % 2 === 0 ? a : b).appendAudit({ ...applyInput, atMs: i });
    expect(a.listAudit().map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(b.verifyAudit()).toEqual({ ok: true, count: 20 });
    a.close();
    b.close();
  });

  it('keeps one unbroken chain when several processes append at the same time', async () => {
    const path = join(dir, 'floodgate.db');
    openSqliteStore(path).close();
    const worker = join(import.meta.dirname, 'append-worker.ts');
    const perProcess = 1000;
    await Promise.all(
      ['p1', 'p2', 'p3'].map((name) =>
        run(process.execPath, ['--import', 'tsx', worker, path, String(perProcess), name]),
      ),
    );
    const store = openSqliteStore(path);
    const entries = store.listAudit();
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 3 * perProcess }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.actor))).toEqual(
      new Set(['operator:p1', 'operator:p2', 'operator:p3']),
    );
    expect(store.verifyAudit()).toEqual({ ok: true, count: 3 * perProcess });
    store.close();
  });

  it('fails to open with FG_ERR_STORE naming the path when the directory cannot be made', () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const path = join(blocker, 'floodgate.db');
    const err = expectStoreError(() => openSqliteStore(path), 'open');
    expect(err.details['path']).toBe(path);
    expect(err.message).toContain(path);
  });

  it('fails to open a file that is not a database', () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(
      path,
      'this is not an SQLite database, it is much longer than a header would be'.repeat(20),
    );
    expectStoreError(() => openSqliteStore(path), 'open');
  });
});
