import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  migrate,
  schemaVersion,
} from '../../../appliance/store/migrations.js';
import { openSqliteStore } from '../../../appliance/store/sqlite-store.js';
import { FloodgateError } from '../../../core/errors.js';
import { incident, mitigation } from './fixtures.js';

describe('migrations', () => {
  it('are numbered 1, 2, ... without gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(
      Array.from({ length: MIGRATIONS.length }, (_, i) => i + 1),
    );
    expect(LATEST_SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('bring a fresh database to the latest version once, then do nothing', () => {
    const db = new Database(':memory:');
    expect(schemaVersion(db)).toBe(0);
    expect(migrate(db, 1_000)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    expect(migrate(db, 2_000)).toEqual([]);
    expect(migrate(db, 3_000)).toEqual([]);
    const rows = db.prepare('SELECT version, applied_at_ms FROM schema_version ORDER BY version').all();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, applied_at_ms: 1_000 })));
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => (r as { name: string }).name);
    expect(tables).toEqual([
      'audit',
      'escalation_runs',
      'incidents',
      'mitigations',
      'node_rules',
      'schema_version',
      'target_history',
    ]);
    db.close();
  });

  describe('on a file', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'floodgate-migrate-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('leave existing data alone when the store is reopened', () => {
      const path = join(dir, 'floodgate.db');
      const store = openSqliteStore(path, () => 5_000);
      store.saveIncident(incident());
      store.close();
      for (let i = 0; i < 3; i++) openSqliteStore(path, () => 9_000 + i).close();

      const raw = new Database(path);
      expect(raw.prepare('SELECT version, applied_at_ms FROM schema_version').all()).toEqual(
        MIGRATIONS.map((m) => ({ version: m.version, applied_at_ms: 5_000 })),
      );
      expect(raw.prepare('SELECT COUNT(*) AS n FROM incidents').get()).toEqual({ n: 1 });
      raw.close();
    });

    it('upgrade a version 1 file in place: mitigations stay and become findable by intent', () => {
      const path = join(dir, 'floodgate.db');
      const raw = new Database(path);
      schemaVersion(raw);
      raw.exec(MIGRATIONS[0]!.sql);
      raw
        .prepare('INSERT INTO schema_version (version, description, applied_at_ms) VALUES (1, ?, 1)')
        .run('v1');
      const record = mitigation();
      raw
        .prepare(
          'INSERT INTO mitigations (id, incident_id, adapter, state, updated_at, json) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          record.id,
          record.incidentId,
          record.adapter,
          record.state,
          record.updatedAtMs,
          JSON.stringify(record),
        );
      raw.close();

      const store = openSqliteStore(path, () => 7_000);
      expect(store.listMitigations({ intentId: record.intentId })).toEqual([record]);
      expect(store.listRuns()).toEqual([]);
      store.close();
    });

    it('refuse a database written by a newer Floodgate', () => {
      const path = join(dir, 'floodgate.db');
      openSqliteStore(path).close();
      const raw = new Database(path);
      raw
        .prepare('INSERT INTO schema_version (version, description, applied_at_ms) VALUES (?, ?, ?)')
        .run(LATEST_SCHEMA_VERSION + 1, 'from the future', 0);
      raw.close();

      let caught: unknown;
      try {
        openSqliteStore(path);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(FloodgateError);
      expect((caught as FloodgateError).code).toBe('FG_ERR_STORE');
      expect((caught as FloodgateError).message).toMatch(
        new RegExp(
          `schema is version ${LATEST_SCHEMA_VERSION + 1} but this Floodgate knows up to ${LATEST_SCHEMA_VERSION}`,
        ),
      );
      expect((caught as FloodgateError).details).toMatchObject({ path, operation: 'open' });
    });
  });
});
