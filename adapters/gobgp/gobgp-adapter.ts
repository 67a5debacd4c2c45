/**
 * The GoBGP adapter: announces FlowSpec (IPv4/IPv6) and RTBH (IPv4/IPv6) routes by adding paths
 * to a running gobgpd's global RIB over its gRPC API, withdraws them with DeletePath, and lists
 * what gobgpd holds with ListPath. gobgpd keeps the BGP sessions and keeps the routes when
 * Floodgate restarts; `list()` then reads them back and reconciliation takes over.
 *
 * How routes are identified: gobgpd keys a local path by its NLRI, so announcing an NLRI again
 * replaces the earlier path (apply is idempotent), and one NLRI holds one route. A route read
 * back is turned into intent content (adapters/bgp/intent-routes.ts) and its id recomputed, so
 * list() needs no state file; routes of shapes Floodgate never writes are left alone. When two
 * intents share an NLRI (same match, another action), the one applied last is announced, and
 * withdrawing it announces the other again (RouteHolders).
 */
import { FloodgateError } from '../../core/errors.js';
import type { BlackholeIntent, FlowSpecIntent, MitigationIntent } from '../../core/mitigation/intent.js';
import { intentId } from '../../core/mitigation/intent-id.js';
import { parseAddress } from '../../core/net/address.js';
import { unencodable } from '../bgp/bytes.js';
import { contentOf, requireBgpKind, routeFor } from '../bgp/intent-routes.js';
import { RouteHolders } from '../bgp/route-holders.js';
import type { BgpRoute } from '../bgp/routes.js';
import {
  type AdapterContext,
  type AdapterHealth,
  type AdapterReceipt,
  type Capability,
  type MitigationAdapter,
  requireCapability,
  type WithdrawResult,
} from '../contract.js';
import { createGobgpClient, type GobgpClient } from './api-client.js';
import {
  type ApiFamily,
  type ApiPath,
  FAMILIES,
  type FamilyName,
  familyName,
  pathFor,
  routeKey,
  routeOfPath,
  withdrawPathFor,
} from './api-codec.js';
import type { GobgpConfig } from './config.js';

const FAMILY_OF_CAPABILITY: Readonly<Record<string, FamilyName>> = {
  flowspec4: 'ipv4-flowspec',
  flowspec6: 'ipv6-flowspec',
  rtbh4: 'ipv4-unicast',
  rtbh6: 'ipv6-unicast',
};

/** What a receipt's `details` hold: enough to withdraw from a receipt read back from storage. */
interface GobgpDetails {
  api: string;
  family: FamilyName;
  routeKey: string;
  /** The DeletePath request body. */
  withdraw: { family: ApiFamily; path: ApiPath };
  /** gobgpd's uuid of the path, hex (absent for routes found by list()). */
  uuid?: string;
}

/**
 * gobgpd (and many routers) treat a received IPv4 NEXT_HOP that is 0.x, loopback or class D/E
 * as a withdraw: refuse such a next hop before it silently announces nothing.
 */
function checkNextHop(route: BgpRoute): void {
  if (route.kind !== 'rtbh') return;
  const address = parseAddress(route.nextHop);
  const w = address?.words;
  if (!w) return;
  const bad =
    route.version === 4
      ? [0, 127].includes(w[3]! >>> 24) || w[3]! >>> 24 >= 224
      : (w[0] === 0 && w[1] === 0 && w[2] === 0 && (w[3] === 0 || w[3] === 1)) || w[0]! >>> 24 === 0xff;
  if (bad) {
    throw unencodable(
      'RTBH next hop',
      route.nextHop,
      'unspecified, loopback and multicast next hops make receivers treat the route as a withdraw; ' +
        'use a discard address such as 192.0.2.1 or 100::1 (mitigation.rtbh.nextHopV4 / nextHopV6)',
    );
  }
}

function isLocal(path: ApiPath): boolean {
  return (
    (path.neighbor_ip === undefined || path.neighbor_ip === '' || path.neighbor_ip === '<nil>') &&
    path.is_withdraw !== true
  );
}

function readDetails(receipt: AdapterReceipt): GobgpDetails {
  const d = receipt.details as Partial<GobgpDetails> | undefined;
  if (
    !d ||
    typeof d.routeKey !== 'string' ||
    typeof d.family !== 'string' ||
    !(d.family in FAMILIES) ||
    typeof d.withdraw !== 'object' ||
    d.withdraw === null
  ) {
    throw new FloodgateError(
      'FG_ERR_ADAPTER_WITHDRAW',
      `receipt for ${receipt.intentId} has no GoBGP withdraw details; withdraw it with "gobgp global rib del" by hand`,
      { adapter: receipt.adapter, intentId: receipt.intentId },
    );
  }
  return d as GobgpDetails;
}

interface Held {
  receipt: AdapterReceipt;
  route: BgpRoute;
}

export function createGobgpAdapter(config: GobgpConfig, ctx: AdapterContext): MitigationAdapter {
  const { name, logger, now } = ctx;
  const capabilities: ReadonlySet<Capability> = new Set(config.capabilities);
  const self = { name, capabilities };
  const families = [...new Set(config.capabilities.map((c) => FAMILY_OF_CAPABILITY[c]!))];
  let client: GobgpClient | undefined;
  const listeners: (() => void)[] = [];
  /** Routes put in place by apply() in this process, by route key: which intents hold them. */
  const held = new RouteHolders<Held>();
  /** Route keys seen in gobgpd by the last list() (minus withdrawals since). */
  const seen = new Set<string>();

  function checkedRoute(intent: MitigationIntent): {
    route: BgpRoute;
    intent: FlowSpecIntent | BlackholeIntent;
  } {
    requireCapability(self, intent);
    requireBgpKind(name, intent);
    const route = routeFor(intent);
    checkNextHop(route);
    return { route, intent };
  }

  function addPathCommand(route: BgpRoute): string {
    return `AddPath ${JSON.stringify({ table_type: 'GLOBAL', path: pathFor(route) })}`;
  }

  function withdrawRequest(route: BgpRoute): GobgpDetails['withdraw'] {
    return { family: FAMILIES[familyName(route)], path: withdrawPathFor(route) };
  }

  function render(intent: MitigationIntent): string {
    return addPathCommand(checkedRoute(intent).route);
  }

  function renderWithdraw(intent: MitigationIntent): string {
    return `DeletePath ${JSON.stringify(withdrawRequest(checkedRoute(intent).route))}`;
  }

  function requireClient(code: 'FG_ERR_ADAPTER_APPLY' | 'FG_ERR_ADAPTER_WITHDRAW', id: string): GobgpClient {
    if (!client) {
      throw new FloodgateError(code, `GoBGP adapter "${name}" is not started (intent ${id})`, {
        adapter: name,
        intentId: id,
      });
    }
    return client;
  }

  function receiptFor(
    route: BgpRoute,
    id: string,
    kind: 'flowspec' | 'rtbh',
    appliedAtMs: number,
    uuid?: string,
  ): AdapterReceipt {
    const details: GobgpDetails = {
      api: config.api,
      family: familyName(route),
      routeKey: routeKey(route),
      withdraw: withdrawRequest(route),
      ...(uuid === undefined ? {} : { uuid }),
    };
    return {
      adapter: name,
      intentId: id,
      kind,
      command: addPathCommand(route),
      appliedAtMs,
      details: JSON.parse(JSON.stringify(details)) as Record<string, unknown>,
    };
  }

  async function apply(intent: MitigationIntent): Promise<AdapterReceipt> {
    const { route, intent: bgpIntent } = checkedRoute(intent);
    const api = requireClient('FG_ERR_ADAPTER_APPLY', intent.id);
    const key = routeKey(route);
    // Always sent, even when held: gobgpd replaces the path with an identical one, and a route
    // gobgpd lost (it restarted) is put back.
    const uuid = await api.addPath(pathFor(route));
    const before = held.holders(key).find((h) => h.intentId === intent.id);
    const appliedAtMs = before?.value.receipt.appliedAtMs ?? now();
    const receipt = receiptFor(route, intent.id, bgpIntent.kind, appliedAtMs, uuid.toString('hex'));
    const announced = held.announced(key);
    if (announced && announced.intentId !== intent.id) {
      logger.warn(
        { intent: intent.id, replaced: announced.intentId, route: key },
        'GoBGP: this route replaces another intent with the same match until it is withdrawn (one route per NLRI)',
      );
    }
    held.hold(key, intent.id, { receipt, route });
    seen.add(key);
    logger.info(
      { intent: intent.id, family: familyName(route), command: receipt.command },
      'GoBGP: path added',
    );
    return receipt;
  }

  /** What gobgpd holds locally for a family, by route key. */
  async function listFamily(
    api: GobgpClient,
    family: FamilyName,
    prefixes?: string[],
  ): Promise<Map<string, { route: BgpRoute; path: ApiPath }>> {
    const out = new Map<string, { route: BgpRoute; path: ApiPath }>();
    const paths = await api.listPath(FAMILIES[family], prefixes === undefined ? {} : { prefixes });
    for (const path of paths) {
      if (!isLocal(path)) continue;
      const route = routeOfPath(path);
      if (route) out.set(routeKey(route), { route, path });
    }
    return out;
  }

  async function isPresent(api: GobgpClient, details: GobgpDetails): Promise<boolean> {
    if (seen.has(details.routeKey)) return true;
    const unicast = details.family.endsWith('unicast');
    const prefix = unicast ? details.routeKey.slice(details.routeKey.indexOf(' ') + 1) : undefined;
    const listed = await listFamily(api, details.family, prefix === undefined ? undefined : [prefix]);
    return listed.has(details.routeKey);
  }

  async function withdraw(receipt: AdapterReceipt): Promise<WithdrawResult> {
    const api = requireClient('FG_ERR_ADAPTER_WITHDRAW', receipt.intentId);
    if (receipt.adapter !== name) {
      throw new FloodgateError(
        'FG_ERR_ADAPTER_WITHDRAW',
        `receipt for ${receipt.intentId} was issued by adapter "${receipt.adapter}", not "${name}"`,
        { adapter: name, receiptAdapter: receipt.adapter, intentId: receipt.intentId },
      );
    }
    const details = readDetails(receipt);
    const command = `DeletePath ${JSON.stringify(details.withdraw)}`;
    const holders = held.holders(details.routeKey);
    if (holders.length > 0 && !holders.some((h) => h.intentId === receipt.intentId)) {
      // The route is held by other intents applied since (e.g. a copy list() read back after a
      // restart, with the intent that was re-applied over it): it is not this receipt's to remove.
      logger.warn(
        { intent: receipt.intentId, heldBy: holders.map((h) => h.intentId), route: details.routeKey },
        'GoBGP: not withdrawing: the route is held by another intent with the same match',
      );
      return { command, wasPresent: false };
    }
    if (holders.length > 1) {
      // Another intent shares the route: it stays, announced with the remaining intent's action.
      const { next } = held.release(details.routeKey, receipt.intentId);
      const remaining = next!.value;
      await api.addPath(pathFor(remaining.route));
      logger.info(
        { intent: receipt.intentId, stillHeldBy: next!.intentId, route: details.routeKey },
        'GoBGP: route kept for another intent with the same match',
      );
      return { command: remaining.receipt.command, wasPresent: true };
    }
    if (!(await isPresent(api, details))) {
      held.drop(details.routeKey);
      logger.warn(
        { intent: receipt.intentId, route: details.routeKey },
        'GoBGP: withdraw of a route gobgpd does not hold',
      );
      return { command, wasPresent: false };
    }
    await api.deletePath(details.withdraw.family, details.withdraw.path);
    held.drop(details.routeKey);
    seen.delete(details.routeKey);
    logger.info({ intent: receipt.intentId, command }, 'GoBGP: path withdrawn');
    return { command, wasPresent: true };
  }

  async function list(): Promise<AdapterReceipt[]> {
    const api = requireClient('FG_ERR_ADAPTER_APPLY', 'list');
    const out: AdapterReceipt[] = [];
    seen.clear();
    for (const family of families) {
      for (const [key, { route, path }] of await listFamily(api, family)) {
        const announced = held.announced(key);
        if (announced && JSON.stringify(announced.value.route) === JSON.stringify(route)) {
          // Every intent sharing the route is in place (withdrawing one keeps it for the others).
          seen.add(key);
          for (const h of held.holders(key)) out.push(h.value.receipt);
          continue;
        }
        const content = contentOf(route);
        if (!content || (content.kind !== 'flowspec' && content.kind !== 'rtbh')) continue;
        seen.add(key);
        const ageMs = Number(path.age?.seconds ?? 0) * 1000;
        out.push(receiptFor(route, intentId(content), content.kind, ageMs > 0 ? ageMs : now()));
      }
    }
    return out;
  }

  async function health(): Promise<AdapterHealth> {
    const checkedAtMs = now();
    if (!client) return { ok: false, detail: `GoBGP adapter "${name}" is not started`, checkedAtMs };
    try {
      const g = await client.getBgp();
      return {
        ok: true,
        detail: `gobgpd at ${config.api}: AS ${g.asn}, router id ${g.routerId}`,
        checkedAtMs,
      };
    } catch (e) {
      return { ok: false, detail: (e as Error).message, checkedAtMs };
    }
  }

  async function start(): Promise<void> {
    if (client) return;
    const api = createGobgpClient(config.api, config.timeoutMs);
    client = api;
    // gobgpd restarted (or the API came back): it may have lost our paths, and what list()
    // saw is stale; reconciliation puts back what is missing.
    api.onReconnected(() => {
      logger.info({ api: config.api }, 'GoBGP: API connection re-established');
      seen.clear();
      for (const listener of listeners) listener();
    });
    try {
      const g = await api.getBgp();
      logger.info({ api: config.api, asn: g.asn, routerId: g.routerId }, 'GoBGP adapter started');
    } catch (e) {
      logger.warn({ api: config.api, err: e }, 'GoBGP adapter started, but gobgpd does not answer yet');
    }
  }

  async function stop(): Promise<void> {
    client?.close();
    client = undefined;
  }

  return {
    name,
    capabilities,
    start,
    stop,
    render,
    renderWithdraw,
    apply,
    withdraw,
    list,
    health,
    onReconnect(listener) {
      listeners.push(listener);
    },
  };
}
