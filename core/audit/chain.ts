/**
 * The audit log as a hash chain: each entry carries the hash of the one before it, so an
 * edited, deleted, inserted or reordered entry breaks verification from that point on. The
 * store only appends; this module decides what an entry is and whether a chain is intact.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, toJsonValue } from './canonical-json.js';

/** Who acted: the daemon itself, a named operator, or a named adapter. */
export type AuditActor = 'system' | `operator:${string}` | `adapter:${string}`;

/** What happened. A closed list, like the error codes: operators filter audit exports on it. */
export const AUDIT_ACTIONS = [
  'apply',
  'withdraw',
  'refuse',
  'fail',
  'reconcile',
  'incident-open',
  'incident-update',
  'incident-close',
  'daemon-start',
  'daemon-stop',
  'config-load',
  // Runbooks and operators
  'plan',
  'escalate',
  'de-escalate',
  'notify',
  'approve',
  'cancel',
  // Node firewall rules saved, switched or removed by operators
  'rule-save',
  'rule-enable',
  'rule-disable',
  'rule-delete',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_RESULTS = ['ok', 'error', 'refused'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

export interface AuditInput {
  atMs: number;
  actor: AuditActor;
  action: AuditAction;
  incidentId?: string;
  mitigationId?: string;
  adapter?: string;
  /** The runbook rule behind the action: "runbook/tier-number tier-name", e.g. "default/1 flowspec-and-rtbh". */
  rule?: string;
  /** The exact text or request sent, with secrets already redacted by the caller. */
  command?: string;
  result: AuditResult;
  /** Anything else worth keeping; must survive JSON (it is stored and hashed as JSON). */
  detail?: unknown;
}

export type AuditEntry = AuditInput & {
  /** 1 for the first entry, then +1 per entry with no gaps. */
  seq: number;
  /** Hash of the previous entry; GENESIS_PREV_HASH for the first. */
  prevHash: string;
  /** sha256 hex of the canonical JSON of every other field of this entry. */
  hash: string;
};

export const GENESIS_PREV_HASH = '0'.repeat(64);

export type ChainVerification = { ok: true; count: number } | { ok: false; seq: number; reason: string };

/** The hash an entry must carry: over its canonical JSON with the hash field left out. */
export function auditEntryHash(entry: Omit<AuditEntry, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...content } = entry;
  return createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex');
}

/** The entry that follows `prev` (or starts the chain when prev is null). */
export function chainEntry(prev: AuditEntry | null, input: AuditInput): AuditEntry {
  const content: Omit<AuditEntry, 'hash'> = {
    seq: prev === null ? 1 : prev.seq + 1,
    prevHash: prev === null ? GENESIS_PREV_HASH : prev.hash,
    atMs: input.atMs,
    actor: input.actor,
    action: input.action,
    result: input.result,
  };
  // Absent optional fields stay absent (not undefined, not null) so the stored JSON and the
  // hashed text are the same thing.
  if (input.incidentId !== undefined) content.incidentId = input.incidentId;
  if (input.mitigationId !== undefined) content.mitigationId = input.mitigationId;
  if (input.adapter !== undefined) content.adapter = input.adapter;
  if (input.rule !== undefined) content.rule = input.rule;
  if (input.command !== undefined) content.command = input.command;
  if (input.detail !== undefined) {
    const detail = toJsonValue(input.detail);
    if (detail !== undefined) content.detail = detail;
  }
  return { ...content, hash: auditEntryHash(content) };
}

/**
 * Checks a whole chain from its first entry, in order. Reports the first entry that is out of
 * sequence, does not link to its predecessor, or whose content no longer matches its hash.
 */
export function verifyChain(entries: Iterable<AuditEntry>): ChainVerification {
  let prev: AuditEntry | null = null;
  let count = 0;
  for (const entry of entries) {
    const expectedSeq = prev === null ? 1 : prev.seq + 1;
    if (entry.seq !== expectedSeq) {
      return { ok: false, seq: entry.seq, reason: `expected seq ${expectedSeq}, found seq ${entry.seq}` };
    }
    const expectedPrev = prev === null ? GENESIS_PREV_HASH : prev.hash;
    if (entry.prevHash !== expectedPrev) {
      return {
        ok: false,
        seq: entry.seq,
        reason:
          prev === null
            ? 'first entry does not start from the genesis hash'
            : `prevHash does not match the hash of entry ${prev.seq}`,
      };
    }
    if (entry.hash !== auditEntryHash(entry)) {
      return {
        ok: false,
        seq: entry.seq,
        reason: 'hash does not match the entry content (entry was altered)',
      };
    }
    prev = entry;
    count++;
  }
  return { ok: true, count };
}
