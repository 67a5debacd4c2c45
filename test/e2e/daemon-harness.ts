/**
 * A real `floodgate run` for end-to-end tests: a config in a temporary directory, the process
 * with its log kept for failure messages, NetFlow v5 attack datagrams stamped with the current
 * time, and polling of the HTTP API.
 */
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli } from '../helpers/cli.js';
import { encodeNetflowV5 } from '../helpers/netflow-v5.js';
import { freeTcpPort, freeUdpPort } from '../helpers/ports.js';

export interface Harness {
  dir: string;
  stateDir: string;
  configPath: string;
  netflowPort: number;
  api: string;
  /** Starts (or restarts) the daemon on the config. */
  start(): ChildProcess;
  /** The running daemon, if any. */
  readonly daemon: ChildProcess | undefined;
  stop(signal?: NodeJS.Signals): Promise<void>;
  getJson<T>(path: string): Promise<T>;
  waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  waitHealthy(): Promise<void>;
  /** A few seconds of an NTP reflection on `target` at about 3000 pps. */
  attack(target: string): Promise<void>;
  cleanup(): Promise<void>;
}

/** `configLines(ports)` gives the YAML apart from collectors, http and store, which the harness adds. */
export async function createHarness(configLines: string[]): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-e2e-'));
  const stateDir = join(dir, 'state');
  const netflowPort = await freeUdpPort();
  const sflowPort = await freeUdpPort();
  const httpPort = await freeTcpPort();
  const api = `http://127.0.0.1:${httpPort}`;
  const configPath = join(dir, 'floodgate.yaml');
  writeFileSync(
    configPath,
    [
      ...configLines,
      'collectors:',
      `  netflow: { listen: ["127.0.0.1:${netflowPort}"] }`,
      `  sflow: { listen: ["127.0.0.1:${sflowPort}"] }`,
      `http: { listen: "127.0.0.1:${httpPort}" }`,
      `store: { stateDir: ${JSON.stringify(stateDir)} }`,
    ].join('\n'),
  );
  let daemon: ChildProcess | undefined;
  let log = '';

  const waitFor = async <T>(
    what: string,
    probe: () => Promise<T | undefined>,
    timeoutMs = 15_000,
  ): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (e) {
        last = e;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(
      `timed out waiting for ${what} (${String(last)})\n--- daemon log ---\n${log.slice(-4000)}`,
    );
  };

  const send = (datagram: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      const socket = createSocket('udp4');
      socket.send(datagram, netflowPort, '127.0.0.1', (err) => {
        socket.close();
        if (err) reject(err);
        else resolve();
      });
    });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const child = daemon;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };

  return {
    dir,
    stateDir,
    configPath,
    netflowPort,
    api,
    get daemon() {
      return daemon;
    },
    start() {
      daemon = spawnCli(['run', '--config', configPath]);
      daemon.stdout?.on('data', (d: Buffer) => {
        log += d.toString();
      });
      daemon.stderr?.on('data', (d: Buffer) => {
        log += d.toString();
      });
      return daemon;
    },
    stop,
    async getJson<T>(path: string): Promise<T> {
      const res = await fetch(`${api}${path}`);
      if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
      return (await res.json()) as T;
    },
    waitFor,
    async waitHealthy() {
      await waitFor(
        'the daemon to answer /healthz',
        async () => ((await fetch(`${api}/healthz`)).ok ? true : undefined),
        30_000,
      );
    },
    async attack(target) {
      const uptime = 3_600_000;
      for (let i = 0; i < 4; i++) {
        const nowMs = Date.now();
        await send(
          encodeNetflowV5(
            {
              sysUptime: uptime,
              unixSecs: Math.floor(nowMs / 1000),
              unixNsecs: (nowMs % 1000) * 1_000_000,
              flowSequence: i * 3,
            },
            [1, 2, 3].map((n) => ({
              srcAddr: `198.18.0.${n}`,
              dstAddr: target,
              srcPort: 123,
              dstPort: 40000 + n,
              protocol: 17,
              packets: 1000,
              bytes: 468_000,
              first: uptime - 1000,
              last: uptime,
            })),
          ),
        );
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    async cleanup() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
