/**
 * The node adapter: tier 1 on the attacked servers themselves. A firewall intent does not say
 * which command to run; the operator's node rules do. At apply, every enabled rule whose trigger
 * matches the incident runs its action on each node in its scope that serves the target (once
 * against the provider for cloud firewall actions), unless it ran for that target within its
 * cooldown. Each command is audited (rule, incident, node, exact command, output, exit code);
 * the receipt keeps every run's undo, so withdraw undoes exactly what ran, also after a restart.
 *
 * Commands on one node run one at a time (firewall tools take locks and read-modify-write their
 * tables); different nodes run in parallel, so one slow server does not delay the others.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { FloodgateError, isFloodgateError } from '../../core/errors.js';
import type {
  FirewallIncidentFacts,
  FirewallIntent,
  MitigationIntent,
} from '../../core/mitigation/intent.js';
import { describeIntent } from '../../core/mitigation/intent-text.js';
import { mitigationId } from '../../core/mitigation/mitigation.js';
import type { ActionParamValue } from '../../core/node-rules/rule.js';
import { describeTrigger, type NodeRule } from '../../core/node-rules/rule.js';
import { cooldownKey, type RuleSelection, selectRules } from '../../core/node-rules/select.js';
import {
  type AdapterContext,
  type AdapterHealth,
  type AdapterReceipt,
  type Capability,
  type MitigationAdapter,
  type Reassertion,
  type RuleRetirement,
  requireCapability,
  type WithdrawResult,
} from '../contract.js';
import type { CommandRunner } from '../exec/command-runner.js';
import { createLocalRunner } from '../exec/local-runner.js';
import { createSshRunner } from '../exec/ssh-runner.js';
import type {
  ActionCatalogue,
  ActionEntry,
  ActionIncident,
  ActionOutcome,
  ActionRunRecord,
  ActionVenueHandle,
} from './catalogue.js';
import type { UndoRecordBase } from './cloud/types.js';
import { type CloudVenue, cloudVenue } from './cloud-entries.js';
import { NODE_CAPABILITIES, type NodeAdapterConfig, type NodeConfig } from './config.js';
import { fileRunState, LONGEST_COOLDOWN_MS, memoryRunState, type RunState } from './run-state.js';

/** One rule's action as it ran on one node (or once against a cloud provider). */
export interface RuleRun {
  ruleId: string;
  /** "node web1" or "cloud cloudflare". */
  venue: string;
  actionType: string;
  tag: string;
  params: Record<string, ActionParamValue>;
  record: ActionRunRecord;
  appliedAtMs: number;
}

interface NodeReceiptDetails {
  /** The incident the intent belongs to, so undo audit entries name it (absent in older receipts). */
  incidentId?: string;
  runs: RuleRun[];
  failures: { ruleId: string; venue: string; error: string }[];
  skipped: { ruleId: string; reason: string }[];
}

export interface NodeAdapterDeps {
  catalogue: ActionCatalogue;
  /** How commands reach a node; by default the local runner, or SSH when the node has `ssh:`. */
  runnerFor?: (node: NodeConfig, timeoutMs: number) => CommandRunner;
  /** The cloud firewall accounts; by default the clients of `config.cloud`, made on first use. */
  cloud?: CloudVenue;
}

/** The state file of a node adapter instance. */
export function nodeStateFile(stateDir: string, name: string): string {
  return join(stateDir, `node-${name}.json`);
}

const OUTPUT_AUDIT_CHARS = 4096;

/** How commands reach a configured node: SSH, or locally (in its namespace, through sudo as configured). */
export function defaultRunner(node: NodeConfig, timeoutMs: number): CommandRunner {
  if (node.ssh !== undefined) return createSshRunner({ ...node.ssh, timeoutMs });
  return createLocalRunner({
    sudo: node.runAs !== undefined ? { user: node.runAs } : node.sudo,
    timeoutMs,
    ...(node.netns === undefined ? {} : { prefix: ['ip', 'netns', 'exec', node.netns] }),
  });
}

/** The intent's incident facts; an intent stored before facts existed gets neutral ones from its action. */
export function factsOf(intent: FirewallIntent): FirewallIncidentFacts {
  return (
    intent.facts ?? {
      family: 'mixed',
      severity: 0,
      pps: 0,
      bps: 0,
      sources:
        intent.action.type === 'drop-source' ? intent.action.sources.map((s) => s.replace(/\/\d+$/, '')) : [],
      sourcePorts: intent.action.type === 'drop-protocol' ? (intent.action.sourcePorts ?? []) : [],
      destinationPorts: intent.action.type === 'drop-protocol' ? (intent.action.destinationPorts ?? []) : [],
      protocols:
        'protocol' in intent.action && intent.action.protocol !== undefined ? [intent.action.protocol] : [],
    }
  );
}

/** The incident as actions see it: the target and the facts of the intent. */
export function actionIncident(intent: FirewallIntent): ActionIncident {
  const facts = factsOf(intent);
  return {
    incidentId: intent.incidentId,
    target: intent.target.replace(/\/(32|128)$/, ''),
    ipVersion: intent.ipVersion,
    family: facts.family,
    severity: facts.severity,
    ...(facts.severityLevel === undefined ? {} : { severityLevel: facts.severityLevel }),
    pps: facts.pps,
    bps: facts.bps,
    sources: facts.sources,
    sourcePorts: facts.sourcePorts,
    destinationPorts: facts.destinationPorts,
    protocols: facts.protocols,
  };
}

/** A short tag naming one run, put in rule comments and set names so leftovers can be traced. */
export function runTag(intentId: string, ruleId: string): string {
  return `fg-${createHash('sha256').update(`${intentId}|${ruleId}`).digest('hex').slice(0, 10)}`;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function outcomesOf(e: unknown): ActionOutcome[] {
  if (!isFloodgateError(e)) return [];
  const o = e.details['outcomes'];
  return Array.isArray(o) ? (o as ActionOutcome[]) : [];
}

function readDetails(receipt: AdapterReceipt): NodeReceiptDetails {
  const d = receipt.details as Partial<NodeReceiptDetails> | undefined;
  if (!d || !Array.isArray(d.runs)) {
    throw new FloodgateError(
      'FG_ERR_ADAPTER_WITHDRAW',
      `receipt for ${receipt.intentId} has no node rule runs; check the nodes' firewalls by hand`,
      { adapter: receipt.adapter, intentId: receipt.intentId },
    );
  }
  return {
    ...(typeof d.incidentId === 'string' ? { incidentId: d.incidentId } : {}),
    runs: d.runs,
    failures: d.failures ?? [],
    skipped: d.skipped ?? [],
  };
}

export function createNodeAdapter(
  config: NodeAdapterConfig,
  ctx: AdapterContext,
  deps: NodeAdapterDeps,
): MitigationAdapter {
  const { name, logger, now } = ctx;
  const capabilities: ReadonlySet<Capability> = new Set(NODE_CAPABILITIES);
  const nodes = new Map(config.nodes.map((n) => [n.name, n]));
  const runners = new Map<string, CommandRunner>();
  const queues = new Map<string, Promise<unknown>>();
  const reconnectListeners: (() => void)[] = [];
  let state: RunState = memoryRunState();
  const self = { name, capabilities };
  /** Undo records of one provider's blocks this adapter holds now. */
  const activeCloud = (provider: string): UndoRecordBase[] =>
    state.all().flatMap((receipt) =>
      ((receipt.details as Partial<NodeReceiptDetails> | undefined)?.runs ?? [])
        .filter((run) => run.actionType === `${provider}.block-source`)
        .flatMap((run) => {
          const records = run.record.undo['records'];
          return Array.isArray(records) ? (records as UndoRecordBase[]) : [];
        }),
    );
  const cloud: ActionVenueHandle = {
    cloud: deps.cloud ?? cloudVenue(config.cloud, activeCloud),
  };

  function runnerOf(node: NodeConfig): CommandRunner {
    let runner = runners.get(node.name);
    if (runner === undefined) {
      runner = (deps.runnerFor ?? defaultRunner)(node, config.commandTimeoutMs);
      runner.onReconnect?.(() => {
        logger.info({ node: node.name, where: runner?.where }, 'node connection re-established');
        for (const l of reconnectListeners) l();
      });
      runners.set(node.name, runner);
    }
    return runner;
  }

  /** Runs `work` after everything queued before it on the same venue. */
  function onVenue<T>(venue: string, work: () => Promise<T>): Promise<T> {
    const before = queues.get(venue) ?? Promise.resolve();
    const next = before.then(work, work);
    queues.set(
      venue,
      next.catch(() => undefined),
    );
    return next;
  }

  function rules(): readonly NodeRule[] {
    return ctx.nodeRules?.() ?? [];
  }

  function entryOf(rule: NodeRule): ActionEntry {
    const entry = deps.catalogue.get(rule.action.type);
    if (entry === undefined) {
      throw new FloodgateError(
        'FG_ERR_NODE_RULE',
        `node rule "${rule.id}" names action type "${rule.action.type}", which this Floodgate does not know (floodgate rules actions lists them)`,
        { rule: rule.id, actionType: rule.action.type },
      );
    }
    return entry;
  }

  /** The venues one selected rule runs on: its serving nodes, or the cloud provider once. */
  function venuesOf(
    selection: RuleSelection,
    entry: ActionEntry,
  ): { label: string; handle: ActionVenueHandle }[] {
    if (entry.venue === 'cloud') {
      return [{ label: `cloud ${entry.group}`, handle: cloud }];
    }
    return selection.nodes.flatMap((n) => {
      const node = nodes.get(n);
      return node === undefined ? [] : [{ label: `node ${n}`, handle: { runner: runnerOf(node) } }];
    });
  }

  function firewallIntent(intent: MitigationIntent): FirewallIntent {
    requireCapability(self, intent);
    return intent as FirewallIntent;
  }

  function selection(intent: FirewallIntent, withCooldown: boolean) {
    const incident = actionIncident(intent);
    const facts = factsOf(intent);
    const serving = config.nodes.map((n) => ({ name: n.name, serves: n.serves }));
    const selected = selectRules(
      rules(),
      facts,
      incident.target,
      serving,
      withCooldown ? state.lastRuns() : new Map(),
      now(),
    );
    return { incident, selected };
  }

  function audit(
    intent: FirewallIntent,
    ruleId: string,
    venue: string,
    actionType: string,
    outcome: ActionOutcome,
    phase: 'apply' | 'withdraw' | 'reassert',
  ): void {
    ctx.audit?.({
      action: outcome.ok ? (phase === 'withdraw' ? 'withdraw' : 'apply') : 'fail',
      incidentId: intent.incidentId,
      mitigationId: mitigationId(intent.id, name),
      rule: `node-rule/${ruleId}`,
      command: outcome.command,
      result: outcome.ok ? 'ok' : 'error',
      detail: {
        venue,
        actionType,
        phase,
        code: outcome.code,
        ms: outcome.ms,
        ...(outcome.skipped ? { skipped: true } : {}),
        output: outcome.output.slice(0, OUTPUT_AUDIT_CHARS),
      },
    });
  }

  function render(intent: MitigationIntent): string {
    const fw = firewallIntent(intent);
    const { incident, selected } = selection(fw, false);
    const lines: string[] = [];
    for (const sel of selected.run) {
      const entry = deps.catalogue.get(sel.rule.action.type);
      if (entry === undefined) {
        lines.push(`# rule ${sel.rule.id}: unknown action type ${sel.rule.action.type}`);
        continue;
      }
      const tag = runTag(fw.id, sel.rule.id);
      for (const venue of venuesOf(sel, entry)) {
        lines.push(`# rule ${sel.rule.id} (${describeTrigger(sel.rule.trigger)}) on ${venue.label}`);
        try {
          lines.push(...entry.preview(sel.rule.action.params, incident, tag).apply);
        } catch (e) {
          lines.push(`# refused: ${errorText(e)}`);
        }
      }
    }
    if (lines.length === 0) lines.push(`# no enabled node rule matches ${describeIntent(fw)}; nothing runs`);
    return lines.join('\n');
  }

  function renderWithdraw(intent: MitigationIntent): string {
    const fw = firewallIntent(intent);
    const held = state.get(fw.id);
    if (held !== undefined) {
      return readDetails(held)
        .runs.flatMap((r) => [`# rule ${r.ruleId} on ${r.venue}`, ...undoText(r)])
        .join('\n');
    }
    const { incident, selected } = selection(fw, false);
    const lines: string[] = [];
    for (const sel of selected.run) {
      const entry = deps.catalogue.get(sel.rule.action.type);
      if (entry === undefined) continue;
      const tag = runTag(fw.id, sel.rule.id);
      for (const venue of venuesOf(sel, entry)) {
        lines.push(`# rule ${sel.rule.id} on ${venue.label}`);
        try {
          lines.push(...entry.preview(sel.rule.action.params, incident, tag).undo);
        } catch (e) {
          lines.push(`# refused: ${errorText(e)}`);
        }
      }
    }
    return lines.length === 0 ? '# nothing to undo' : lines.join('\n');
  }

  function undoText(run: RuleRun): string[] {
    return Array.isArray(run.record.undoTexts) ? run.record.undoTexts : [`# undo of ${run.actionType}`];
  }

  async function apply(intent: MitigationIntent): Promise<AdapterReceipt> {
    const fw = firewallIntent(intent);
    const held = state.get(fw.id);
    if (held !== undefined) return held;
    const { incident, selected } = selection(fw, true);
    const details: NodeReceiptDetails = {
      incidentId: fw.incidentId,
      runs: [],
      failures: [],
      skipped: selected.skipped.map((s) => ({ ruleId: s.rule.id, reason: s.reason })),
    };
    const jobs: Promise<void>[] = [];
    let started = 0;
    for (const sel of selected.run) {
      let entry: ActionEntry;
      try {
        entry = entryOf(sel.rule);
      } catch (e) {
        details.failures.push({ ruleId: sel.rule.id, venue: '-', error: errorText(e) });
        continue;
      }
      const tag = runTag(fw.id, sel.rule.id);
      for (const venue of venuesOf(sel, entry)) {
        if (started >= config.maxRunsPerIntent) {
          details.skipped.push({
            ruleId: sel.rule.id,
            reason: `refused on ${venue.label}: this intent already started ${config.maxRunsPerIntent} runs (maxRunsPerIntent)`,
          });
          continue;
        }
        started++;
        jobs.push(
          onVenue(venue.label, async () => {
            try {
              const record = await entry.apply(sel.rule.action.params, incident, tag, venue.handle);
              for (const o of record.outcomes) audit(fw, sel.rule.id, venue.label, entry.id, o, 'apply');
              details.runs.push({
                ruleId: sel.rule.id,
                venue: venue.label,
                actionType: entry.id,
                tag,
                params: { ...sel.rule.action.params },
                record,
                appliedAtMs: now(),
              });
              const at = now();
              state.noteRun(cooldownKey(sel.rule.id, incident.target), at, at - LONGEST_COOLDOWN_MS);
            } catch (e) {
              const outcomes = outcomesOf(e);
              for (const o of outcomes) audit(fw, sel.rule.id, venue.label, entry.id, o, 'apply');
              if (outcomes.length === 0) {
                audit(
                  fw,
                  sel.rule.id,
                  venue.label,
                  entry.id,
                  { command: `${entry.id} (not run)`, ok: false, code: null, output: errorText(e), ms: 0 },
                  'apply',
                );
              }
              details.failures.push({ ruleId: sel.rule.id, venue: venue.label, error: errorText(e) });
              logger.warn({ rule: sel.rule.id, venue: venue.label, err: e }, 'node rule failed');
            }
          }),
        );
      }
    }
    await Promise.all(jobs);
    if (details.runs.length === 0 && details.failures.length > 0) {
      throw new FloodgateError(
        'FG_ERR_ADAPTER_APPLY',
        `${name}: every node rule for ${fw.target} failed: ${details.failures.map((f) => `${f.ruleId} on ${f.venue}: ${f.error}`).join('; ')}`,
        { adapter: name, intentId: fw.id, failures: details.failures },
      );
    }
    const command =
      details.runs.length === 0
        ? `# no node rule ran for ${fw.target}${details.skipped.length > 0 ? `: ${details.skipped.map((s) => `${s.ruleId} ${s.reason}`).join('; ')}` : ' (no enabled rule matches)'}`
        : details.runs.flatMap((r) => [`# rule ${r.ruleId} on ${r.venue}`, ...r.record.applied]).join('\n');
    const receipt: AdapterReceipt = {
      adapter: name,
      intentId: fw.id,
      kind: 'firewall',
      command,
      appliedAtMs: now(),
      details: details as unknown as Record<string, unknown>,
    };
    state.put(receipt);
    // A rule disabled or deleted while its commands ran was retired before this receipt existed:
    // undo its runs now, as the retirement would have.
    const enabledNow = new Set(
      rules()
        .filter((r) => r.enabled)
        .map((r) => r.id),
    );
    const retiredMeanwhile = new Set(details.runs.map((r) => r.ruleId).filter((id) => !enabledNow.has(id)));
    for (const ruleId of retiredMeanwhile) {
      const retired = await retireRule(ruleId);
      for (const f of retired.failures)
        logger.warn({ rule: ruleId, failure: f }, 'undo of a rule disabled during apply failed');
    }
    return state.get(fw.id) ?? receipt;
  }

  /** Undoes one run on its venue, after whatever is queued there; audits each undo command. */
  function undoRun(
    run: RuleRun,
    intentLike: FirewallIntent,
  ): Promise<{ commands: string[]; failures: string[]; wasPresent: boolean }> {
    const entry = deps.catalogue.get(run.actionType);
    const node = run.venue.startsWith('node ') ? nodes.get(run.venue.slice(5)) : undefined;
    return onVenue(run.venue, async () => {
      const commands: string[] = [];
      const failures: string[] = [];
      if (entry === undefined) {
        failures.push(`${run.ruleId} on ${run.venue}: unknown action type ${run.actionType}`);
        return { commands, failures, wasPresent: false };
      }
      if (run.venue.startsWith('node ') && node === undefined) {
        failures.push(`${run.ruleId} on ${run.venue}: the node is no longer configured; undo by hand`);
        return { commands, failures, wasPresent: false };
      }
      const handle: ActionVenueHandle = node === undefined ? cloud : { runner: runnerOf(node) };
      try {
        const result = await entry.undo(run.record, handle);
        for (const o of result.outcomes) {
          commands.push(o.command);
          audit(intentLike, run.ruleId, run.venue, entry.id, o, 'withdraw');
          if (!o.ok)
            failures.push(`${run.ruleId} on ${run.venue}: ${o.command} exited ${o.code}: ${o.output}`);
        }
        return { commands, failures, wasPresent: result.wasPresent };
      } catch (e) {
        for (const o of outcomesOf(e)) audit(intentLike, run.ruleId, run.venue, entry.id, o, 'withdraw');
        failures.push(`${run.ruleId} on ${run.venue}: ${errorText(e)}`);
        return { commands, failures, wasPresent: false };
      }
    });
  }

  function intentOf(receipt: AdapterReceipt, details: NodeReceiptDetails): FirewallIntent {
    return { id: receipt.intentId, incidentId: details.incidentId ?? '' } as FirewallIntent;
  }

  async function withdraw(receipt: AdapterReceipt): Promise<WithdrawResult> {
    // What this adapter holds now wins over the caller's copy: runs of a retired rule are gone from it.
    const stored = state.get(receipt.intentId);
    const details = readDetails(stored ?? receipt);
    const intentLike = intentOf(receipt, details);
    const results = await Promise.all(details.runs.map((run) => undoRun(run, intentLike)));
    const lines = results.flatMap((r) => r.commands);
    const failures = results.flatMap((r) => r.failures);
    if (failures.length > 0) {
      throw new FloodgateError(
        'FG_ERR_ADAPTER_WITHDRAW',
        `${name}: undo failed for ${receipt.intentId}: ${failures.join('; ')}`,
        { adapter: name, intentId: receipt.intentId, failures },
      );
    }
    state.delete(receipt.intentId);
    return {
      command: lines.join('\n') || '# nothing ran, nothing to undo',
      wasPresent: stored !== undefined || results.some((r) => r.wasPresent),
    };
  }

  async function reassert(intentIds: readonly string[]): Promise<Reassertion> {
    const result: Reassertion = { restored: [], failures: [] };
    const jobs: Promise<void>[] = [];
    /** New run records per intent, by run index, written back once every job is done. */
    const updated = new Map<string, Map<number, ActionRunRecord>>();
    for (const intentId of intentIds) {
      const receipt = state.get(intentId);
      if (receipt === undefined) continue;
      const details = readDetails(receipt);
      const intentLike = intentOf(receipt, details);
      details.runs.forEach((run, index) => {
        const entry = deps.catalogue.get(run.actionType);
        // Cloud firewalls keep their rules; only what a node can lose is checked.
        if (entry?.reassert === undefined || !run.venue.startsWith('node ')) return;
        const node = nodes.get(run.venue.slice(5));
        if (node === undefined) {
          result.failures.push({ intentId, venue: run.venue, error: 'the node is no longer configured' });
          return;
        }
        const reassertRun = entry.reassert;
        jobs.push(
          onVenue(run.venue, async () => {
            try {
              const r = await reassertRun(run.record, { runner: runnerOf(node) });
              const records = updated.get(intentId) ?? new Map<number, ActionRunRecord>();
              updated.set(intentId, records.set(index, r.record));
              if (!r.restored) return;
              const ran = r.outcomes.filter((o) => !o.skipped);
              for (const o of ran) audit(intentLike, run.ruleId, run.venue, entry.id, o, 'reassert');
              result.restored.push({ intentId, venue: run.venue, commands: ran.map((o) => o.command) });
              logger.warn(
                { rule: run.ruleId, venue: run.venue, intentId },
                'node had lost a rule run; put back',
              );
            } catch (e) {
              for (const o of outcomesOf(e))
                audit(intentLike, run.ruleId, run.venue, entry.id, o, 'reassert');
              result.failures.push({ intentId, venue: run.venue, error: errorText(e) });
            }
          }),
        );
      });
    }
    await Promise.all(jobs);
    for (const [intentId, records] of updated) {
      // Read again: a withdraw or a retirement may have changed the receipt meanwhile.
      const receipt = state.get(intentId);
      if (receipt === undefined) continue;
      const details = readDetails(receipt);
      const runs = details.runs.map((run, i) => {
        const record = records.get(i);
        return record === undefined || record.applied.join('\n') !== run.record.applied.join('\n')
          ? run
          : { ...run, record };
      });
      state.put({ ...receipt, details: { ...details, runs } as unknown as Record<string, unknown> });
    }
    return result;
  }

  async function retireRule(ruleId: string): Promise<RuleRetirement> {
    const retirement: RuleRetirement = { undone: [], failures: [] };
    for (const receipt of state.all()) {
      const details = readDetails(receipt);
      const retiring = details.runs.filter((r) => r.ruleId === ruleId);
      if (retiring.length === 0) continue;
      const intentLike = intentOf(receipt, details);
      const results = await Promise.all(retiring.map((run) => undoRun(run, intentLike)));
      const kept = details.runs.filter((r) => r.ruleId !== ruleId);
      retiring.forEach((run, i) => {
        const result = results[i]!;
        if (result.failures.length > 0) {
          kept.push(run);
          retirement.failures.push(...result.failures);
        } else {
          retirement.undone.push({ intentId: receipt.intentId, venue: run.venue, commands: result.commands });
        }
      });
      // A withdraw that ran meanwhile undid the rest and let the receipt go: nothing to keep then.
      if (state.get(receipt.intentId) === undefined) continue;
      const remaining: NodeReceiptDetails = { ...details, runs: kept };
      state.put({ ...receipt, details: remaining as unknown as Record<string, unknown> });
      logger.info(
        {
          rule: ruleId,
          intentId: receipt.intentId,
          runs: retiring.length,
          undoFailed: kept.length - (details.runs.length - retiring.length),
        },
        'node rule retired: its runs for this intent undone',
      );
    }
    return retirement;
  }

  async function health(): Promise<AdapterHealth> {
    const problems: string[] = [];
    await Promise.all(
      config.nodes
        .filter((n) => n.ssh !== undefined)
        .map(async (node) => {
          try {
            const result = await runnerOf(node).run(['true'], { timeoutMs: 5000 });
            if (result.exitCode !== 0) problems.push(`${node.name}: "true" exited ${result.exitCode}`);
          } catch (e) {
            problems.push(`${node.name}: ${errorText(e)}`);
          }
        }),
    );
    const enabled = rules().filter((r) => r.enabled).length;
    return {
      ok: problems.length === 0,
      detail:
        problems.length === 0
          ? `${config.nodes.length} node(s) reachable, ${enabled} enabled rule(s), ${state.all().length} intent(s) in place`
          : `unreachable: ${problems.join('; ')}`,
      checkedAtMs: now(),
    };
  }

  return {
    name,
    capabilities,
    async start() {
      if (ctx.stateDir !== undefined) {
        state = fileRunState(nodeStateFile(ctx.stateDir, name), (m) => logger.warn(m));
      }
      for (const entry of rules()) {
        if (entry.enabled && deps.catalogue.get(entry.action.type) === undefined) {
          logger.warn(
            { rule: entry.id, actionType: entry.action.type },
            'node rule names an unknown action type',
          );
        }
      }
    },
    async stop() {
      await Promise.all([...queues.values()]);
      await Promise.all([...runners.values()].map((r) => r.close()));
      runners.clear();
    },
    render,
    renderWithdraw,
    apply,
    withdraw,
    list: async () => state.all(),
    health,
    retireRule,
    reassert,
    onReconnect(listener) {
      reconnectListeners.push(listener);
    },
  };
}
