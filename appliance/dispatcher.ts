/**
 * Carries out the runbook engine's decisions on the adapters, as persisted state machines (one
 * mitigation per intent and adapter, core/mitigation/mitigation.ts), every step audited:
 * - a tier fires: each intent goes to the adapters able to deliver it (pending first when the
 *   runbook wants approval, only recorded when it is detect-only); an intent another tier
 *   already holds is shared, never announced twice;
 * - a tier lets go: a mitigation is withdrawn once no tier holds it any more;
 * - a failed apply or withdraw is retried on a doubling schedule;
 * - reconciliation (at start, and when an adapter says it reconnected) compares each adapter's
 *   `list()` with the store: it re-applies what is missing, withdraws what is not wanted, and
 *   audits every correction;
 * - operators approve pending mitigations and withdraw any by hand.
 * Operations run one at a time, in order, so a withdraw can never overtake the apply it undoes.
 */
import type { AdapterReceipt, MitigationAdapter } from '../adapters/contract.js';
import { capabilityFor } from '../adapters/contract.js';
import type { AuditActor, AuditInput } from '../core/audit/chain.js';
import { redactSecrets } from '../core/audit/redact.js';
import { FloodgateError, isFloodgateError } from '../core/errors.js';
import type { ActivateAction, Delivery, ReleaseAction } from '../core/escalation/run.js';
import type { Logger } from '../core/logger.js';
import type { MitigationIntent } from '../core/mitigation/intent.js';
import { describeIntent } from '../core/mitigation/intent-text.js';
import {
  goalOf,
  type MitigationRecord,
  type MitigationState,
  mitigationId,
} from '../core/mitigation/mitigation.js';
import { type CapConfig, checkCap } from '../core/mitigation/safety.js';
import type { DispatchConfig } from './dispatcher-config.js';
import { createReconciler, type ReconcileReport } from './reconcile.js';
import type { Store } from './store/store.js';

export interface DispatcherDeps {
  store: Store;
  /** The adapters that receive intents (previews of them in detect-only mode). */
  adapters: readonly MitigationAdapter[];
  caps: CapConfig;
  retry: DispatchConfig['retry'];
  logger: Logger;
  now: () => number;
}

export type { ReconcileReport } from './reconcile.js';

export interface Dispatcher {
  /** A tier fired: deliver, queue for approval, or record, per the runbook's mode. */
  activate(action: ActivateAction): Promise<void>;
  /** A tier let go: withdraw what no other tier holds. */
  release(action: ReleaseAction): Promise<void>;
  /** Approves a pending mitigation and delivers it; FG_ERR_MITIGATION_NOT_FOUND / _STATE otherwise. */
  approve(mitigationId: string, operator: string): Promise<MitigationRecord>;
  /** Approves every pending mitigation of an incident. */
  approveIncident(incidentId: string, operator: string): Promise<MitigationRecord[]>;
  /** Withdraws a mitigation by hand, whoever holds it. */
  withdraw(mitigationId: string, operator: string): Promise<MitigationRecord>;
  /** Makes each adapter (or the one named) hold exactly what the store wants. */
  reconcile(trigger: string, adapterName?: string): Promise<ReconcileReport[]>;
  /** Retries the failed mitigations whose time has come. */
  retryDue(): Promise<void>;
  /** What `dispatch.onShutdown` says: withdraw everything, or keep it for the next start. */
  shutdown(behaviour: DispatchConfig['onShutdown']): Promise<void>;
  /** Appends an audit entry in turn with the queued operations (so the log reads in order). */
  record(input: AuditInput): Promise<void>;
  /** Runs `fn` once every operation queued before it has finished. */
  after(fn: () => void): Promise<void>;
  /** Resolves when every queued operation has finished. */
  idle(): Promise<void>;
}

const HELD: readonly MitigationState[] = ['applying', 'active', 'failed'];

/** "default/2 flowspec": the runbook, the tier's number (1-based) and its name. */
export function ruleOf(action: Pick<ActivateAction, 'runbook' | 'tier' | 'tierName'>): string {
  return `${action.runbook}/${action.tier + 1} ${action.tierName}`;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { store, logger, now } = deps;
  let queue: Promise<void> = Promise.resolve();

  /** Queues a job; the returned promise settles with it, the queue itself never rejects. */
  function enqueue<T>(job: () => Promise<T> | T): Promise<T> {
    const result = queue.then(job);
    queue = result.then(
      () => undefined,
      (e: unknown) => {
        logger.error({ err: e }, 'dispatcher job failed');
      },
    );
    return result;
  }

  const adapterNamed = (name: string) => deps.adapters.find((a) => a.name === name);

  function audit(input: AuditInput): void {
    store.appendAudit(
      input.command === undefined ? input : { ...input, command: redactSecrets(input.command) },
    );
  }

  function save(
    record: MitigationRecord,
    state: MitigationState,
    patch: Partial<MitigationRecord> = {},
  ): MitigationRecord {
    const next: MitigationRecord = { ...record, ...patch, state, updatedAtMs: now() };
    store.saveMitigation(next);
    return next;
  }

  /** Distinct intents of this kind held in place now, not counting `intent` itself. */
  function heldCount(intent: MitigationIntent): number {
    const ids = new Set<string>();
    for (const r of store.listMitigations({ states: HELD })) {
      if (r.intent.kind === intent.kind && goalOf(r) === 'active') ids.add(r.intentId);
    }
    ids.delete(intent.id);
    return ids.size;
  }

  function backoffMs(attempt: number): number {
    const { firstSeconds, maxSeconds } = deps.retry;
    return Math.min(firstSeconds * 2 ** (attempt - 1), maxSeconds) * 1000;
  }

  function failed(record: MitigationRecord, e: unknown, during: 'apply' | 'withdraw'): MitigationRecord {
    const message = messageOf(e);
    const attempt = (record.attempts ?? 0) + 1;
    const gaveUp = deps.retry.maxAttempts > 0 && attempt >= deps.retry.maxAttempts;
    const nextAttemptAtMs = gaveUp ? null : now() + backoffMs(attempt);
    const next = save(record, 'failed', { error: message, attempts: attempt, nextAttemptAtMs });
    audit({
      atMs: now(),
      actor: `adapter:${record.adapter}`,
      action: 'fail',
      incidentId: record.incidentId,
      mitigationId: record.id,
      adapter: record.adapter,
      ...(record.rule === undefined ? {} : { rule: record.rule }),
      command: record.rendered,
      result: 'error',
      detail: { error: message, during, attempt, nextAttemptAtMs, gaveUp },
    });
    logger.error(
      { mitigation: record.id, adapter: record.adapter, during, attempt, nextAttemptAtMs, err: e },
      gaveUp
        ? `mitigation failed to ${during}; giving up, an operator must act`
        : `mitigation failed to ${during}; will retry`,
    );
    return next;
  }

  /** Puts a record in place through its adapter (applying -> active, or failed with a retry). */
  async function deliver(
    record: MitigationRecord,
    detail: Record<string, unknown> = {},
  ): Promise<MitigationRecord> {
    const adapter = adapterNamed(record.adapter);
    let current = save(record, 'applying', { desired: 'active', error: null });
    try {
      if (!adapter) throw new Error(`adapter "${record.adapter}" is no longer configured`);
      const receipt = await adapter.apply(record.intent);
      const attempts = record.attempts ?? 0;
      current = save(current, 'active', {
        receipt,
        attempts: 0,
        nextAttemptAtMs: null,
        appliedAtMs: now(),
        withdrawnAtMs: null,
      });
      audit({
        atMs: now(),
        actor: `adapter:${record.adapter}`,
        action: 'apply',
        incidentId: record.incidentId,
        mitigationId: record.id,
        adapter: record.adapter,
        ...(record.rule === undefined ? {} : { rule: record.rule }),
        command: record.rendered,
        result: 'ok',
        ...(attempts > 0 || Object.keys(detail).length > 0
          ? { detail: { ...detail, ...(attempts > 0 ? { attempt: attempts + 1 } : {}) } }
          : {}),
      });
      logger.info(
        {
          incident: record.incidentId,
          mitigation: record.id,
          adapter: record.adapter,
          command: record.rendered,
        },
        'mitigation applied',
      );
    } catch (e) {
      current = failed(current, e, 'apply');
    }
    return current;
  }

  /** The receipt to withdraw with: the stored one, or what the adapter lists (a crash before it was stored). */
  async function receiptFor(
    record: MitigationRecord,
    adapter: MitigationAdapter,
  ): Promise<AdapterReceipt | null> {
    if (record.receipt !== null) return record.receipt as AdapterReceipt;
    if (record.state === 'pending') return null;
    return (await adapter.list()).find((r) => r.intentId === record.intentId) ?? null;
  }

  /** Takes a record out of place (withdrawing -> withdrawn), or cancels it while pending. */
  async function remove(
    record: MitigationRecord,
    actor: AuditActor,
    reason: string,
  ): Promise<MitigationRecord> {
    const rule = record.rule === undefined ? {} : { rule: record.rule };
    if (record.state === 'pending') {
      const next = save(record, 'withdrawn', { desired: 'withdrawn', holders: [], withdrawnAtMs: now() });
      audit({
        atMs: now(),
        actor,
        action: 'cancel',
        incidentId: record.incidentId,
        mitigationId: record.id,
        adapter: record.adapter,
        ...rule,
        command: record.rendered,
        result: 'ok',
        detail: { reason, note: 'was waiting for approval; nothing had been sent' },
      });
      return next;
    }
    const adapter = adapterNamed(record.adapter);
    let current = save(record, 'withdrawing', { desired: 'withdrawn', holders: [], error: null });
    // Until the adapter answers, the best description of the undo is what was applied.
    let command = record.rendered;
    try {
      if (!adapter) {
        throw new Error(
          `adapter "${record.adapter}" is no longer configured; remove ${record.intentId} by hand`,
        );
      }
      const receipt = await receiptFor(record, adapter);
      let wasPresent = false;
      if (receipt !== null) {
        const result = await adapter.withdraw(receipt);
        command = result.command;
        wasPresent = result.wasPresent;
        if (!wasPresent)
          logger.warn({ mitigation: record.id }, 'mitigation was already gone from the adapter');
      }
      current = save(current, 'withdrawn', { attempts: 0, nextAttemptAtMs: null, withdrawnAtMs: now() });
      audit({
        atMs: now(),
        actor,
        action: 'withdraw',
        incidentId: record.incidentId,
        mitigationId: record.id,
        adapter: record.adapter,
        ...rule,
        command,
        result: 'ok',
        detail: { reason, wasPresent },
      });
      logger.info({ incident: record.incidentId, mitigation: record.id, reason }, 'mitigation withdrawn');
    } catch (e) {
      current = failed(current, e, 'withdraw');
    }
    return current;
  }

  function refuse(
    action: ActivateAction,
    intent: MitigationIntent,
    code: string,
    reason: string,
    extra: { adapter?: string; command?: string } = {},
  ): void {
    audit({
      atMs: now(),
      actor: 'system',
      action: 'refuse',
      incidentId: action.incidentId,
      ...(extra.adapter === undefined
        ? {}
        : { adapter: extra.adapter, mitigationId: mitigationId(intent.id, extra.adapter) }),
      rule: ruleOf(action),
      command: extra.command ?? describeIntent(intent),
      result: 'refused',
      detail: { code, reason, intentId: intent.id, kind: intent.kind },
    });
    logger.warn({ incident: action.incidentId, intent: intent.id, code }, reason);
  }

  /** The adapters a delivery may use that declare what its intent needs. */
  function ableAdapters(action: ActivateAction, delivery: Delivery): MitigationAdapter[] {
    const capability = capabilityFor(delivery.intent);
    const able = deps.adapters.filter(
      (a) =>
        (delivery.adapters === null || delivery.adapters.includes(a.name)) && a.capabilities.has(capability),
    );
    if (able.length === 0) {
      const named =
        delivery.adapters === null
          ? 'no configured adapter'
          : `none of ${delivery.adapters.join(', ') || '(no adapter)'}`;
      refuse(
        action,
        delivery.intent,
        'FG_ERR_ADAPTER_CAPABILITY',
        `${named} can deliver ${capability} for ${describeIntent(delivery.intent)} (${ruleOf(action)})`,
      );
    }
    return able;
  }

  /** Renders for an adapter, or refuses the intent for it with the reason. */
  function renderFor(
    action: ActivateAction,
    intent: MitigationIntent,
    adapter: MitigationAdapter,
  ): string | undefined {
    try {
      return adapter.render(intent);
    } catch (e) {
      const code = isFloodgateError(e) ? e.code : 'FG_ERR_ADAPTER_APPLY';
      refuse(action, intent, code, `adapter "${adapter.name}" cannot render it: ${messageOf(e)}`, {
        adapter: adapter.name,
      });
      return undefined;
    }
  }

  async function want(
    action: ActivateAction,
    intent: MitigationIntent,
    adapter: MitigationAdapter,
  ): Promise<void> {
    const id = mitigationId(intent.id, adapter.name);
    const existing = store.getMitigation(id);
    const manual = action.mode === 'manual';
    if (existing && goalOf(existing) === 'active' && existing.state !== 'withdrawn') {
      const holders = [...new Set([...(existing.holders ?? []), action.holder])];
      const held = save(existing, existing.state, { holders });
      // An automatic tier needs no approval for what a manual one left waiting: deliver it.
      if (held.state === 'pending' && !manual)
        await deliver(held, { note: `wanted by automatic ${ruleOf(action)}` });
      // After a restart a tier may still hold a mitigation whose apply never finished.
      else if (action.cause === 'restored' && held.state === 'applying')
        await deliver(held, { reason: action.reason });
      return;
    }
    // A restart asserts only what the previous process never got to record: a mitigation it
    // withdrew (released, or taken away by an operator) stays withdrawn.
    if (action.cause === 'restored' && existing !== undefined) return;
    const rendered = renderFor(action, intent, adapter);
    if (rendered === undefined) return;
    const stillInPlace = existing !== undefined && existing.state === 'failed';
    const base: MitigationRecord = {
      id,
      intentId: intent.id,
      incidentId: action.incidentId,
      adapter: adapter.name,
      intent,
      state: existing?.state ?? 'pending',
      rendered,
      // A withdraw that failed leaves the route in place: keep its receipt for the next withdraw.
      receipt: stillInPlace ? existing.receipt : null,
      error: null,
      createdAtMs: existing?.createdAtMs ?? now(),
      updatedAtMs: now(),
      desired: 'active',
      holders: [action.holder],
      rule: ruleOf(action),
      attempts: 0,
      nextAttemptAtMs: null,
      appliedAtMs: null,
      withdrawnAtMs: null,
    };
    if (manual) {
      save(base, 'pending');
      audit({
        atMs: now(),
        actor: 'system',
        action: 'plan',
        incidentId: action.incidentId,
        mitigationId: id,
        adapter: adapter.name,
        rule: ruleOf(action),
        command: rendered,
        result: 'ok',
        detail: { mode: 'manual', state: 'pending', approveWith: `floodgate approve ${id}` },
      });
      logger.warn(
        { incident: action.incidentId, mitigation: id, command: rendered },
        'mitigation waits for approval',
      );
      return;
    }
    const refusal = checkCap(intent, heldCount(intent), deps.caps);
    if (refusal) {
      refuse(action, intent, refusal.code, refusal.reason, { adapter: adapter.name, command: rendered });
      return;
    }
    await deliver(base, action.cause === 'restored' ? { reason: action.reason } : {});
  }

  async function activate(action: ActivateAction): Promise<void> {
    if (action.cause !== 'restored') {
      for (const r of action.refused) refuse(action, r.intent, r.code, r.reason);
    }
    for (const delivery of action.deliveries) {
      const able = ableAdapters(action, delivery);
      if (action.mode === 'detect-only') {
        for (const adapter of able) {
          const rendered = renderFor(action, delivery.intent, adapter);
          if (rendered === undefined) continue;
          audit({
            atMs: now(),
            actor: 'system',
            action: 'plan',
            incidentId: action.incidentId,
            adapter: adapter.name,
            rule: ruleOf(action),
            command: rendered,
            result: 'ok',
            detail: {
              mode: 'detect-only',
              intentId: delivery.intent.id,
              note: 'recorded only: the runbook is detect-only',
            },
          });
        }
        continue;
      }
      for (const adapter of able) await want(action, delivery.intent, adapter);
    }
  }

  async function release(action: ReleaseAction): Promise<void> {
    for (const intent of action.intents) {
      for (const record of store.listMitigations({ intentId: intent.id })) {
        const holders = record.holders ?? [];
        if (!holders.includes(action.holder)) continue;
        const remaining = holders.filter((h) => h !== action.holder);
        if (remaining.length > 0) {
          save(record, record.state, { holders: remaining });
          logger.info(
            { mitigation: record.id, heldBy: remaining },
            'mitigation stays: another tier still holds it',
          );
          continue;
        }
        if (record.state === 'withdrawn') {
          save(record, 'withdrawn', { holders: [] });
          continue;
        }
        await remove({ ...record, holders: [] }, 'system', action.reason);
      }
    }
  }

  function mustFind(id: string): MitigationRecord {
    const record = store.getMitigation(id);
    if (record === undefined) {
      throw new FloodgateError('FG_ERR_MITIGATION_NOT_FOUND', `no mitigation with id ${id}`, {
        mitigationId: id,
      });
    }
    return record;
  }

  async function approveOne(record: MitigationRecord, operator: string): Promise<MitigationRecord> {
    if (record.state !== 'pending') {
      throw new FloodgateError(
        'FG_ERR_MITIGATION_STATE',
        `mitigation ${record.id} is ${record.state}; only a pending mitigation can be approved`,
        { mitigationId: record.id, state: record.state },
      );
    }
    const actor: AuditActor = `operator:${operator}`;
    const refusal = checkCap(record.intent, heldCount(record.intent), deps.caps);
    if (refusal) {
      audit({
        atMs: now(),
        actor,
        action: 'refuse',
        incidentId: record.incidentId,
        mitigationId: record.id,
        adapter: record.adapter,
        ...(record.rule === undefined ? {} : { rule: record.rule }),
        command: record.rendered,
        result: 'refused',
        detail: { code: refusal.code, reason: refusal.reason },
      });
      throw new FloodgateError('FG_ERR_SAFETY_CAP', refusal.reason, { mitigationId: record.id });
    }
    audit({
      atMs: now(),
      actor,
      action: 'approve',
      incidentId: record.incidentId,
      mitigationId: record.id,
      adapter: record.adapter,
      ...(record.rule === undefined ? {} : { rule: record.rule }),
      command: record.rendered,
      result: 'ok',
    });
    logger.info({ mitigation: record.id, operator }, 'mitigation approved');
    const approved = save(record, 'pending', { approvedBy: operator, approvedAtMs: now() });
    return deliver(approved, { approvedBy: operator });
  }

  const reconcileAdapter = createReconciler({ store, logger, now, audit, save, deliver, remove });

  return {
    activate: (action) => enqueue(() => activate(action)),
    release: (action) => enqueue(() => release(action)),
    approve: (id, operator) => enqueue(() => approveOne(mustFind(id), operator)),
    approveIncident: (incidentId, operator) =>
      enqueue(async () => {
        const pending = store.listMitigations({ incidentId, states: ['pending'] });
        if (pending.length === 0) {
          throw new FloodgateError(
            'FG_ERR_MITIGATION_NOT_FOUND',
            `incident ${incidentId} has no pending mitigation`,
            {
              incidentId,
            },
          );
        }
        const out: MitigationRecord[] = [];
        for (const record of pending) out.push(await approveOne(record, operator));
        return out;
      }),
    withdraw: (id, operator) =>
      enqueue(async () => {
        const record = mustFind(id);
        if (record.state === 'withdrawn') {
          throw new FloodgateError('FG_ERR_MITIGATION_STATE', `mitigation ${id} is already withdrawn`, {
            mitigationId: id,
          });
        }
        return remove(record, `operator:${operator}`, `withdrawn by operator ${operator}`);
      }),
    reconcile: (trigger, adapterName) =>
      enqueue(async () => {
        const reports: ReconcileReport[] = [];
        for (const adapter of deps.adapters) {
          if (adapterName === undefined || adapter.name === adapterName) {
            reports.push(await reconcileAdapter(adapter, trigger));
          }
        }
        return reports;
      }),
    retryDue: () =>
      enqueue(async () => {
        for (const record of store.listMitigations({ retryDueAtMs: now() })) {
          if (goalOf(record) === 'active') await deliver(record, { retry: true });
          else
            await remove(record, 'system', record.error === null ? 'retry' : `retry after: ${record.error}`);
        }
      }),
    shutdown: (behaviour) =>
      enqueue(async () => {
        const held = store
          .listMitigations({ states: [...HELD, 'pending'] })
          .filter((r) => goalOf(r) === 'active');
        if (behaviour === 'keep') {
          logger.info(
            { inPlace: held.length },
            'stopping: mitigations stay in place (dispatch.onShutdown: keep)',
          );
          return;
        }
        for (const record of held)
          await remove(record, 'system', 'Floodgate stopped (dispatch.onShutdown: withdraw)');
      }),
    record: (input) => enqueue(() => audit(input)),
    after: (fn) => enqueue(fn),
    idle: () => queue,
  };
}
