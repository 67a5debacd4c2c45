/**
 * gobgpd for the interop lab: writes a gobgpd.toml, starts the daemon inside a lab namespace
 * with its gRPC API on a unix socket (reachable from the test process outside the namespace),
 * and waits for the API and for BGP sessions.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGobgpClient, type GobgpClient } from '../../adapters/gobgp/api-client.js';
import type { Netns, NetnsProcess } from './netns.js';
import { waitFor } from './wait.js';

export const GOBGPD = '/usr/bin/gobgpd';
export const GOBGP_CLI = '/usr/bin/gobgp';

export interface GobgpNeighbor {
  address: string;
  peerAs: number;
  /** Our address toward it. */
  localAddress: string;
  /** Wait for the peer to connect (the other side is active). */
  passive?: boolean;
  families: string[];
  /** The peer's BGP port when not 179. */
  port?: number;
}

export interface GobgpSpec {
  name: string;
  asn: number;
  routerId: string;
  /** Addresses the BGP listener binds. */
  listen: string[];
  port?: number;
  neighbors: GobgpNeighbor[];
}

export function gobgpToml(spec: GobgpSpec): string {
  const lines = [
    '[global.config]',
    `  as = ${spec.asn}`,
    `  router-id = "${spec.routerId}"`,
    `  port = ${spec.port ?? 179}`,
    `  local-address-list = [${spec.listen.map((a) => `"${a}"`).join(', ')}]`,
  ];
  for (const n of spec.neighbors) {
    lines.push(
      '',
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${n.address}"`,
      `    peer-as = ${n.peerAs}`,
      '  [neighbors.transport.config]',
      `    local-address = "${n.localAddress}"`,
      ...(n.passive ? ['    passive-mode = true'] : []),
      ...(n.port ? [`    remote-port = ${n.port}`] : []),
      '  [neighbors.timers.config]',
      '    connect-retry = 1',
      '    hold-time = 9',
      '    keepalive-interval = 3',
    );
    for (const f of n.families) {
      lines.push(
        '  [[neighbors.afi-safis]]',
        '    [neighbors.afi-safis.config]',
        `      afi-safi-name = "${f}"`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface RunningGobgp {
  spec: GobgpSpec;
  /** "unix:///..." */
  api: string;
  socket: string;
  process: NetnsProcess;
  client: GobgpClient;
  stop(): Promise<void>;
}

/** Starts gobgpd with `spec` in `ns`, its API on `<dir>/<name>.sock`; resolves once the API answers. */
export async function startGobgp(ns: Netns, dir: string, spec: GobgpSpec): Promise<RunningGobgp> {
  const conf = join(dir, `${spec.name}.toml`);
  const socket = join(dir, `${spec.name}.sock`);
  writeFileSync(conf, gobgpToml(spec));
  const api = `unix://${socket}`;
  const process = ns.start([GOBGPD, '-f', conf, '-p', '--api-hosts', api, '--pprof-disable', '-l', 'info'], {
    name: spec.name,
    logFile: join(dir, `${spec.name}.log`),
  });
  const client = createGobgpClient(api, 2_000);
  await waitFor(
    `gobgpd ${spec.name} API on ${api}`,
    async () => {
      if (!process.running()) throw new Error(`gobgpd ${spec.name} exited:\n${process.output()}`);
      return (await client.getBgp()).asn === spec.asn;
    },
    { timeoutMs: 15_000, intervalMs: 100, describe: () => process.output() },
  );
  return {
    spec,
    api,
    socket,
    process,
    client,
    stop: async () => {
      client.close();
      await process.stop();
    },
  };
}

/** Waits until gobgpd's session with `neighbor` is established (via the CLI, which speaks JSON). */
export async function waitEstablished(ns: Netns, gobgp: RunningGobgp, neighbor: string): Promise<void> {
  let last = '';
  await waitFor(
    `BGP session ${gobgp.spec.name} -> ${neighbor} established`,
    async () => {
      const r = await ns.run([GOBGP_CLI, '--target', gobgp.api, 'neighbor', neighbor, '-j'], {
        timeoutMs: 5_000,
      });
      last = r.stdout + r.stderr;
      if (r.code !== 0) return undefined;
      const state = (JSON.parse(r.stdout) as { state?: { session_state?: string | number } }).state;
      return state?.session_state === 'established' || state?.session_state === 6 ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, describe: () => `${last}\n${gobgp.process.output()}` },
  );
}
