import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AdapterPlugin, MitigationAdapter } from '../../adapters/contract.js';
import { dryRunPlugin } from '../../adapters/dry-run/plugin.js';
import { createAdapterRegistry, registerBuiltinAdapters } from '../../adapters/registry.js';
import { FloodgateError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { sampleIntents } from '../conformance/adapter.js';

function recordingLogger(): { logger: Logger; lines: { obj: unknown; msg: unknown }[] } {
  const lines: { obj: unknown; msg: unknown }[] = [];
  const fn = (obj: unknown, msg?: unknown) => {
    lines.push({ obj, msg });
  };
  return { logger: { info: fn, warn: fn, error: fn, debug: fn } as Logger, lines };
}

const host = { logger: recordingLogger().logger, now: () => 1_763_734_740_000 };

function caught(fn: () => unknown): FloodgateError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FloodgateError) return e;
    throw e;
  }
  throw new Error('expected a FloodgateError');
}

/** A plugin wrapping dry-run under another name, to test what the registry does with instances. */
function wrapping(name: string, create: AdapterPlugin<unknown>['create']): AdapterPlugin<unknown> {
  return { name, contractVersion: 1, capabilities: ['rtbh4'], configSchema: z.object({}).strict(), create };
}

describe('adapter registry: registration', () => {
  it('registers the built-in adapters', () => {
    const registry = createAdapterRegistry();
    registerBuiltinAdapters(registry);
    expect(registry.types()[0]).toBe('dry-run');
    expect(registry.types()).toEqual(expect.arrayContaining(['dry-run', 'exabgp', 'bird']));
    expect(registry.has('dry-run')).toBe(true);
    expect(registry.has('exabgp')).toBe(true);
    expect(registry.has('no-such-type')).toBe(false);
  });

  it('refuses a second plugin of the same name', () => {
    const registry = createAdapterRegistry();
    registry.register(dryRunPlugin);
    const error = caught(() => registry.register({ ...dryRunPlugin }));
    expect(error.code).toBe('FG_ERR_ADAPTER_DUPLICATE');
    expect(error.message).toContain('"dry-run"');
  });

  it('refuses a plugin of another contract version or with missing fields, listing each problem', () => {
    const registry = createAdapterRegistry();
    const wrongVersion = caught(() => registry.register({ ...dryRunPlugin, contractVersion: 2 as 1 }));
    expect(wrongVersion.code).toBe('FG_ERR_ADAPTER_CONTRACT');
    expect(wrongVersion.message).toContain('contractVersion is 2 but this Floodgate speaks 1');

    const broken = { name: 'Bad Name', contractVersion: 1, capabilities: ['teleport', 'rtbh4', 'rtbh4'] };
    const error = caught(() => registry.register(broken as unknown as AdapterPlugin<unknown>));
    expect(error.code).toBe('FG_ERR_ADAPTER_CONTRACT');
    expect(error.details['problems']).toEqual([
      'name must be lower-case letters, digits and dashes, got "Bad Name"',
      'capabilities ["teleport"] are unknown; known: flowspec4, flowspec6, rtbh4, rtbh6, firewall, scrubbing, notify',
      'capabilities list a capability twice',
      'configSchema must be a zod schema',
      'create must be a function',
    ]);
    expect(caught(() => registry.register({ ...dryRunPlugin, capabilities: [] })).code).toBe(
      'FG_ERR_ADAPTER_CONTRACT',
    );
    expect(registry.types()).toEqual([]);
  });
});

describe('adapter registry: instantiate', () => {
  it('creates one adapter per entry with its own name and defaults for a missing config', async () => {
    const registry = createAdapterRegistry();
    registerBuiltinAdapters(registry);
    const adapters = registry.instantiate(
      [
        { name: 'dry-run', type: 'dry-run' },
        { name: 'v4-only', type: 'dry-run', config: { capabilities: ['flowspec4', 'rtbh4'] } },
      ],
      host,
    );
    expect(adapters.map((a) => a.name)).toEqual(['dry-run', 'v4-only']);
    expect([...adapters[0]!.capabilities]).toEqual([
      'flowspec4',
      'flowspec6',
      'rtbh4',
      'rtbh6',
      'firewall',
      'scrubbing',
    ]);
    expect([...adapters[1]!.capabilities]).toEqual(['flowspec4', 'rtbh4']);
    await adapters[1]!.start();
    expect((await adapters[1]!.apply(sampleIntents()[0]!)).adapter).toBe('v4-only');
  });

  it('gives each instance a logger scoped to its name', async () => {
    const { logger, lines } = recordingLogger();
    const registry = createAdapterRegistry();
    registerBuiltinAdapters(registry);
    const [adapter] = registry.instantiate([{ name: 'edge-1', type: 'dry-run' }], { logger, now: host.now });
    await adapter!.start();
    await adapter!.apply(sampleIntents()[2]!);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.obj).toMatchObject({ adapter: 'edge-1' });
  });

  it('refuses an unknown type, naming the entry and what is registered', () => {
    const registry = createAdapterRegistry();
    registerBuiltinAdapters(registry);
    const error = caught(() =>
      registry.instantiate(
        [
          { name: 'dry-run', type: 'dry-run' },
          { name: 'x', type: 'no-such-type' },
        ],
        host,
      ),
    );
    expect(error.code).toBe('FG_ERR_ADAPTER_UNKNOWN');
    expect(error.message).toContain(
      'adapters[1].type: "no-such-type" is not a registered adapter type (registered: dry-run, exabgp, bird',
    );
  });

  it('refuses a bad config slice, listing every problem with its path', () => {
    const registry = createAdapterRegistry();
    registerBuiltinAdapters(registry);
    const error = caught(() =>
      registry.instantiate(
        [
          { name: 'dry-run', type: 'dry-run', config: { render: 'gobgp' } },
          { name: 'lab', type: 'dry-run', config: { neighbors: ['127.0.0.2', 'peer-two'] } },
        ],
        host,
        { path: 'mitigation.adapters' },
      ),
    );
    expect(error.code).toBe('FG_ERR_CONFIG_INVALID');
    const paths = (error.details['issues'] as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual([
      'mitigation.adapters[0].config.render',
      'mitigation.adapters[1].config.neighbors[1]',
    ]);
    expect(error.message).toContain(
      'mitigation.adapters[1].config.neighbors[1]: must be an IPv4 or IPv6 address',
    );
  });

  it('refuses two entries with one name', () => {
    const registry = createAdapterRegistry();
    registerBuiltinAdapters(registry);
    const error = caught(() =>
      registry.instantiate(
        [
          { name: 'edge', type: 'dry-run' },
          { name: 'edge', type: 'dry-run' },
        ],
        host,
      ),
    );
    expect(error.code).toBe('FG_ERR_CONFIG_INVALID');
    expect(error.message).toContain('adapters[1].name: "edge" is already the name of adapters[0]');
  });

  it('refuses an instance that breaks the contract its plugin declared', () => {
    const registry = createAdapterRegistry();
    const real = (name: string): MitigationAdapter =>
      dryRunPlugin.create(
        { render: 'exabgp', capabilities: ['flowspec4', 'rtbh4'], neighbors: [], persist: false },
        { name, logger: host.logger, now: host.now },
      );
    registry.register(wrapping('misnamed', () => real('something-else')));
    registry.register(wrapping('overclaims', (_config, ctx) => real(ctx.name)));
    registry.register(
      wrapping('throws', () => {
        throw new Error('cannot open /etc/secret');
      }),
    );
    registry.register(wrapping('partial', (_c, ctx) => ({ ...real(ctx.name), list: undefined }) as never));

    const misnamed = caught(() => registry.instantiate([{ name: 'a', type: 'misnamed' }], host));
    expect(misnamed.code).toBe('FG_ERR_ADAPTER_CONTRACT');
    expect(misnamed.message).toContain('name is "something-else", expected "a"');
    const overclaims = caught(() => registry.instantiate([{ name: 'a', type: 'overclaims' }], host));
    expect(overclaims.message).toContain('declares capabilities its plugin does not: flowspec4');
    const throws = caught(() => registry.instantiate([{ name: 'a', type: 'throws' }], host));
    expect(throws.code).toBe('FG_ERR_ADAPTER_CONTRACT');
    expect(throws.message).toContain('create() threw: cannot open /etc/secret');
    expect(caught(() => registry.instantiate([{ name: 'a', type: 'partial' }], host)).message).toContain(
      'list() is missing',
    );
  });

  it('hands each adapter a frozen config slice', () => {
    const registry = createAdapterRegistry();
    let seen: unknown;
    registry.register({
      ...wrapping('spy', (config, ctx) => {
        seen = config;
        return dryRunPlugin.create(
          { render: 'exabgp', capabilities: ['rtbh4'], neighbors: [], persist: false },
          ctx,
        );
      }),
      configSchema: z.object({ peers: z.array(z.string()).default(['127.0.0.2']) }),
    });
    registry.instantiate([{ name: 'a', type: 'spy' }], host);
    expect(seen).toEqual({ peers: ['127.0.0.2'] });
    expect(Object.isFrozen(seen)).toBe(true);
    expect(Object.isFrozen((seen as { peers: string[] }).peers)).toBe(true);
  });
});

describe('adapter registry: scoped logger', () => {
  it('calls the host logger as a method, as pino needs', async () => {
    const seen: unknown[] = [];
    class MethodLogger {
      readonly prefix = 'host';
      info(this: MethodLogger, obj: object, msg?: string) {
        seen.push([this.prefix, obj, msg]);
      }
      warn(this: MethodLogger, obj: object, msg?: string) {
        seen.push([this.prefix, obj, msg]);
      }
      error(this: MethodLogger, obj: object, msg?: string) {
        seen.push([this.prefix, obj, msg]);
      }
      debug(this: MethodLogger, obj: object, msg?: string) {
        seen.push([this.prefix, obj, msg]);
      }
    }
    const registry = createAdapterRegistry();
    registerBuiltinAdapters(registry);
    const [adapter] = registry.instantiate([{ name: 'edge-2', type: 'dry-run' }], {
      logger: new MethodLogger() as unknown as Logger,
      now: host.now,
    });
    await adapter!.start();
    expect(seen[0]).toEqual([
      'host',
      {
        adapter: 'edge-2',
        render: 'exabgp',
        capabilities: ['flowspec4', 'flowspec6', 'rtbh4', 'rtbh6', 'firewall', 'scrubbing'],
        persist: false,
      },
      'dry-run adapter started: nothing is sent',
    ]);
  });
});
