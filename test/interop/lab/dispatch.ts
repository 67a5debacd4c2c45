/**
 * The real dispatcher and SQLite store around the adapters under test, so the lab exercises
 * reconciliation exactly as `floodgate run` does it: a tier fires (activate), lets go (release),
 * and a restarted Floodgate (a new dispatcher on the same store file) reconciles with list().
 */
import type { MitigationAdapter } from '../../../adapters/contract.js';
import { createDispatcher, type Dispatcher } from '../../../appliance/dispatcher.js';
import { dispatchConfigSchema } from '../../../appliance/dispatcher-config.js';
import { openSqliteStore } from '../../../appliance/store/sqlite-store.js';
import type { Store } from '../../../appliance/store/store.js';
import type { ActivateAction, ReleaseAction } from '../../../core/escalation/run.js';
import { nullLogger } from '../../../core/logger.js';
import { defaultMitigationConfig } from '../../../core/mitigation/config.js';
import type { MitigationIntent } from '../../../core/mitigation/intent.js';

export interface LabDispatch {
  store: Store;
  dispatcher: Dispatcher;
  close(): void;
}

/** A dispatcher on the store file (created when missing); reconnects of the adapters reconcile, as in the daemon. */
export function labDispatch(storeFile: string, adapters: MitigationAdapter[]): LabDispatch {
  const store = openSqliteStore(storeFile);
  const dispatcher = createDispatcher({
    store,
    adapters,
    caps: defaultMitigationConfig().caps,
    retry: dispatchConfigSchema.parse({}).retry,
    logger: nullLogger,
    now: Date.now,
  });
  let closed = false;
  for (const adapter of adapters) {
    adapter.onReconnect?.(() => {
      // Listeners cannot be removed: one of a closed lab does nothing.
      if (!closed) dispatcher.reconcile('reconnect', adapter.name).catch(() => undefined);
    });
  }
  return {
    store,
    dispatcher,
    close: () => {
      closed = true;
      store.close();
    },
  };
}

const INCIDENT = 'inc-interop';

export function activation(intents: MitigationIntent[], tier = 0): ActivateAction {
  return {
    type: 'activate',
    atMs: Date.now(),
    runId: 'run-interop',
    incidentId: INCIDENT,
    runbook: 'interop',
    tier,
    tierName: `tier ${tier + 1}`,
    mode: 'automatic',
    holder: `run-interop/${tier}`,
    deliveries: intents.map((intent) => ({ intent, adapters: null })),
    refused: [],
    cause: 'detected',
    reason: 'interop lab',
  };
}

export function release(intents: MitigationIntent[], tier = 0): ReleaseAction {
  return {
    type: 'release',
    atMs: Date.now(),
    runId: 'run-interop',
    incidentId: INCIDENT,
    runbook: 'interop',
    tier,
    tierName: `tier ${tier + 1}`,
    holder: `run-interop/${tier}`,
    intents,
    reason: 'interop lab: the attack ended',
  };
}
