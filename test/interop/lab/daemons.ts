/**
 * Real BGP daemons for the interop lab, each started inside a test's network namespace with its
 * own config, control socket, pid file and log in the test's temporary directory (never the
 * system ones), in the foreground so the PID held is the daemon's and cleanup kills it.
 *
 * A missing daemon fails the test with the command that installs it: a test that skips itself
 * proves nothing.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BirdRoute, parseBirdRoutes } from '../../../adapters/bird/show-route.js';
import { findExecutable } from '../../lab/tools.js';
import type { Netns, NetnsProcess } from '../netns.js';
import { waitFor } from '../wait.js';

const PACKAGES: Readonly<Record<string, string>> = { exabgp: 'exabgp', bird: 'bird2', birdc: 'bird2' };

export function requireDaemon(command: 'exabgp' | 'bird' | 'birdc'): string {
  const found = findExecutable(command);
  if (found !== undefined) return found;
  const pkg = PACKAGES[command]!;
  throw new Error(
    `${command} is required by the interop lab and missing. Install it (as root): ` +
      `apt-get update && apt-get install -y --no-install-recommends ${pkg}`,
  );
}

export interface BirdDaemon {
  readonly socket: string;
  readonly configFile: string;
  readonly process: NetnsProcess;
  /** Runs `birdc -s SOCKET ...args` (from outside the namespace: the socket is a file). */
  birdc(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** The routes of a table (`show route table T all`). */
  routes(table: string): Promise<BirdRoute[]>;
  /** `show protocols` line of one protocol, e.g. "exabgp BGP --- up 12:00:00.000 Established". */
  protocolLine(name: string): Promise<string>;
  /** Waits until the BGP protocol is Established. */
  waitEstablished(protocol: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `bird -f` on a config text written to DIR/NAME.conf. */
export async function startBird(ns: Netns, dir: string, name: string, config: string): Promise<BirdDaemon> {
  const bird = requireDaemon('bird');
  const birdc = requireDaemon('birdc');
  const configFile = join(dir, `${name}.conf`);
  const socket = join(dir, `${name}.ctl`);
  writeFileSync(configFile, config);
  const proc = ns.start([bird, '-f', '-c', configFile, '-s', socket, '-P', join(dir, `${name}.pid`)], {
    name: `bird ${name}`,
    logFile: join(dir, `${name}.log`),
  });
  const run = (args: readonly string[]) => ns.run([birdc, '-s', socket, ...args], { timeoutMs: 10_000 });
  const daemon: BirdDaemon = {
    socket,
    configFile,
    process: proc,
    birdc: run,
    async routes(table) {
      const r = await run(['show', 'route', 'table', table, 'all']);
      if (r.code !== 0) throw new Error(`birdc show route table ${table} failed: ${r.stdout}${r.stderr}`);
      return parseBirdRoutes(r.stdout);
    },
    async protocolLine(protocol) {
      const r = await run(['show', 'protocols', protocol]);
      return r.stdout.split('\n').find((l) => l.startsWith(`${protocol} `)) ?? '';
    },
    async waitEstablished(protocol, timeoutMs = 30_000) {
      await waitFor(
        `BIRD ${name}: protocol ${protocol} Established`,
        async () => (await daemon.protocolLine(protocol)).includes('Established'),
        {
          timeoutMs,
          intervalMs: 100,
          describe: async () => `${await daemon.protocolLine(protocol)}\n${proc.output().slice(-2000)}`,
        },
      );
    },
    async stop() {
      await proc.stop();
    },
  };
  await waitFor(
    `BIRD ${name} to answer on ${socket}`,
    async () => existsSync(socket) && (await run(['show', 'status'])).code === 0,
    {
      timeoutMs: 10_000,
      intervalMs: 50,
      describe: () => proc.output(),
    },
  );
  return daemon;
}

export interface ExabgpDaemon {
  readonly configFile: string;
  /** The running ExaBGP (undefined while stopped). */
  readonly process: NetnsProcess | undefined;
  start(): void;
  stop(): Promise<void>;
  log(): string;
}

/** ExaBGP 4.2 on a config file, as root (so the helper it runs may use the adapter's socket). */
export function exabgpDaemon(ns: Netns, dir: string, configFile: string): ExabgpDaemon {
  const exabgp = requireDaemon('exabgp');
  const logFile = join(dir, 'exabgp.log');
  let current: NetnsProcess | undefined;
  return {
    configFile,
    get process() {
      return current;
    },
    start() {
      current = ns.start([exabgp, configFile], {
        name: 'exabgp',
        logFile: join(dir, 'exabgp.out'),
        cwd: dir,
        env: {
          'exabgp.daemon.user': 'root',
          'exabgp.daemon.daemonize': 'false',
          'exabgp.log.destination': logFile,
          'exabgp.log.level': 'INFO',
          // No named-pipe CLI: nothing in the lab uses it, and it wants /run/exabgp.
          'exabgp.api.cli': 'false',
        },
      });
    },
    async stop() {
      await current?.stop(5_000);
      current = undefined;
    },
    log: () => current?.output() ?? '',
  };
}
