/**
 * The BIRD 2 adapter: puts FlowSpec and RTBH routes into a running BIRD as static routes in an
 * include file it owns, which BIRD then announces to its BGP peers.
 *
 * Every change rewrites the whole file atomically (temporary file, fsync, rename), has BIRD check
 * its whole configuration (`birdc configure check "CONF"`) and only then reload it (`birdc
 * configure "CONF"`). When BIRD refuses either, the previous file is put back (and BIRD reloaded
 * with it if the reload had begun), so a bad route never leaves BIRD with half a configuration.
 *
 * The file also records each receipt, so a restarted Floodgate knows what it put there; list()
 * reports those of its routes BIRD really has (`show route protocol P all`), matched by network,
 * which the renderer writes in the form BIRD prints. Operations run one at a time.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { FloodgateError } from '../../core/errors.js';
import type { MitigationIntent } from '../../core/mitigation/intent.js';
import {
  type AdapterContext,
  type AdapterHealth,
  type AdapterReceipt,
  type Capability,
  type MitigationAdapter,
  requireCapability,
  type WithdrawResult,
} from '../contract.js';
import { type BirdcRunner, birdcFailure, createBirdcRunner, quotedFile } from './birdc.js';
import { type BirdConfig, birdIncludeFile, birdProtocolPrefix } from './config.js';
import {
  type BirdProtocolKey,
  declaredProtocols,
  detailsOf,
  type IncludeLayout,
  parseIncludeFile,
  protocolName,
  renderIncludeFile,
} from './include-file.js';
import { type BirdRouteText, renderBlackholeRoute, renderFlowRoute } from './render.js';
import { parseBirdRoutes } from './show-route.js';

export interface BirdAdapterDeps {
  /** Runs birdc; the real program on the configured socket by default. */
  birdc?: BirdcRunner;
}

type ChangeCode = 'FG_ERR_ADAPTER_APPLY' | 'FG_ERR_ADAPTER_WITHDRAW';

/** Written to a temporary file, flushed to disk and renamed into place: BIRD never reads half a file. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function createBirdAdapter(
  config: BirdConfig,
  ctx: AdapterContext,
  deps: BirdAdapterDeps = {},
): MitigationAdapter {
  const { name, logger, now } = ctx;
  const capabilities: ReadonlySet<Capability> = new Set(config.capabilities);
  const self = { name, capabilities };
  const includeFile = birdIncludeFile(config, name, ctx.stateDir);
  const layout: IncludeLayout = {
    adapterName: name,
    protocolPrefix: birdProtocolPrefix(config, name),
    tables: config.tables,
    capabilities,
  };
  const birdc = deps.birdc ?? createBirdcRunner(config.birdc, config.socket, config.timeouts.commandMs);
  const configArg = config.configFile === undefined ? [] : [quotedFile(config.configFile)];

  /** What the include file holds, in the order applied. */
  const table = new Map<string, AdapterReceipt>();
  /** The file text BIRD last accepted (or found at start): what a rollback restores. */
  let committedText = '';
  let started = false;
  let queue: Promise<unknown> = Promise.resolve();

  function serial<T>(job: () => Promise<T>): Promise<T> {
    const run = queue.then(job, job);
    queue = run.catch(() => undefined);
    return run;
  }

  function routeOf(intent: MitigationIntent): BirdRouteText & { key: BirdProtocolKey } {
    requireCapability(self, intent);
    if (intent.kind === 'flowspec')
      return { ...renderFlowRoute(intent), key: intent.ipVersion === 4 ? 'flow4' : 'flow6' };
    if (intent.kind === 'rtbh')
      return { ...renderBlackholeRoute(intent), key: intent.ipVersion === 4 ? 'rtbh4' : 'rtbh6' };
    // requireCapability let through only what the capabilities name, all of them above.
    throw new FloodgateError('FG_ERR_ADAPTER_CAPABILITY', `adapter "${name}" cannot deliver ${intent.kind}`, {
      adapter: name,
      intentId: intent.id,
    });
  }

  function requireStarted(code: ChangeCode | 'FG_ERR_ADAPTER_UNREACHABLE', what: string): void {
    if (!started)
      throw new FloodgateError(code, `adapter "${name}" is not started (${what})`, { adapter: name });
  }

  async function birdcOk(args: string[], what: string): Promise<string | undefined> {
    return birdcFailure(await birdc(args), what);
  }

  /**
   * Makes BIRD run with these receipts: writes the file when it changes, checks, reloads; on a
   * refusal restores the previous file (and reload) and throws `code` with BIRD's reason.
   */
  async function commit(receipts: AdapterReceipt[], code: ChangeCode, what: string): Promise<void> {
    const text = renderIncludeFile(layout, receipts);
    const previous = committedText;
    if (text !== previous) writeAtomically(includeFile, text);
    const checkFailed = await birdcOk(['-v', 'configure', 'check', ...configArg], 'configure check');
    if (checkFailed !== undefined) {
      if (text !== previous) writeAtomically(includeFile, previous);
      throw new FloodgateError(
        code,
        `adapter "${name}": BIRD refused the configuration for ${what}, rolled back: ${checkFailed}`,
        {
          adapter: name,
          includeFile,
        },
      );
    }
    const configureFailed = await birdcOk(['-v', 'configure', ...configArg], 'configure');
    if (configureFailed !== undefined) {
      if (text !== previous) {
        writeAtomically(includeFile, previous);
        const undo = await birdcOk(['-v', 'configure', ...configArg], 'configure (rollback)');
        if (undo !== undefined)
          logger.error(
            { includeFile, reason: undo },
            'BIRD did not reload the previous configuration either',
          );
      }
      throw new FloodgateError(
        code,
        `adapter "${name}": BIRD did not reload for ${what}, rolled back: ${configureFailed}`,
        {
          adapter: name,
          includeFile,
        },
      );
    }
    committedText = text;
  }

  async function apply(intent: MitigationIntent): Promise<AdapterReceipt> {
    const route = routeOf(intent);
    requireStarted('FG_ERR_ADAPTER_APPLY', `intent ${intent.id}`);
    const existing = table.get(intent.id);
    if (existing) {
      // Nothing changes in the file, but BIRD may have lost it (restarted with an older file,
      // a reload cut short): reloading makes sure it runs with what the file says.
      await commit([...table.values()], 'FG_ERR_ADAPTER_APPLY', `intent ${intent.id}`);
      return structuredClone(existing);
    }
    const receipt: AdapterReceipt = {
      adapter: name,
      intentId: intent.id,
      kind: intent.kind,
      command: route.statement,
      appliedAtMs: now(),
      details: {
        protocol: protocolName(layout.protocolPrefix, route.key),
        network: route.network,
        statement: route.statement,
        includeFile,
      },
    };
    await commit([...table.values(), receipt], 'FG_ERR_ADAPTER_APPLY', `intent ${intent.id}`);
    table.set(intent.id, receipt);
    logger.info(
      { intentId: intent.id, incidentId: intent.incidentId, command: route.statement },
      'route added to BIRD',
    );
    return structuredClone(receipt);
  }

  async function withdraw(receipt: AdapterReceipt): Promise<WithdrawResult> {
    if (receipt.adapter !== name) {
      throw new FloodgateError(
        'FG_ERR_ADAPTER_WITHDRAW',
        `receipt for intent ${receipt.intentId} belongs to adapter "${receipt.adapter}", not "${name}"`,
        { adapter: name, receiptAdapter: receipt.adapter, intentId: receipt.intentId },
      );
    }
    const details = detailsOf(receipt);
    if (details === undefined) {
      throw new FloodgateError(
        'FG_ERR_ADAPTER_WITHDRAW',
        `receipt for intent ${receipt.intentId} has no BIRD details (protocol, network): it was not issued by a bird adapter`,
        { adapter: name, intentId: receipt.intentId },
      );
    }
    requireStarted('FG_ERR_ADAPTER_WITHDRAW', `intent ${receipt.intentId}`);
    const command = `remove from ${includeFile}: ${details.statement}`;
    if (!table.has(receipt.intentId)) {
      logger.warn(
        { intentId: receipt.intentId, command },
        'withdraw of a route the include file does not hold',
      );
      return { command, wasPresent: false };
    }
    const remaining = [...table.values()].filter((r) => r.intentId !== receipt.intentId);
    await commit(remaining, 'FG_ERR_ADAPTER_WITHDRAW', `withdrawing intent ${receipt.intentId}`);
    table.delete(receipt.intentId);
    logger.info({ intentId: receipt.intentId, command }, 'route removed from BIRD');
    return { command, wasPresent: true };
  }

  async function list(): Promise<AdapterReceipt[]> {
    requireStarted('FG_ERR_ADAPTER_UNREACHABLE', 'listing what BIRD holds');
    const present = new Set<string>();
    for (const { name: protocol } of declaredProtocols(layout)) {
      const result = await birdc(['show', 'route', 'protocol', protocol, 'all']);
      const failed = birdcFailure(result, `show route protocol ${protocol}`);
      if (failed !== undefined) {
        throw new FloodgateError(
          'FG_ERR_ADAPTER_UNREACHABLE',
          `adapter "${name}": cannot list BIRD's routes (${failed}); is BIRD running on ${config.socket} with include "${includeFile}"; in its configuration?`,
          { adapter: name, protocol, socket: config.socket, includeFile },
        );
      }
      for (const route of parseBirdRoutes(result.stdout)) {
        if (route.protocol === protocol) present.add(`${protocol}\n${route.network}`);
      }
    }
    return [...table.values()]
      .filter((r) => {
        const d = detailsOf(r)!;
        return present.has(`${d.protocol}\n${d.network}`);
      })
      .map((r) => structuredClone(r));
  }

  async function health(): Promise<AdapterHealth> {
    const checkedAtMs = now();
    if (!started) return { ok: false, detail: 'not started', checkedAtMs };
    const status = await birdc(['show', 'protocols']);
    const failed = birdcFailure(status, 'show protocols');
    if (failed !== undefined)
      return { ok: false, detail: `BIRD on ${config.socket}: ${failed}`, checkedAtMs };
    const states = new Map<string, string>();
    for (const line of status.stdout.split('\n')) {
      const [proto, , , state] = line.trim().split(/\s+/);
      if (proto !== undefined && state !== undefined) states.set(proto, state);
    }
    const missing = declaredProtocols(layout)
      .map((p) => p.name)
      .filter((p) => !states.has(p));
    if (missing.length > 0) {
      return {
        ok: false,
        detail: `BIRD runs without protocols ${missing.join(', ')}: add include "${includeFile}"; to its configuration and reload it`,
        checkedAtMs,
      };
    }
    const shown = declaredProtocols(layout)
      .map((p) => `${p.name} ${states.get(p.name)}`)
      .join(', ');
    return {
      ok: true,
      detail: `BIRD on ${config.socket}: ${shown}; ${table.size} routes in ${includeFile}`,
      checkedAtMs,
    };
  }

  return {
    name,
    capabilities,
    render: (intent) => routeOf(intent).statement,
    renderWithdraw: (intent) => `remove from ${includeFile}: ${routeOf(intent).statement}`,

    start: () =>
      serial(async () => {
        if (started) return;
        if (!existsSync(dirname(includeFile))) {
          throw new FloodgateError(
            'FG_ERR_CONFIG_INVALID',
            `bird adapter "${name}": the directory of ${includeFile} does not exist`,
            {
              adapter: name,
              includeFile,
            },
          );
        }
        table.clear();
        if (existsSync(includeFile)) {
          committedText = readFileSync(includeFile, 'utf8');
          for (const receipt of parseIncludeFile(committedText, includeFile))
            table.set(receipt.intentId, receipt);
          logger.info({ includeFile, routes: table.size }, 'BIRD include file read back');
        } else {
          // BIRD refuses a configuration whose include file is missing: create it empty now.
          committedText = renderIncludeFile(layout, []);
          writeAtomically(includeFile, committedText);
          logger.info({ includeFile }, 'BIRD include file created (no routes)');
        }
        started = true;
      }),
    stop: () =>
      serial(async () => {
        started = false;
      }),
    apply: (intent) => serial(() => apply(intent)),
    withdraw: (receipt) => serial(() => withdraw(receipt)),
    list: () => serial(list),
    health: () => serial(health),
  };
}
