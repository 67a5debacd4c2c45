/**
 * Adapter plugins are registered explicitly and checked when they are registered, fastify-style:
 * a plugin that does not meet the contract, or a configuration entry naming an unknown type or
 * carrying a bad config slice, stops start-up with a coded error instead of failing mid-attack.
 */
import { FloodgateError } from '../core/errors.js';
import type { LogFn, Logger } from '../core/logger.js';
import { birdPlugin } from './bird/plugin.js';
import {
  ADAPTER_CONTRACT_VERSION,
  type AdapterContext,
  type AdapterPlugin,
  CAPABILITIES,
  type Capability,
  isCapability,
  type MitigationAdapter,
} from './contract.js';
import { dryRunPlugin } from './dry-run/plugin.js';
import { exabgpPlugin } from './exabgp/plugin.js';
import { frrPlugin } from './frr/plugin.js';
import { gobgpPlugin } from './gobgp/plugin.js';
import { nodePlugin } from './node/plugin.js';

/** One `adapters:` entry of floodgate.yaml. */
export interface AdapterEntry {
  name: string;
  type: string;
  config?: unknown;
}

/** What the appliance hands the registry; each instance gets its own scoped copy plus its name. */
export type AdapterHostContext = Omit<AdapterContext, 'name'>;

export interface InstantiateOptions {
  /** Where the entries sit in the configuration, for error paths; "adapters" by default. */
  path?: string;
}

export interface AdapterRegistry {
  /** Adds a plugin; FG_ERR_ADAPTER_DUPLICATE or FG_ERR_ADAPTER_CONTRACT when it cannot be. */
  register<C>(plugin: AdapterPlugin<C>): void;
  has(type: string): boolean;
  /** Registered types, in registration order. */
  types(): string[];
  /**
   * Validates every entry (unknown types: FG_ERR_ADAPTER_UNKNOWN; bad config slices:
   * FG_ERR_CONFIG_INVALID listing every problem with its path) and only then creates the
   * adapters. Creating does no I/O (that waits for start()), so `check-config` may call this.
   */
  instantiate(
    entries: readonly AdapterEntry[],
    ctx: AdapterHostContext,
    options?: InstantiateOptions,
  ): MitigationAdapter[];
}

const PLUGIN_NAME_RE = /^[a-z][a-z0-9-]{0,62}$/;
const ADAPTER_METHODS = ['start', 'stop', 'render', 'apply', 'withdraw', 'list', 'health'] as const;

export interface ConfigIssue {
  path: string;
  message: string;
}

/** `adapters[0].config.neighbors[1]` from a base and a zod-style path. */
export function formatPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}

/** Why a plugin object does not meet the contract; empty when it does. */
function contractProblems(plugin: Partial<AdapterPlugin<unknown>>): string[] {
  const problems: string[] = [];
  if (typeof plugin.name !== 'string' || !PLUGIN_NAME_RE.test(plugin.name)) {
    problems.push(`name must be lower-case letters, digits and dashes, got ${JSON.stringify(plugin.name)}`);
  }
  if (plugin.contractVersion !== ADAPTER_CONTRACT_VERSION) {
    problems.push(
      `contractVersion is ${JSON.stringify(plugin.contractVersion)} but this Floodgate speaks ${ADAPTER_CONTRACT_VERSION}`,
    );
  }
  const caps: unknown = plugin.capabilities;
  if (!Array.isArray(caps) || caps.length === 0) {
    problems.push(`capabilities must be a non-empty list of ${CAPABILITIES.join(', ')}`);
  } else {
    const unknown = caps.filter((c) => !isCapability(c));
    if (unknown.length > 0) {
      problems.push(`capabilities ${JSON.stringify(unknown)} are unknown; known: ${CAPABILITIES.join(', ')}`);
    }
    if (new Set(caps).size !== caps.length) problems.push('capabilities list a capability twice');
  }
  const schema = plugin.configSchema as { safeParse?: unknown } | undefined;
  if (typeof schema?.safeParse !== 'function') problems.push('configSchema must be a zod schema');
  if (typeof plugin.create !== 'function') problems.push('create must be a function');
  return problems;
}

/** Why an adapter instance does not meet the contract; empty when it does. */
function instanceProblems(adapter: unknown, expectedName: string, allowed: readonly Capability[]): string[] {
  if (typeof adapter !== 'object' || adapter === null) return ['create() did not return an object'];
  const a = adapter as Partial<Record<string, unknown>> & { capabilities?: unknown };
  const problems: string[] = [];
  if (a.name !== expectedName) problems.push(`name is ${JSON.stringify(a.name)}, expected "${expectedName}"`);
  if (!(a.capabilities instanceof Set)) {
    problems.push('capabilities must be a Set');
  } else {
    const extra = [...a.capabilities].filter((c) => !allowed.includes(c as Capability));
    if (extra.length > 0) problems.push(`declares capabilities its plugin does not: ${extra.join(', ')}`);
  }
  for (const method of ADAPTER_METHODS) {
    if (typeof a[method] !== 'function') problems.push(`${method}() is missing`);
  }
  return problems;
}

/** Deep-freezes a parsed config slice: an adapter must not change its own configuration. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The host logger with `adapter: name` added to every entry, pino-child style. */
function scopedLogger(base: Logger, name: string): Logger {
  // Calls go through `base[level](...)`, never a detached method: pino's methods need their `this`.
  const scope = (level: keyof Logger): LogFn =>
    ((objOrMsg: object | string, msg?: string) => {
      if (typeof objOrMsg === 'string') base[level]({ adapter: name }, objOrMsg);
      else base[level]({ adapter: name, ...objOrMsg }, msg);
    }) as LogFn;
  return { info: scope('info'), warn: scope('warn'), error: scope('error'), debug: scope('debug') };
}

export function createAdapterRegistry(): AdapterRegistry {
  const plugins = new Map<string, AdapterPlugin<unknown>>();

  function register<C>(plugin: AdapterPlugin<C>): void {
    const problems = contractProblems((plugin ?? {}) as Partial<AdapterPlugin<unknown>>);
    const label = typeof plugin?.name === 'string' ? `"${plugin.name}"` : '(unnamed)';
    if (problems.length > 0) {
      throw new FloodgateError(
        'FG_ERR_ADAPTER_CONTRACT',
        `adapter plugin ${label} does not meet the adapter contract: ${problems.join('; ')}`,
        { plugin: plugin?.name, problems },
      );
    }
    if (plugins.has(plugin.name)) {
      throw new FloodgateError(
        'FG_ERR_ADAPTER_DUPLICATE',
        `an adapter plugin named "${plugin.name}" is already registered`,
        {
          plugin: plugin.name,
        },
      );
    }
    plugins.set(plugin.name, plugin as AdapterPlugin<unknown>);
  }

  function instantiate(
    entries: readonly AdapterEntry[],
    ctx: AdapterHostContext,
    options: InstantiateOptions = {},
  ): MitigationAdapter[] {
    const base = options.path ?? 'adapters';
    const unknown: string[] = [];
    const issues: ConfigIssue[] = [];
    const configs: unknown[] = [];
    const firstByName = new Map<string, number>();

    entries.forEach((entry, index) => {
      const at = `${base}[${index}]`;
      const earlier = firstByName.get(entry.name);
      if (earlier !== undefined) {
        issues.push({
          path: `${at}.name`,
          message: `"${entry.name}" is already the name of ${base}[${earlier}]`,
        });
      } else {
        firstByName.set(entry.name, index);
      }
      const plugin = plugins.get(entry.type);
      if (!plugin) {
        unknown.push(`${at}.type: "${entry.type}" is not a registered adapter type`);
        configs.push(undefined);
        return;
      }
      // An entry without `config` gets the plugin's defaults.
      const parsed = plugin.configSchema.safeParse(entry.config ?? {});
      if (parsed.success) {
        configs.push(deepFreeze(parsed.data));
      } else {
        configs.push(undefined);
        for (const issue of parsed.error.issues) {
          issues.push({ path: formatPath(`${at}.config`, issue.path), message: issue.message });
        }
      }
    });

    if (unknown.length > 0) {
      throw new FloodgateError(
        'FG_ERR_ADAPTER_UNKNOWN',
        `${unknown.join('; ')} (registered: ${[...plugins.keys()].join(', ') || 'none'})`,
        { unknown, registered: [...plugins.keys()] },
      );
    }
    if (issues.length > 0) {
      throw new FloodgateError(
        'FG_ERR_CONFIG_INVALID',
        `adapter configuration is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        { issues },
      );
    }

    return entries.map((entry, index) => {
      const plugin = plugins.get(entry.type)!;
      const at = `${base}[${index}]`;
      const scoped: AdapterContext = {
        name: entry.name,
        logger: scopedLogger(ctx.logger, entry.name),
        now: ctx.now,
        ...(ctx.stateDir === undefined ? {} : { stateDir: ctx.stateDir }),
        // The entry names its adapter whatever the adapter wrote, so one adapter cannot speak for another.
        ...(ctx.audit === undefined ? {} : { audit: (e) => ctx.audit?.({ ...e, adapter: entry.name }) }),
        ...(ctx.nodeRules === undefined ? {} : { nodeRules: ctx.nodeRules }),
      };
      let adapter: MitigationAdapter;
      try {
        adapter = plugin.create(configs[index], scoped);
      } catch (e) {
        if (e instanceof FloodgateError) throw e;
        throw new FloodgateError(
          'FG_ERR_ADAPTER_CONTRACT',
          `${at} (type "${entry.type}"): create() threw: ${(e as Error).message}`,
          { entry: at, type: entry.type },
          { cause: e },
        );
      }
      const problems = instanceProblems(adapter, entry.name, plugin.capabilities);
      if (problems.length > 0) {
        throw new FloodgateError(
          'FG_ERR_ADAPTER_CONTRACT',
          `${at} (type "${entry.type}") does not meet the adapter contract: ${problems.join('; ')}`,
          { entry: at, type: entry.type, problems },
        );
      }
      return adapter;
    });
  }

  return {
    register,
    has: (type) => plugins.has(type),
    types: () => [...plugins.keys()],
    instantiate,
  };
}

/** Registers the adapters that ship with Floodgate. */
export function registerBuiltinAdapters(registry: AdapterRegistry): void {
  registry.register(dryRunPlugin);
  registry.register(exabgpPlugin);
  registry.register(birdPlugin);
  registry.register(gobgpPlugin);
  registry.register(frrPlugin);
  registry.register(nodePlugin);
}
