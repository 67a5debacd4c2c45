/**
 * The runbook engine: incident events and a clock in, actions out (fire a tier, let a tier go,
 * tell channels). Pure: no I/O and no timers; the appliance calls `handle` for each incident event
 * and `tick` once a second, carries out the actions and stores the runs that changed.
 *
 * One run per attacked target:
 * - An incident opens: the first runbook whose criteria hold takes it, and tier 1 fires. An
 *   incident no runbook takes is noted and tried again on each update (its severity may grow).
 * - While the incident is open, each update checks the current tier's escalation conditions;
 *   when one holds, the next tier fires too (tiers add up: FlowSpec stays when RTBH comes). Several
 *   tiers may fire in one step when their conditions already hold.
 * - The incident closes: each active tier is due for withdrawal after its own hold-down, and not
 *   before the run's TTL has passed since the tier fired. When the time comes the target is
 *   re-checked: only a target with no open incident is let go.
 * - A new incident on the target while the run still holds tiers, or within the cooldown after
 *   the last was withdrawn, joins the run: tiers in place stay (nothing refires), tiers withdrawn
 *   meanwhile up to the level reached fire again, and escalation carries on from there.
 * - When every tier is withdrawn the run ends and the target's history feeds the TTL backoff.
 */
import type { Incident, IncidentEvent } from '../incident/incident.js';
import type { MitigationConfig } from '../mitigation/config.js';
import type { MitigationIntent } from '../mitigation/intent.js';
import { planMitigation } from '../mitigation/planner.js';
import { escalationReason, formatBps, formatPps, formatSeconds } from './conditions.js';
import { type Runbook, type Tier, tierLabel } from './config.js';
import {
  type ActivateAction,
  type Delivery,
  type EscalationAction,
  type EscalationRun,
  holderOf,
  type NotifyStage,
  type TargetHistory,
  type TierRun,
} from './run.js';
import { type HostGroupPrefixes, RunbookSelector, type SeverityThresholds } from './select.js';
import { ttlForNewRun } from './ttl.js';

export interface EngineSettings {
  runbooks: readonly Runbook[];
  mitigation: MitigationConfig;
  hostGroups: readonly HostGroupPrefixes[];
  severityLevels: SeverityThresholds;
}

function idleTier(): TierRun {
  return {
    state: 'idle',
    activatedAtMs: null,
    releaseAtMs: null,
    releasedAtMs: null,
    reason: null,
    intents: [],
    refused: [],
  };
}

function describeIncident(incident: Incident): string {
  return `${incident.family} on ${incident.target}, ${formatPps(incident.current.pps)}, ${formatBps(incident.current.bps)}, severity ${incident.severity}`;
}

export class EscalationEngine {
  private settings: EngineSettings;
  private selector: RunbookSelector;
  private readonly runs = new Map<string, EscalationRun>();
  private readonly runByTarget = new Map<string, string>();
  private readonly runByIncident = new Map<string, string>();
  /** Open incidents no runbook took yet, tried again on each update. */
  private readonly unmatched = new Set<string>();
  private readonly history = new Map<string, TargetHistory>();
  private readonly changedRuns = new Set<string>();
  private readonly changedHistory = new Set<string>();
  /** Runs dropped from memory since the last takeChangedRuns, still owed to the store. */
  private readonly forgotten = new Map<string, EscalationRun>();

  constructor(settings: EngineSettings) {
    this.settings = settings;
    this.selector = new RunbookSelector(settings.runbooks, settings.hostGroups, settings.severityLevels);
  }

  /** New runbooks and mitigation settings (a reload): runs already going keep their runbook. */
  configure(settings: EngineSettings): void {
    this.settings = settings;
    this.selector = new RunbookSelector(settings.runbooks, settings.hostGroups, settings.severityLevels);
  }

  /** Takes back the runs and history a previous process stored. */
  restore(runs: readonly EscalationRun[], history: readonly TargetHistory[]): void {
    for (const h of history) this.history.set(h.target, structuredClone(h));
    for (const run of runs) {
      const copy = structuredClone(run);
      this.runs.set(copy.id, copy);
      this.runByTarget.set(copy.target, copy.id);
      for (const id of copy.incidentIds) this.runByIncident.set(id, copy.id);
    }
  }

  handle(event: IncidentEvent): EscalationAction[] {
    switch (event.type) {
      case 'opened':
        return this.opened(event.incident, event.atMs);
      case 'updated':
        return this.updated(event.incident, event.atMs);
      case 'closed':
        return this.closed(event.incident, event.atMs);
    }
  }

  /** Withdrawals that have come due, and runs that ended. */
  tick(nowMs: number): EscalationAction[] {
    const actions: EscalationAction[] = [];
    for (const run of [...this.runs.values()]) {
      if (run.state === 'ending') actions.push(...this.releaseDue(run, nowMs));
      if (run.state === 'ended' && run.endedAtMs !== null) {
        const cooldownMs = run.runbook.cooldownSeconds * 1000;
        if (nowMs - run.endedAtMs > cooldownMs) this.forget(run);
      }
    }
    return actions;
  }

  /**
   * Closes every open run whose incident the detector no longer knows (after a restart the
   * detector starts blind): the runs then de-escalate on their hold-downs and TTLs, and a
   * returning attack joins them.
   */
  closeUnobserved(nowMs: number, reason: string): EscalationAction[] {
    const actions: EscalationAction[] = [];
    for (const run of [...this.runs.values()]) {
      if (run.state !== 'open') continue;
      actions.push({
        type: 'note',
        atMs: nowMs,
        incidentId: run.incidentId,
        runId: run.id,
        runbook: run.runbook.name,
        message: reason,
      });
      actions.push(...this.closed({ ...run.incident, state: 'closed', closedAtMs: nowMs }, nowMs));
    }
    return actions;
  }

  /**
   * The tiers restored runs hold, as activations to assert again after a restart: a tier the
   * previous process fired but whose mitigations it did not get to record is delivered now. The
   * dispatcher treats mitigations already recorded as they are (idempotent).
   */
  restoredActivations(nowMs: number): ActivateAction[] {
    const out: ActivateAction[] = [];
    for (const run of this.runs.values()) {
      run.runbook.tiers.forEach((tier, t) => {
        const state = run.tiers[t]!;
        if (state.state !== 'active') return;
        out.push({
          type: 'activate',
          atMs: nowMs,
          runId: run.id,
          incidentId: run.incidentId,
          runbook: run.runbook.name,
          tier: t,
          tierName: tierLabel(tier, t),
          mode: run.runbook.mode,
          holder: holderOf(run.id, t),
          deliveries: state.intents.map((intent) => ({ intent, adapters: this.adaptersFor(intent, tier) })),
          refused: [],
          cause: 'restored',
          reason: 'restored after a restart',
        });
      });
    }
    return out;
  }

  run(id: string): EscalationRun | undefined {
    const run = this.runs.get(id);
    return run === undefined ? undefined : structuredClone(run);
  }

  /** Runs the engine still follows (open, ending, or ended within their cooldown). */
  activeRuns(): EscalationRun[] {
    return [...this.runs.values()].map((r) => structuredClone(r));
  }

  /** The runs changed since the last call, for the store. */
  takeChangedRuns(): EscalationRun[] {
    const out: EscalationRun[] = [];
    for (const id of this.changedRuns) {
      const run = this.runs.get(id) ?? this.forgotten.get(id);
      if (run) out.push(structuredClone(run));
    }
    this.changedRuns.clear();
    this.forgotten.clear();
    return out;
  }

  takeChangedHistory(): TargetHistory[] {
    const out = [...this.changedHistory].flatMap((t) => {
      const h = this.history.get(t);
      return h ? [structuredClone(h)] : [];
    });
    this.changedHistory.clear();
    return out;
  }

  private forget(run: EscalationRun): void {
    this.runs.delete(run.id);
    if (this.runByTarget.get(run.target) === run.id) this.runByTarget.delete(run.target);
    for (const id of run.incidentIds) {
      if (this.runByIncident.get(id) === run.id) this.runByIncident.delete(id);
    }
    if (this.changedRuns.has(run.id)) this.forgotten.set(run.id, run);
  }

  private touch(run: EscalationRun, nowMs: number): void {
    run.updatedAtMs = nowMs;
    this.changedRuns.add(run.id);
  }

  private opened(incident: Incident, nowMs: number): EscalationAction[] {
    // An outbound incident's target is the sender, one of our hosts: every tier acts on traffic
    // towards the target, which would cut the host off instead of stopping what it sends.
    if (incident.direction === 'outbound') {
      return [
        {
          type: 'note',
          atMs: nowMs,
          incidentId: incident.id,
          runId: null,
          runbook: null,
          message: `${describeIncident(incident)} is sent by the target (outbound): recorded only, no runbook acts on it`,
        },
      ];
    }
    const existing = this.joinableRun(incident.target, nowMs);
    if (existing) return this.join(existing, incident, nowMs);
    const runbook = this.selector.select(incident);
    if (runbook === undefined) {
      this.unmatched.add(incident.id);
      return [
        {
          type: 'note',
          atMs: nowMs,
          incidentId: incident.id,
          runId: null,
          runbook: null,
          message: `no runbook takes ${describeIncident(incident)}: recorded only`,
        },
      ];
    }
    return this.start(runbook, incident, nowMs);
  }

  private updated(incident: Incident, nowMs: number): EscalationAction[] {
    const runId = this.runByIncident.get(incident.id);
    if (runId === undefined) {
      if (!this.unmatched.has(incident.id)) return [];
      const runbook = this.selector.select(incident);
      if (runbook === undefined) return [];
      this.unmatched.delete(incident.id);
      const existing = this.joinableRun(incident.target, nowMs);
      return existing ? this.join(existing, incident, nowMs) : this.start(runbook, incident, nowMs);
    }
    const run = this.runs.get(runId);
    if (run === undefined || run.state !== 'open' || run.incidentId !== incident.id) return [];
    run.incident = incident;
    const actions = this.escalate(run, nowMs);
    if (actions.length > 0) this.touch(run, nowMs);
    return actions;
  }

  private closed(incident: Incident, nowMs: number): EscalationAction[] {
    this.unmatched.delete(incident.id);
    const runId = this.runByIncident.get(incident.id);
    const run = runId === undefined ? undefined : this.runs.get(runId);
    if (run === undefined || run.state !== 'open' || run.incidentId !== incident.id) return [];
    run.incident = incident;
    run.state = 'ending';
    run.closedAtMs = nowMs;
    const notes: EscalationAction[] = [];
    run.runbook.tiers.forEach((tier, t) => {
      const state = run.tiers[t]!;
      if (state.state !== 'active' || state.activatedAtMs === null) return;
      const holdUntil = nowMs + tier.holdDownSeconds * 1000;
      const ttlUntil = state.activatedAtMs + run.ttlMs;
      state.releaseAtMs = Math.max(holdUntil, ttlUntil);
      if (state.releaseAtMs > nowMs) {
        const why =
          ttlUntil > holdUntil
            ? `its TTL of ${formatSeconds(run.ttlMs)} runs until then`
            : `its hold-down is ${formatSeconds(tier.holdDownSeconds * 1000)}`;
        notes.push(
          this.note(
            run,
            nowMs,
            `${tierLabel(tier, t)} stays until ${new Date(state.releaseAtMs).toISOString()}: ${why}`,
          ),
        );
      }
    });
    this.touch(run, nowMs);
    return [...notes, ...this.releaseDue(run, nowMs)];
  }

  /** The target's run when a new incident should join it rather than start afresh. */
  private joinableRun(target: string, nowMs: number): EscalationRun | undefined {
    const runId = this.runByTarget.get(target);
    const run = runId === undefined ? undefined : this.runs.get(runId);
    if (run === undefined) return undefined;
    if (run.state !== 'ended') return run;
    return run.endedAtMs !== null && nowMs - run.endedAtMs <= run.runbook.cooldownSeconds * 1000
      ? run
      : undefined;
  }

  private start(runbook: Runbook, incident: Incident, nowMs: number): EscalationAction[] {
    const { ttlMs, repeat } = ttlForNewRun(runbook, this.history.get(incident.target), nowMs);
    const run: EscalationRun = {
      id: `run-${incident.id}`,
      target: incident.target,
      runbook: structuredClone(runbook),
      state: 'open',
      incidentId: incident.id,
      incidentIds: [incident.id],
      incident,
      startedAtMs: nowMs,
      updatedAtMs: nowMs,
      closedAtMs: null,
      endedAtMs: null,
      ttlMs,
      repeat,
      level: -1,
      tiers: runbook.tiers.map(idleTier),
    };
    this.runs.set(run.id, run);
    this.runByTarget.set(run.target, run.id);
    this.runByIncident.set(incident.id, run.id);
    this.touch(run, nowMs);
    const ttlNote =
      ttlMs > 0
        ? `, TTL ${formatSeconds(ttlMs)}${repeat > 0 ? ` (repeat attack #${repeat + 1} on this target)` : ''}`
        : '';
    const actions: EscalationAction[] = [
      this.note(
        run,
        nowMs,
        `runbook ${runbook.name} (${runbook.mode}) takes ${describeIncident(incident)}${ttlNote}`,
      ),
      ...this.notify(
        run,
        nowMs,
        runbook.notify,
        'detected',
        `incident ${incident.id}: ${describeIncident(incident)}`,
      ),
      ...this.activate(run, 0, 'detected', 'incident opened', nowMs),
      ...this.escalate(run, nowMs),
    ];
    return actions;
  }

  private join(run: EscalationRun, incident: Incident, nowMs: number): EscalationAction[] {
    const previous = run.incidentId;
    const since = run.closedAtMs === null ? '' : ` ${formatSeconds(nowMs - run.closedAtMs)} after it closed`;
    run.incidentId = incident.id;
    run.incidentIds.push(incident.id);
    run.incident = incident;
    run.state = 'open';
    run.closedAtMs = null;
    run.endedAtMs = null;
    this.runByIncident.set(incident.id, run.id);
    this.touch(run, nowMs);
    const actions: EscalationAction[] = [
      this.note(run, nowMs, `incident ${incident.id} continues run ${run.id} (after ${previous}${since})`),
      ...this.notify(
        run,
        nowMs,
        run.runbook.notify,
        'resumed',
        `attack on ${run.target} is back: ${describeIncident(incident)}`,
      ),
    ];
    for (let t = 0; t <= run.level; t++) {
      const state = run.tiers[t]!;
      if (state.state === 'active') {
        state.releaseAtMs = null;
      } else {
        actions.push(
          ...this.activate(run, t, 'resumed', 'the attack came back before the cooldown ran out', nowMs),
        );
      }
    }
    actions.push(...this.escalate(run, nowMs));
    return actions;
  }

  /** Fires the next tiers while their conditions hold. */
  private escalate(run: EscalationRun, nowMs: number): EscalationAction[] {
    const actions: EscalationAction[] = [];
    const tiers = run.runbook.tiers;
    while (run.level >= 0 && run.level < tiers.length - 1) {
      const current = tiers[run.level]!;
      const state = run.tiers[run.level]!;
      if (current.escalate === undefined || state.activatedAtMs === null) break;
      const reason = escalationReason(
        current.escalate,
        run.incident,
        state.activatedAtMs,
        this.settings.severityLevels,
      );
      if (reason === undefined) break;
      const next = run.level + 1;
      actions.push(
        ...this.activate(run, next, 'escalated', `${tierLabel(current, run.level)}: ${reason}`, nowMs),
      );
    }
    return actions;
  }

  private activate(
    run: EscalationRun,
    t: number,
    cause: Exclude<ActivateAction['cause'], 'restored'>,
    reason: string,
    nowMs: number,
  ): EscalationAction[] {
    const tier = run.runbook.tiers[t]!;
    const plan = planMitigation(run.incident, this.settings.mitigation, tier.intents);
    run.tiers[t] = {
      state: 'active',
      activatedAtMs: nowMs,
      releaseAtMs: null,
      releasedAtMs: null,
      reason,
      intents: plan.intents,
      refused: plan.refused,
    };
    run.level = Math.max(run.level, t);
    this.touch(run, nowMs);
    const name = tierLabel(tier, t);
    const activate: ActivateAction = {
      type: 'activate',
      atMs: nowMs,
      runId: run.id,
      incidentId: run.incidentId,
      runbook: run.runbook.name,
      tier: t,
      tierName: name,
      mode: run.runbook.mode,
      holder: holderOf(run.id, t),
      deliveries: plan.intents.map((intent) => ({ intent, adapters: this.adaptersFor(intent, tier) })),
      refused: plan.refused,
      cause,
      reason,
    };
    const verb = cause === 'escalated' ? 'escalated to' : cause === 'resumed' ? 'fired again:' : 'fired';
    return [
      activate,
      ...this.notify(run, nowMs, tier.notify, cause, `${run.target}: ${verb} ${name} (${reason})`),
    ];
  }

  /**
   * Where an intent goes: the tier's adapters, narrowed for an RTBH route to the adapters that
   * speak to its upstream. An empty result means no adapter may carry it (the dispatcher refuses
   * it with the reason); null means every adapter able to deliver it.
   */
  private adaptersFor(intent: MitigationIntent, tier: Tier): Delivery['adapters'] {
    const tierAdapters = tier.adapters.length > 0 ? tier.adapters : null;
    if (intent.kind !== 'rtbh' || intent.upstream === undefined) return tierAdapters;
    const upstream = this.settings.mitigation.rtbh.upstreams.find((u) => u.name === intent.upstream);
    if (upstream === undefined || upstream.adapters.length === 0) return tierAdapters;
    if (tierAdapters === null) return [...upstream.adapters];
    return tierAdapters.filter((a) => upstream.adapters.includes(a));
  }

  /** Withdraws the tiers whose time has come, highest first; ends the run when none is left. */
  private releaseDue(run: EscalationRun, nowMs: number): EscalationAction[] {
    const actions: EscalationAction[] = [];
    for (let t = run.tiers.length - 1; t >= 0; t--) {
      const state = run.tiers[t]!;
      if (state.state !== 'active' || state.releaseAtMs === null || state.releaseAtMs > nowMs) continue;
      const tier = run.runbook.tiers[t]!;
      const name = tierLabel(tier, t);
      const byTtl =
        state.activatedAtMs !== null &&
        run.closedAtMs !== null &&
        state.activatedAtMs + run.ttlMs > run.closedAtMs + tier.holdDownSeconds * 1000;
      const quiet = run.closedAtMs === null ? '' : ` since ${new Date(run.closedAtMs).toISOString()}`;
      const reason = byTtl
        ? `TTL of ${formatSeconds(run.ttlMs)} expired; re-checked: no open incident on ${run.target}${quiet}`
        : tier.holdDownSeconds > 0
          ? `hold-down of ${formatSeconds(tier.holdDownSeconds * 1000)} passed after the incident closed`
          : 'the incident closed';
      state.state = 'released';
      state.releasedAtMs = nowMs;
      state.releaseAtMs = null;
      state.reason = reason;
      actions.push({
        type: 'release',
        atMs: nowMs,
        runId: run.id,
        incidentId: run.incidentId,
        runbook: run.runbook.name,
        tier: t,
        tierName: name,
        holder: holderOf(run.id, t),
        intents: state.intents,
        reason,
      });
      actions.push(
        ...this.notify(
          run,
          nowMs,
          tier.notify,
          'de-escalated',
          `${run.target}: ${name} withdrawn (${reason})`,
        ),
      );
      this.touch(run, nowMs);
    }
    if (run.tiers.every((s) => s.state !== 'active')) {
      run.state = 'ended';
      run.endedAtMs = nowMs;
      this.history.set(run.target, { target: run.target, repeat: run.repeat, lastEndedAtMs: nowMs });
      this.changedHistory.add(run.target);
      this.touch(run, nowMs);
      actions.push(
        ...this.notify(
          run,
          nowMs,
          run.runbook.notify,
          'resolved',
          `${run.target}: attack over, every tier withdrawn`,
        ),
      );
    }
    return actions;
  }

  private notify(
    run: EscalationRun,
    nowMs: number,
    channels: readonly string[],
    stage: NotifyStage,
    message: string,
  ): EscalationAction[] {
    if (channels.length === 0) return [];
    return [
      {
        type: 'notify',
        atMs: nowMs,
        runId: run.id,
        incidentId: run.incidentId,
        runbook: run.runbook.name,
        channels: [...channels],
        stage,
        message,
      },
    ];
  }

  private note(run: EscalationRun, nowMs: number, message: string): EscalationAction {
    return {
      type: 'note',
      atMs: nowMs,
      incidentId: run.incidentId,
      runId: run.id,
      runbook: run.runbook.name,
      message,
    };
  }
}
