/**
 * The FRR adapter against real FRR 8.4: Floodgate configures tagged blackhole routes and the
 * redistribution route map through vtysh, FRR's bgpd announces them over iBGP to a gobgpd, and
 * the test checks what gobgpd received on the wire: prefix, next hop and communities, then that
 * they leave again. FRR listens on a non-127 loopback address: zebra refuses 127.x, and Linux
 * drops traffic between 127.x and other addresses, so the receiving gobgpd has one too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlackholeRoute } from '../../adapters/bgp/routes.js';
import type { MitigationAdapter } from '../../adapters/contract.js';
import { frrConfigSchema } from '../../adapters/frr/config.js';
import { createFrrAdapter } from '../../adapters/frr/frr-adapter.js';
import { nullLogger } from '../../core/logger.js';
import type { BlackholeIntent } from '../../core/mitigation/intent.js';
import { type BlackholeContent, intentId } from '../../core/mitigation/intent-id.js';
import { type RunningFrr, startFrr, VTYSH } from './frr-lab.js';
import { type RunningGobgp, startGobgp, waitEstablished } from './gobgp-lab.js';
import { createNetns, type Netns, requireRoot } from './netns.js';
import { type ReceivedRoute, receivedRoutes } from './received-routes.js';
import { waitFor } from './wait.js';

const FRR_ADDRESS = '10.99.0.4';
const PEER_ADDRESS = '10.99.0.3';

function rtbh(content: Omit<BlackholeContent, 'kind'>): BlackholeIntent {
  const c: BlackholeContent = { kind: 'rtbh', ...content };
  return { ...c, id: intentId(c), incidentId: 'inc-frr-interop' };
}

describe('FRR adapter -> FRR bgpd -> receiving gobgpd', () => {
  let ns: Netns;
  let dir: string;
  let peer: RunningGobgp;
  let frr: RunningFrr;
  const adapters: MitigationAdapter[] = [];

  function newAdapter(): MitigationAdapter {
    let clock = 1_763_734_800_000;
    const adapter = createFrrAdapter(frrConfigSchema.parse({ vtysh: VTYSH, vtySocket: frr.vtyDir }), {
      name: 'edge-frr',
      logger: nullLogger,
      now: () => clock++,
    });
    adapters.push(adapter);
    return adapter;
  }

  async function atPeer(): Promise<ReceivedRoute[]> {
    return [
      ...(await receivedRoutes(peer.client, FRR_ADDRESS, 'ipv4-unicast')),
      ...(await receivedRoutes(peer.client, FRR_ADDRESS, 'ipv6-unicast')),
    ];
  }

  async function waitForRoutes(wanted: BlackholeRoute[], what: string): Promise<void> {
    let last: ReceivedRoute[] = [];
    await waitFor(
      what,
      async () => {
        last = await atPeer();
        const key = (r: unknown) => JSON.stringify(r);
        const got = new Set(last.map((r) => key(r.route)));
        return last.length === wanted.length && wanted.every((w) => got.has(key(w))) ? true : undefined;
      },
      {
        timeoutMs: 20_000,
        describe: () => `peer holds:\n${last.map((r) => JSON.stringify(r.route)).join('\n')}`,
      },
    );
  }

  beforeAll(async () => {
    requireRoot();
    ns = await createNetns('frr');
    dir = mkdtempSync(join(tmpdir(), 'fg-interop-frr-'));
    await ns.addAddress(`${PEER_ADDRESS}/32`);
    await ns.addAddress(`${FRR_ADDRESS}/32`);
    peer = await startGobgp(ns, dir, {
      name: 'peer',
      asn: 65001,
      routerId: PEER_ADDRESS,
      listen: [PEER_ADDRESS],
      neighbors: [
        {
          address: FRR_ADDRESS,
          peerAs: 65001,
          localAddress: PEER_ADDRESS,
          passive: true,
          families: ['ipv4-unicast', 'ipv6-unicast'],
        },
      ],
    });
    frr = await startFrr(ns, dir, {
      asn: 65001,
      routerId: FRR_ADDRESS,
      address: FRR_ADDRESS,
      neighbor: { address: PEER_ADDRESS, asn: 65001 },
      routeMap: 'FLOODGATE-RTBH',
    });
    await waitEstablished(ns, peer, FRR_ADDRESS);
  });

  afterAll(async () => {
    for (const a of adapters) await a.stop();
    peer?.client.close();
    await ns?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('RTBH IPv4 and IPv6 with communities and next hop reach the peer, are listed back after a restart, and leave', async () => {
    const adapter = newAdapter();
    await adapter.start();
    expect(await adapter.health()).toMatchObject({ ok: true });
    const v4 = rtbh({
      ipVersion: 4,
      prefix: '203.0.113.66/32',
      nextHop: '192.0.2.1',
      communities: ['65535:666', '64500:1'],
      upstream: 'transit-a',
    });
    const v6 = rtbh({
      ipVersion: 6,
      prefix: '2001:db8::66/128',
      nextHop: '100::1',
      communities: ['65535:666'],
    });
    const receipts = [await adapter.apply(v4), await adapter.apply(v6)];
    await waitForRoutes(
      [
        {
          kind: 'rtbh',
          version: 4,
          prefix: '203.0.113.66/32',
          nextHop: '192.0.2.1',
          communities: [0xfbf40001, 0xffff029a],
        },
        {
          kind: 'rtbh',
          version: 6,
          prefix: '2001:db8::66/128',
          nextHop: '100::1',
          communities: [0xffff029a],
        },
      ],
      'both RTBH routes at the peer with their communities',
    );

    // A new adapter instance (Floodgate restarted) reads the same intents back from FRR.
    const again = newAdapter();
    await again.start();
    expect((await again.list()).map((r) => r.intentId).sort()).toEqual([v4.id, v6.id].sort());
    expect((await again.apply(v4)).command).toBe(receipts[0]!.command);

    for (const r of receipts)
      expect((await again.withdraw(JSON.parse(JSON.stringify(r)))).wasPresent).toBe(true);
    await waitForRoutes([], 'both RTBH routes withdrawn from the peer');
    expect(await adapter.list()).toEqual([]);
    const config = await ns.run([VTYSH, '--vty_socket', frr.vtyDir, '-c', 'show running-config']);
    expect(config.stdout).not.toMatch(/floodgate rtbh/);
    expect(config.stdout).not.toMatch(/blackhole tag/);
  }, 60_000);
});
