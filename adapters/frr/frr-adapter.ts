/**
 * The FRR adapter: RTBH (IPv4/IPv6) on an FRR router through vtysh, run on this machine or, with
 * an `ssh:` block, on the router over one kept SSH connection with its host key pinned. Each
 * route is a tagged static blackhole route; the route map that `redistribute static` uses
 * gives it its communities and next hop (commands.ts). FRR cannot originate FlowSpec, so the
 * adapter declares rtbh4/rtbh6 only and a runbook asking it for FlowSpec fails at start-up.
 *
 * The router's running configuration is the only state: list() reads the tagged routes and
 * the route-map entries describing them back into intents, so nothing is kept on our side and
 * a Floodgate restart reconciles against what FRR really has. One static route per prefix:
 * of two intents for the same host with other communities, the one applied last is configured,
 * and withdrawing it configures the other again (RouteHolders). Operations run one at a time
 * (each reads the configuration, then changes it). When the SSH connection was lost and comes
 * back, the adapter's onReconnect listeners hear it (FRR may have restarted meanwhile, dropping
 * routes that were not saved), and the dispatcher reconciles.
 */
import { FloodgateError } from '../../core/errors.js';
import type { MitigationIntent } from '../../core/mitigation/intent.js';
import { intentId } from '../../core/mitigation/intent-id.js';
import type { IpVersion } from '../../core/net/address.js';
import { RouteHolders } from '../bgp/route-holders.js';
import type { BlackholeRoute } from '../bgp/routes.js';
import {
  type AdapterContext,
  type AdapterHealth,
  type AdapterReceipt,
  type Capability,
  type MitigationAdapter,
  requireCapability,
  type WithdrawResult,
} from '../contract.js';
import type { CommandRunner } from '../exec/command-runner.js';
import { createLocalRunner } from '../exec/local-runner.js';
import { createSshRunner } from '../exec/ssh-runner.js';
import {
  applyCommands,
  commandText,
  contentOfStatic,
  describeSet,
  parseDescription,
  preferredSequence,
  type RtbhSet,
  routeAndSet,
  tagOf,
  withdrawCommands,
} from './commands.js';
import type { FrrConfig } from './config.js';
import { parseRunningConfig, type RunningState } from './running-config.js';
import { type VtyshRunner, vtyshRunner } from './vtysh.js';

interface FrrDetails {
  version: IpVersion;
  prefix: string;
  sequence: number;
  tag: number;
  routeMap: string;
}

function readDetails(receipt: AdapterReceipt): FrrDetails {
  const d = receipt.details as Partial<FrrDetails> | undefined;
  if (
    !d ||
    (d.version !== 4 && d.version !== 6) ||
    typeof d.prefix !== 'string' ||
    !Number.isInteger(d.sequence) ||
    !Number.isInteger(d.tag)
  ) {
    throw new FloodgateError(
      'FG_ERR_ADAPTER_WITHDRAW',
      `receipt for ${receipt.intentId} has no FRR route details; remove the static route by hand`,
      { adapter: receipt.adapter, intentId: receipt.intentId },
    );
  }
  return d as FrrDetails;
}

export interface FrrAdapterDeps {
  /** Runs vtysh; tests give a fake router. */
  vtysh?: VtyshRunner;
  /** Runs the vtysh command line; by default local, or SSH when the config has `ssh`. */
  runner?: CommandRunner;
}

/** The runner the configuration asks for. Builds no connection yet (create() does no I/O). */
function runnerFor(config: FrrConfig): CommandRunner {
  if (config.ssh === undefined) return createLocalRunner({ timeoutMs: config.timeoutMs });
  return createSshRunner({ ...config.ssh, timeoutMs: config.timeoutMs });
}

export function createFrrAdapter(
  config: FrrConfig,
  ctx: AdapterContext,
  deps: FrrAdapterDeps = {},
): MitigationAdapter {
  const { name, logger, now } = ctx;
  const capabilities: ReadonlySet<Capability> = new Set(config.capabilities);
  const self = { name, capabilities };
  const runner = deps.runner ?? runnerFor(config);
  const run =
    deps.vtysh ??
    vtyshRunner({
      vtysh: config.vtysh,
      timeoutMs: config.timeoutMs,
      runner,
      ...(config.vtySocket === undefined ? {} : { vtySocket: config.vtySocket }),
    });
  const via = runner.where === 'local' ? config.vtysh : `${config.vtysh} over ${runner.where}`;
  const reconnectListeners: (() => void)[] = [];
  runner.onReconnect?.(() => {
    logger.info({ where: runner.where }, 'FRR: SSH connection to the router re-established');
    for (const listener of reconnectListeners) listener();
  });
  let started = false;
  let queue: Promise<unknown> = Promise.resolve();
  /** When each intent was first applied by this process, for stable receipts. */
  const appliedAt = new Map<string, number>();
  /** Intents sharing a prefix in this process: the last applied is configured. */
  const held = new RouteHolders<{
    receipt: AdapterReceipt;
    route: BlackholeRoute;
    set: RtbhSet;
    sequence: number;
  }>();
  const keyOf = (d: { version: IpVersion; prefix: string }) => `${d.version} ${d.prefix}`;

  function serialized<T>(job: () => Promise<T>): Promise<T> {
    const result = queue.then(job);
    queue = result.catch(() => undefined);
    return result;
  }

  function checked(intent: MitigationIntent) {
    requireCapability(self, intent);
    if (intent.kind !== 'rtbh') {
      throw new FloodgateError(
        'FG_ERR_ADAPTER_CAPABILITY',
        `adapter "${name}" delivers RTBH only (intent ${intent.id})`,
        {
          adapter: name,
          intentId: intent.id,
        },
      );
    }
    return { intent, ...routeAndSet(intent) };
  }

  function requireStarted(code: 'FG_ERR_ADAPTER_APPLY' | 'FG_ERR_ADAPTER_WITHDRAW', id: string): void {
    if (!started) {
      throw new FloodgateError(code, `FRR adapter "${name}" is not started (intent ${id})`, {
        adapter: name,
        intentId: id,
      });
    }
  }

  async function state(code: 'FG_ERR_ADAPTER_APPLY' | 'FG_ERR_ADAPTER_WITHDRAW'): Promise<RunningState> {
    return parseRunningConfig(await run(['show running-config'], code), config.routeMap);
  }

  /** The entry already describing this set, or the first free sequence from the preferred one. */
  function sequenceFor(set: RtbhSet, current: RunningState): number {
    const described = describeSet(set);
    for (const entry of current.entries.values()) {
      if (entry.description === described && inRange(entry.sequence)) return entry.sequence;
    }
    const { first, last } = config.sequences;
    const start = preferredSequence(set, config);
    for (let i = 0; i <= last - first; i++) {
      const seq = first + ((start - first + i) % (last - first + 1));
      if (!current.entries.has(seq)) return seq;
    }
    throw new FloodgateError(
      'FG_ERR_ADAPTER_APPLY',
      `route map ${config.routeMap} has no free sequence number in ${first}-${last} (adapter "${name}")`,
      { adapter: name, routeMap: config.routeMap },
    );
  }

  function inRange(seq: number): boolean {
    return seq >= config.sequences.first && seq <= config.sequences.last;
  }

  function receiptOf(
    id: string,
    route: BlackholeRoute,
    set: RtbhSet,
    sequence: number,
    appliedAtMs: number,
  ): AdapterReceipt {
    const details: FrrDetails = {
      version: route.version,
      prefix: route.prefix,
      sequence,
      tag: tagOf(sequence, config),
      routeMap: config.routeMap,
    };
    return {
      adapter: name,
      intentId: id,
      kind: 'rtbh',
      command: commandText(applyCommands(route, set, sequence, config)),
      appliedAtMs,
      details: { ...details },
    };
  }

  async function save(code: 'FG_ERR_ADAPTER_APPLY' | 'FG_ERR_ADAPTER_WITHDRAW'): Promise<void> {
    if (config.saveConfig) await run(['write memory'], code);
  }

  function render(intent: MitigationIntent): string {
    const { route, set } = checked(intent);
    return commandText(applyCommands(route, set, preferredSequence(set, config), config));
  }

  function renderWithdraw(intent: MitigationIntent): string {
    const { route, set } = checked(intent);
    return commandText(withdrawCommands(route, preferredSequence(set, config), config, false));
  }

  async function apply(intent: MitigationIntent): Promise<AdapterReceipt> {
    const { route, set } = checked(intent);
    requireStarted('FG_ERR_ADAPTER_APPLY', intent.id);
    return serialized(async () => {
      const current = await state('FG_ERR_ADAPTER_APPLY');
      const sequence = sequenceFor(set, current);
      const replaced = current.statics.find(
        (s) => s.prefix === route.prefix && s.tag !== undefined && s.tag !== tagOf(sequence, config),
      );
      if (replaced) {
        logger.warn(
          { intent: intent.id, prefix: route.prefix, replacedTag: replaced.tag },
          'FRR: this route replaces the static route of another intent for the same prefix',
        );
      }
      const commands = applyCommands(route, set, sequence, config);
      await run(commands, 'FG_ERR_ADAPTER_APPLY');
      await save('FG_ERR_ADAPTER_APPLY');
      const appliedAtMs = appliedAt.get(intent.id) ?? now();
      appliedAt.set(intent.id, appliedAtMs);
      logger.info({ intent: intent.id, command: commandText(commands) }, 'FRR: RTBH route configured');
      const receipt = receiptOf(intent.id, route, set, sequence, appliedAtMs);
      held.hold(keyOf(route), intent.id, { receipt, route, set, sequence });
      return receipt;
    });
  }

  async function withdraw(receipt: AdapterReceipt): Promise<WithdrawResult> {
    requireStarted('FG_ERR_ADAPTER_WITHDRAW', receipt.intentId);
    if (receipt.adapter !== name) {
      throw new FloodgateError(
        'FG_ERR_ADAPTER_WITHDRAW',
        `receipt for ${receipt.intentId} was issued by adapter "${receipt.adapter}", not "${name}"`,
        { adapter: name, receiptAdapter: receipt.adapter, intentId: receipt.intentId },
      );
    }
    const details = readDetails(receipt);
    return serialized(async () => {
      const current = await state('FG_ERR_ADAPTER_WITHDRAW');
      const key = keyOf(details);
      const there = current.statics.find((s) => s.prefix === details.prefix && s.version === details.version);
      // The entry goes once no other route uses its tag and no intent still held here needs it.
      const entryUnused = (after: (s: { prefix: string; tag: number | undefined }) => boolean) =>
        !current.statics.some((s) => s.tag === details.tag && after(s)) &&
        !held
          .holders(key)
          .some((h) => h.intentId !== receipt.intentId && h.value.sequence === details.sequence);
      const holders = held.holders(key);
      if (holders.length > 0 && !holders.some((h) => h.intentId === receipt.intentId)) {
        logger.warn(
          { intent: receipt.intentId, heldBy: holders.map((h) => h.intentId), prefix: details.prefix },
          'FRR: not withdrawing: the prefix is held by another intent',
        );
        return {
          command: commandText(withdrawCommands(details, details.sequence, config, false)),
          wasPresent: false,
        };
      }
      if (holders.length > 1) {
        // Another intent holds the same prefix: it stays, configured with that intent's entry.
        const { next } = held.release(key, receipt.intentId);
        const keep = next!.value;
        const commands = applyCommands(keep.route, keep.set, keep.sequence, config);
        await run(commands, 'FG_ERR_ADAPTER_WITHDRAW');
        const cleanup = entryUnused((s) => s.prefix !== details.prefix) && keep.sequence !== details.sequence;
        const extra = cleanup
          ? ['configure terminal', `no route-map ${config.routeMap} permit ${details.sequence}`, 'end']
          : [];
        if (cleanup) await run(extra, 'FG_ERR_ADAPTER_WITHDRAW');
        await save('FG_ERR_ADAPTER_WITHDRAW');
        appliedAt.delete(receipt.intentId);
        logger.info(
          { intent: receipt.intentId, stillHeldBy: next!.intentId },
          'FRR: route kept for another intent',
        );
        return { command: commandText([...commands, ...extra]), wasPresent: true };
      }
      held.release(key, receipt.intentId);
      appliedAt.delete(receipt.intentId);
      if (!there || there.tag !== details.tag) {
        // Not ours any more (or gone): only tidy up our entry if nothing uses it.
        const commands = entryUnused(() => true)
          ? ['configure terminal', `no route-map ${config.routeMap} permit ${details.sequence}`, 'end']
          : [];
        if (commands.length > 0 && current.entries.has(details.sequence))
          await run(commands, 'FG_ERR_ADAPTER_WITHDRAW');
        logger.warn(
          { intent: receipt.intentId, prefix: details.prefix, tagInPlace: there?.tag },
          there
            ? 'FRR: not withdrawing: the prefix carries another intent'
            : 'FRR: withdraw of a route FRR does not have',
        );
        return {
          command: commandText(withdrawCommands(details, details.sequence, config, false)),
          wasPresent: false,
        };
      }
      const commands = withdrawCommands(
        details,
        details.sequence,
        config,
        entryUnused((s) => s.prefix !== details.prefix),
      );
      await run(commands, 'FG_ERR_ADAPTER_WITHDRAW');
      await save('FG_ERR_ADAPTER_WITHDRAW');
      logger.info({ intent: receipt.intentId, command: commandText(commands) }, 'FRR: RTBH route removed');
      return { command: commandText(commands), wasPresent: true };
    });
  }

  async function list(): Promise<AdapterReceipt[]> {
    requireStarted('FG_ERR_ADAPTER_APPLY', 'list');
    return serialized(async () => {
      const current = await state('FG_ERR_ADAPTER_APPLY');
      const out: AdapterReceipt[] = [];
      for (const s of current.statics) {
        if (s.tag === undefined) continue;
        const sequence = s.tag - config.tagBase;
        const entry = current.entries.get(sequence);
        if (!inRange(sequence) || entry?.matchTag !== s.tag || entry.description === undefined) continue;
        const set = parseDescription(entry.description);
        if (!set || set.version !== s.version || !capabilities.has(s.version === 4 ? 'rtbh4' : 'rtbh6'))
          continue;
        const content = contentOfStatic(s.prefix, set);
        const id = intentId(content);
        const key = keyOf(s);
        if (held.announced(key)?.intentId === id) {
          // Every intent sharing the prefix is in place (withdrawing one keeps it for the others).
          for (const h of held.holders(key)) out.push(h.value.receipt);
          continue;
        }
        const route: BlackholeRoute = {
          kind: 'rtbh',
          version: s.version,
          prefix: s.prefix,
          nextHop: set.nextHop,
          communities: set.communities,
        };
        out.push(receiptOf(id, route, set, sequence, appliedAt.get(id) ?? now()));
      }
      return out;
    });
  }

  async function health(): Promise<AdapterHealth> {
    const checkedAtMs = now();
    if (!started) return { ok: false, detail: `FRR adapter "${name}" is not started`, checkedAtMs };
    try {
      const text = await run(['show running-config'], 'FG_ERR_ADAPTER_APPLY');
      if (!new RegExp(`redistribute static route-map ${config.routeMap}\\b`).test(text)) {
        return {
          ok: false,
          detail: `FRR's bgpd does not "redistribute static route-map ${config.routeMap}": RTBH routes would not be announced (docs/adapters.md, FRR)`,
          checkedAtMs,
        };
      }
      return { ok: true, detail: `FRR via ${via}: route map ${config.routeMap} redistributed`, checkedAtMs };
    } catch (e) {
      // One line an operator can act on: which router, and what the runner or vtysh said.
      const why = (e as Error).message.replace(/\s*\n\s*/g, ' ');
      return { ok: false, detail: `FRR via ${via}: ${why}`, checkedAtMs };
    }
  }

  return {
    name,
    capabilities,
    async start() {
      started = true;
      const h = await health();
      if (h.ok) logger.info({ detail: h.detail }, 'FRR adapter started');
      else logger.warn({ detail: h.detail }, 'FRR adapter started, but the router is not ready');
    },
    async stop() {
      started = false;
      await queue;
      await runner.close();
    },
    render,
    renderWithdraw,
    apply,
    withdraw,
    list,
    health,
    // Only a kept connection can be lost and come back; a local vtysh has nothing to report.
    ...(runner.onReconnect === undefined
      ? {}
      : {
          onReconnect(listener: () => void) {
            reconnectListeners.push(listener);
          },
        }),
  };
}
