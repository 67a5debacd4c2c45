/**
 * The local host-firewall actions of the node adapter, as data: what an action type takes
 * (its parameters, where each may come from), how risky it is, and the plan it renders to: the
 * exact argv commands that put it in place and the paired commands that undo it.
 *
 * Plans are plain JSON. The node adapter stores them in its receipts and runs the undo after a
 * restart without asking the action type again, so an undo never depends on memory or on the
 * catalogue of the build that applied it.
 */
import type { IpVersion } from '../../../core/net/address.js';

export type { IpVersion };

/** The incident facts a rule's action may take its parameters from. */
export interface ActionIncident {
  incidentId: string;
  /** The attacked host ("203.0.113.5", "2001:db8::5"), or a prefix for carpet bombing. */
  target: string;
  ipVersion: IpVersion;
  /** The attack family ("udp_flood", "ntp_amplification", ...). */
  family: string;
  severity: number;
  severityLevel?: string;
  pps: number;
  bps: number;
  /** Top source addresses, largest first. */
  sources: string[];
  sourcePorts: number[];
  destinationPorts: number[];
  protocols: number[];
}

/** The incident fields a parameter can be filled from. */
export type IncidentField = 'target' | 'sources' | 'sourcePorts' | 'destinationPorts' | 'protocols';

export type ParamKind =
  /** One IPv4 or IPv6 address, re-rendered in canonical form. */
  | 'address'
  /** An address or a CIDR prefix with its host bits clear; a bare address is a host prefix. */
  | 'prefix'
  | 'prefix-length'
  /** 0–65535. */
  | 'port'
  /** A port, or "any" for every port of the protocol. */
  | 'port-or-any'
  /** An IP protocol by name ("udp") or number (0–255). */
  | 'protocol'
  /** Packets per second. */
  | 'rate'
  /** Packets. */
  | 'burst'
  /** Kilobits per second. */
  | 'bandwidth'
  /** Bytes. */
  | 'bytes'
  | 'seconds'
  | 'set-name'
  | 'jail'
  | 'interface'
  | 'chain'
  /** An absolute file path (a socket). */
  | 'path';

export interface ParamSpec {
  name: string;
  kind: ParamKind;
  description: string;
  /** The action cannot run without a value: from the rule, else the incident, else the default. */
  required: boolean;
  /** Takes several values (a list, or one string with commas): one command per value, capped. */
  multiple?: boolean;
  default?: string | number;
  /** The default for IPv6 when it differs from the IPv4 one. */
  default6?: string | number;
  /** The incident field that fills the parameter when the rule leaves it out. */
  fromIncident?: IncidentField;
  /** Bounds tighter than the kind's own (an IPv4 prefix length: at most 32; ufw ports: from 1). */
  min?: number;
  max?: number;
  /** Protocols the tool accepts, by number, when it accepts only some (ufw, port matches). */
  protocols?: readonly number[];
}

export type ActionGroup = 'iptables' | 'ipset' | 'nftables' | 'ufw' | 'tc' | 'null-route' | 'fail2ban';

export type ActionRisk = 'low' | 'medium' | 'high';

/** A parameter value as a rule gives it (YAML, JSON): lists may also be one comma-separated string. */
export type ParamValue = string | number | readonly (string | number)[];
export type ActionParams = Readonly<Record<string, ParamValue>>;

/**
 * A command that decides whether a step runs. It passes when the command exits with one of
 * `exitCodes` (default [0]) and its stdout matches `stdoutMatches` and does not match
 * `stdoutLacks` (JavaScript regular expressions, multiline).
 */
export interface StepCheck {
  argv: string[];
  exitCodes?: number[];
  stdoutMatches?: string;
  stdoutLacks?: string;
}

export interface CommandStep {
  /** Exactly what runs: argv[0] is the program, no shell in between. */
  argv: string[];
  /**
   * The step is skipped when any check passes: its effect is already there (apply) or already
   * gone (undo). This is what makes plans idempotent. Checks only recognise that state; any other
   * answer (a check failing for another reason) lets the step run, so a real problem shows up in
   * the step's own exit code instead of a silent skip.
   */
  skipIf?: StepCheck[];
  /** What counts as success for the step itself; default: exit code 0. */
  expect?: { exitCodes?: number[]; stdoutMatches?: string };
  /**
   * Undo steps only: runs only when apply step N (0-based) really ran. Something the apply found
   * in place (its step skipped) was the operator's, and the undo leaves it.
   */
  onlyIfApplied?: number;
}

export interface ActionPlan {
  actionType: string;
  tag: string;
  /** The parameter values the plan was rendered with, validated and canonical (for audit). */
  params: Record<string, string | number | (string | number)[]>;
  /** In order; a run stops at the first failing step. */
  apply: CommandStep[];
  /**
   * In order; every step runs even after a failure. Guarded so it also cleans up after a partial
   * apply and succeeds when nothing is in place.
   */
  undo: CommandStep[];
}

export interface ActionType {
  /** Stable id, "<group>.<what>": rules store it. */
  readonly id: string;
  readonly group: ActionGroup;
  readonly title: string;
  readonly description: string;
  readonly params: readonly ParamSpec[];
  readonly risk: ActionRisk;
  /** What can go wrong, for the operator who saves a rule with this action. */
  readonly riskNote: string;
  /** The command shapes with {param} placeholders, one command per line (docs, `rules actions`). */
  readonly commandTemplate: string;
  readonly undoTemplate: string;
  /**
   * True when the rule catches far more than one attacker (a whole protocol, an interface-wide
   * police, a short prefix): the operator must acknowledge the risk to save it. Values the rule
   * leaves to the incident count as narrow. Throws FG_ERR_NODE_PARAM for an invalid value.
   */
  isBroad(params: ActionParams): boolean;
  /**
   * Checks a rule's own parameters without an incident: unknown names, lists where one value
   * is taken, and every given value. Throws FG_ERR_NODE_PARAM.
   */
  validate(params: ActionParams): void;
  /**
   * The commands for this rule and incident. `tag` ([a-z0-9-]{1,24}) identifies one applied plan
   * (rule × incident); it is embedded in rule comments and chain names so leftovers can be found.
   * Throws FG_ERR_NODE_PARAM naming the action, parameter and value when any value, from the rule
   * or from attack data, is invalid: nothing is rendered, so nothing runs.
   */
  plan(params: ActionParams, incident: ActionIncident, tag: string): ActionPlan;
}

/** Multi-valued parameters take at most this many values; attack data beyond it is cut. */
export const MAX_PLAN_VALUES = 16;

/** One execution of a step, for the audit: exactly what ran and what it answered. */
export interface StepOutcome {
  argv: string[];
  /** `formatStep` of the step: the one line previews showed. */
  command: string;
  ok: boolean;
  /** True when a check found nothing to do; the step itself did not run. */
  skipped: boolean;
  /** Null when the step did not run (skipped, or the runner could not start it). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Wall time of the step including its checks. */
  ms: number;
  checks: CheckOutcome[];
  /** Why the step failed when it is not just its exit code (runner error, unmet expectation). */
  error?: string;
}

export interface CheckOutcome {
  argv: string[];
  exitCode: number;
  passed: boolean;
}
