/**
 * `floodgate run`: wires collectors -> detector -> planner -> dispatcher -> adapters, with the
 * store and the HTTP API beside them. This file only wires; each stage lives in its own folder.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { MitigationAdapter } from '../adapters/contract.js';
import { createAdapterRegistry, registerBuiltinAdapters } from '../adapters/registry.js';
import { createDecoderTable } from '../collectors/registry.js';
import { FlowTemplates } from '../collectors/template/flow-templates.js';
import { createUdpCollector } from '../collectors/udp-listener.js';
import { createDetector } from '../core/detect/detector.js';
import { FloodgateError } from '../core/errors.js';
import type { IncidentEvent } from '../core/incident/incident.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { planMitigation } from '../core/mitigation/planner.js';
import type { FloodgateConfig } from './config/schema.js';
import { createDispatcher } from './dispatcher.js';
import { createHttpComponent } from './http/component.js';
import { openSqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';
import { createTemplateState } from './template-state.js';

export interface DaemonOptions {
  config: FloodgateConfig;
  configSource: string;
  logger: Logger;
  /** Wall clock; tests may pass their own. */
  now?: () => number;
  /** Evaluation step; one second unless a test needs otherwise. */
  stepMs?: number;
}

export interface Daemon {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly store: Store;
}

const DRY_RUN_TYPE = 'dry-run';
const STATS_LOG_INTERVAL_MS = 300_000;

export async function createDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const stepMs = options.stepMs ?? 1000;

  const store = openSqliteStore(join(config.store.stateDir, config.store.file));

  const registry = createAdapterRegistry();
  registerBuiltinAdapters(registry);
  const configured = registry.instantiate(config.adapters, { logger, now });
  const typeOf = new Map(config.adapters.map((a) => [a.name, a.type]));
  let active: MitigationAdapter[] = configured;
  if (config.mode === 'detect-only') {
    active = configured.filter((a) => typeOf.get(a.name) === DRY_RUN_TYPE);
    if (active.length === 0) {
      // detect-only must still show what would be announced; an implicit dry-run adapter does that.
      active = registry.instantiate([{ name: 'dry-run', type: DRY_RUN_TYPE }], { logger, now });
    }
  }

  // A random hash seed per run stops an attacker from aiming destinations at one bucket chain.
  const detector = createDetector(config.detection, { hashSeed: randomInt(2 ** 32) });
  const dispatcher = createDispatcher({ store, adapters: active, caps: config.mitigation.caps, logger, now });
  const templates = new FlowTemplates();
  const templateState = createTemplateState({
    templates,
    path: join(config.store.stateDir, 'flow-templates.json'),
    logger,
  });
  const decoderTable = createDecoderTable(config.collectors, { logger, templates });
  const collector = createUdpCollector(config.collectors, {
    onBatch: (batch) => detector.ingest(batch),
    logger,
    decoderTable,
  });

  const stats = () => ({
    mode: config.mode,
    collectors: collector.stats(),
    templates: templates.summary(),
    detection: detector.stats(),
    adapters: active.map((a) => a.name),
  });
  const health = async () => {
    const components: Record<string, unknown> = {};
    let ok = true;
    for (const adapter of active) {
      try {
        const h = await adapter.health();
        components[`adapter:${adapter.name}`] = h;
        if (!h.ok) ok = false;
      } catch (e) {
        components[`adapter:${adapter.name}`] = { ok: false, error: (e as Error).message };
        ok = false;
      }
    }
    return { ok, components };
  };
  const http = createHttpComponent(config.http, { store, stats, health, logger });

  function handle(event: IncidentEvent): void {
    const incident = event.incident;
    store.saveIncident(incident);
    if (event.type === 'opened') {
      store.appendAudit({
        atMs: event.atMs,
        actor: 'system',
        action: 'incident-open',
        incidentId: incident.id,
        result: 'ok',
        detail: {
          target: incident.target,
          family: incident.family,
          peak: incident.peak,
          triggers: incident.triggers,
        },
      });
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
      const plan = planMitigation(incident, config.mitigation);
      void dispatcher.apply(incident, plan.intents, plan.refused);
    } else if (event.type === 'closed') {
      store.appendAudit({
        atMs: event.atMs,
        actor: 'system',
        action: 'incident-close',
        incidentId: incident.id,
        result: 'ok',
        detail: { peak: incident.peak },
      });
      logger.info({ incident: incident.id, target: incident.target }, 'incident closed');
      void dispatcher.withdrawIncident(incident.id);
    }
  }

  let timer: NodeJS.Timeout | undefined;
  let statsTimer: NodeJS.Timeout | undefined;
  // Operators read exporter health from the logs too, not only from the API.
  const logCollectorStats = () => {
    const snapshot = collector.stats();
    for (const e of snapshot.exporters) {
      logger.info(
        {
          exporter: e.address,
          protocol: e.lastProtocol,
          datagrams: e.datagrams,
          records: e.records,
          samplingRate: e.lastSamplingRate,
          errors: e.errors,
          notices: e.notices,
        },
        'exporter statistics',
      );
    }
  };
  const tick = () => {
    try {
      for (const event of detector.step(now())) handle(event);
    } catch (e) {
      logger.error({ err: e }, 'detection step failed');
    }
  };

  const components: Component[] = [
    ...active.map((a) => ({ name: `adapter:${a.name}`, start: () => a.start(), stop: () => a.stop() })),
    templateState,
    collector,
    http,
  ];
  const started: Component[] = [];

  async function stopStarted(): Promise<void> {
    if (timer) clearInterval(timer);
    if (statsTimer) clearInterval(statsTimer);
    timer = undefined;
    statsTimer = undefined;
    await dispatcher.idle();
    for (const c of started.reverse()) {
      try {
        await c.stop();
      } catch (e) {
        logger.error({ component: c.name, err: e }, 'component failed to stop');
      }
    }
    started.length = 0;
  }

  return {
    store,
    async start() {
      logger.info({ config: options.configSource, mode: config.mode }, 'floodgate starting');
      for (const c of components) {
        try {
          await c.start();
          started.push(c);
        } catch (e) {
          await stopStarted();
          store.close();
          if (e instanceof FloodgateError) throw e;
          throw new FloodgateError(
            'FG_ERR_COMPONENT_START',
            `${c.name} failed to start: ${(e as Error).message}`,
            { component: c.name },
            { cause: e },
          );
        }
      }
      await dispatcher.recoverAfterRestart();
      timer = setInterval(tick, stepMs);
      statsTimer = setInterval(logCollectorStats, STATS_LOG_INTERVAL_MS);
      statsTimer.unref();
      logger.info({ adapters: active.map((a) => a.name) }, 'floodgate running');
    },
    async stop() {
      await stopStarted();
      store.close();
      logger.info('floodgate stopped');
    },
  };
}
