/**
 * The GoBGP adapter against the real gobgpd: Floodgate's adapter adds paths to gobgpd "edge"
 * over gRPC, edge announces them over iBGP to a second gobgpd "peer", and the test reads what
 * the peer received in BGP wire form and decodes it with Floodgate's own codecs. Then the
 * restarts: Floodgate's adapter going away while gobgpd keeps the routes (reconciled through
 * list()), and gobgpd itself restarting (reconnect, routes put back).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../adapters/bgp/bytes.js';
import { encodeExtendedCommunity } from '../../adapters/bgp/extended-community.js';
import { encodeFlowSpecNlri } from '../../adapters/bgp/flowspec-nlri.js';
import { routeFor } from '../../adapters/bgp/intent-routes.js';
import type { BgpRoute } from '../../adapters/bgp/routes.js';
import { routeExtCommunities } from '../../adapters/bird/show-route.js';
import type { AdapterReceipt, MitigationAdapter } from '../../adapters/contract.js';
import { type FamilyName, familyName } from '../../adapters/gobgp/api-codec.js';
import { gobgpConfigSchema } from '../../adapters/gobgp/config.js';
import { createGobgpAdapter } from '../../adapters/gobgp/gobgp-adapter.js';
import { createDispatcher } from '../../appliance/dispatcher.js';
import { dispatchConfigSchema } from '../../appliance/dispatcher-config.js';
import { openSqliteStore } from '../../appliance/store/sqlite-store.js';
import type { ActivateAction } from '../../core/escalation/run.js';
import { nullLogger } from '../../core/logger.js';
import { defaultMitigationConfig } from '../../core/mitigation/config.js';
import type { BlackholeIntent, FlowSpecAction, FlowSpecIntent } from '../../core/mitigation/intent.js';
import { type IntentContent, intentId } from '../../core/mitigation/intent-id.js';
import { type RunningGobgp, startGobgp, waitEstablished } from './gobgp-lab.js';
import { type BirdDaemon, startBird } from './lab/daemons.js';
import { createNetns, type Netns, requireRoot } from './netns.js';
import { type ReceivedRoute, receivedRoutes } from './received-routes.js';
import { waitFor } from './wait.js';

const FAMILIES: FamilyName[] = ['ipv4-unicast', 'ipv6-unicast', 'ipv4-flowspec', 'ipv6-flowspec'];
const EDGE = '127.0.0.2';
const PEER = '127.0.0.3';
/** A BIRD receiving the FlowSpec routes too: an implementation independent of GoBGP parses them. */
const BIRD = '127.0.0.4';

const BIRD_CONF = `router id 10.0.0.4;
log stderr all;
flow4 table ft4;
flow6 table ft6;
protocol device {}
protocol bgp edge {
  local ${BIRD} as 65001;
  neighbor ${EDGE} as 65001;
  strict bind on;
  passive on;
  flow4 { table ft4; import all; export none; };
  flow6 { table ft6; import all; export none; };
}
`;

function withId<T extends IntentContent>(content: T): T & { id: string; incidentId: string } {
  return { ...content, id: intentId(content), incidentId: 'inc-interop' };
}

const ACTIONS: FlowSpecAction[] = [
  { type: 'discard' },
  { type: 'rate-limit', bytesPerSecond: 125000 },
  { type: 'redirect', routeTarget: '65000:100' },
  { type: 'mark', dscp: 46 },
];

const FLOWSPEC: FlowSpecIntent[] = ACTIONS.flatMap((action, i) => [
  withId({
    kind: 'flowspec',
    ipVersion: 4,
    match: {
      destination: `203.0.113.${11 + i}/32`,
      protocols: [17],
      sourcePorts: [53, 123],
      packetLength: { min: 512, max: 1500 },
    },
    action,
  }) as FlowSpecIntent,
  withId({
    kind: 'flowspec',
    ipVersion: 6,
    match: { destination: `2001:db8::${11 + i}/128`, protocols: [6], tcpFlagsSet: 0x02, tcpFlagsClear: 0x10 },
    action,
  }) as FlowSpecIntent,
]);

const RTBH: BlackholeIntent[] = [
  withId({
    kind: 'rtbh',
    ipVersion: 4,
    prefix: '203.0.113.66/32',
    nextHop: '192.0.2.1',
    communities: ['65535:666', '64500:1'],
  }) as BlackholeIntent,
  withId({
    kind: 'rtbh',
    ipVersion: 6,
    prefix: '2001:db8::66/128',
    nextHop: '100::1',
    communities: ['65535:666'],
  }) as BlackholeIntent,
];

describe('GoBGP adapter -> gobgpd -> receiving gobgpd', () => {
  let ns: Netns;
  let dir: string;
  let edge: RunningGobgp;
  let peer: RunningGobgp;
  let bird: BirdDaemon;
  const adapters: MitigationAdapter[] = [];

  function newAdapter(): MitigationAdapter {
    let clock = 1_763_734_800_000;
    const adapter = createGobgpAdapter(gobgpConfigSchema.parse({ api: edge.api, timeoutMs: 5_000 }), {
      name: 'edge-gobgp',
      logger: nullLogger,
      now: () => clock++,
    });
    adapters.push(adapter);
    return adapter;
  }

  async function startEdge(): Promise<RunningGobgp> {
    return startGobgp(ns, dir, {
      name: 'edge',
      asn: 65001,
      routerId: '10.0.0.2',
      listen: [EDGE],
      neighbors: [
        { address: PEER, peerAs: 65001, localAddress: EDGE, families: FAMILIES },
        { address: BIRD, peerAs: 65001, localAddress: EDGE, families: ['ipv4-flowspec', 'ipv6-flowspec'] },
      ],
    });
  }

  /** What the peer holds from the edge, for every family. */
  async function atPeer(): Promise<ReceivedRoute[]> {
    const out: ReceivedRoute[] = [];
    for (const f of FAMILIES) out.push(...(await receivedRoutes(peer.client, EDGE, f)));
    return out;
  }

  const sameRoute = (a: BgpRoute, b: BgpRoute) => JSON.stringify(a) === JSON.stringify(b);

  async function waitForRoutes(wanted: BgpRoute[], what: string): Promise<ReceivedRoute[]> {
    let last: ReceivedRoute[] = [];
    return waitFor(
      what,
      async () => {
        last = await atPeer();
        const all = wanted.every((w) => last.some((r) => sameRoute(r.route, w)));
        return all && last.length === wanted.length ? last : undefined;
      },
      {
        timeoutMs: 15_000,
        describe: () => `peer holds:\n${last.map((r) => JSON.stringify(r.route)).join('\n')}`,
      },
    );
  }

  beforeAll(async () => {
    requireRoot();
    ns = await createNetns('gobgp');
    dir = mkdtempSync(join(tmpdir(), 'fg-interop-gobgp-'));
    await ns.addAddress('127.0.0.2/8');
    await ns.addAddress('127.0.0.3/8');
    await ns.addAddress('127.0.0.4/8');
    bird = await startBird(ns, dir, 'bird', BIRD_CONF);
    peer = await startGobgp(ns, dir, {
      name: 'peer',
      asn: 65001,
      routerId: '10.0.0.3',
      listen: [PEER],
      neighbors: [{ address: EDGE, peerAs: 65001, localAddress: PEER, passive: true, families: FAMILIES }],
    });
    edge = await startEdge();
    await waitEstablished(ns, edge, PEER);
    await bird.waitEstablished('edge');
  });

  afterAll(async () => {
    for (const a of adapters) await a.stop();
    edge?.client.close();
    peer?.client.close();
    await ns?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('IPv4 and IPv6 FlowSpec (discard, rate-limit, redirect, mark) and RTBH with communities arrive byte for byte, and leave', async () => {
    const adapter = newAdapter();
    await adapter.start();
    expect((await adapter.health()).ok).toBe(true);
    const receipts: AdapterReceipt[] = [];
    for (const intent of [...FLOWSPEC, ...RTBH]) receipts.push(await adapter.apply(intent));

    const wanted = [...FLOWSPEC, ...RTBH].map((i) => routeFor(i));
    const received = await waitForRoutes(wanted, 'every FlowSpec and RTBH route at the peer');
    for (const intent of FLOWSPEC) {
      const route = routeFor(intent);
      const got = received.find((r) => sameRoute(r.route, route));
      // The NLRI a router receives is exactly what Floodgate's shared encoder writes.
      expect(got?.nlriHex).toBe(
        toHex(encodeFlowSpecNlri(route.kind === 'flowspec' ? route.nlri : (undefined as never))),
      );
    }
    const rtbh4 = received.find((r) => r.route.kind === 'rtbh' && r.route.version === 4)?.route;
    expect(rtbh4).toEqual({
      kind: 'rtbh',
      version: 4,
      prefix: '203.0.113.66/32',
      nextHop: '192.0.2.1',
      communities: [0xfbf40001, 0xffff029a],
    });
    // BIRD parsed the same rules: destination, match and the action's extended community. (It
    // prints "SYN set" as !0x0/0x2, "any of 0x2 is not none", the term our single-flag rule is.)
    let birdRoutes: Awaited<ReturnType<BirdDaemon['routes']>> = [];
    await waitFor(
      'every FlowSpec rule in BIRD',
      async () => {
        birdRoutes = [...(await bird.routes('ft4')), ...(await bird.routes('ft6'))];
        return birdRoutes.length === FLOWSPEC.length ? true : undefined;
      },
      { timeoutMs: 15_000, describe: () => birdRoutes.map((r) => r.network).join('\n') },
    );
    for (const intent of FLOWSPEC) {
      const got = birdRoutes.find((r) => r.network.includes(`dst ${intent.match.destination}`));
      expect(got?.network, intent.match.destination).toMatch(
        intent.ipVersion === 4
          ? /proto 17; sport 53,123; length 512\.\.1500;/
          : /next header 6; tcp flags !0x0\/0x2 && 0x0\/0x10;/,
      );
      const route = routeFor(intent);
      const bytes = encodeExtendedCommunity(
        route.kind === 'flowspec' ? route.actions[0]! : (undefined as never),
      );
      const view = new DataView(bytes.buffer);
      expect(routeExtCommunities(got!)).toEqual([[view.getUint32(0), view.getUint32(4)]]);
    }
    expect(new Set((await adapter.list()).map((r) => r.intentId))).toEqual(
      new Set([...FLOWSPEC, ...RTBH].map((i) => i.id)),
    );

    // Withdraw one at a time: each leaves the peer while the others stay.
    const left = [...wanted];
    for (const receipt of receipts) {
      expect((await adapter.withdraw(receipt)).wasPresent).toBe(true);
      const index = [...FLOWSPEC, ...RTBH].findIndex((i) => i.id === receipt.intentId);
      left.splice(
        left.findIndex((r) => sameRoute(r, wanted[index]!)),
        1,
      );
      await waitForRoutes(left, `withdrawal of ${receipt.intentId} (${familyName(wanted[index]!)})`);
    }
    expect(await adapter.list()).toEqual([]);
    await waitFor('BIRD empty', async () =>
      (await bird.routes('ft4')).length + (await bird.routes('ft6')).length === 0 ? true : undefined,
    );
    await adapter.stop();
  }, 90_000);

  it('Floodgate restarted while gobgpd holds the routes: reconciled through list(); gobgpd restarted: routes put back', async () => {
    let clock = 1_763_734_800_000;
    const now = () => clock;
    const store = openSqliteStore(':memory:', now);
    const mitigation = defaultMitigationConfig();
    const makeDispatcher = (adapter: MitigationAdapter) =>
      createDispatcher({
        store,
        adapters: [adapter],
        caps: mitigation.caps,
        retry: dispatchConfigSchema.parse({}).retry,
        logger: nullLogger,
        now,
      });
    const intents = [FLOWSPEC[0]!, RTBH[0]!];
    const action: ActivateAction = {
      type: 'activate',
      atMs: clock,
      runId: 'run-interop',
      incidentId: 'inc-interop',
      runbook: 'interop',
      tier: 1,
      tierName: 'flowspec and rtbh',
      mode: 'automatic',
      holder: 'run-interop/1',
      deliveries: intents.map((intent) => ({ intent, adapters: null })),
      refused: [],
      cause: 'detected',
      reason: 'interop test',
    };

    // First life: the tier fires, the routes reach the peer.
    const first = newAdapter();
    await first.start();
    await makeDispatcher(first).activate(action);
    const wanted = intents.map((i) => routeFor(i));
    await waitForRoutes(wanted, 'the tier routes at the peer');
    await first.stop(); // Floodgate exits; gobgpd keeps announcing.

    // An orphan: in gobgpd, wanted by nothing in the store.
    const orphan = FLOWSPEC[3]!;
    const stray = newAdapter();
    await stray.start();
    await stray.apply(orphan);
    await stray.stop();
    await waitForRoutes([...wanted, routeFor(orphan)], 'the orphan at the peer');

    // Second life: a new adapter instance, the same store; reconciliation reads gobgpd.
    clock += 60_000;
    const second = newAdapter();
    await second.start();
    const dispatcher = makeDispatcher(second);
    const [report] = await dispatcher.reconcile('start');
    expect(report).toMatchObject({ adapter: 'edge-gobgp', reapplied: 0, orphansWithdrawn: 1, error: null });
    await waitForRoutes(wanted, 'the orphan gone, the tier routes still at the peer');

    // gobgpd restarts and forgets every path; the adapter notices the reconnect.
    let reconnects = 0;
    second.onReconnect?.(() => {
      reconnects++;
      void dispatcher.reconcile('reconnect', second.name);
    });
    await edge.stop();
    await waitForRoutes([], 'the routes gone from the peer with gobgpd');
    edge = await startEdge();
    await waitEstablished(ns, edge, PEER);
    await waitFor('the adapter to notice gobgpd came back', () => (reconnects > 0 ? true : undefined), {
      timeoutMs: 30_000,
    });
    await dispatcher.idle();
    await waitForRoutes(wanted, 'the tier routes put back after gobgpd restarted');

    // The tier lets go: the routes leave.
    await dispatcher.release({
      type: 'release',
      atMs: clock,
      runId: action.runId,
      incidentId: action.incidentId,
      runbook: action.runbook,
      tier: action.tier,
      tierName: action.tierName,
      holder: action.holder,
      intents,
      reason: 'interop test done',
    });
    await waitForRoutes([], 'the tier routes withdrawn');
    await second.stop();
    store.close();
  }, 120_000);
});
