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
import { fileRunState, memoryRunState, type RunState } from './run-state.js';

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

function defaultRunner(node: NodeConfig, timeoutMs: number): CommandRunner {
  if (node.ssh !== undefined) return createSshRunner({ ...node.ssh, timeoutMs });
  return createLocalRunner({
    sudo: node.sudo,
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
  return { runs: d.runs, failures: d.failures ?? [], skipped: d.skipped ?? [] };
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
  const lastRuns = new Map<string, number>();
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
      withCooldown ? lastRuns : new Map(),
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
    phase: 'apply' | 'withdraw',
  ): void {
    ctx.audit?.({
      action: outcome.ok ? phase : 'fail',
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
              lastRuns.set(cooldownKey(sel.rule.id, incident.target), now());
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
    return receipt;
  }

  async function withdraw(receipt: AdapterReceipt): Promise<WithdrawResult> {
    const details = readDetails(receipt);
    const intentLike = { id: receipt.intentId, incidentId: '' } as FirewallIntent;
    const stored = state.get(receipt.intentId);
    const lines: string[] = [];
    const failures: string[] = [];
    let present = stored !== undefined;
    await Promise.all(
      details.runs.map((run) => {
        const entry = deps.catalogue.get(run.actionType);
        const node = run.venue.startsWith('node ') ? nodes.get(run.venue.slice(5)) : undefined;
        return onVenue(run.venue, async () => {
          if (entry === undefined) {
            failures.push(`${run.ruleId} on ${run.venue}: unknown action type ${run.actionType}`);
            return;
          }
          if (run.venue.startsWith('node ') && node === undefined) {
            failures.push(`${run.ruleId} on ${run.venue}: the node is no longer configured; undo by hand`);
            return;
          }
          const handle: ActionVenueHandle = node === undefined ? cloud : { runner: runnerOf(node) };
          try {
            const result = await entry.undo(run.record, handle);
            if (result.wasPresent) present = true;
            for (const o of result.outcomes) {
              lines.push(o.command);
              audit(intentLike, run.ruleId, run.venue, entry.id, o, 'withdraw');
              if (!o.ok)
                failures.push(`${run.ruleId} on ${run.venue}: ${o.command} exited ${o.code}: ${o.output}`);
            }
          } catch (e) {
            for (const o of outcomesOf(e)) audit(intentLike, run.ruleId, run.venue, entry.id, o, 'withdraw');
            failures.push(`${run.ruleId} on ${run.venue}: ${errorText(e)}`);
          }
        });
      }),
    );
    if (failures.length > 0) {
      throw new FloodgateError(
        'FG_ERR_ADAPTER_WITHDRAW',
        `${name}: undo failed for ${receipt.intentId}: ${failures.join('; ')}`,
        { adapter: name, intentId: receipt.intentId, failures },
      );
    }
    state.delete(receipt.intentId);
    return { command: lines.join('\n') || '# nothing ran, nothing to undo', wasPresent: present };
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
    onReconnect(listener) {
      reconnectListeners.push(listener);
    },
  };
}
