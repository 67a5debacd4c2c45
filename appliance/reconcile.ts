/**
 * Reconciliation of one adapter with the store (at start, and when an adapter says it
 * reconnected): what `list()` shows in place is compared with what the store wants. Missing
 * wanted mitigations are applied again, unwanted ones withdrawn (orphans included: in place but
 * known to nothing), records corrected to what the device shows; an adapter whose list() is its
 * own memory (reassert) then checks the wanted ones on its devices and puts back what they lost.
 * Every correction is audited.
 * The dispatcher runs it in its queue, between its other operations.
 */
import type { AdapterReceipt, MitigationAdapter } from '../adapters/contract.js';
import type { AuditActor, AuditInput } from '../core/audit/chain.js';
import type { Logger } from '../core/logger.js';
import {
  goalOf,
  type MitigationRecord,
  type MitigationState,
  mitigationId,
} from '../core/mitigation/mitigation.js';
import type { Store } from './store/store.js';

export interface ReconcileReport {
  adapter: string;
  /** Wanted but missing from the adapter: applied again. */
  reapplied: number;
  /** In the adapter but wanted by nothing: withdrawn. */
  orphansWithdrawn: number;
  /** Store records corrected to what the adapter showed (applying -> active, withdrawing -> withdrawn). */
  corrected: number;
  /** Runs the adapter's devices had lost (a rebooted node), put back by reassert(). */
  restored: number;
  /** Why list() failed, when it did (nothing was changed for that adapter). */
  error: string | null;
}

/** The dispatcher's own steps reconciliation uses, so both keep one state machine. */
export interface ReconcileOps {
  store: Store;
  logger: Logger;
  now: () => number;
  audit(input: AuditInput): void;
  save(record: MitigationRecord, state: MitigationState, patch?: Partial<MitigationRecord>): MitigationRecord;
  deliver(record: MitigationRecord, detail?: Record<string, unknown>): Promise<MitigationRecord>;
  remove(record: MitigationRecord, actor: AuditActor, reason: string): Promise<MitigationRecord>;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function createReconciler(
  ops: ReconcileOps,
): (adapter: MitigationAdapter, trigger: string) => Promise<ReconcileReport> {
  const { store, logger, now, audit, save, deliver, remove } = ops;
  return async function reconcileAdapter(
    adapter: MitigationAdapter,
    trigger: string,
  ): Promise<ReconcileReport> {
    const report: ReconcileReport = {
      adapter: adapter.name,
      reapplied: 0,
      orphansWithdrawn: 0,
      corrected: 0,
      restored: 0,
      error: null,
    };
    const correction = (
      record: MitigationRecord | undefined,
      what: string,
      command: string | undefined,
      extra = {},
      result: 'ok' | 'error' = 'ok',
    ) =>
      audit({
        atMs: now(),
        actor: 'system',
        action: 'reconcile',
        adapter: adapter.name,
        ...(record === undefined
          ? {}
          : {
              incidentId: record.incidentId,
              mitigationId: record.id,
              ...(record.rule === undefined ? {} : { rule: record.rule }),
            }),
        ...(command === undefined ? {} : { command }),
        result,
        detail: { trigger, correction: what, ...extra },
      });
    let inPlace: AdapterReceipt[];
    try {
      inPlace = await adapter.list();
    } catch (e) {
      report.error = messageOf(e);
      audit({
        atMs: now(),
        actor: 'system',
        action: 'reconcile',
        adapter: adapter.name,
        result: 'error',
        detail: { trigger, error: report.error, note: 'list() failed; nothing was changed on this adapter' },
      });
      logger.error({ adapter: adapter.name, err: e }, 'reconciliation could not list what the adapter holds');
      return report;
    }
    const present = new Map(inPlace.map((r) => [r.intentId, r]));
    /** Wanted and listed in place: what reassert() checks on the devices. */
    const kept: MitigationRecord[] = [];
    const records = store.listMitigations({}).filter((r) => r.adapter === adapter.name);
    for (const record of records) {
      const there = present.get(record.intentId);
      if (goalOf(record) === 'active' && (record.holders ?? []).length === 0) {
        // Wanted by no runbook tier (a record written before runbooks existed): not wanted at all.
        if (there) present.delete(record.intentId);
        correction(record, 'held by no runbook tier: withdrawing', undefined);
        await remove(there ? { ...record, receipt: there } : record, 'system', `reconciliation (${trigger})`);
        report.orphansWithdrawn++;
        continue;
      }
      if (goalOf(record) === 'active' && record.state !== 'pending') {
        if (there) {
          present.delete(record.intentId);
          kept.push(record);
          if (record.state !== 'active') {
            save(record, 'active', { receipt: there, error: null, attempts: 0, nextAttemptAtMs: null });
            correction(
              record,
              `found in place while the store said ${record.state}: marked active`,
              there.command,
            );
            report.corrected++;
          }
        } else {
          correction(record, 'missing from the adapter: applying again', record.rendered);
          await deliver({ ...record, receipt: null }, { reconcile: trigger });
          report.reapplied++;
        }
        continue;
      }
      if (goalOf(record) === 'withdrawn') {
        if (there) {
          present.delete(record.intentId);
          correction(record, 'still in place after it was withdrawn: withdrawing', undefined);
          await remove(
            { ...record, receipt: there, state: 'active' },
            'system',
            `reconciliation (${trigger})`,
          );
          report.orphansWithdrawn++;
        } else if (record.state !== 'withdrawn') {
          save(record, 'withdrawn', { withdrawnAtMs: now(), error: null, nextAttemptAtMs: null });
          correction(
            record,
            `gone from the adapter while the store said ${record.state}: marked withdrawn`,
            undefined,
          );
          report.corrected++;
        }
      }
    }
    // What is left is wanted by nothing in the store (or waits for an approval it never got).
    for (const receipt of present.values()) {
      try {
        const result = await adapter.withdraw(receipt);
        const known = store.getMitigation(mitigationId(receipt.intentId, adapter.name));
        correction(known, 'in place but wanted by nothing: withdrawn (orphan)', result.command, {
          intentId: receipt.intentId,
          appliedAtMs: receipt.appliedAtMs,
        });
        report.orphansWithdrawn++;
      } catch (e) {
        audit({
          atMs: now(),
          actor: 'system',
          action: 'reconcile',
          adapter: adapter.name,
          command: receipt.command,
          result: 'error',
          detail: {
            trigger,
            correction: 'orphan could not be withdrawn',
            intentId: receipt.intentId,
            error: messageOf(e),
          },
        });
        logger.error(
          { adapter: adapter.name, intent: receipt.intentId, err: e },
          'could not withdraw an orphan',
        );
      }
    }
    if (adapter.reassert !== undefined && kept.length > 0) {
      try {
        const byIntent = new Map(kept.map((r) => [r.intentId, r]));
        const checked = await adapter.reassert(kept.map((r) => r.intentId));
        for (const r of checked.restored) {
          correction(byIntent.get(r.intentId), `lost on ${r.venue}: put back`, r.commands.join('\n'));
          report.restored++;
        }
        for (const f of checked.failures) {
          const what = `could not check or put back on ${f.venue}`;
          correction(byIntent.get(f.intentId), what, undefined, { error: f.error }, 'error');
          logger.error({ adapter: adapter.name, intent: f.intentId, venue: f.venue, error: f.error }, what);
        }
      } catch (e) {
        logger.error({ adapter: adapter.name, err: e }, 'reassert failed');
      }
    }
    logger.info({ ...report, trigger }, 'adapter reconciled');
    return report;
  };
}
