/**
 * A replay of flow datagrams through the whole pipeline against a simulated clock: the decoders,
 * the detector, the runbook engine and the dispatcher as `floodgate run` builds them, with every
 * adapter replaced by its preview (nothing is sent) and an in-memory store. The clock is the
 * datagrams' capture time: the detector steps once per simulated second, and after the last
 * datagram the clock runs on until every incident has closed and every tier is withdrawn.
 *
 * The timeline is the audit log (every apply, withdraw, refusal, escalation, notification) with
 * the engine's notes between its entries, in the order they happened.
 */
import { createDecoderTable } from '../collectors/registry.js';
import { FlowTemplates } from '../collectors/template/flow-templates.js';
import type { AuditEntry } from '../core/audit/chain.js';
import { createDetector } from '../core/detect/detector.js';
import { EscalationEngine } from '../core/escalation/engine.js';
import type { NoteAction } from '../core/escalation/run.js';
import { FlowBatch } from '../core/flow/flow-batch.js';
import type { Incident } from '../core/incident/incident.js';
import { nullLogger } from '../core/logger.js';
import type { MitigationRecord } from '../core/mitigation/mitigation.js';
import type { FloodgateConfig } from './config/schema.js';
import { createDispatcher } from './dispatcher.js';
import { createEscalationDriver } from './escalation-driver.js';
import { buildAdapters, engineSettings } from './pipeline.js';
import { openSqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';

export interface SimulatedDatagram {
  payload: Uint8Array;
  /** The exporter's address (the datagram's source). */
  srcAddr: string;
  /** Capture time, Unix ms: the simulated clock. */
  tsMs: number;
}

export type TimelineItem = { kind: 'audit'; entry: AuditEntry } | { kind: 'note'; note: NoteAction };

export interface SimulationResult {
  /** Simulated time of the first datagram, of the last one, and where the clock stopped. */
  firstMs: number;
  lastDatagramMs: number;
  endMs: number;
  datagrams: number;
  records: number;
  timeline: TimelineItem[];
  incidents: Incident[];
  mitigations: MitigationRecord[];
  /** True when the clock stopped at the tail limit with incidents or tiers still going. */
  unfinished: boolean;
}

export interface SimulationOptions {
  /** Most simulated seconds to run on after the last datagram. */
  maxTailSeconds: number;
}

const STEP_MS = 1000;

export async function simulate(
  config: FloodgateConfig,
  datagrams: Iterable<SimulatedDatagram>,
  options: SimulationOptions,
): Promise<SimulationResult> {
  let clock = 0;
  const now = () => clock;
  const timeline: TimelineItem[] = [];
  const inner = openSqliteStore(':memory:', now);
  // Every audit entry lands in the timeline the moment it is appended, so entries and notes interleave in order.
  const store: Store = {
    ...inner,
    appendAudit(input) {
      const entry = inner.appendAudit(input);
      timeline.push({ kind: 'audit', entry });
      return entry;
    },
  };
  const adapters = buildAdapters(config, { logger: nullLogger, now, preview: 'all' });
  for (const a of adapters) await a.start();
  const detector = createDetector(config.detection, { hashSeed: 1 });
  const engine = new EscalationEngine(engineSettings(config));
  const dispatcher = createDispatcher({
    store,
    adapters,
    caps: config.mitigation.caps,
    retry: config.dispatch.retry,
    logger: nullLogger,
    now,
  });
  const driver = createEscalationDriver({
    engine,
    dispatcher,
    store,
    logger: nullLogger,
    onAction: (action) => {
      if (action.type === 'note') timeline.push({ kind: 'note', note: action });
    },
  });
  const table = createDecoderTable(config.collectors, { logger: nullLogger, templates: new FlowTemplates() });
  const batch = new FlowBatch(4096);
  let records = 0;
  const ingest = (out: FlowBatch) => {
    records += out.length;
    detector.ingest(out);
    out.clear();
  };

  const step = async (atMs: number) => {
    clock = atMs;
    await driver.handleEvents(detector.step(atMs));
    await driver.tick(atMs);
    await dispatcher.idle();
  };

  let firstMs: number | undefined;
  let lastDatagramMs = 0;
  let nextStepMs = 0;
  let count = 0;
  for (const d of datagrams) {
    if (firstMs === undefined) {
      firstMs = d.tsMs;
      nextStepMs = Math.floor(d.tsMs / STEP_MS) * STEP_MS + STEP_MS;
    }
    while (nextStepMs <= d.tsMs) {
      await step(nextStepMs);
      nextStepMs += STEP_MS;
    }
    clock = Math.max(clock, d.tsMs);
    lastDatagramMs = clock;
    count++;
    table.decode(d.payload, d.srcAddr, d.tsMs, batch, ingest);
    if (batch.length > 0) ingest(batch);
  }

  const going = () =>
    detector.openIncidents().length > 0 || engine.activeRuns().some((r) => r.state !== 'ended');
  const tailEnd = lastDatagramMs + options.maxTailSeconds * 1000;
  if (firstMs !== undefined) {
    // At least one step after the last datagram, then on until everything has wound down.
    do {
      await step(nextStepMs);
      nextStepMs += STEP_MS;
    } while (going() && nextStepMs <= tailEnd);
  }
  const result: SimulationResult = {
    firstMs: firstMs ?? 0,
    lastDatagramMs,
    endMs: clock,
    datagrams: count,
    records,
    timeline,
    incidents: inner.listIncidents(),
    mitigations: inner.listMitigations(),
    unfinished: going(),
  };
  for (const a of adapters) await a.stop();
  inner.close();
  return result;
}
