/**
 * The adapter contract: what every mitigation adapter, ours or a provider's npm package, must
 * implement to be registered. Adapters deliver intents; they never decide policy (what to
 * mitigate, for how long, whether it is safe): core did that before the intent reached them.
 */
import type { ZodType } from 'zod';
import type { AuditInput } from '../core/audit/chain.js';
import { FloodgateError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { IntentKind, MitigationIntent } from '../core/mitigation/intent.js';
import type { NodeRule } from '../core/node-rules/rule.js';

/** The contract version this build of Floodgate speaks; a plugin declaring another is refused. */
export const ADAPTER_CONTRACT_VERSION = 1;

export const CAPABILITIES = [
  'flowspec4',
  'flowspec6',
  'rtbh4',
  'rtbh6',
  'firewall',
  'scrubbing',
  'notify',
] as const;
/** What an adapter can deliver: an intent needs exactly one of these (see capabilityFor). */
export type Capability = (typeof CAPABILITIES)[number];

export function isCapability(value: unknown): value is Capability {
  return typeof value === 'string' && (CAPABILITIES as readonly string[]).includes(value);
}

/**
 * What apply() hands back: plain JSON (it is stored and read back after a restart) holding
 * everything withdraw() needs, so undo never depends on the adapter's memory.
 */
export interface AdapterReceipt {
  /** The adapter instance's configured name. */
  adapter: string;
  intentId: string;
  kind: IntentKind;
  /** The exact text or request sent to put the intent in place (for audit). */
  command: string;
  appliedAtMs: number;
  /** Adapter-specific undo data, JSON values only (e.g. the withdraw command, a remote rule id). */
  details?: Record<string, unknown>;
}

export interface WithdrawResult {
  /** The exact text or request sent (or, when nothing was in place, that would have been sent). */
  command: string;
  /**
   * False when the mitigation was not in place: withdrawing it is then not an error (the goal,
   * "not in place", holds), but the caller may want to audit the discrepancy.
   */
  wasPresent: boolean;
}

export interface AdapterHealth {
  /** True when the adapter can deliver now. */
  ok: boolean;
  /** One line an operator can act on ("ExaBGP process exited with code 1", "dry run: nothing is sent"). */
  detail: string;
  checkedAtMs: number;
}

export interface MitigationAdapter {
  /** The instance name from the configuration (two ExaBGP speakers are two instances of one type). */
  readonly name: string;
  readonly capabilities: ReadonlySet<Capability>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * The exact text or request apply() would send, without sending it: previews, audit entries
   * and receipts show the same bytes. Throws FG_ERR_ADAPTER_CAPABILITY for an intent it cannot deliver.
   */
  render(intent: MitigationIntent): string;
  /**
   * Optional: the exact text or request withdraw() would send for an intent, shown next to the
   * announcement in previews (the paired undo).
   */
  renderWithdraw?(intent: MitigationIntent): string;
  /**
   * Puts an intent in place. Idempotent: applying an intent that is already in place changes
   * nothing and returns a receipt for it. Throws FG_ERR_ADAPTER_CAPABILITY when the intent needs
   * a capability the adapter did not declare, FG_ERR_ADAPTER_APPLY when delivery failed.
   */
  apply(intent: MitigationIntent): Promise<AdapterReceipt>;
  /**
   * Removes what a receipt describes, also a receipt read back from storage after a restart.
   * Withdrawing what is not in place succeeds with `wasPresent: false`; FG_ERR_ADAPTER_WITHDRAW
   * is for a removal that failed.
   */
  withdraw(receipt: AdapterReceipt): Promise<WithdrawResult>;
  /** What is really in place now, for reconciliation against the store. */
  list(): Promise<AdapterReceipt[]>;
  health(): Promise<AdapterHealth>;
  /**
   * Optional: registers a listener called whenever the adapter has re-established its session
   * with the device (a BGP speaker restarted, an SSH connection came back). The dispatcher then
   * reconciles that adapter: what the device lost while away is applied again.
   */
  onReconnect?(listener: () => void): void;
  /**
   * Optional, for adapters that run the operator's node rules: undoes at once every run of a rule
   * that was disabled or deleted, leaving the other rules of each intent in place. Undo commands
   * are audited as at withdraw; a run whose undo failed stays held and is retried at withdraw.
   */
  retireRule?(ruleId: string): Promise<RuleRetirement>;
  /**
   * Optional, for adapters whose list() is their own memory rather than the device's (host
   * firewalls: a rebooted node has lost its rules and nobody told us). Reconciliation calls it with
   * the intents the store wants and list() showed; the adapter checks each on its device and puts
   * back what went missing, idempotently.
   */
  reassert?(intentIds: readonly string[]): Promise<Reassertion>;
}

/** What reassert() found missing and put back, and what it could not check or restore. */
export interface Reassertion {
  restored: { intentId: string; venue: string; commands: string[] }[];
  failures: { intentId: string; venue: string; error: string }[];
}

/** What retireRule() undid and what it could not. */
export interface RuleRetirement {
  undone: { intentId: string; venue: string; commands: string[] }[];
  failures: string[];
}

/** What an adapter instance gets from the appliance; it sees nothing of its siblings. */
export interface AdapterContext {
  /** The instance name from the configuration; the adapter's `name` must equal it. */
  name: string;
  /** Already scoped to this instance: every entry carries `adapter: name`. */
  logger: Logger;
  /** Unix milliseconds; the only clock an adapter reads, so tests control time. */
  now(): number;
  /** The appliance's state directory, for adapters that keep files (absent in previews and tests). */
  stateDir?: string;
  /**
   * Records an audit entry of the adapter's own, e.g. each command a node adapter ran on a host
   * (the dispatcher audits apply and withdraw as a whole). Actor and time are filled in.
   */
  audit?(entry: AdapterAuditEntry): void;
  /**
   * The operator's node firewall rules as saved now (firewall adapters read them at each apply,
   * so enabling or disabling a rule takes effect at once).
   */
  nodeRules?(): readonly NodeRule[];
}

export type AdapterAuditEntry = Omit<AuditInput, 'atMs' | 'actor'>;

export interface AdapterPlugin<C = unknown> {
  /** The `type` configuration entries use to pick this plugin ("dry-run", "exabgp"). */
  name: string;
  contractVersion: typeof ADAPTER_CONTRACT_VERSION;
  /** Everything any instance of this plugin may declare; an instance may declare fewer. */
  capabilities: readonly Capability[];
  /** Validates and fills defaults into the entry's `config` slice. */
  configSchema: ZodType<C>;
  create(config: C, ctx: AdapterContext): MitigationAdapter;
}

/** The capability an intent needs from the adapter that delivers it. */
export function capabilityFor(intent: MitigationIntent): Capability {
  switch (intent.kind) {
    case 'flowspec':
      return intent.ipVersion === 4 ? 'flowspec4' : 'flowspec6';
    case 'rtbh':
      return intent.ipVersion === 4 ? 'rtbh4' : 'rtbh6';
    case 'firewall':
      return 'firewall';
    case 'scrubbing':
      return 'scrubbing';
  }
}

/** Every capability that delivers some intent of a kind (either family for the BGP kinds). */
export function capabilitiesForKind(kind: IntentKind): readonly Capability[] {
  switch (kind) {
    case 'flowspec':
      return ['flowspec4', 'flowspec6'];
    case 'rtbh':
      return ['rtbh4', 'rtbh6'];
    case 'firewall':
      return ['firewall'];
    case 'scrubbing':
      return ['scrubbing'];
  }
}

/**
 * Throws FG_ERR_ADAPTER_CAPABILITY unless the adapter declared what the intent needs. Adapters
 * call it first in render() and apply(), so an intent routed to the wrong adapter never reaches
 * a device half-understood.
 */
export function requireCapability(
  adapter: Pick<MitigationAdapter, 'name' | 'capabilities'>,
  intent: MitigationIntent,
): void {
  const needed = capabilityFor(intent);
  if (adapter.capabilities.has(needed)) return;
  throw new FloodgateError(
    'FG_ERR_ADAPTER_CAPABILITY',
    `adapter "${adapter.name}" cannot deliver ${needed} (intent ${intent.id}); it declares ${[...adapter.capabilities].join(', ') || 'nothing'}`,
    { adapter: adapter.name, intentId: intent.id, capability: needed, declared: [...adapter.capabilities] },
  );
}
