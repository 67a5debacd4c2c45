/**
 * Real softflowd reading a pcap and exporting NetFlow v5, v9 or IPFIX to a UDP address.
 *
 * The flags are the ones checked in shared/reference/flow-lab.md: `-a` takes flow times from
 * the pcap (without it they wrap into nonsense), `-m 65536` must exceed the concurrent flow
 * count, `-A milli` gives IPFIX millisecond times, and `-c` is never passed with `-r` (it
 * blocks forever). In file mode everything is flushed at end of file, then softflowd exits.
 */
import { runProcess } from './run-process.js';
import { requireTool } from './tools.js';

export type SoftflowdVersion = 5 | 9 | 10;

export interface SoftflowdOptions {
  pcapPath: string;
  version: SoftflowdVersion;
  port: number;
  host?: string;
  /** Flow table size (`-m`); must exceed the scenario's concurrent flows. Default 65536. */
  maxFlows?: number;
  /** Extra arguments, e.g. ['-t', 'maxlife=2'] to expire flows within the capture. */
  extraArgs?: readonly string[];
  /** Default 30 s; softflowd exports a 70k-packet capture in well under a second. */
  timeoutMs?: number;
}

/** softflowd's own summary line: "Flows exported: F (R records) in D packets (E failures)". */
export interface SoftflowdExported {
  flows: number;
  records: number;
  /** Export datagrams sent (softflowd calls them packets), templates included. */
  datagrams: number;
  /** Datagrams whose send failed. */
  failures: number;
}

export interface SoftflowdResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Parsed from stdout; undefined when softflowd did not print its summary (it failed). */
  exported: SoftflowdExported | undefined;
}

const SUMMARY = /Flows exported: (\d+) \((\d+) records\) in (\d+) packets \((\d+) failures\)/;

export function parseSoftflowdSummary(stdout: string): SoftflowdExported | undefined {
  const m = SUMMARY.exec(stdout);
  if (!m) return undefined;
  return { flows: Number(m[1]), records: Number(m[2]), datagrams: Number(m[3]), failures: Number(m[4]) };
}

export function softflowdArgv(path: string, options: SoftflowdOptions): string[] {
  const argv = [
    path,
    '-r',
    options.pcapPath,
    '-v',
    String(options.version),
    '-m',
    String(options.maxFlows ?? 65536),
    '-a',
    '-n',
    `${options.host ?? '127.0.0.1'}:${options.port}`,
  ];
  if (options.version === 10) argv.push('-A', 'milli');
  argv.push(...(options.extraArgs ?? []));
  return argv;
}

/** Runs softflowd to the end of the pcap; rejects only when it overran its timeout. */
export async function runSoftflowd(options: SoftflowdOptions): Promise<SoftflowdResult> {
  const argv = softflowdArgv(requireTool('softflowd'), options);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const result = await runProcess(argv, { timeoutMs });
  if (result.timedOut) {
    throw new Error(
      `softflowd did not finish within ${timeoutMs} ms and was killed: ${argv.join(' ')}\n${result.stderr}`,
    );
  }
  return {
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    exported: parseSoftflowdSummary(result.stdout),
  };
}
