/**
 * The host-firewall action types (actions/) as catalogue entries: a plan rendered from the rule
 * and the incident, its steps run through the node's command runner, the plan itself kept in the
 * run record so the undo after a restart runs exactly the commands the preview showed.
 */
import { FloodgateError } from '../../core/errors.js';
import type { ActionPlan, ActionType, StepOutcome } from './actions/action-type.js';
import { describeStep, formatStep } from './actions/format-step.js';
import { appliedSteps, runSteps } from './actions/run-steps.js';
import type { ActionEntry, ActionOutcome, ActionRunRecord, ActionVenueHandle } from './catalogue.js';

function outcomeOf(o: StepOutcome): ActionOutcome {
  const output = [o.stdout.trim(), o.stderr.trim(), o.error ?? ''].filter((t) => t !== '').join('\n');
  return {
    command: o.command,
    ok: o.ok,
    code: o.exitCode,
    output,
    ms: Math.round(o.ms),
    ...(o.skipped ? { skipped: true } : {}),
  };
}

/** The failed step, why, and what it printed on stderr: the part of an error an operator acts on. */
function failureText(failed: StepOutcome): string {
  const stderr = failed.stderr.trim();
  return `${failed.command} ${failed.error ?? `exited ${failed.exitCode}`}${stderr === '' ? '' : `: ${stderr}`}`;
}

/** Which apply steps really ran, as kept in a run record; absent in records from before it was kept. */
function keptAppliedSteps(record: ActionRunRecord): boolean[] | undefined {
  const kept = record.undo['appliedSteps'];
  return Array.isArray(kept) && kept.every((b) => typeof b === 'boolean') ? kept : undefined;
}

function runnerOf(venue: ActionVenueHandle, actionId: string) {
  if (venue.runner === undefined) {
    throw new FloodgateError(
      'FG_ERR_ADAPTER_APPLY',
      `${actionId} runs on a node, and no node runner was given`,
    );
  }
  return venue.runner;
}

function planOf(record: ActionRunRecord): ActionPlan {
  const plan = record.undo['plan'] as ActionPlan | undefined;
  if (plan === undefined || !Array.isArray(plan.undo)) {
    throw new FloodgateError('FG_ERR_ADAPTER_WITHDRAW', 'the run record holds no undo plan; undo by hand', {
      record,
    });
  }
  return plan;
}

export function localEntry(type: ActionType): ActionEntry {
  return {
    id: type.id,
    group: type.group,
    title: type.title,
    description: type.description,
    venue: 'node',
    params: type.params.map((p) => ({
      name: p.name,
      kind: p.kind,
      description: p.description,
      required: p.required,
      ...(p.default === undefined ? {} : { default: p.default }),
      ...(p.fromIncident === undefined ? {} : { fromIncident: p.fromIncident }),
    })),
    risk: type.risk,
    riskNote: type.riskNote,
    commandTemplate: type.commandTemplate,
    undoTemplate: type.undoTemplate,
    isBroad: (params) => type.isBroad(params),
    preview(params, incident, tag) {
      const plan = type.plan(params, incident, tag);
      return { apply: plan.apply.map(describeStep), undo: plan.undo.map(describeStep) };
    },
    async apply(params, incident, tag, venue) {
      const plan = type.plan(params, incident, tag);
      const runner = runnerOf(venue, type.id);
      const outcomes = await runSteps(plan.apply, runner, { mode: 'apply' });
      const failed = outcomes.find((o) => !o.ok);
      if (failed !== undefined) {
        // Steps before the failure may be in place: the undo is guarded, so it removes exactly those.
        const cleanup = await runSteps(plan.undo, runner, {
          mode: 'undo',
          appliedSteps: appliedSteps(plan.apply, outcomes),
        });
        throw new FloodgateError(
          'FG_ERR_EXEC_FAILED',
          `${type.id} on ${runner.where}: ${failureText(failed)}`,
          { outcomes: [...outcomes, ...cleanup].map(outcomeOf), where: runner.where },
        );
      }
      return {
        applied: plan.apply.map(formatStep),
        undoTexts: plan.undo.map(describeStep),
        outcomes: outcomes.map(outcomeOf),
        undo: { plan, appliedSteps: appliedSteps(plan.apply, outcomes) },
      };
    },
    async reassert(record, venue) {
      const plan = planOf(record);
      const runner = runnerOf(venue, type.id);
      const outcomes = await runSteps(plan.apply, runner, { mode: 'apply' });
      const failed = outcomes.find((o) => !o.ok);
      if (failed !== undefined) {
        // Believed in place and partly missing: nothing is undone here, the incident still wants it.
        throw new FloodgateError(
          'FG_ERR_EXEC_FAILED',
          `${type.id} on ${runner.where}: putting it back failed at ${failureText(failed)}`,
          { outcomes: outcomes.map(outcomeOf), where: runner.where },
        );
      }
      // Unguarded steps are idempotent settings (link up, qdisc replace) that run every time; a
      // guarded step that ran means its effect had gone missing.
      const restored = outcomes.some((o, i) => !o.skipped && (plan.apply[i]?.skipIf ?? []).length > 0);
      // What this pass created is ours to remove at undo, as if the first apply had made it. A record
      // from before the steps were kept stays without: its undo runs every guarded step, as it did.
      const before = keptAppliedSteps(record);
      if (before === undefined) return { restored, outcomes: outcomes.map(outcomeOf), record };
      const merged = appliedSteps(plan.apply, outcomes).map((ran, i) => ran || before[i] === true);
      return {
        restored,
        outcomes: outcomes.map(outcomeOf),
        record: { ...record, undo: { ...record.undo, appliedSteps: merged } },
      };
    },
    async undo(record, venue) {
      const plan = planOf(record);
      const kept = keptAppliedSteps(record);
      const outcomes = await runSteps(plan.undo, runnerOf(venue, type.id), {
        mode: 'undo',
        ...(kept === undefined ? {} : { appliedSteps: kept }),
      });
      return { outcomes: outcomes.map(outcomeOf), wasPresent: outcomes.some((o) => !o.skipped && o.ok) };
    },
  };
}
