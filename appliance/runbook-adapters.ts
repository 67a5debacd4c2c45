/**
 * The start-up check that every runbook tier can be delivered: each kind of intent a tier asks
 * for needs at least one of its adapters able to deliver it, and each adapter a tier names must be
 * able to deliver something of the tier. A runbook asking an RTBH-only router for FlowSpec is a
 * configuration error naming the runbook and the tier, not a refusal in the middle of an attack.
 */
import { capabilitiesForKind, type MitigationAdapter } from '../adapters/contract.js';
import { FloodgateError } from '../core/errors.js';
import { type Runbook, tierLabel } from '../core/escalation/config.js';

export function runbookAdapterProblems(
  runbooks: readonly Runbook[],
  adapters: readonly MitigationAdapter[],
): string[] {
  const problems: string[] = [];
  runbooks.forEach((runbook, r) => {
    runbook.tiers.forEach((tier, t) => {
      const where = `runbooks[${r}].tiers[${t}] (runbook ${runbook.name}, ${tierLabel(tier, t)})`;
      const named =
        tier.adapters.length > 0 ? adapters.filter((a) => tier.adapters.includes(a.name)) : adapters;
      const serves = (a: MitigationAdapter, kind: Runbook['tiers'][number]['intents'][number]) =>
        capabilitiesForKind(kind).some((c) => a.capabilities.has(c));
      for (const kind of tier.intents) {
        if (!named.some((a) => serves(a, kind))) {
          const who =
            tier.adapters.length > 0
              ? `none of its adapters (${tier.adapters.join(', ')})`
              : 'no configured adapter';
          problems.push(
            `${where}: asks for ${kind}, but ${who} can deliver ${capabilitiesForKind(kind).join(' or ')}`,
          );
        }
      }
      if (tier.adapters.length === 0) return;
      for (const adapter of named) {
        if (!tier.intents.some((kind) => serves(adapter, kind))) {
          problems.push(
            `${where}: adapter ${adapter.name} can deliver none of ${tier.intents.join(', ')} (it declares ${[...adapter.capabilities].join(', ')})`,
          );
        }
      }
    });
  });
  return problems;
}

/** Throws FG_ERR_CONFIG_INVALID listing every tier that cannot be delivered. */
export function checkRunbookAdapters(
  runbooks: readonly Runbook[],
  adapters: readonly MitigationAdapter[],
): void {
  const problems = runbookAdapterProblems(runbooks, adapters);
  if (problems.length === 0) return;
  throw new FloodgateError('FG_ERR_CONFIG_INVALID', `runbooks cannot be delivered: ${problems.join('; ')}`, {
    issues: problems,
  });
}
