/**
 * `floodgate run`: wires collectors -> detector -> runbook engine -> dispatcher -> adapters, with
 * the store and the HTTP API beside them. This file only wires; each stage lives in its own folder.
 */

import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { AdapterPlugin, MitigationAdapter } from '../adapters/contract.js';
import { builtinNodeCatalogue } from '../adapters/node/builtin-catalogue.js';
import { createDecoderTable } from '../collectors/registry.js';
import { FlowTemplates } from '../collectors/template/flow-templates.js';
import { createUdpCollector } from '../collectors/udp-listener.js';
import { redactSecrets } from '../core/audit/redact.js';
import { createDetector } from '../core/detect/detector.js';
import { FloodgateError } from '../core/errors.js';
import { EscalationEngine } from '../core/escalation/engine.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { FloodgateConfig } from './config/schema.js';
import { createDispatcher } from './dispatcher.js';
import { createEscalationDriver } from './escalation-driver.js';
import { createHttpComponent } from './http/component.js';
import type { RetiredRuns } from './http/node-rules-routes.js';
import { buildAdapters, engineSettings } from './pipeline.js';
import { checkRunbookAdapters } from './runbook-adapters.js';
import { createStateFile } from './state-file.js';
import { openSqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';

export interface DaemonOptions {
  config: FloodgateConfig;
  configSource: string;
  logger: Logger;
  /** Wall clock; tests may pass their own. */
  now?: () => number;
  /** Evaluation step; one second unless a test needs otherwise. */
  stepMs?: number;
  /** Adapter plugins besides the built-in ones. */
  plugins?: readonly AdapterPlugin<never>[];
}

export interface Daemon {
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Takes new runbooks and mitigation settings (protected prefixes, caps, ...) without a restart;
   * running escalations keep the runbook they started with. Other sections need a restart.
   * Throws FG_ERR_CONFIG_INVALID, changing nothing, when a runbook cannot be delivered.
   */
  reload(config: FloodgateConfig, source: string): void;
  readonly store: Store;
}

const STATS_LOG_INTERVAL_MS = 300_000;

export async function createDaemon(options: DaemonOptions): Promise<Daemon> {
  const { logger } = options;
  let config = options.config;
  const now = options.now ?? Date.now;
  const stepMs = options.stepMs ?? 1000;

  const store = openSqliteStore(join(config.store.stateDir, config.store.file));
  let active: MitigationAdapter[];
  try {
    active = buildAdapters(config, {
      logger,
      now,
      preview: 'by-mode',
      ...(options.plugins === undefined ? {} : { plugins: options.plugins }),
      host: {
        audit: (entry) => {
          store.appendAudit({
            ...entry,
            ...(entry.command === undefined ? {} : { command: redactSecrets(entry.command) }),
            atMs: now(),
            actor: `adapter:${entry.adapter ?? 'unknown'}`,
          });
        },
        nodeRules: () => store.listNodeRules(),
      },
    });
  } catch (e) {
    store.close();
    throw e;
  }

  // A random hash seed per run stops an attacker from aiming destinations at one bucket chain.
  const detector = createDetector(config.detection, { hashSeed: randomInt(2 ** 32) });
  const engine = new EscalationEngine(engineSettings(config));
  let caps = config.mitigation.caps;
  const dispatcher = createDispatcher({
    store,
    adapters: active,
    get caps() {
      return caps;
    },
    retry: config.dispatch.retry,
    logger,
    now,
  });
  const driver = createEscalationDriver({ engine, dispatcher, store, logger });
  const templates = new FlowTemplates();
  const templateState = createStateFile({
    what: 'flow templates',
    path: join(config.store.stateDir, 'flow-templates.json'),
    logger,
    intervalMs: 30_000,
    snapshot: () => JSON.stringify(templates.exportTemplates()),
    restore: (bytes) => {
      const result = templates.importTemplates(Buffer.from(bytes).toString('utf8'));
      return { templates: result.templates, skipped: result.skipped, problems: result.problems.slice(0, 10) };
    },
  });
  const baselineState = createStateFile({
    what: 'traffic baselines',
    path: join(config.store.stateDir, 'baselines.bin'),
    logger,
    intervalMs: 60_000,
    snapshot: () => detector.exportBaselines(),
    restore: (bytes) => ({ ...detector.importBaselines(bytes, now()) }),
  });
  const decoderTable = createDecoderTable(config.collectors, { logger, templates });
  const collector = createUdpCollector(config.collectors, {
    onBatch: (batch) => {
      detector.ingest(batch);
      // Waiting for the next one-second tick would cost up to a second of detection latency when a
      // target has just crossed its threshold; step as soon as the current datagrams are handled.
      if (!stepQueued && running && detector.stepDue()) {
        stepQueued = true;
        setImmediate(() => {
          stepQueued = false;
          if (running) tick();
        });
      }
    },
    logger,
    decoderTable,
  });

  const stats = () => ({
    mode: config.mode,
    collectors: collector.stats(),
    templates: templates.summary(),
    detection: detector.stats(),
    escalation: {
      runs: engine.activeRuns().map((r) => ({ id: r.id, target: r.target, state: r.state, level: r.level })),
    },
    adapters: active.map((a) => a.name),
  });
  /** Each adapter's health at the last periodic check: a change is logged once, not every time. */
  const lastHealthy = new Map<string, boolean>();
  let healthCheck: Promise<void> | undefined;
  const checkAdapters = async () => {
    for (const adapter of active) {
      if (!running) return;
      let ok: boolean;
      let detail: string;
      try {
        const h = await adapter.health();
        ok = h.ok;
        detail = h.detail;
      } catch (e) {
        ok = false;
        detail = (e as Error).message;
      }
      const before = lastHealthy.get(adapter.name);
      lastHealthy.set(adapter.name, ok);
      if (before === ok) continue;
      if (!ok) logger.warn({ adapter: adapter.name, detail }, 'adapter unhealthy');
      else if (before === false) logger.info({ adapter: adapter.name, detail }, 'adapter healthy again');
    }
  };
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
  const http = createHttpComponent(config.http, {
    store,
    stats,
    health,
    logger,
    nodeActions: builtinNodeCatalogue(),
    now,
    retireNodeRule: async (ruleId) => {
      const retired: RetiredRuns = { undone: [], failures: [] };
      for (const adapter of active) {
        if (adapter.retireRule === undefined) continue;
        try {
          const r = await adapter.retireRule(ruleId);
          retired.undone.push(...r.undone.map((u) => ({ adapter: adapter.name, ...u })));
          retired.failures.push(...r.failures.map((f) => `${adapter.name}: ${f}`));
        } catch (e) {
          retired.failures.push(`${adapter.name}: ${(e as Error).message}`);
        }
      }
      return retired;
    },
    operations: {
      approve: (id, operator) => dispatcher.approve(id, operator),
      approveIncident: (id, operator) => dispatcher.approveIncident(id, operator),
      withdraw: (id, operator) => dispatcher.withdraw(id, operator),
    },
  });

  let timer: NodeJS.Timeout | undefined;
  let statsTimer: NodeJS.Timeout | undefined;
  let healthTimer: NodeJS.Timeout | undefined;
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
  let stepQueued = false;
  let running = false;
  const tick = () => {
    const at = now();
    try {
      // The engine decides synchronously; the dispatcher delivers in the background, in order.
      void driver.handleEvents(detector.step(at));
      void driver.tick(at);
    } catch (e) {
      logger.error({ err: e }, 'detection step failed');
    }
  };

  const components: Component[] = [
    ...active.map((a) => ({ name: `adapter:${a.name}`, start: () => a.start(), stop: () => a.stop() })),
    templateState,
    baselineState,
    collector,
    http,
  ];
  const started: Component[] = [];

  async function stopStarted(): Promise<void> {
    running = false;
    if (timer) clearInterval(timer);
    if (statsTimer) clearInterval(statsTimer);
    if (healthTimer) clearInterval(healthTimer);
    timer = undefined;
    statsTimer = undefined;
    healthTimer = undefined;
    // A check in flight finishes before the adapters stop, so it cannot reopen a connection after.
    await healthCheck;
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
      store.appendAudit({
        atMs: now(),
        actor: 'system',
        action: 'daemon-start',
        result: 'ok',
        detail: { config: options.configSource, mode: config.mode, adapters: active.map((a) => a.name) },
      });
      await driver.resume(now());
      for (const adapter of active) {
        adapter.onReconnect?.(() => {
          logger.info({ adapter: adapter.name }, 'adapter reconnected: reconciling');
          dispatcher.reconcile('reconnect', adapter.name).catch((e: unknown) => {
            logger.error({ adapter: adapter.name, err: e }, 'reconciliation after reconnect failed');
          });
        });
      }
      running = true;
      timer = setInterval(tick, stepMs);
      statsTimer = setInterval(logCollectorStats, STATS_LOG_INTERVAL_MS);
      statsTimer.unref();
      if (config.dispatch.healthCheckSeconds > 0) {
        healthTimer = setInterval(() => {
          if (healthCheck !== undefined) return; // a slow device: the next check waits for this one
          healthCheck = checkAdapters()
            .catch((e: unknown) => logger.error({ err: e }, 'adapter health check failed'))
            .finally(() => {
              healthCheck = undefined;
            });
        }, config.dispatch.healthCheckSeconds * 1000);
        healthTimer.unref();
      }
      logger.info({ adapters: active.map((a) => a.name) }, 'floodgate running');
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await dispatcher.idle();
      await dispatcher.shutdown(config.dispatch.onShutdown);
      store.appendAudit({
        atMs: now(),
        actor: 'system',
        action: 'daemon-stop',
        result: 'ok',
        detail: { onShutdown: config.dispatch.onShutdown },
      });
      await stopStarted();
      store.close();
      logger.info('floodgate stopped');
    },
    reload(next, source) {
      // Refused whole, before anything changes, when a new tier could not be delivered.
      checkRunbookAdapters(next.runbooks, active);
      const changed = (Object.keys(next) as (keyof FloodgateConfig)[]).filter(
        (key) =>
          !['runbooks', 'mitigation'].includes(key) &&
          JSON.stringify(next[key]) !== JSON.stringify(config[key]),
      );
      config = { ...config, runbooks: next.runbooks, mitigation: next.mitigation };
      engine.configure(engineSettings(config));
      caps = config.mitigation.caps;
      store.appendAudit({
        atMs: now(),
        actor: 'system',
        action: 'config-load',
        result: 'ok',
        detail: { source, reloaded: ['runbooks', 'mitigation'], needsRestart: changed },
      });
      if (changed.length > 0) {
        logger.warn(
          { sections: changed },
          'configuration reloaded; these sections change only with a restart',
        );
      } else {
        logger.info({ source }, 'configuration reloaded: runbooks and mitigation settings');
      }
    },
  };
}
