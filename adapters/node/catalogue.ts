/**
 * The node adapter's view of an action type, whatever runs it: a command on a host (iptables,
 * nftables, ipset, ufw, tc, null route, fail2ban: actions/) or a request to a cloud firewall API
 * (Cloudflare, DigitalOcean, Vultr: cloud/). The adapter, previews, the CLI and the API only
 * speak this interface; local-entries.ts and cloud-entries.ts adapt both families to it.
 */
import type { ActionParamValue } from '../../core/node-rules/rule.js';
import type { CommandRunner } from '../exec/command-runner.js';
import type { ActionIncident, ActionRisk } from './actions/action-type.js';
import type { CloudVenue } from './cloud-entries.js';

/** One definition each, in actions/: the incident facts actions read and the risk levels. */
export type { ActionIncident, ActionRisk };

export interface ActionParamInfo {
  name: string;
  kind: string;
  description: string;
  required: boolean;
  default?: string | number;
  /** The incident field that fills the parameter when a rule leaves it out. */
  fromIncident?: string;
}

/** The exact commands or requests, as text, that apply and undo send: previews show these. */
export interface ActionPreview {
  apply: string[];
  undo: string[];
  /** What the action means where that is not obvious (allow-only cloud firewalls). */
  note?: string;
}

/** What one run put in place: plain JSON, enough for undo after a restart. */
export interface ActionRunRecord {
  /** The exact text of each command or request sent. */
  applied: string[];
  /** The exact text of each command or request undo will send (shown before it runs). */
  undoTexts: string[];
  /** Per command: exit code / HTTP status and output, for the audit. */
  outcomes: ActionOutcome[];
  undo: Record<string, unknown>;
}

export interface ActionOutcome {
  command: string;
  ok: boolean;
  /** Exit code of a command, HTTP status of a request; null when it never ran. */
  code: number | null;
  output: string;
  ms: number;
  skipped?: boolean;
}

export interface ActionUndoResult {
  outcomes: ActionOutcome[];
  wasPresent: boolean;
}

/** Where an action runs: on each node in scope, or once against a cloud provider's API. */
export type ActionVenue = 'node' | 'cloud';

export interface ActionEntry {
  id: string;
  group: string;
  title: string;
  description: string;
  venue: ActionVenue;
  params: readonly ActionParamInfo[];
  risk: ActionRisk;
  riskNote: string;
  commandTemplate: string;
  undoTemplate: string;
  /** Broad rules (a whole protocol, an interface-wide police, ...) need an acknowledged risk to be saved. */
  isBroad(params: Readonly<Record<string, ActionParamValue>>): boolean;
  /**
   * The exact apply and undo texts for these parameters and this incident; throws
   * FG_ERR_NODE_PARAM for an invalid or hostile value (then nothing would run either).
   */
  preview(
    params: Readonly<Record<string, ActionParamValue>>,
    incident: ActionIncident,
    tag: string,
  ): ActionPreview;
  /** Puts the action in place; rejects with a FloodgateError carrying the outcomes when it failed. */
  apply(
    params: Readonly<Record<string, ActionParamValue>>,
    incident: ActionIncident,
    tag: string,
    venue: ActionVenueHandle,
  ): Promise<ActionRunRecord>;
  undo(record: ActionRunRecord, venue: ActionVenueHandle): Promise<ActionUndoResult>;
  /**
   * Optional, for actions whose effect a node can lose (a reboot flushes firewalls): runs the
   * recorded apply again, which is idempotent, so what is there is left and what went missing is
   * put back. `restored` says whether anything had to be; `record` is the run record to keep.
   * Rejects with a FloodgateError carrying the outcomes when a step failed.
   */
  reassert?(record: ActionRunRecord, venue: ActionVenueHandle): Promise<ActionReassertResult>;
}

export interface ActionReassertResult {
  restored: boolean;
  outcomes: ActionOutcome[];
  record: ActionRunRecord;
}

/** What an action runs through: a node's command runner, or the cloud accounts. */
export interface ActionVenueHandle {
  runner?: CommandRunner;
  cloud?: CloudVenue;
}

export interface ActionCatalogue {
  entries(): readonly ActionEntry[];
  get(id: string): ActionEntry | undefined;
}
