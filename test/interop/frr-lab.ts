/**
 * FRR 8.4 for the interop lab: zebra, staticd and bgpd from /usr/lib/frr inside a lab namespace,
 * each with a private zebra socket, vty socket directory and pid file in a temp dir (never the
 * system ones), bgpd listening on a non-127 loopback address (zebra refuses 127.x as a local
 * address). vtysh reaches them through `--vty_socket DIR` from outside the namespace.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Netns, NetnsProcess } from './netns.js';
import { waitFor } from './wait.js';

const FRR_BIN = '/usr/lib/frr';
export const VTYSH = '/usr/bin/vtysh';

export interface FrrSpec {
  asn: number;
  routerId: string;
  /** bgpd's listen and update-source address: a non-127 address on lo. */
  address: string;
  neighbor: { address: string; asn: number };
  /** The route map the adapter manages and `redistribute static` uses. */
  routeMap: string;
}

/** The router-side configuration docs/adapters.md tells operators to write, for the lab. */
export function frrConf(spec: FrrSpec): string {
  const n = spec.neighbor.address;
  return [
    'frr defaults traditional',
    'hostname fg-lab-frr',
    'log stdout informational',
    'service integrated-vtysh-config',
    '!',
    `route-map ${spec.routeMap} deny 65535`,
    'exit',
    '!',
    `router bgp ${spec.asn}`,
    ` bgp router-id ${spec.routerId}`,
    ' no bgp default ipv4-unicast',
    ' no bgp ebgp-requires-policy',
    ` neighbor ${n} remote-as ${spec.neighbor.asn}`,
    ` neighbor ${n} update-source ${spec.address}`,
    ` neighbor ${n} timers connect 1`,
    ' address-family ipv4 unicast',
    `  redistribute static route-map ${spec.routeMap}`,
    `  neighbor ${n} activate`,
    ' exit-address-family',
    ' address-family ipv6 unicast',
    `  redistribute static route-map ${spec.routeMap}`,
    `  neighbor ${n} activate`,
    ' exit-address-family',
    'exit',
    '',
  ].join('\n');
}

export interface RunningFrr {
  /** The vty socket directory to give vtysh (`--vty_socket`). */
  vtyDir: string;
  processes: NetnsProcess[];
  stop(): Promise<void>;
}

export async function startFrr(ns: Netns, dir: string, spec: FrrSpec): Promise<RunningFrr> {
  const run = join(dir, 'frr');
  mkdirSync(run, { recursive: true });
  const conf = join(run, 'frr.conf');
  writeFileSync(conf, frrConf(spec));
  writeFileSync(join(run, 'vtysh.conf'), 'service integrated-vtysh-config\n');
  // The daemons drop to frr:frr and must write their sockets and pid files here.
  const frr = userInfo().uid === 0 ? lookupFrrIds() : undefined;
  if (frr) {
    chownSync(dir, frr.uid, frr.gid);
    chownSync(run, frr.uid, frr.gid);
  }
  chmodSync(run, 0o775);
  const zserv = join(run, 'zserv.api');
  const common = (daemon: string) => [
    '-u',
    'frr',
    '-g',
    'frr',
    '-z',
    zserv,
    '-i',
    join(run, `${daemon}.pid`),
    '--vty_socket',
    run,
    '-f',
    conf,
    '--log',
    'stdout',
  ];
  const processes: NetnsProcess[] = [];
  const zebra = ns.start([join(FRR_BIN, 'zebra'), ...common('zebra')], {
    name: 'zebra',
    logFile: join(dir, 'zebra.log'),
  });
  processes.push(zebra);
  await waitFor('zebra vty socket', async () => (await vtyUp(ns, run, 'zebra')) || undefined, {
    timeoutMs: 15_000,
    describe: () => zebra.output(),
  });
  processes.push(
    ns.start([join(FRR_BIN, 'staticd'), ...common('staticd')], {
      name: 'staticd',
      logFile: join(dir, 'staticd.log'),
    }),
  );
  const bgpd = ns.start([join(FRR_BIN, 'bgpd'), ...common('bgpd'), '-l', spec.address, '-p', '179'], {
    name: 'bgpd',
    logFile: join(dir, 'bgpd.log'),
  });
  processes.push(bgpd);
  await waitFor(
    'staticd and bgpd vty sockets',
    async () => ((await vtyUp(ns, run, 'staticd')) && (await vtyUp(ns, run, 'bgpd'))) || undefined,
    { timeoutMs: 15_000, describe: () => processes.map((p) => `${p.name}:\n${p.output()}`).join('\n') },
  );
  return {
    vtyDir: run,
    processes,
    stop: async () => {
      for (const p of [...processes].reverse()) await p.stop();
    },
  };
}

function lookupFrrIds(): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('frr:'));
    if (!line) return undefined;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

async function vtyUp(ns: Netns, vtyDir: string, daemon: string): Promise<boolean> {
  const r = await ns.run([VTYSH, '--vty_socket', vtyDir, '-d', daemon, '-c', 'show version'], {
    timeoutMs: 5_000,
  });
  return r.code === 0;
}
