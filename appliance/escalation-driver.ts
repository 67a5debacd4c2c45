/**
 * Between the detector and the dispatcher: stores and audits each incident event, feeds it to the
 * runbook engine, carries out the engine's actions in order and stores the runs they changed. The
 * daemon and `floodgate simulate` both drive the pipeline through this, so a simulation shows
 * exactly what the daemon would do.
 */
import type { EscalationEngine } from '../core/escalation/engine.js';
import type { EscalationAction } from '../core/escalation/run.js';
import type { IncidentEvent } from '../core/incident/incident.js';
import type { Logger } from '../core/logger.js';
import { type Dispatcher, ruleOf } from './dispatcher.js';
import type { Store } from './store/store.js';

export interface EscalationDriverDeps {
  engine: EscalationEngine;
  dispatcher: Dispatcher;
  store: Store;
  logger: Logger;
  /** Sees every engine action once the operations queued before it are done, in order. */
  onAction?: (action: EscalationAction) => void;
}

export interface EscalationDriver {
  /** One detection step's events: stored, audited, decided on, carried out. */
  handleEvents(events: readonly IncidentEvent[]): Promise<void>;
  /** Withdrawals that came due and failed mitigations whose retry is due. */
  tick(nowMs: number): Promise<void>;
  /**
   * At start: take back the stored runs, make the adapters hold what the store wants, assert the
   * tiers the runs hold, and close the incidents the previous process left open (the detector
   * starts blind; a continuing attack opens a new incident within seconds and joins its run).
   */
  resume(nowMs: number): Promise<void>;
}

export const RESTART_NOTE =
  'Floodgate restarted: the detector starts without this incident; its tiers now wait for their hold-downs and TTL, and a continuing attack rejoins the run';

export function createEscalationDriver(deps: EscalationDriverDeps): EscalationDriver {
  const { engine, dispatcher, store, logger } = deps;

  function persist(): void {
    for (const run of engine.takeChangedRuns()) store.saveRun(run);
    for (const history of engine.takeChangedHistory()) store.saveTargetHistory(history);
  }

  function execute(actions: readonly EscalationAction[]): Promise<unknown>[] {
    const pending: Promise<unknown>[] = [];
    for (const action of actions) {
      switch (action.type) {
        case 'activate':
          if (action.cause !== 'restored') {
            pending.push(
              dispatcher.record({
                atMs: action.atMs,
                actor: 'system',
                action: 'escalate',
                incidentId: action.incidentId,
                rule: ruleOf(action),
                result: 'ok',
                detail: {
                  cause: action.cause,
                  reason: action.reason,
                  mode: action.mode,
                  intents: action.deliveries.map((d) => d.intent.id),
                  refused: action.refused.length,
                },
              }),
            );
          }
          logger.info(
            { incident: action.incidentId, rule: ruleOf(action), cause: action.cause, reason: action.reason },
            'runbook tier fired',
          );
          pending.push(dispatcher.activate(action));
          break;
        case 'release':
          pending.push(
            dispatcher.record({
              atMs: action.atMs,
              actor: 'system',
              action: 'de-escalate',
              incidentId: action.incidentId,
              rule: ruleOf(action),
              result: 'ok',
              detail: { reason: action.reason, intents: action.intents.map((i) => i.id) },
            }),
          );
          logger.info(
            { incident: action.incidentId, rule: ruleOf(action), reason: action.reason },
            'runbook tier withdrawn',
          );
          pending.push(dispatcher.release(action));
          break;
        case 'notify':
          pending.push(
            dispatcher.record({
              atMs: action.atMs,
              actor: 'system',
              action: 'notify',
              incidentId: action.incidentId,
              rule: action.runbook,
              result: 'ok',
              detail: { channels: action.channels, stage: action.stage, message: action.message },
            }),
          );
          logger.info(
            { incident: action.incidentId, channels: action.channels, stage: action.stage },
            action.message,
          );
          break;
        case 'note':
          logger.info({ incident: action.incidentId, run: action.runId }, action.message);
          break;
      }
      const listener = deps.onAction;
      if (listener) pending.push(dispatcher.after(() => listener(action)));
    }
    persist();
    return pending;
  }

  async function settle(pending: Promise<unknown>[]): Promise<void> {
    const results = await Promise.allSettled(pending);
    for (const r of results) {
      if (r.status === 'rejected') logger.error({ err: r.reason }, 'carrying out a runbook action failed');
    }
  }

  function recordIncident(event: IncidentEvent): Promise<unknown> | undefined {
    const { incident } = event;
    store.saveIncident(incident);
    if (event.type === 'opened') {
      logger.warn(
        {
          incident: incident.id,
          target: incident.target,
          family: incident.family,
          pps: incident.current.pps,
          bps: incident.current.bps,
        },
        'incident opened',
      );
      return dispatcher.record({
        atMs: event.atMs,
        actor: 'system',
        action: 'incident-open',
        incidentId: incident.id,
        result: 'ok',
        detail: {
          target: incident.target,
          family: incident.family,
          severity: incident.severity,
          current: incident.current,
          peak: incident.peak,
          triggers: incident.triggers,
        },
      });
    }
    if (event.type === 'closed') {
      logger.info({ incident: incident.id, target: incident.target }, 'incident closed');
      return dispatcher.record({
        atMs: event.atMs,
        actor: 'system',
        action: 'incident-close',
        incidentId: incident.id,
        result: 'ok',
        detail: { peak: incident.peak },
      });
    }
    return undefined;
  }

  return {
    async handleEvents(events) {
      const pending: Promise<unknown>[] = [];
      for (const event of events) {
        const recorded = recordIncident(event);
        if (recorded) pending.push(recorded);
        pending.push(...execute(engine.handle(event)));
      }
      await settle(pending);
    },

    async tick(nowMs) {
      const pending = execute(engine.tick(nowMs));
      pending.push(dispatcher.retryDue());
      await settle(pending);
    },

    async resume(nowMs) {
      // Ended runs matter only within their cooldown: the most recent ones are enough.
      const recentlyEnded = store
        .listRuns({ states: ['ended'], limit: 1000 })
        .filter((r) => (r.endedAtMs ?? 0) + r.runbook.cooldownSeconds * 1000 >= nowMs);
      const runs = [...store.listRuns({ states: ['open', 'ending'] }), ...recentlyEnded];
      engine.restore(runs, store.listTargetHistory());
      if (runs.length > 0) logger.info({ runs: runs.length }, 'escalation runs restored');
      await dispatcher.reconcile('start');
      const pending = execute(engine.restoredActivations(nowMs));
      for (const incident of store.listIncidents({ state: 'open' })) {
        store.saveIncident({ ...incident, state: 'closed', closedAtMs: nowMs });
        pending.push(
          dispatcher.record({
            atMs: nowMs,
            actor: 'system',
            action: 'incident-close',
            incidentId: incident.id,
            result: 'ok',
            detail: { reason: RESTART_NOTE },
          }),
        );
      }
      pending.push(...execute(engine.closeUnobserved(nowMs, RESTART_NOTE)));
      await settle(pending);
    },
  };
}
