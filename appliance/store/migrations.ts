/**
 * The SQLite schema as an ordered list of migrations. Applied ones are recorded in
 * schema_version; opening a database applies only the missing ones, each in its own
 * transaction, so an interrupted upgrade leaves the file at a known version. Never edit a
 * released migration: append a new one.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'incidents, mitigations and the append-only audit chain',
    sql: `
      CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        target TEXT NOT NULL,
        family TEXT NOT NULL,
        opened_at INTEGER NOT NULL,
        closed_at INTEGER,
        json TEXT NOT NULL
      );
      CREATE INDEX incidents_by_opened ON incidents (opened_at DESC);
      CREATE INDEX incidents_by_state ON incidents (state, opened_at DESC);

      CREATE TABLE mitigations (
        id TEXT PRIMARY KEY,
        incident_id TEXT NOT NULL,
        adapter TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        json TEXT NOT NULL
      );
      CREATE INDEX mitigations_by_incident ON mitigations (incident_id);
      CREATE INDEX mitigations_by_state ON mitigations (state, updated_at DESC);

      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        incident_id TEXT,
        mitigation_id TEXT,
        adapter TEXT,
        result TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        json TEXT NOT NULL
      );
      CREATE INDEX audit_by_incident ON audit (incident_id);

      -- The audit log is evidence: rows are only ever appended.
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
      BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
      BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: DELETE refused'); END;
    `,
  },
  {
    version: 2,
    description: 'escalation runs, target history for the TTL backoff, mitigation retry schedule',
    sql: `
      ALTER TABLE mitigations ADD COLUMN intent_id TEXT;
      ALTER TABLE mitigations ADD COLUMN next_attempt_at INTEGER;
      UPDATE mitigations SET intent_id = json_extract(json, '$.intentId');
      CREATE INDEX mitigations_by_intent ON mitigations (intent_id);
      CREATE INDEX mitigations_by_retry ON mitigations (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

      CREATE TABLE escalation_runs (
        id TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        state TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        json TEXT NOT NULL
      );
      CREATE INDEX escalation_runs_by_state ON escalation_runs (state, updated_at DESC);
      CREATE INDEX escalation_runs_by_started ON escalation_runs (started_at DESC);

      CREATE TABLE target_history (
        target TEXT PRIMARY KEY,
        last_ended_at INTEGER NOT NULL,
        json TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    description: 'node firewall rules',
    sql: `
      CREATE TABLE node_rules (
        id TEXT PRIMARY KEY,
        enabled INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        json TEXT NOT NULL
      );
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** The highest applied migration, 0 for a fresh database. */
export function schemaVersion(db: Database.Database): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at_ms INTEGER NOT NULL
  )`);
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_version').get() as {
    version: number | null;
  };
  return row.version ?? 0;
}

/**
 * Brings the database up to LATEST_SCHEMA_VERSION and returns the versions it applied (empty
 * when it was already current). Throws a plain Error when the file is newer than this build;
 * the store wraps it with the path.
 */
export function migrate(db: Database.Database, nowMs: number): number[] {
  const current = schemaVersion(db);
  if (current > LATEST_SCHEMA_VERSION) {
    throw new Error(
      `database schema is version ${current} but this Floodgate knows up to ${LATEST_SCHEMA_VERSION}; ` +
        'run the newer Floodgate that wrote it, or restore a backup',
    );
  }
  const applied: number[] = [];
  const record = db.prepare(
    'INSERT INTO schema_version (version, description, applied_at_ms) VALUES (?, ?, ?)',
  );
  for (const migration of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue;
    // IMMEDIATE takes the write lock first, so two processes opening the same new file do not
    // both try to create the tables.
    db.transaction(() => {
      if (schemaVersion(db) >= migration.version) return;
      db.exec(migration.sql);
      record.run(migration.version, migration.description, nowMs);
      applied.push(migration.version);
    }).immediate();
  }
  return applied;
}
