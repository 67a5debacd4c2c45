/**
 * `floodgate simulate --scenario SPEC.json`: turns a flow-lab scenario (docs/flow-lab.md) into the
 * flow datagrams a real exporter would send. The lab's generator writes the packets
 * (test/lab/make-scenario.py, which needs Debian's python3-scapy), real softflowd exports them as
 * NetFlow to a local socket, and the datagrams are kept with their arrival times. A spec without
 * `startEpoch` is placed to end now, as exporters copy packet times into flows.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimulatedDatagram } from '../simulation.js';

const PYTHON = '/usr/bin/python3';
/** softflowd sends a whole capture in one burst: ask for a receive buffer that holds it (rmem_max caps it). */
const RECEIVE_BUFFER_BYTES = 32 * 1024 * 1024;
const SUMMARY = /Flows exported: \d+ \(\d+ records\) in (\d+) packets/;
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

function findExecutable(command: string): string | undefined {
  for (const dir of [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...SBIN]) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The generator ships with the sources, in the flow lab. */
function generatorPath(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'test', 'lab', 'make-scenario.py');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

function run(
  argv: string[],
  stdin: string,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

export class ScenarioError extends Error {}

export async function scenarioDatagrams(
  specFile: string,
  exporterVersion: 5 | 9 | 10,
): Promise<SimulatedDatagram[]> {
  const generator = generatorPath();
  if (generator === undefined) {
    throw new ScenarioError(
      'the flow-lab generator (test/lab/make-scenario.py) is not installed with this Floodgate',
    );
  }
  if (!existsSync(PYTHON)) throw new ScenarioError(`${PYTHON} is missing: apt-get install python3-scapy`);
  const softflowd = findExecutable('softflowd');
  if (softflowd === undefined) throw new ScenarioError('softflowd is missing: apt-get install softflowd');
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as {
    startEpoch?: number;
    durationSeconds?: number;
  };
  if (spec.startEpoch === undefined) spec.startEpoch = Date.now() / 1000 - (spec.durationSeconds ?? 0);

  const dir = mkdtempSync(join(tmpdir(), 'fg-simulate-'));
  const socket = createSocket({ type: 'udp4', recvBufferSize: RECEIVE_BUFFER_BYTES });
  try {
    const pcap = join(dir, 'scenario.pcap');
    const generated = await run([PYTHON, generator, '--out', pcap, '-'], JSON.stringify(spec), 120_000);
    if (generated.code !== 0) {
      throw new ScenarioError(`make-scenario.py failed (exit ${generated.code}): ${generated.stderr.trim()}`);
    }
    const received: SimulatedDatagram[] = [];
    let lastArrival = Date.now();
    socket.on('message', (msg, rinfo) => {
      lastArrival = Date.now();
      received.push({ payload: new Uint8Array(msg), srcAddr: rinfo.address, tsMs: lastArrival });
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    const port = socket.address().port;
    const argv = [
      softflowd,
      '-r',
      pcap,
      '-v',
      String(exporterVersion),
      '-m',
      '65536',
      '-a',
      '-n',
      `127.0.0.1:${port}`,
    ];
    if (exporterVersion === 10) argv.push('-A', 'milli');
    const exported = await run(argv, '', 60_000);
    if (exported.code !== 0)
      throw new ScenarioError(`softflowd failed (exit ${exported.code}): ${exported.stderr.trim()}`);
    // softflowd sends at end of file in one burst; wait until the socket has been quiet a moment.
    const sent = Number(SUMMARY.exec(exported.stdout)?.[1] ?? Number.NaN);
    const deadline = Date.now() + 10_000;
    while (Date.now() - lastArrival < 300 || (received.length < sent && Date.now() < deadline)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (received.length < sent) {
      throw new ScenarioError(
        `softflowd sent ${sent} datagrams but ${received.length} arrived: raise net.core.rmem_max (sysctl) so the burst fits the receive buffer`,
      );
    }
    return received;
  } finally {
    socket.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
