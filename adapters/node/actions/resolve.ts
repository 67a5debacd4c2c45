/**
 * Turns a rule's parameters plus an incident into the validated values an action renders:
 * rule value first, else the incident field the parameter names, else the default. Every value
 * is parsed by its kind (values.ts) before any action sees it; the first bad one throws
 * FG_ERR_NODE_PARAM naming the action, the parameter and the value.
 */
import { FloodgateError } from '../../../core/errors.js';
import {
  type ActionIncident,
  type ActionParams,
  type IpVersion,
  MAX_PLAN_VALUES,
  type ParamSpec,
} from './action-type.js';
import { type ParsedIp, type ParsedValue, parseValue, protocolName, showValue } from './values.js';

type Origin = 'rule' | 'incident' | 'default';

export interface ResolveOptions {
  actionId: string;
  specs: readonly ParamSpec[];
  /** The family the action works on when it is fixed (IPv4 or IPv6 null routes). */
  family?: IpVersion;
  /** Addresses of both families may be mixed (fail2ban bans either). */
  mixedFamilies?: boolean;
}

export function paramError(
  actionId: string,
  param: string,
  raw: unknown,
  why: string,
  origin: Origin | 'tag' = 'rule',
): FloodgateError {
  const from = origin === 'incident' ? ' (from the incident)' : origin === 'default' ? ' (its default)' : '';
  return new FloodgateError(
    'FG_ERR_NODE_PARAM',
    `action ${actionId}: parameter "${param}"${from} = ${showValue(raw)} ${why}; nothing was run`,
    { action: actionId, param, value: showValue(raw), origin },
  );
}

function isIp(v: ParsedValue): v is ParsedIp {
  return typeof v === 'object';
}

/** The validated values of one plan, read by name. */
export class ResolvedParams {
  constructor(
    readonly actionId: string,
    private readonly values: ReadonlyMap<string, readonly ParsedValue[]>,
    /** The address family of the plan; undefined only when validating a rule without an incident. */
    readonly family: IpVersion | undefined,
  ) {}

  has(name: string): boolean {
    return (this.values.get(name)?.length ?? 0) > 0;
  }

  list(name: string): readonly ParsedValue[] {
    return this.values.get(name) ?? [];
  }

  ips(name: string): ParsedIp[] {
    return this.list(name).filter(isIp);
  }

  ip(name: string): ParsedIp {
    return this.one(name, this.ips(name)[0]);
  }

  nums(name: string): number[] {
    return this.list(name).filter((v): v is number => typeof v === 'number');
  }

  num(name: string): number {
    return this.one(name, this.nums(name)[0]);
  }

  optNum(name: string): number | undefined {
    return this.nums(name)[0];
  }

  str(name: string): string {
    return this.one(name, this.optStr(name));
  }

  optStr(name: string): string | undefined {
    return this.list(name).find((v): v is string => typeof v === 'string');
  }

  /** The address family, which every plan has (the resolver fills it from the incident). */
  version(): IpVersion {
    return this.one('family', this.family);
  }

  /** The values as plain JSON for the plan's record: addresses as text, protocols by name. */
  json(specs: readonly ParamSpec[]): Record<string, string | number | (string | number)[]> {
    const out: Record<string, string | number | (string | number)[]> = {};
    for (const spec of specs) {
      const values = this.list(spec.name).map((v) =>
        isIp(v) ? v.text : spec.kind === 'protocol' && typeof v === 'number' ? protocolName(v) : v,
      );
      if (values.length === 0) continue;
      out[spec.name] = spec.multiple ? values : values[0]!;
    }
    return out;
  }

  private one<T>(name: string, value: T | undefined): T {
    if (value === undefined) {
      // The resolver guarantees required values; reaching this is a bug in the action's definition.
      throw new FloodgateError('FG_ERR_NODE_PARAM', `action ${this.actionId}: "${name}" has no value`, {
        action: this.actionId,
        param: name,
      });
    }
    return value;
  }
}

function rawList(
  options: ResolveOptions,
  spec: ParamSpec,
  given: ActionParams[string] | undefined,
  incident: ActionIncident | undefined,
): { raws: unknown[]; origin: Origin } | undefined {
  if (given !== undefined && given !== null) {
    let raws: unknown[];
    if (Array.isArray(given)) raws = [...given];
    else if (spec.multiple && typeof given === 'string' && given.includes(',')) {
      raws = given.split(',').map((s) => s.trim());
    } else raws = [given];
    if (!spec.multiple && raws.length !== 1) {
      throw paramError(options.actionId, spec.name, given, 'takes exactly one value');
    }
    if (raws.length === 0) throw paramError(options.actionId, spec.name, given, 'is an empty list');
    if (raws.length > MAX_PLAN_VALUES) {
      throw paramError(options.actionId, spec.name, given, `lists more than ${MAX_PLAN_VALUES} values`);
    }
    return { raws, origin: 'rule' };
  }
  if (incident !== undefined && spec.fromIncident !== undefined) {
    const field: unknown = incident[spec.fromIncident];
    const all = Array.isArray(field) ? field : field === undefined || field === null ? [] : [field];
    // Attack data is cut, not refused: the top values come first.
    const raws = all.slice(0, spec.multiple ? MAX_PLAN_VALUES : 1);
    if (raws.length > 0) return { raws, origin: 'incident' };
  }
  return undefined;
}

/**
 * Validates `params` against the specs and fills the missing ones from `incident` and the
 * defaults. Without an incident (checking a rule before it is saved) only the rule's own values
 * are parsed and nothing is required.
 */
export function resolveParams(
  options: ResolveOptions,
  params: ActionParams,
  incident: ActionIncident | undefined,
): ResolvedParams {
  const { actionId, specs } = options;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw paramError(actionId, 'params', params, 'is not an object of parameter values');
  }
  const known = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(params)) {
    if (!known.has(name)) {
      throw paramError(
        actionId,
        name,
        params[name],
        `is not a parameter of this action; it takes ${specs.map((s) => s.name).join(', ') || 'none'}`,
      );
    }
  }

  const values = new Map<string, ParsedValue[]>();
  const origins = new Map<string, Origin>();
  const parseAll = (spec: ParamSpec, raws: readonly unknown[], origin: Origin): void => {
    const out: ParsedValue[] = [];
    const seen = new Set<string>();
    for (const raw of raws) {
      const parsed = parseValue(spec.kind, raw);
      if ('why' in parsed) throw paramError(actionId, spec.name, raw, parsed.why, origin);
      if (spec.max !== undefined && typeof parsed.value === 'number' && parsed.value > spec.max) {
        throw paramError(actionId, spec.name, raw, `is above ${spec.max}, the most this takes`, origin);
      }
      if (spec.min !== undefined && typeof parsed.value === 'number' && parsed.value < spec.min) {
        throw paramError(actionId, spec.name, raw, `is below ${spec.min}, the least this takes`, origin);
      }
      if (spec.protocols && typeof parsed.value === 'number' && !spec.protocols.includes(parsed.value)) {
        const allowed = spec.protocols.map(protocolName).join(', ');
        throw paramError(
          actionId,
          spec.name,
          raw,
          `is not one of the protocols this takes (${allowed})`,
          origin,
        );
      }
      const key = JSON.stringify(parsed.value);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(parsed.value);
    }
    values.set(spec.name, out);
    origins.set(spec.name, origin);
  };

  for (const spec of specs) {
    const found = rawList(options, spec, params[spec.name], incident);
    if (found) parseAll(spec, found.raws, found.origin);
  }

  // The family: fixed by the action, else the destination's, else the first address given.
  let family = options.family;
  if (family === undefined) {
    const destination = values.get('destination')?.find(isIp);
    const firstIp = specs.flatMap((s) => values.get(s.name) ?? []).find(isIp);
    family = destination?.version ?? firstIp?.version ?? incident?.ipVersion;
  }

  if (incident !== undefined) {
    for (const spec of specs) {
      if (values.has(spec.name)) continue;
      const fallback = family === 6 && spec.default6 !== undefined ? spec.default6 : spec.default;
      if (fallback !== undefined) {
        parseAll(spec, [fallback], 'default');
        continue;
      }
      if (spec.required) {
        const hint =
          spec.fromIncident !== undefined
            ? `; the rule leaves it to the incident, whose "${spec.fromIncident}" is empty`
            : '; the rule must give it';
        throw paramError(actionId, spec.name, undefined, `is required${hint}`);
      }
    }
  }

  if (family !== undefined && !options.mixedFamilies) {
    for (const spec of specs) {
      for (const v of values.get(spec.name) ?? []) {
        if (isIp(v) && v.version !== family) {
          throw paramError(
            actionId,
            spec.name,
            v.text,
            `is IPv${v.version} but this action works on IPv${family} here (one family per plan)`,
            origins.get(spec.name),
          );
        }
      }
    }
  }
  return new ResolvedParams(actionId, values, family);
}
