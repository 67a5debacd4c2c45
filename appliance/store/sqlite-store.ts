/**
 * The embedded store: one SQLite file (better-sqlite3, synchronous, WAL). Indexed columns hold
 * what queries filter and sort on; the `json` column holds the whole record, so adding a field
 * to Incident or MitigationRecord needs no migration.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { type AuditEntry, type AuditInput, chainEntry, verifyChain } from '../../core/audit/chain.js';
import { FloodgateError } from '../../core/errors.js';
import type { EscalationRun, TargetHistory } from '../../core/escalation/run.js';
import type { Incident } from '../../core/incident/incident.js';
import type { MitigationRecord } from '../../core/mitigation/mitigation.js';
import type { NodeRule } from '../../core/node-rules/rule.js';
import { migrate } from './migrations.js';
import type { AuditQuery, IncidentQuery, MitigationQuery, RunQuery, Store } from './store.js';

/** How long a writer waits for another process holding the lock before giving up. */
const BUSY_TIMEOUT_MS = 5_000;

interface JsonRow {
  json: string;
}

interface AuditRow {
  seq: number;
  prev_hash: string;
  hash: string;
  json: string;
}

/**
 * Opens (creating it and its directory if needed) the database at `path` and brings its schema
 * up to date. `':memory:'` gives a private in-memory database for tests.
 */
export function openSqliteStore(path: string, now: () => number = Date.now): Store {
  const inMemory = path === ':memory:';
  const location = inMemory ? path : resolve(path);
  const fail = (operation: string, cause: unknown, context: Record<string, unknown> = {}): FloodgateError => {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new FloodgateError(
      'FG_ERR_STORE',
      `${operation} failed on ${location}: ${reason}`,
      { path: location, operation, ...context },
      { cause },
    );
  };
  const guard = <T>(operation: string, context: Record<string, unknown>, work: () => T): T => {
    try {
      return work();
    } catch (e) {
      throw e instanceof FloodgateError ? e : fail(operation, e, context);
    }
  };

  const db = guard('open', {}, () => {
    if (!inMemory) mkdirSync(dirname(location), { recursive: true });
    const opened = new Database(location, { timeout: BUSY_TIMEOUT_MS });
    try {
      opened.pragma('journal_mode = WAL');
      // NORMAL under WAL is durable across process crashes; only a power loss can drop the
      // last transactions, never corrupt the file.
      opened.pragma('synchronous = NORMAL');
      opened.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      migrate(opened, now());
      return opened;
    } catch (e) {
      opened.close();
      throw e;
    }
  });

  const stmt = {
    upsertIncident: db.prepare(`
      INSERT INTO incidents (id, state, target, family, opened_at, closed_at, json)
      VALUES (@id, @state, @target, @family, @openedAt, @closedAt, @json)
      ON CONFLICT (id) DO UPDATE SET state = excluded.state, target = excluded.target,
        family = excluded.family, opened_at = excluded.opened_at, closed_at = excluded.closed_at,
        json = excluded.json`),
    getIncident: db.prepare('SELECT json FROM incidents WHERE id = ?'),
    upsertMitigation: db.prepare(`
      INSERT INTO mitigations (id, incident_id, intent_id, adapter, state, updated_at, next_attempt_at, json)
      VALUES (@id, @incidentId, @intentId, @adapter, @state, @updatedAt, @nextAttemptAt, @json)
      ON CONFLICT (id) DO UPDATE SET incident_id = excluded.incident_id, intent_id = excluded.intent_id,
        adapter = excluded.adapter, state = excluded.state, updated_at = excluded.updated_at,
        next_attempt_at = excluded.next_attempt_at, json = excluded.json`),
    upsertRun: db.prepare(`
      INSERT INTO escalation_runs (id, target, state, started_at, updated_at, json)
      VALUES (@id, @target, @state, @startedAt, @updatedAt, @json)
      ON CONFLICT (id) DO UPDATE SET target = excluded.target, state = excluded.state,
        started_at = excluded.started_at, updated_at = excluded.updated_at, json = excluded.json`),
    getRun: db.prepare('SELECT json FROM escalation_runs WHERE id = ?'),
    upsertHistory: db.prepare(`
      INSERT INTO target_history (target, last_ended_at, json) VALUES (@target, @lastEndedAt, @json)
      ON CONFLICT (target) DO UPDATE SET last_ended_at = excluded.last_ended_at, json = excluded.json`),
    allHistory: db.prepare('SELECT json FROM target_history ORDER BY target'),
    getMitigation: db.prepare('SELECT json FROM mitigations WHERE id = ?'),
    upsertNodeRule: db.prepare(`
      INSERT INTO node_rules (id, enabled, updated_at, json) VALUES (@id, @enabled, @updatedAt, @json)
      ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at,
        json = excluded.json`),
    getNodeRule: db.prepare('SELECT json FROM node_rules WHERE id = ?'),
    allNodeRules: db.prepare('SELECT json FROM node_rules ORDER BY id'),
    deleteNodeRule: db.prepare('DELETE FROM node_rules WHERE id = ?'),
    lastAudit: db.prepare('SELECT seq, prev_hash, hash, json FROM audit ORDER BY seq DESC LIMIT 1'),
    insertAudit: db.prepare(`
      INSERT INTO audit (seq, at_ms, actor, action, incident_id, mitigation_id, adapter, result, prev_hash, hash, json)
      VALUES (@seq, @atMs, @actor, @action, @incidentId, @mitigationId, @adapter, @result, @prevHash, @hash, @json)`),
    allAudit: db.prepare('SELECT seq, prev_hash, hash, json FROM audit ORDER BY seq'),
  };

  // IMMEDIATE: take the write lock before reading the last entry, so no other writer can chain
  // onto the same predecessor between our read and our insert.
  const appendAuditTx = db.transaction((input: AuditInput): AuditEntry => {
    const last = stmt.lastAudit.get() as AuditRow | undefined;
    const entry = chainEntry(last === undefined ? null : auditFromRow(last), input);
    stmt.insertAudit.run({
      seq: entry.seq,
      atMs: entry.atMs,
      actor: entry.actor,
      action: entry.action,
      incidentId: entry.incidentId ?? null,
      mitigationId: entry.mitigationId ?? null,
      adapter: entry.adapter ?? null,
      result: entry.result,
      prevHash: entry.prevHash,
      hash: entry.hash,
      json: JSON.stringify(entry),
    });
    return entry;
  });

  let closed = false;

  return {
    saveIncident(incident) {
      guard('saveIncident', { incidentId: incident.id }, () => {
        stmt.upsertIncident.run({
          id: incident.id,
          state: incident.state,
          target: incident.target,
          family: incident.family,
          openedAt: incident.openedAtMs,
          closedAt: incident.closedAtMs,
          json: JSON.stringify(incident),
        });
      });
    },

    getIncident(id) {
      return guard('getIncident', { incidentId: id }, () => {
        const row = stmt.getIncident.get(id) as JsonRow | undefined;
        return row === undefined ? undefined : (JSON.parse(row.json) as Incident);
      });
    },

    listIncidents(query: IncidentQuery = {}) {
      return guard('listIncidents', { query }, () => {
        const where: string[] = [];
        const params: Record<string, unknown> = {};
        if (query.state !== undefined) {
          where.push('state = @state');
          params['state'] = query.state;
        }
        if (query.sinceMs !== undefined) {
          where.push('(closed_at IS NULL OR closed_at >= @sinceMs)');
          params['sinceMs'] = query.sinceMs;
        }
        const sql =
          `SELECT json FROM incidents ${whereClause(where)} ORDER BY opened_at DESC, id DESC` +
          limitClause(query.limit, params);
        return (db.prepare(sql).all(params) as JsonRow[]).map((row) => JSON.parse(row.json) as Incident);
      });
    },

    saveMitigation(record) {
      guard('saveMitigation', { mitigationId: record.id }, () => {
        stmt.upsertMitigation.run({
          id: record.id,
          incidentId: record.incidentId,
          intentId: record.intentId,
          adapter: record.adapter,
          state: record.state,
          updatedAt: record.updatedAtMs,
          nextAttemptAt: record.state === 'failed' ? (record.nextAttemptAtMs ?? null) : null,
          json: JSON.stringify(record),
        });
      });
    },

    getMitigation(id) {
      return guard('getMitigation', { mitigationId: id }, () => {
        const row = stmt.getMitigation.get(id) as JsonRow | undefined;
        return row === undefined ? undefined : (JSON.parse(row.json) as MitigationRecord);
      });
    },

    listMitigations(query: MitigationQuery = {}) {
      return guard('listMitigations', { query }, () => {
        const where: string[] = [];
        const params: Record<string, unknown> = {};
        if (query.incidentId !== undefined) {
          where.push('incident_id = @incidentId');
          params['incidentId'] = query.incidentId;
        }
        if (query.intentId !== undefined) {
          where.push('intent_id = @intentId');
          params['intentId'] = query.intentId;
        }
        if (query.retryDueAtMs !== undefined) {
          where.push("state = 'failed' AND next_attempt_at IS NOT NULL AND next_attempt_at <= @retryDueAtMs");
          params['retryDueAtMs'] = query.retryDueAtMs;
        }
        if (query.states !== undefined) {
          if (query.states.length === 0) return [];
          const names = query.states.map((state, i) => {
            params[`state${i}`] = state;
            return `@state${i}`;
          });
          where.push(`state IN (${names.join(', ')})`);
        }
        const sql =
          `SELECT json FROM mitigations ${whereClause(where)} ORDER BY updated_at DESC, id ASC` +
          limitClause(query.limit, params);
        return (db.prepare(sql).all(params) as JsonRow[]).map(
          (row) => JSON.parse(row.json) as MitigationRecord,
        );
      });
    },

    saveNodeRule(rule) {
      guard('saveNodeRule', { ruleId: rule.id }, () => {
        stmt.upsertNodeRule.run({
          id: rule.id,
          enabled: rule.enabled ? 1 : 0,
          updatedAt: rule.updatedAtMs,
          json: JSON.stringify(rule),
        });
      });
    },

    getNodeRule(id) {
      return guard('getNodeRule', { ruleId: id }, () => {
        const row = stmt.getNodeRule.get(id) as JsonRow | undefined;
        return row === undefined ? undefined : (JSON.parse(row.json) as NodeRule);
      });
    },

    listNodeRules() {
      return guard('listNodeRules', {}, () =>
        (stmt.allNodeRules.all() as JsonRow[]).map((row) => JSON.parse(row.json) as NodeRule),
      );
    },

    deleteNodeRule(id) {
      return guard('deleteNodeRule', { ruleId: id }, () => stmt.deleteNodeRule.run(id).changes > 0);
    },

    saveRun(run) {
      guard('saveRun', { runId: run.id }, () => {
        stmt.upsertRun.run({
          id: run.id,
          target: run.target,
          state: run.state,
          startedAt: run.startedAtMs,
          updatedAt: run.updatedAtMs,
          json: JSON.stringify(run),
        });
      });
    },

    getRun(id) {
      return guard('getRun', { runId: id }, () => {
        const row = stmt.getRun.get(id) as JsonRow | undefined;
        return row === undefined ? undefined : (JSON.parse(row.json) as EscalationRun);
      });
    },

    listRuns(query: RunQuery = {}) {
      return guard('listRuns', { query }, () => {
        const where: string[] = [];
        const params: Record<string, unknown> = {};
        if (query.states !== undefined) {
          if (query.states.length === 0) return [];
          const names = query.states.map((state, i) => {
            params[`state${i}`] = state;
            return `@state${i}`;
          });
          where.push(`state IN (${names.join(', ')})`);
        }
        const sql =
          `SELECT json FROM escalation_runs ${whereClause(where)} ORDER BY started_at DESC, id ASC` +
          limitClause(query.limit, params);
        return (db.prepare(sql).all(params) as JsonRow[]).map((row) => JSON.parse(row.json) as EscalationRun);
      });
    },

    saveTargetHistory(history) {
      guard('saveTargetHistory', { target: history.target }, () => {
        stmt.upsertHistory.run({
          target: history.target,
          lastEndedAt: history.lastEndedAtMs,
          json: JSON.stringify(history),
        });
      });
    },

    listTargetHistory() {
      return guard('listTargetHistory', {}, () =>
        (stmt.allHistory.all() as JsonRow[]).map((row) => JSON.parse(row.json) as TargetHistory),
      );
    },

    appendAudit(input) {
      return guard('appendAudit', { action: input.action, incidentId: input.incidentId }, () =>
        appendAuditTx.immediate(input),
      );
    },

    listAudit(query: AuditQuery = {}) {
      return guard('listAudit', { query }, () => {
        const params: Record<string, unknown> = { afterSeq: query.afterSeq ?? 0 };
        const sql = 'SELECT seq, prev_hash, hash, json FROM audit WHERE seq > @afterSeq ORDER BY seq';
        return (db.prepare(sql + limitClause(query.limit, params)).all(params) as AuditRow[]).map(
          auditFromRow,
        );
      });
    },

    verifyAudit() {
      return guard('verifyAudit', {}, () => {
        // Streams the rows: verification must not need the whole log in memory.
        function* entries(): Generator<AuditEntry> {
          for (const row of stmt.allAudit.iterate() as IterableIterator<AuditRow>) yield auditFromRow(row);
        }
        return verifyChain(entries());
      });
    },

    close() {
      if (closed) return;
      closed = true;
      guard('close', {}, () => db.close());
    },
  };
}

/**
 * The indexed columns are authoritative for order and linkage; the content comes from the JSON.
 * If either was altered behind the triggers' back, the recomputed hash no longer matches.
 */
function auditFromRow(row: AuditRow): AuditEntry {
  const entry = JSON.parse(row.json) as AuditEntry;
  return { ...entry, seq: row.seq, prevHash: row.prev_hash, hash: row.hash };
}

function whereClause(conditions: string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

function limitClause(limit: number | undefined, params: Record<string, unknown>): string {
  if (limit === undefined) return '';
  params['limit'] = limit;
  return ' LIMIT @limit';
}
