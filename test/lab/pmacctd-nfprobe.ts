/**
 * Real pmacct `pmacctd` reading a pcap and exporting it through two nfprobe plugins at once:
 * NetFlow v9 to one port, IPFIX to another. The configuration keys are the ones checked in
 * shared/reference/flow-lab.md; without `plugin_pipe_size` and `plugin_buffer_size` pmacct
 * silently drops most of a burst between its core and its plugins. With
 * `pcap_savefile_wait: false` pmacctd exits at end of file, and its plugins flush every flow
 * as they shut down.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProcess } from './run-process.js';
import { requireTool } from './tools.js';

export interface NfprobeOptions {
  pcapPath: string;
  /** Where the configuration file goes. */
  dir: string;
  v9Port: number;
  ipfixPort: number;
  host?: string;
  /** Default 60 s. */
  timeoutMs?: number;
}

export interface NfprobeResult {
  exitCode: number | null;
  /** pmacctd logs to stderr. */
  log: string;
  configPath: string;
}

export function nfprobeConfig(options: NfprobeOptions): string {
  const host = options.host ?? '127.0.0.1';
  const lines = [
    `pcap_savefile: ${options.pcapPath}`,
    'pcap_savefile_wait: false',
    'plugins: nfprobe[v9], nfprobe[ipfix]',
    `nfprobe_receiver[v9]: ${host}:${options.v9Port}`,
    'nfprobe_version[v9]: 9',
    `nfprobe_receiver[ipfix]: ${host}:${options.ipfixPort}`,
    'nfprobe_version[ipfix]: 10',
  ];
  for (const p of ['v9', 'ipfix']) {
    lines.push(
      `nfprobe_maxflows[${p}]: 65536`,
      `nfprobe_timeouts[${p}]: tcp=5:udp=5:general=5:maxlife=10:expint=1`,
    );
  }
  lines.push('plugin_pipe_size: 102400000', 'plugin_buffer_size: 102400', '');
  return lines.join('\n');
}

/** Runs pmacctd to the end of the pcap; rejects only when it overran its timeout. */
export async function runPmacctdNfprobe(options: NfprobeOptions): Promise<NfprobeResult> {
  const pmacctd = requireTool('pmacctd');
  const configPath = join(options.dir, `nfprobe-${options.v9Port}.conf`);
  writeFileSync(configPath, nfprobeConfig(options));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const result = await runProcess([pmacctd, '-f', configPath], { timeoutMs });
  if (result.timedOut) {
    throw new Error(
      `pmacctd did not finish within ${timeoutMs} ms and was killed (${configPath})\n${result.stderr}`,
    );
  }
  return { exitCode: result.exitCode, log: result.stderr + result.stdout, configPath };
}
