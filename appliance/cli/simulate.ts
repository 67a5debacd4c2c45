/**
 * `floodgate simulate CAPTURE.pcap` (or `--scenario SPEC.json`): replays flow datagrams through
 * detection and the runbooks of a configuration against a simulated clock and prints the timeline
 * (detected, tier fired, escalated, withdrawn...) with every intent's exact rendering. Nothing is
 * sent and nothing is written to the state directory: this is how a runbook is tried before it is
 * trusted.
 */
import { readPcapFile } from '../../collectors/capture/pcap-reader.js';
import { isFloodgateError } from '../../core/errors.js';
import {
  ConfigError,
  defaultConfig,
  formatProblem,
  type LoadedConfig,
  loadConfigFile,
} from '../config/load.js';
import { type SimulatedDatagram, simulate } from '../simulation.js';
import type { CliIo } from './check-config.js';
import { ScenarioError, scenarioDatagrams } from './scenario-capture.js';
import { formatTimeline } from './timeline.js';

export interface SimulateOptions {
  config?: string;
  /** Only datagrams sent to these UDP ports (all UDP datagrams when empty). */
  ports: readonly number[];
  scenario?: string;
  exporterVersion: 5 | 9 | 10;
  /** Most simulated seconds after the last datagram. */
  maxTailSeconds: number;
  json: boolean;
}

async function captureDatagrams(
  file: string,
  ports: readonly number[],
  io: CliIo,
): Promise<SimulatedDatagram[] | undefined> {
  let reader: Awaited<ReturnType<typeof readPcapFile>>;
  try {
    reader = await readPcapFile(file);
  } catch (e) {
    io.err(`${file}: cannot read the capture: ${(e as Error).message}\n`);
    return undefined;
  }
  const only = new Set(ports);
  const out: SimulatedDatagram[] = [];
  for (const d of reader) {
    if (only.size > 0 && !only.has(d.dstPort)) continue;
    out.push({ payload: d.payload, srcAddr: d.srcAddr, tsMs: d.tsMs });
  }
  if (reader.error) {
    if (out.length === 0) {
      io.err(`${file}: cannot read the capture: ${reader.error.message}\n`);
      return undefined;
    }
    io.err(`${file}: capture ends early (${reader.error.message}); replaying what was read\n`);
  }
  return out;
}

/** Returns the exit code: 0 simulated, 1 when the configuration or the input could not be used. */
export async function simulateCommand(
  capture: string | undefined,
  options: SimulateOptions,
  io: CliIo,
): Promise<number> {
  let loaded: LoadedConfig;
  try {
    loaded = options.config === undefined ? defaultConfig() : loadConfigFile(options.config);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`${String(e.details['source'])}: invalid configuration (${e.code})\n`);
      for (const p of e.problems) io.err(`  ${formatProblem(p)}\n`);
      return 1;
    }
    throw e;
  }
  let datagrams: SimulatedDatagram[] | undefined;
  let source: string;
  if (options.scenario !== undefined) {
    source = `scenario ${options.scenario} exported by softflowd as NetFlow v${options.exporterVersion}`;
    try {
      datagrams = await scenarioDatagrams(options.scenario, options.exporterVersion);
    } catch (e) {
      io.err(`${options.scenario}: ${e instanceof ScenarioError ? e.message : (e as Error).message}\n`);
      return 1;
    }
  } else if (capture !== undefined) {
    source = capture;
    datagrams = await captureDatagrams(capture, options.ports, io);
    if (datagrams === undefined) return 1;
  } else {
    io.err('give a capture file or --scenario SPEC.json\n');
    return 2;
  }
  if (datagrams.length === 0) {
    io.err(
      `${source}: no flow datagrams to replay${options.ports.length > 0 ? ` on port ${options.ports.join(', ')}` : ''}\n`,
    );
    return 1;
  }

  let result: Awaited<ReturnType<typeof simulate>>;
  try {
    result = await simulate(loaded.config, datagrams, { maxTailSeconds: options.maxTailSeconds });
  } catch (e) {
    if (isFloodgateError(e)) {
      io.err(`${loaded.source}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }

  if (options.json) {
    for (const item of result.timeline) {
      // Audit entries as stored; notes carry `type: "note"`.
      io.out(`${JSON.stringify(item.kind === 'audit' ? item.entry : item.note)}\n`);
    }
    return 0;
  }
  const first = new Date(result.firstMs).toISOString();
  const last = new Date(result.lastDatagramMs).toISOString();
  io.out(`floodgate simulate: ${source}\n`);
  io.out(`  ${result.datagrams} datagrams, ${result.records} flow records, from ${first} to ${last}\n`);
  io.out(`  configuration ${loaded.source}; every adapter is previewed: nothing is sent\n\n`);
  const lines = formatTimeline(result.timeline, result.firstMs);
  io.out(lines.length === 0 ? '  (no incident: nothing crossed a threshold)\n' : `${lines.join('\n')}\n`);
  const inPlace = result.mitigations.filter((m) =>
    ['applying', 'active', 'failed', 'pending'].includes(m.state),
  );
  io.out(
    `\n${result.incidents.length} incident(s); ${result.mitigations.length} mitigation(s), ${inPlace.length} still in place; simulated until ${new Date(result.endMs).toISOString()}\n`,
  );
  if (result.unfinished) {
    io.out(
      `(stopped ${options.maxTailSeconds} s after the last datagram with incidents or tiers still going: raise --max-tail)\n`,
    );
  }
  return 0;
}
