/**
 * The dry-run adapter: does everything an adapter does except send. It renders each intent as
 * the ExaBGP command a real speaker would receive, records it as in place and logs it, so
 * detect-only mode shows operators exactly what would have been announced and withdrawn.
 *
 * State is in memory only: a new process starts with nothing in place, as ExaBGP does after
 * a restart, and the dispatcher replays or withdraws from its store. stop() and start() on
 * the same instance keep the table, like a BGP speaker whose session merely flapped.
 */
import { FloodgateError } from '../../core/errors.js';
import type { MitigationIntent } from '../../core/mitigation/intent.js';
import type {
  AdapterContext,
  AdapterHealth,
  AdapterReceipt,
  Capability,
  MitigationAdapter,
  WithdrawResult,
} from '../contract.js';
import { requireCapability } from '../contract.js';
import { renderAnnounce, renderWithdraw } from '../exabgp/text-api.js';
import type { DryRunConfig } from './config.js';

export function createDryRunAdapter(config: DryRunConfig, ctx: AdapterContext): MitigationAdapter {
  const { name, logger } = ctx;
  const capabilities: ReadonlySet<Capability> = new Set(config.capabilities);
  const renderOptions = { neighbors: config.neighbors };
  /** What is "in place", by intent id, in the order it was applied. */
  const inPlace = new Map<string, AdapterReceipt>();
  let started = false;

  const self = { name, capabilities };

  function render(intent: MitigationIntent): string {
    requireCapability(self, intent);
    return renderAnnounce(intent, renderOptions);
  }

  function requireStarted(code: 'FG_ERR_ADAPTER_APPLY' | 'FG_ERR_ADAPTER_WITHDRAW', intentId: string): void {
    if (!started) {
      throw new FloodgateError(code, `adapter "${name}" is not started (intent ${intentId})`, {
        adapter: name,
        intentId,
      });
    }
  }

  return {
    name,
    capabilities,
    render,

    async start() {
      started = true;
      logger.info(
        { render: config.render, capabilities: config.capabilities },
        'dry-run adapter started: nothing is sent',
      );
    },

    async stop() {
      started = false;
    },

    async apply(intent) {
      const command = render(intent);
      requireStarted('FG_ERR_ADAPTER_APPLY', intent.id);
      const existing = inPlace.get(intent.id);
      if (existing) {
        logger.debug({ intentId: intent.id }, 'already in place; nothing would be sent');
        return structuredClone(existing);
      }
      const receipt: AdapterReceipt = {
        adapter: name,
        intentId: intent.id,
        kind: intent.kind,
        command,
        appliedAtMs: ctx.now(),
        details: { render: config.render, withdrawCommand: renderWithdraw(intent, renderOptions) },
      };
      inPlace.set(intent.id, receipt);
      logger.info({ intentId: intent.id, incidentId: intent.incidentId, command }, 'dry run: would announce');
      return structuredClone(receipt);
    },

    async withdraw(receipt): Promise<WithdrawResult> {
      requireStarted('FG_ERR_ADAPTER_WITHDRAW', receipt.intentId);
      if (receipt.adapter !== name) {
        throw new FloodgateError(
          'FG_ERR_ADAPTER_WITHDRAW',
          `receipt for intent ${receipt.intentId} belongs to adapter "${receipt.adapter}", not "${name}"`,
          { adapter: name, receiptAdapter: receipt.adapter, intentId: receipt.intentId },
        );
      }
      const command = receipt.details?.['withdrawCommand'];
      if (typeof command !== 'string') {
        throw new FloodgateError(
          'FG_ERR_ADAPTER_WITHDRAW',
          `receipt for intent ${receipt.intentId} has no details.withdrawCommand: it was not issued by a dry-run adapter`,
          { adapter: name, intentId: receipt.intentId },
        );
      }
      const wasPresent = inPlace.delete(receipt.intentId);
      if (wasPresent) {
        logger.info({ intentId: receipt.intentId, command }, 'dry run: would withdraw');
      } else {
        logger.warn(
          { intentId: receipt.intentId, command },
          'dry run: withdraw of an intent that is not in place',
        );
      }
      return { command, wasPresent };
    },

    async list() {
      return [...inPlace.values()].map((r) => structuredClone(r));
    },

    async health(): Promise<AdapterHealth> {
      return {
        ok: started,
        detail: started ? 'dry run: records what it would announce, sends nothing' : 'not started',
        checkedAtMs: ctx.now(),
      };
    },
  };
}
