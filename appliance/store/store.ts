/**
 * The one persistence interface: incidents, mitigations and the audit chain. The appliance,
 * the dispatcher and the API talk only to this, so a server database can replace the embedded
 * SQLite file without touching them. Every failure is a FloodgateError FG_ERR_STORE.
 */
import type { AuditEntry, AuditInput, ChainVerification } from '../../core/audit/chain.js';
import type { EscalationRun, RunState, TargetHistory } from '../../core/escalation/run.js';
import type { Incident, IncidentState } from '../../core/incident/incident.js';
import type { MitigationRecord, MitigationState } from '../../core/mitigation/mitigation.js';
import type { NodeRule } from '../../core/node-rules/rule.js';

export interface IncidentQuery {
  state?: IncidentState;
  /** Most incidents to return; all when absent. */
  limit?: number;
  /** Only incidents that were open at some point at or after this time: still open, or closed since. */
  sinceMs?: number;
}

export interface MitigationQuery {
  incidentId?: string;
  /** Every adapter's mitigation of this intent. */
  intentId?: string;
  /** Only failed mitigations whose retry is due at or before this time. */
  retryDueAtMs?: number;
  /** Any of these states; all states when absent. */
  states?: readonly MitigationState[];
  /** Most records to return; all when absent. */
  limit?: number;
}

export interface RunQuery {
  /** Any of these states; all states when absent. */
  states?: readonly RunState[];
  /** Most runs to return; all when absent. */
  limit?: number;
}

export interface AuditQuery {
  /** Entries with a larger seq only (paging); from the first entry when absent. */
  afterSeq?: number;
  /** Most entries to return; all when absent. */
  limit?: number;
}

export interface Store {
  /** Inserts or replaces the incident with this id. */
  saveIncident(incident: Incident): void;
  getIncident(id: string): Incident | undefined;
  /** Newest opened first. */
  listIncidents(query?: IncidentQuery): Incident[];

  /** Inserts or replaces the mitigation record with this id. */
  saveMitigation(record: MitigationRecord): void;
  getMitigation(id: string): MitigationRecord | undefined;
  /** Most recently updated first. */
  listMitigations(query?: MitigationQuery): MitigationRecord[];

  /** Inserts or replaces the escalation run with this id. */
  saveRun(run: EscalationRun): void;
  getRun(id: string): EscalationRun | undefined;
  /** Most recently started first. */
  listRuns(query?: RunQuery): EscalationRun[];
  /** What the TTL backoff remembers per target. */
  saveTargetHistory(history: TargetHistory): void;
  listTargetHistory(): TargetHistory[];

  /** Inserts or replaces the node firewall rule with this id. */
  saveNodeRule(rule: NodeRule): void;
  getNodeRule(id: string): NodeRule | undefined;
  /** In id order. */
  listNodeRules(): NodeRule[];
  /** False when there was no such rule. */
  deleteNodeRule(id: string): boolean;

  /**
   * Chains the input onto the last entry and stores it, in one transaction: concurrent writers
   * (even other processes on the same file) can never fork the chain or reuse a seq.
   */
  appendAudit(input: AuditInput): AuditEntry;
  /** Oldest first, in seq order. */
  listAudit(query?: AuditQuery): AuditEntry[];
  /** Re-hashes the whole audit chain from its first entry. */
  verifyAudit(): ChainVerification;

  /** Releases the database; further calls fail with FG_ERR_STORE. Safe to call twice. */
  close(): void;
}
