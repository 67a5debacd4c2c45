/**
 * The pieces of the mitigation pipeline that `floodgate run` and `floodgate simulate` build the
 * same way from the configuration: the adapters (real, or previews of them) and the runbook
 * engine's settings.
 */
import type { AdapterContext, AdapterPlugin, MitigationAdapter } from '../adapters/contract.js';
import { DRY_RUN_TYPE } from '../adapters/dry-run/plugin.js';
import { previewAdapter } from '../adapters/preview.js';
import { createAdapterRegistry, registerBuiltinAdapters } from '../adapters/registry.js';
import type { EngineSettings } from '../core/escalation/engine.js';
import type { Logger } from '../core/logger.js';
import type { FloodgateConfig } from './config/schema.js';
import { checkRunbookAdapters } from './runbook-adapters.js';

export interface AdapterSetOptions {
  logger: Logger;
  now: () => number;
  /**
   * by-mode: the configured adapters in automatic mode; in detect-only mode previews of them
   * (dry-run adapters stay themselves), or an implicit dry-run when none is configured.
   * all: previews of every adapter, dry-run included, so nothing is read from or written to the
   * state directory (simulation).
   */
  preview: 'by-mode' | 'all';
  /** Adapter plugins besides the built-in ones (a provider's package, a test's fake). */
  plugins?: readonly AdapterPlugin<never>[];
  /** What the daemon lends adapters besides logger and clock: its audit chain and the node rules. */
  host?: Pick<AdapterContext, 'audit' | 'nodeRules'>;
}

/**
 * The adapters the dispatcher delivers through. Creating them does no I/O; the check that every
 * runbook tier can be delivered runs here, so a misconfigured runbook stops start-up.
 */
export function buildAdapters(config: FloodgateConfig, options: AdapterSetOptions): MitigationAdapter[] {
  const { logger, now } = options;
  const registry = createAdapterRegistry();
  registerBuiltinAdapters(registry);
  for (const plugin of options.plugins ?? []) registry.register(plugin);
  const simulate = options.preview === 'all';
  // Creating does no I/O, and previews never start the adapter they stand for: the state
  // directory is only read by adapters that are started, so simulation writes nothing.
  const configured = registry.instantiate(config.adapters, {
    logger,
    now,
    stateDir: config.store.stateDir,
    ...(options.host?.audit === undefined ? {} : { audit: options.host.audit }),
    ...(options.host?.nodeRules === undefined ? {} : { nodeRules: options.host.nodeRules }),
  });
  let adapters: MitigationAdapter[];
  if (simulate) {
    adapters = configured.map((a) => previewAdapter(a, { logger, now }));
  } else if (config.mode === 'automatic') {
    adapters = configured;
  } else if (configured.length === 0) {
    // detect-only must still show what would be announced; an implicit dry-run adapter does that.
    adapters = registry.instantiate([{ name: DRY_RUN_TYPE, type: DRY_RUN_TYPE }], { logger, now });
  } else {
    const typeOf = new Map(config.adapters.map((a) => [a.name, a.type]));
    adapters = configured.map((a) =>
      typeOf.get(a.name) === DRY_RUN_TYPE ? a : previewAdapter(a, { logger, now }),
    );
  }
  checkRunbookAdapters(config.runbooks, adapters);
  return adapters;
}

export function engineSettings(config: FloodgateConfig): EngineSettings {
  return {
    runbooks: config.runbooks,
    mitigation: config.mitigation,
    hostGroups: config.detection.hostGroups,
    severityLevels: config.detection.severityLevels,
  };
}
