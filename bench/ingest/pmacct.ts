/**
 * pmacct's collectors as the reference, measured the way Floodgate is: nfacctd for NetFlow and
 * IPFIX, sfacctd for sFlow. Each receives the same replay on its own loopback port, and what
 * counts is what it stored. The print plugin aggregates by IP protocol with the `flows` counter
 * (one per NetFlow/IPFIX record, one per sFlow flow sample) and appends a CSV line per protocol
 * every second; the benchmark sums the FLOWS column.
 *
 * The pmacct settings are the ones shared/reference/flow-lab.md found necessary:
 * plugin_pipe_size and plugin_buffer_size as large as there, and the daemon's pipe_size (its
 * SO_RCVBUF) equal to what Floodgate asks for, so both get the same kernel buffer.
 */
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from '../../test/lab/tools.js';
import { readSocketQueue } from '../lib/kernel-udp.js';
import { childPids, killIfAlive, ownPid, startProcess } from '../lib/processes.js';
import { MARKER_PROTOCOL } from './marker.js';
import type { Receiver, ReceiverProcess, Settled } from './receiver.js';

export type PmacctDaemon = 'nfacctd' | 'sfacctd';

export function pmacctConfig(
  daemon: PmacctDaemon,
  port: number,
  receiveBufferBytes: number,
  csvPath: string,
): string {
  return [
    'daemonize: false',
    `${daemon}_ip: 127.0.0.1`,
    `${daemon}_port: ${port}`,
    `${daemon}_pipe_size: ${receiveBufferBytes}`,
    'plugin_pipe_size: 102400000',
    'plugin_buffer_size: 102400',
    'plugins: print[bench]',
    'aggregate[bench]: proto, flows',
    'print_output[bench]: csv',
    `print_output_file[bench]: ${csvPath}`,
    'print_output_file_append[bench]: true',
    'print_refresh_time[bench]: 1',
    '',
  ].join('\n');
}

export interface StoredFlows {
  /** Records stored, markers excluded. */
  records: number;
  markers: number;
}

/** Sums the FLOWS column of the print plugin's CSV, markers apart. */
export function parseStoredFlows(csv: string): StoredFlows {
  let records = 0;
  let markers = 0;
  let protoAt = -1;
  let flowsAt = -1;
  for (const line of csv.split('\n')) {
    const f = line.trim().split(',');
    if (f[0] === 'PROTOCOL' || f.includes('FLOWS')) {
      protoAt = f.indexOf('PROTOCOL');
      flowsAt = f.indexOf('FLOWS');
      continue;
    }
    if (protoAt < 0 || flowsAt < 0) continue;
    const flows = Number(f[flowsAt]);
    if (!Number.isFinite(flows) || f[flowsAt] === '') continue;
    if (f[protoAt] === String(MARKER_PROTOCOL)) markers += flows;
    else records += flows;
  }
  return { records, markers };
}

function readStored(csvPath: string): StoredFlows {
  try {
    return parseStoredFlows(readFileSync(csvPath, 'utf8'));
  } catch {
    return { records: 0, markers: 0 };
  }
}

async function waitForLine(proc: { stderr(): string; stdout(): string }, pattern: RegExp, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = pattern.exec(proc.stderr() + proc.stdout());
    if (m) return m;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function pmacctVersion(daemon: PmacctDaemon): Promise<string> {
  const proc = startProcess([requireTool(daemon), '-V']);
  await proc.exited;
  return new RegExp(`${daemon}\\s+(\\S+)`).exec(proc.stdout() + proc.stderr())?.[1] ?? 'unknown';
}

export interface PmacctOptions {
  daemon: PmacctDaemon;
  dir: string;
  port: number;
  receiveBufferBytes: number;
  /** What the daemon logs once it listens. */
  ready: RegExp;
  /**
   * A datagram of its protocol whose every record has IP protocol MARKER_PROTOCOL, with the
   * export sequence number given; `recordsPerMarker` records each.
   */
  marker: (sequence: number, nowMs: number) => Buffer;
  recordsPerMarker: number;
}

export async function startPmacct(options: PmacctOptions): Promise<Receiver> {
  const { daemon, dir, port, receiveBufferBytes } = options;
  const binary = requireTool(daemon);
  const version = await pmacctVersion(daemon);
  const csvPath = join(dir, `${daemon}-${port}.csv`);
  const configPath = join(dir, `${daemon}-${port}.conf`);
  writeFileSync(configPath, pmacctConfig(daemon, port, receiveBufferBytes, csvPath));
  const proc = startProcess([binary, '-f', configPath]);
  const ready = await waitForLine(proc, options.ready, 15_000);
  if (!ready) {
    await proc.stop(1000);
    throw new Error(`${daemon} did not start within 15 s (${configPath}):\n${proc.stderr()}`);
  }
  const obtained = new RegExp(`${daemon}_pipe_size: obtained=(\\d+)`).exec(proc.stderr());
  // The print plugin is forked by the core once its configuration is read.
  let plugins: number[] = [];
  for (let i = 0; i < 50 && plugins.length === 0; i++) {
    plugins = childPids(proc.pid);
    if (plugins.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  const owned = plugins.map(ownPid);

  const marker = createSocket('udp4');
  await new Promise<void>((resolve) => marker.bind(0, '127.0.0.1', resolve));
  let markerSequence = 0;
  const sendMarkers = async (datagrams: number): Promise<void> => {
    for (let i = 0; i < datagrams; i++) {
      const d = options.marker(markerSequence, Date.now());
      markerSequence += options.recordsPerMarker;
      await new Promise<void>((resolve) => marker.send(d, port, '127.0.0.1', () => resolve()));
    }
  };

  /*
   * pmacct passes records from its core to its plugin in buffers of plugin_buffer_size bytes,
   * so the end of a step can sit in a half-full buffer indefinitely. Markers sent after the
   * step push it through: once one shows up in the CSV, every record sent before it is stored.
   */
  const settle = async (timeoutMs: number): Promise<Settled> => {
    const deadline = Date.now() + timeoutMs;
    const markersBefore = readStored(csvPath).markers;
    // Wait for the socket to drain before pushing markers behind the step's datagrams.
    while ((readSocketQueue(port)?.rxQueue ?? 0) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (;;) {
      await sendMarkers(64);
      const roundEnds = Math.min(deadline, Date.now() + 2500);
      while (Date.now() < roundEnds) {
        await new Promise((r) => setTimeout(r, 200));
        const stored = readStored(csvPath);
        if (stored.markers > markersBefore) return { records: stored.records, settled: true };
      }
      if (Date.now() >= deadline) return { records: readStored(csvPath).records, settled: false };
    }
  };

  const processes = (): ReceiverProcess[] => [
    { role: 'core', pid: proc.pid },
    ...plugins.map((pid) => ({ role: 'print plugin', pid })),
  ];

  return {
    name: daemon,
    label: `${daemon} ${version}`,
    port,
    receiveBufferBytes: obtained ? Number(obtained[1]) : 0,
    processes,
    settle,
    async stop() {
      marker.close();
      // pmacct's daemons block SIGTERM in their core process; SIGINT is the orderly shutdown.
      await proc.stop(10_000, 'SIGINT');
      for (const pid of plugins) killIfAlive(pid);
      for (const o of owned) o.release();
    },
  };
}
