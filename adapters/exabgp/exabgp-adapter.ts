/**
 * The ExaBGP adapter: delivers FlowSpec, RTBH (and optionally scrubbing diversions) as ExaBGP 4.2
 * text-API commands through Floodgate's helper, which ExaBGP runs as its `process`.
 *
 * What is in place is the helper's table, which has ExaBGP's lifetime: after Floodgate restarts,
 * the helper reconnects with it and list() reports it; after ExaBGP restarts, the new helper says
 * hello with an empty table, the adapter calls its onReconnect listeners, and the dispatcher's
 * reconciliation applies everything again. A helper respawned under the same ExaBGP (same pid and
 * start time) is handed back the table it lost, since ExaBGP still holds those routes.
 *
 * ExaBGP identifies a route by its NLRI (the match of a flow route, the prefix of a route), not
 * by its attributes: two intents with one NLRI (the same host blackholed for two upstreams with
 * different communities through one speaker) share one route. Withdrawing one of them then
 * re-announces the other instead of removing the route both need.
 */
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
import { type ExabgpConfig, exabgpSocketPath } from './config.js';
import { createHelperLink, type Hello } from './helper-link.js';
import { applyEffect, type HelperEntry, type PeerSession } from './protocol.js';
import { renderAnnounce, renderWithdraw } from './text-api.js';

export function createExabgpAdapter(config: ExabgpConfig, ctx: AdapterContext): MitigationAdapter {
  const { name, logger, now } = ctx;
  const capabilities: ReadonlySet<Capability> = new Set(config.capabilities);
  const self = { name, capabilities };
  const renderOptions = { neighbors: config.neighbors.map((n) => n.address) };
  const socketPath = exabgpSocketPath(config, name, ctx.stateDir);
  const { connectMs, commandMs } = config.timeouts;

  /** What ExaBGP holds, as the helper last told us plus every answered change since. */
  const table = new Map<string, HelperEntry>();
  let lastHello: Hello | undefined;
  let sessions: Record<string, PeerSession> = {};
  let started = false;
  let disconnectedAtMs: number | undefined;
  const listeners: (() => void)[] = [];
  /** A helper said hello and no list() has seen its table yet: reconciliation is due. */
  let reconcileDue = false;
  const applying = new Map<string, Promise<AdapterReceipt>>();

  function onHello(hello: Hello): void {
    const previous = lastHello;
    const sameExabgp =
      previous !== undefined &&
      previous.exabgpPid === hello.exabgpPid &&
      previous.exabgpStart === hello.exabgpStart &&
      hello.exabgpStart !== null;
    const incoming = new Map(hello.table.map((e) => [e.intentId, e]));
    if (sameExabgp && previous.helperPid !== hello.helperPid) {
      // ExaBGP respawned its helper but kept its RIB: what we knew is still announced.
      const lost = [...table.values()].filter((e) => !incoming.has(e.intentId));
      if (lost.length > 0) {
        link.adopt(lost);
        for (const e of lost) incoming.set(e.intentId, e);
      }
      logger.warn(
        { helperPid: hello.helperPid, exabgpPid: hello.exabgpPid, adopted: lost.length },
        'ExaBGP respawned its helper; the routes it still holds were handed back to the new helper',
      );
    } else if (previous !== undefined && !sameExabgp) {
      logger.warn(
        { exabgpPid: hello.exabgpPid, previousExabgpPid: previous.exabgpPid, holds: hello.table.length },
        'ExaBGP restarted: it holds only what its new helper reports; reconciling',
      );
    }
    table.clear();
    for (const [id, e] of incoming) table.set(id, e);
    lastHello = hello;
    sessions = { ...hello.sessions };
    disconnectedAtMs = undefined;
    logger.info(
      { helperPid: hello.helperPid, exabgpPid: hello.exabgpPid, holds: table.size, socket: socketPath },
      'ExaBGP helper connected',
    );
    reconcileDue = true;
    for (const listener of listeners) listener();
  }

  const link = createHelperLink(
    { name, socketPath, socketMode: Number.parseInt(config.socketMode, 8), logger },
    {
      onHello,
      onReply: (reply) => {
        if (reply.answer === 'done') applyEffect(table, reply.effect);
      },
      onSession: (change) => {
        sessions[change.peer] = { state: change.state, detail: change.detail };
        const log = change.state === 'down' ? logger.warn : logger.info;
        log({ peer: change.peer, state: change.state, detail: change.detail }, `BGP session ${change.state}`);
      },
      onDisconnect: () => {
        disconnectedAtMs = now();
      },
    },
  );

  function render(intent: MitigationIntent): string {
    requireCapability(self, intent);
    return renderAnnounce(intent, renderOptions);
  }

  /** Waits for the helper, or throws `code` saying what to check. */
  async function requireLink(
    code: 'FG_ERR_ADAPTER_APPLY' | 'FG_ERR_ADAPTER_WITHDRAW' | 'FG_ERR_ADAPTER_UNREACHABLE',
    what: string,
  ) {
    if (!started) {
      throw new FloodgateError(code, `adapter "${name}" is not started (${what})`, { adapter: name });
    }
    if (await link.waitConnected(connectMs)) return;
    throw new FloodgateError(
      code,
      `adapter "${name}": ExaBGP's helper is not connected to ${socketPath} (${what}); is ExaBGP running with the process block from "floodgate exabgp-config"?`,
      { adapter: name, socket: socketPath },
    );
  }

  async function send(
    code: 'FG_ERR_ADAPTER_APPLY' | 'FG_ERR_ADAPTER_WITHDRAW',
    intentId: string,
    line: string,
    effect: Parameters<typeof link.send>[1],
  ): Promise<void> {
    let answer: 'done' | 'error';
    try {
      answer = await link.send(line, effect, commandMs);
    } catch (e) {
      throw new FloodgateError(
        code,
        `adapter "${name}": ${(e as Error).message}`,
        { adapter: name, intentId, command: line },
        { cause: e },
      );
    }
    if (answer === 'error') {
      throw new FloodgateError(
        code,
        `adapter "${name}": ExaBGP answered error to "${line}" (its log says why: a neighbor selector that matches no configured peer, or a route it cannot parse)`,
        { adapter: name, intentId, command: line },
      );
    }
  }

  async function apply(intent: MitigationIntent): Promise<AdapterReceipt> {
    const command = render(intent);
    await requireLink('FG_ERR_ADAPTER_APPLY', `intent ${intent.id}`);
    const existing = table.get(intent.id);
    if (existing) return structuredClone(existing.receipt);
    const receipt: AdapterReceipt = {
      adapter: name,
      intentId: intent.id,
      kind: intent.kind,
      command,
      appliedAtMs: now(),
      details: { withdrawCommand: renderWithdraw(intent, renderOptions) },
    };
    await send('FG_ERR_ADAPTER_APPLY', intent.id, command, {
      op: 'put',
      entry: { intentId: intent.id, receipt },
    });
    logger.info({ intentId: intent.id, incidentId: intent.incidentId, command }, 'announced through ExaBGP');
    return structuredClone(receipt);
  }

  const withdrawOf = (r: AdapterReceipt): unknown => r.details?.['withdrawCommand'];

  return {
    name,
    capabilities,
    render,
    renderWithdraw(intent) {
      requireCapability(self, intent);
      return renderWithdraw(intent, renderOptions);
    },

    async start() {
      if (started) return;
      await link.listen();
      started = true;
      disconnectedAtMs = now();
      logger.info(
        { socket: socketPath, neighbors: renderOptions.neighbors },
        'exabgp adapter listening for its helper',
      );
      // A running ExaBGP's helper retries every helperRetryMs: give it that long to come back, so
      // the first reconciliation sees what ExaBGP holds. Without it Floodgate still starts.
      if (!(await link.waitConnected(connectMs))) {
        logger.warn(
          { socket: socketPath, waitedMs: connectMs },
          'ExaBGP helper has not connected yet; delivering through this adapter waits for it',
        );
      }
    },

    async stop() {
      if (!started) return;
      started = false;
      await link.close();
      // What ExaBGP holds is learnt again from the helper's hello.
      lastHello = undefined;
      table.clear();
    },

    apply(intent) {
      // Concurrent applies of one intent send it once.
      const running = applying.get(intent.id);
      if (running) return running.then((r) => structuredClone(r));
      const p = apply(intent).finally(() => applying.delete(intent.id));
      applying.set(intent.id, p);
      return p;
    },

    async withdraw(receipt): Promise<WithdrawResult> {
      if (receipt.adapter !== name) {
        throw new FloodgateError(
          'FG_ERR_ADAPTER_WITHDRAW',
          `receipt for intent ${receipt.intentId} belongs to adapter "${receipt.adapter}", not "${name}"`,
          { adapter: name, receiptAdapter: receipt.adapter, intentId: receipt.intentId },
        );
      }
      const command = withdrawOf(receipt);
      if (typeof command !== 'string') {
        throw new FloodgateError(
          'FG_ERR_ADAPTER_WITHDRAW',
          `receipt for intent ${receipt.intentId} has no details.withdrawCommand: it was not issued by an exabgp adapter`,
          { adapter: name, intentId: receipt.intentId },
        );
      }
      await requireLink('FG_ERR_ADAPTER_WITHDRAW', `intent ${receipt.intentId}`);
      const wasPresent = table.has(receipt.intentId);
      const sharing = [...table.values()]
        .filter((e) => e.intentId !== receipt.intentId && withdrawOf(e.receipt) === command)
        .sort((a, b) => b.receipt.appliedAtMs - a.receipt.appliedAtMs);
      const effect = { op: 'delete', intentId: receipt.intentId } as const;
      if (sharing.length > 0) {
        if (!wasPresent) return { command, wasPresent };
        // The route stays for the other intent: give it back that intent's attributes.
        const keep = sharing[0]!.receipt.command;
        await send('FG_ERR_ADAPTER_WITHDRAW', receipt.intentId, keep, effect);
        logger.info(
          { intentId: receipt.intentId, keptFor: sharing[0]!.intentId, command: keep },
          'route shared with another intent: re-announced for it',
        );
        return { command: keep, wasPresent };
      }
      // Sent even when the table does not have it: ExaBGP answers done for an unknown route,
      // and a route a lost table forgot is then gone too.
      await send('FG_ERR_ADAPTER_WITHDRAW', receipt.intentId, command, effect);
      if (wasPresent) logger.info({ intentId: receipt.intentId, command }, 'withdrawn through ExaBGP');
      else logger.warn({ intentId: receipt.intentId, command }, 'withdraw of an intent ExaBGP did not hold');
      return { command, wasPresent };
    },

    async list() {
      await requireLink('FG_ERR_ADAPTER_UNREACHABLE', 'listing what ExaBGP holds');
      reconcileDue = false;
      return [...table.values()].map((e) => structuredClone(e.receipt));
    },

    async health(): Promise<AdapterHealth> {
      const checkedAtMs = now();
      if (!started) return { ok: false, detail: 'not started', checkedAtMs };
      if (!link.connected() || lastHello === undefined) {
        const since =
          disconnectedAtMs === undefined
            ? ''
            : ` for ${Math.round((checkedAtMs - disconnectedAtMs) / 1000)} s`;
        return {
          ok: false,
          detail: `ExaBGP's helper has not connected to ${socketPath}${since}: is ExaBGP running with the process block from "floodgate exabgp-config"?`,
          checkedAtMs,
        };
      }
      const peers = Object.entries(sessions);
      const shown = peers
        .map(([peer, s]) => `${peer} ${s.state}${s.detail ? ` (${s.detail})` : ''}`)
        .join(', ');
      const base = `ExaBGP pid ${lastHello.exabgpPid} connected through helper pid ${lastHello.helperPid}; ${table.size} routes held`;
      if (peers.length > 0 && !peers.some(([, s]) => s.state === 'up')) {
        return { ok: false, detail: `${base}; no BGP session is up: ${shown}`, checkedAtMs };
      }
      return { ok: true, detail: peers.length > 0 ? `${base}; sessions: ${shown}` : base, checkedAtMs };
    },

    onReconnect(listener) {
      listeners.push(listener);
      // The helper may have said hello before anyone listened (at start-up): do not lose that.
      if (reconcileDue)
        setImmediate(() => {
          if (reconcileDue) listener();
        });
    },
  };
}
