/**
 * Turns planned intents into mitigations: one persisted state machine per intent and adapter,
 * every step audited. Operations run one at a time, in order, so a withdraw can never overtake
 * the apply it undoes.
 */
import type { AdapterReceipt, MitigationAdapter } from '../adapters/contract.js';
import { capabilityFor } from '../adapters/contract.js';
import type { Incident } from '../core/incident/incident.js';
import type { Logger } from '../core/logger.js';
import type { MitigationConfig } from '../core/mitigation/config.js';
import type { MitigationIntent, RefusedIntent } from '../core/mitigation/intent.js';
import { type MitigationRecord, type MitigationState, mitigationId } from '../core/mitigation/mitigation.js';
import { checkCap } from '../core/mitigation/safety.js';
import type { Store } from './store/store.js';

export interface DispatcherDeps {
  store: Store;
  /** Adapters that receive intents, already filtered by the run mode. */
  adapters: readonly MitigationAdapter[];
  caps: MitigationConfig['caps'];
  logger: Logger;
  now: () => number;
}

export interface Dispatcher {
  /** Delivers an incident's intents through every adapter able to; records refusals. */
  apply(
    incident: Incident,
    intents: readonly MitigationIntent[],
    refused: readonly RefusedIntent[],
  ): Promise<void>;
  /** Withdraws every mitigation of an incident that is still in place. */
  withdrawIncident(incidentId: string): Promise<void>;
  /**
   * After a restart the detector starts blind, so nothing the previous run put in place has an
   * incident behind it any more: withdraw it (the detector re-opens within seconds if the attack
   * goes on) and close the incidents left open. Issue 5 replaces this with full reconciliation.
   */
  recoverAfterRestart(): Promise<void>;
  /** Resolves when every queued operation has finished. */
  idle(): Promise<void>;
}

const IN_PLACE: readonly MitigationState[] = ['applying', 'active'];

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { store, logger, now } = deps;
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (job: () => Promise<void>): Promise<void> => {
    queue = queue.then(job).catch((e: unknown) => {
      logger.error({ err: e }, 'dispatcher job failed');
    });
    return queue;
  };

  function save(
    record: MitigationRecord,
    state: MitigationState,
    patch: Partial<MitigationRecord> = {},
  ): MitigationRecord {
    const next: MitigationRecord = { ...record, ...patch, state, updatedAtMs: now() };
    store.saveMitigation(next);
    return next;
  }

  function activeCount(kind: MitigationIntent['kind']): number {
    return store
      .listMitigations({ states: [...IN_PLACE], limit: 1_000_000 })
      .filter((m) => m.intent.kind === kind).length;
  }

  async function applyOne(
    incident: Incident,
    intent: MitigationIntent,
    adapter: MitigationAdapter,
  ): Promise<void> {
    const id = mitigationId(intent.id, adapter.name);
    const existing = store.getMitigation(id);
    if (existing && IN_PLACE.includes(existing.state)) {
      logger.debug({ mitigation: id }, 'intent already in place; not applied twice');
      return;
    }
    const rendered = adapter.render(intent);
    const refusal = checkCap(intent, activeCount(intent.kind), deps.caps);
    if (refusal) {
      store.appendAudit({
        atMs: now(),
        actor: 'system',
        action: 'refuse',
        incidentId: incident.id,
        mitigationId: id,
        adapter: adapter.name,
        command: rendered,
        result: 'refused',
        detail: { code: refusal.code, reason: refusal.reason },
      });
      logger.warn({ incident: incident.id, mitigation: id, code: refusal.code }, refusal.reason);
      return;
    }
    let record: MitigationRecord = {
      id,
      intentId: intent.id,
      incidentId: incident.id,
      adapter: adapter.name,
      intent,
      state: 'pending',
      rendered,
      receipt: null,
      error: null,
      createdAtMs: now(),
      updatedAtMs: now(),
    };
    record = save(record, 'applying');
    try {
      const receipt = await adapter.apply(intent);
      record = save(record, 'active', { receipt, error: null });
      store.appendAudit({
        atMs: now(),
        actor: `adapter:${adapter.name}`,
        action: 'apply',
        incidentId: incident.id,
        mitigationId: id,
        adapter: adapter.name,
        command: rendered,
        result: 'ok',
      });
      logger.info(
        { incident: incident.id, mitigation: id, adapter: adapter.name, command: rendered },
        'mitigation applied',
      );
    } catch (e) {
      const message = (e as Error).message;
      save(record, 'failed', { error: message });
      store.appendAudit({
        atMs: now(),
        actor: `adapter:${adapter.name}`,
        action: 'fail',
        incidentId: incident.id,
        mitigationId: id,
        adapter: adapter.name,
        command: rendered,
        result: 'error',
        detail: { error: message },
      });
      logger.error(
        { incident: incident.id, mitigation: id, adapter: adapter.name, err: e },
        'mitigation failed to apply',
      );
    }
  }

  async function withdrawOne(record: MitigationRecord, reason: string): Promise<void> {
    const adapter = deps.adapters.find((a) => a.name === record.adapter);
    let current = save(record, 'withdrawing');
    // Until the adapter answers, the best description of the undo is what was applied.
    let command = record.rendered;
    try {
      if (!adapter) {
        throw new Error(
          `adapter "${record.adapter}" is no longer configured; remove ${record.intentId} by hand`,
        );
      }
      if (record.receipt !== null) {
        const result = await adapter.withdraw(record.receipt as AdapterReceipt);
        command = result.command;
        if (!result.wasPresent)
          logger.warn({ mitigation: record.id }, 'mitigation was already gone from the adapter');
      }
      current = save(current, 'withdrawn');
      store.appendAudit({
        atMs: now(),
        actor: `adapter:${record.adapter}`,
        action: 'withdraw',
        incidentId: record.incidentId,
        mitigationId: record.id,
        adapter: record.adapter,
        command,
        result: 'ok',
        detail: { reason },
      });
      logger.info({ incident: record.incidentId, mitigation: record.id, reason }, 'mitigation withdrawn');
    } catch (e) {
      const message = (e as Error).message;
      save(current, 'failed', { error: message });
      store.appendAudit({
        atMs: now(),
        actor: `adapter:${record.adapter}`,
        action: 'fail',
        incidentId: record.incidentId,
        mitigationId: record.id,
        adapter: record.adapter,
        command,
        result: 'error',
        detail: { error: message, during: 'withdraw' },
      });
      logger.error({ mitigation: record.id, err: e }, 'mitigation failed to withdraw');
    }
  }

  return {
    apply(incident, intents, refused) {
      return enqueue(async () => {
        for (const r of refused) {
          store.appendAudit({
            atMs: now(),
            actor: 'system',
            action: 'refuse',
            incidentId: incident.id,
            result: 'refused',
            detail: { code: r.code, reason: r.reason, intent: r.intent },
          });
          logger.warn({ incident: incident.id, code: r.code }, r.reason);
        }
        for (const intent of intents) {
          const capability = capabilityFor(intent);
          const able = deps.adapters.filter((a) => a.capabilities.has(capability));
          if (able.length === 0) {
            logger.warn(
              { incident: incident.id, capability },
              `no configured adapter can deliver ${capability}`,
            );
          }
          for (const adapter of able) await applyOne(incident, intent, adapter);
        }
      });
    },
    withdrawIncident(incidentId) {
      return enqueue(async () => {
        const records = store.listMitigations({
          incidentId,
          states: [...IN_PLACE, 'failed'],
          limit: 1_000_000,
        });
        for (const record of records) await withdrawOne(record, 'incident closed');
      });
    },
    recoverAfterRestart() {
      return enqueue(async () => {
        const leftOver = store.listMitigations({ states: [...IN_PLACE, 'withdrawing'], limit: 1_000_000 });
        for (const record of leftOver)
          await withdrawOne(record, 'daemon restarted without its detection state');
        for (const incident of store.listIncidents({ state: 'open', limit: 1_000_000 })) {
          store.saveIncident({ ...incident, state: 'closed', closedAtMs: now() });
          store.appendAudit({
            atMs: now(),
            actor: 'system',
            action: 'incident-close',
            incidentId: incident.id,
            result: 'ok',
            detail: { reason: 'daemon restarted; the detector re-opens an incident if the attack continues' },
          });
        }
      });
    },
    idle() {
      return queue;
    },
  };
}
