/**
 * An adapter that does everything except send: it renders each intent, records it as in place and
 * logs it. The dry-run adapter and the preview of a real adapter (detect-only mode, `floodgate
 * simulate`) are both this, with different renderings.
 *
 * The table lives in memory, and optionally in a JSON file: then it behaves like a router that
 * keeps its routes across Floodgate's own restart, which is what reconciliation is for. stop()
 * and start() on the same instance keep the table, like a BGP speaker whose session merely flapped.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { FloodgateError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { MitigationIntent } from '../core/mitigation/intent.js';
import type {
  AdapterHealth,
  AdapterReceipt,
  Capability,
  MitigationAdapter,
  WithdrawResult,
} from './contract.js';
import { requireCapability } from './contract.js';

export interface RecordingAdapterOptions {
  name: string;
  capabilities: ReadonlySet<Capability>;
  logger: Logger;
  now: () => number;
  /** The exact text apply() records; throws FG_ERR_ADAPTER_CAPABILITY for what it cannot deliver. */
  render(intent: MitigationIntent): string;
  /** The text that would undo it, kept in the receipt so withdraw works from a stored receipt. */
  renderWithdraw(intent: MitigationIntent): string;
  /** Extra receipt details (e.g. which syntax the commands are in). */
  receiptDetails?: Record<string, unknown>;
  /** "dry run", "preview": how the log lines name what this is. */
  label: string;
  /** One line for health(). */
  healthDetail: string;
  /** Keep the table in this JSON file across processes. */
  stateFile?: string;
}

interface StateFile {
  adapter: string;
  receipts: AdapterReceipt[];
}

export function createRecordingAdapter(options: RecordingAdapterOptions): MitigationAdapter {
  const { name, capabilities, logger, label } = options;
  /** What is "in place", by intent id, in the order it was applied. */
  const inPlace = new Map<string, AdapterReceipt>();
  let started = false;
  let loaded = false;
  const self = { name, capabilities };

  function render(intent: MitigationIntent): string {
    requireCapability(self, intent);
    return options.render(intent);
  }

  function requireStarted(code: 'FG_ERR_ADAPTER_APPLY' | 'FG_ERR_ADAPTER_WITHDRAW', intentId: string): void {
    if (!started) {
      throw new FloodgateError(code, `adapter "${name}" is not started (intent ${intentId})`, {
        adapter: name,
        intentId,
      });
    }
  }

  /** Written whole and renamed into place, so a crash never leaves half a table. */
  function save(): void {
    const path = options.stateFile;
    if (path === undefined) return;
    const state: StateFile = { adapter: name, receipts: [...inPlace.values()] };
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(tmp, path);
  }

  function load(): void {
    const path = options.stateFile;
    if (path === undefined || loaded) return;
    loaded = true;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new FloodgateError(
        'FG_ERR_ADAPTER_CONTRACT',
        `${label} table ${path} cannot be read: ${(e as Error).message}`,
        {
          adapter: name,
          path,
        },
      );
    }
    let state: StateFile;
    try {
      state = JSON.parse(text) as StateFile;
      if (!Array.isArray(state.receipts)) throw new Error('no "receipts" list');
    } catch (e) {
      throw new FloodgateError(
        'FG_ERR_ADAPTER_CONTRACT',
        `${label} table ${path} is not a table this adapter wrote (${(e as Error).message}); move it away to start empty`,
        { adapter: name, path },
      );
    }
    for (const receipt of state.receipts) inPlace.set(receipt.intentId, receipt);
    logger.info({ path, inPlace: inPlace.size }, `${label}: table restored`);
  }

  return {
    name,
    capabilities,
    render,
    renderWithdraw(intent) {
      requireCapability(self, intent);
      return options.renderWithdraw(intent);
    },

    async start() {
      load();
      started = true;
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
        appliedAtMs: options.now(),
        details: { ...options.receiptDetails, withdrawCommand: options.renderWithdraw(intent) },
      };
      inPlace.set(intent.id, receipt);
      save();
      logger.info(
        { intentId: intent.id, incidentId: intent.incidentId, command },
        `${label}: would announce`,
      );
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
          `receipt for intent ${receipt.intentId} has no details.withdrawCommand: it was not issued by a ${label} adapter`,
          { adapter: name, intentId: receipt.intentId },
        );
      }
      const wasPresent = inPlace.delete(receipt.intentId);
      if (wasPresent) {
        save();
        logger.info({ intentId: receipt.intentId, command }, `${label}: would withdraw`);
      } else {
        logger.warn(
          { intentId: receipt.intentId, command },
          `${label}: withdraw of an intent that is not in place`,
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
        detail: started ? options.healthDetail : 'not started',
        checkedAtMs: options.now(),
      };
    },
  };
}
