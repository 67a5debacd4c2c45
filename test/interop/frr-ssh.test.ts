/**
 * The FRR adapter over SSH against real FRR 8.4 and a real OpenSSH server in the same lab
 * namespace: the adapter, outside the namespace, reaches sshd over a veth pair, runs vtysh there
 * through one kept connection with the host key pinned, FRR's bgpd announces the RTBH routes to a
 * receiving gobgpd, and the test checks what gobgpd got on the wire. A wrong pinned fingerprint
 * stops everything before a command is sent; an sshd restart is reported through onReconnect.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlackholeRoute } from '../../adapters/bgp/routes.js';
import type { MitigationAdapter } from '../../adapters/contract.js';
import { frrConfigSchema } from '../../adapters/frr/config.js';
import { createFrrAdapter } from '../../adapters/frr/frr-adapter.js';
import { isFloodgateError } from '../../core/errors.js';
import { nullLogger } from '../../core/logger.js';
import type { BlackholeIntent } from '../../core/mitigation/intent.js';
import { type BlackholeContent, intentId } from '../../core/mitigation/intent-id.js';
import { type RunningFrr, startFrr, VTYSH } from './frr-lab.js';
import { type RunningGobgp, startGobgp, waitEstablished } from './gobgp-lab.js';
import { type Netns, requireRoot } from './netns.js';
import { type ReceivedRoute, receivedRoutes } from './received-routes.js';
import {
  fingerprintOf,
  makeKey,
  openSshLab,
  type RunningSshd,
  type SshLab,
  type TestUser,
} from './sshd-lab.js';
import { waitFor } from './wait.js';

const FRR_ADDRESS = '10.99.0.4';
const PEER_ADDRESS = '10.99.0.3';

function rtbh(content: Omit<BlackholeContent, 'kind'>): BlackholeIntent {
  const c: BlackholeContent = { kind: 'rtbh', ...content };
  return { ...c, id: intentId(c), incidentId: 'inc-frr-ssh-interop' };
}

const V4 = rtbh({
  ipVersion: 4,
  prefix: '203.0.113.77/32',
  nextHop: '192.0.2.1',
  communities: ['65535:666', '64500:7'],
});
const V6 = rtbh({ ipVersion: 6, prefix: '2001:db8::77/128', nextHop: '100::1', communities: ['65535:666'] });
const V4_ROUTE: BlackholeRoute = {
  kind: 'rtbh',
  version: 4,
  prefix: '203.0.113.77/32',
  nextHop: '192.0.2.1',
  communities: [0xfbf40007, 0xffff029a],
};
const V6_ROUTE: BlackholeRoute = {
  kind: 'rtbh',
  version: 6,
  prefix: '2001:db8::77/128',
  nextHop: '100::1',
  communities: [0xffff029a],
};

describe('FRR adapter over SSH -> sshd -> vtysh -> FRR bgpd -> receiving gobgpd', () => {
  let ns: Netns;
  let dir: string;
  let sshDir: string;
  let lab: SshLab | undefined;
  let sshd: RunningSshd;
  /** The SSH login: unprivileged, in the frrvty group, as docs/adapters.md tells operators. */
  let user: TestUser | undefined;
  let peer: RunningGobgp;
  let frr: RunningFrr;
  const adapters: MitigationAdapter[] = [];

  function newAdapter(hostKey = sshd.hostKey): MitigationAdapter {
    let clock = 1_763_734_800_000;
    const config = frrConfigSchema.parse({
      vtysh: VTYSH,
      vtySocket: frr.vtyDir,
      ssh: {
        host: sshd.address,
        user: user!.name,
        privateKeyFile: sshd.clientKeyFile,
        hostKey,
        connectTimeoutMs: 5_000,
        keepaliveIntervalMs: 1_000,
      },
    });
    const adapter = createFrrAdapter(config, {
      name: 'edge-frr-ssh',
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

  /** FRR's running configuration, read with a local vtysh (not through the adapter). */
  async function runningConfig(): Promise<string> {
    const r = await ns.run([VTYSH, '--vty_socket', frr.vtyDir, '-c', 'show running-config']);
    expect(r.code).toBe(0);
    return r.stdout;
  }

  beforeAll(async () => {
    requireRoot();
    lab = await openSshLab('frrssh');
    ({ ns, sshd, dir: sshDir } = lab);
    dir = mkdtempSync(join(tmpdir(), 'fg-interop-frrssh-'));
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
    // The vty sockets live under the lab dir (mkdtemp makes it 0700): let the frrvty user reach them.
    chmodSync(dir, 0o755);
    user = lab.addUser({ groups: ['frrvty'] });
  });

  afterAll(async () => {
    for (const a of adapters) await a.stop();
    peer?.client.close();
    // The lab's namespace holds FRR and gobgpd too: its cleanup stops them.
    await lab?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a wrong pinned host key: apply fails with FG_ERR_SSH_HOST_KEY and nothing is configured', async () => {
    const wrong = fingerprintOf(`${makeKey(join(sshDir, 'not-the-host-key'))}.pub`);
    const logins = sshd.acceptedLogins();
    const adapter = newAdapter(wrong);
    await adapter.start();
    const health = await adapter.health();
    expect(health.ok).toBe(false);
    expect(health.detail).toMatch(
      new RegExp(
        `^FRR via ${VTYSH} over ssh ${user!.name}@${lab!.link.nsAddress.replaceAll('.', '\\.')}:22: FG_ERR_SSH_HOST_KEY: `,
      ),
    );
    expect(health.detail).toContain(
      `presented host key ${sshd.hostKey} (ssh-ed25519), but the configuration pins ${wrong}`,
    );
    expect(health.detail).not.toContain('\n');
    let error: unknown;
    try {
      await adapter.apply(V4);
    } catch (e) {
      error = e;
    }
    expect(isFloodgateError(error) && error.code).toBe('FG_ERR_SSH_HOST_KEY');
    expect(sshd.acceptedLogins()).toBe(logins);
    const config = await runningConfig();
    expect(config).not.toMatch(/floodgate rtbh/);
    expect(config).not.toMatch(/blackhole tag/);
    expect(await atPeer()).toEqual([]);
  });

  it('RTBH IPv4 and IPv6 over SSH reach the peer, are listed, survive an sshd restart (onReconnect), and leave', async () => {
    const logins = sshd.acceptedLogins();
    const adapter = newAdapter();
    let reconnects = 0;
    adapter.onReconnect!(() => reconnects++);
    await adapter.start();
    const health = await adapter.health();
    expect(health.detail).toBe(
      `FRR via ${VTYSH} over ssh ${user!.name}@${lab!.link.nsAddress}:22: route map FLOODGATE-RTBH redistributed`,
    );
    expect(health.ok).toBe(true);

    const receipts = [await adapter.apply(V4), await adapter.apply(V6)];
    expect(receipts[0]!.command).toMatch(
      /^vtysh -c 'configure terminal' -c 'route-map FLOODGATE-RTBH permit \d+'/,
    );
    await waitForRoutes([V4_ROUTE, V6_ROUTE], 'both RTBH routes at the peer with their communities');
    expect((await adapter.list()).map((r) => r.intentId).sort()).toEqual([V4.id, V6.id].sort());
    // Every vtysh run so far (health, reads, changes) went over one SSH login.
    expect(sshd.acceptedLogins()).toBe(logins + 1);

    // The router's sshd restarts: the next command reconnects and the adapter says so.
    await sshd.restart();
    await waitFor(
      'list() over a new connection',
      async () => (await adapter.list()).length === 2 || undefined,
    );
    expect(reconnects).toBe(1);
    expect(sshd.acceptedLogins()).toBe(logins + 2);

    for (const r of receipts)
      expect((await adapter.withdraw(JSON.parse(JSON.stringify(r)))).wasPresent).toBe(true);
    await waitForRoutes([], 'both RTBH routes withdrawn from the peer');
    expect(await adapter.list()).toEqual([]);
    const config = await runningConfig();
    expect(config).not.toMatch(/floodgate rtbh/);
    expect(config).not.toMatch(/blackhole tag/);
  }, 90_000);
});
