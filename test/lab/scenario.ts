/**
 * The flow lab: generate a capture with a known truth (make-scenario.py), have a real exporter
 * turn it into flow datagrams, collect them, and compare what a decoder makes of them with the
 * truth. This module is the one import tests need; docs/flow-lab.md explains the whole.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from './run-process.js';
import { PYTHON, requireTool } from './tools.js';

export {
  parseSoftflowdSummary,
  runSoftflowd,
  type SoftflowdExported,
  type SoftflowdOptions,
  type SoftflowdResult,
  type SoftflowdVersion,
} from './softflowd.js';
export { findExecutable, PYTHON, requireTool } from './tools.js';
export {
  collectDatagrams,
  type DatagramSink,
  type ReceivedDatagram,
  type SettleOptions,
} from './udp-sink.js';

export const GENERATOR = fileURLToPath(new URL('./make-scenario.py', import.meta.url));

/** When a stream sends, inside the scenario: default the whole of it. */
interface StreamWindow {
  offsetSeconds?: number;
  durationSeconds?: number;
}

/**
 * Many spoofed-looking sources, one UDP source port (123 for NTP), random high destination ports.
 * The attack kinds take an IPv4 or IPv6 `dst`; sources then come from a prefix of the same family.
 */
export interface UdpReflectionStream extends StreamWindow {
  kind: 'udp-reflection';
  dst: string;
  srcPort: number;
  sources: number;
  /** Default 198.18.0.0/15 (IPv4), 2001:2::/48 (IPv6). */
  srcPrefix?: string;
  pps: number;
  /** IP total length of each packet; default 468. */
  size?: number;
}

/** SYN only, random sources, source ports and sequence numbers. */
export interface SynFloodStream extends StreamWindow {
  kind: 'syn-flood';
  dst: string;
  dstPort: number;
  sources: number;
  srcPrefix?: string;
  pps: number;
  /** Default 40 (no options, no payload). */
  size?: number;
}

export interface IcmpFloodStream extends StreamWindow {
  kind: 'icmp-flood';
  dst: string;
  sources: number;
  srcPrefix?: string;
  pps: number;
  /** Default 84 (a ping). */
  size?: number;
  /** Default 8 (echo request) and 0. */
  icmpType?: number;
  icmpCode?: number;
}

/** Random sources and source ports; destination ports from the list, or random when empty. */
export interface UdpFloodStream extends StreamWindow {
  kind: 'udp-flood';
  dst: string;
  dstPorts?: number[];
  sources: number;
  srcPrefix?: string;
  pps: number;
  /** Default 512. */
  size?: number;
}

/** Handshake, a request now and then answered by full segments, FIN both ways. */
export interface TcpSessionStream extends StreamWindow {
  kind: 'tcp-session';
  client: string;
  server: string;
  port: number;
  /** Total packets both ways, handshake and teardown included; at least 7. */
  packets: number;
  /** IP length of the server's data segments; default 1400. */
  serverSegment?: number;
}

/** Query and answer pairs (an A record each), from a random client port to port 53. */
export interface DnsStream extends StreamWindow {
  kind: 'dns';
  client: string;
  resolver: string;
  queries: number;
}

/** One steady UDP flow (a media stream). */
export interface UdpSteadyStream extends StreamWindow {
  kind: 'udp-stream';
  src: string;
  dst: string;
  pps: number;
  /** Default 200. */
  size?: number;
  /** Default random ephemeral and 5004. */
  srcPort?: number;
  dstPort?: number;
}

/** TCP segments with fixed flags (ACK only, or RST) from random sources, ports and numbers. */
export interface TcpFlagsFloodStream extends StreamWindow {
  kind: 'ack-flood' | 'rst-flood';
  dst: string;
  /** Default random per packet. */
  dstPort?: number;
  sources: number;
  srcPrefix?: string;
  pps: number;
  /** Default 40 (IPv4), 60 (IPv6). */
  size?: number;
}

/** GRE carrying zeros, from random sources. */
export interface GreFloodStream extends StreamWindow {
  kind: 'gre-flood';
  dst: string;
  sources: number;
  srcPrefix?: string;
  pps: number;
  /** Default 576. */
  size?: number;
}

/**
 * Non-initial fragments (offset 1480) of UDP datagrams that never complete. IPv4 or IPv6 (a
 * Fragment extension header naming UDP); the truth counts them under UDP and as fragments.
 */
export interface FragmentFloodStream extends StreamWindow {
  kind: 'fragment-flood';
  dst: string;
  sources: number;
  srcPrefix?: string;
  pps: number;
  /** Default 1500. */
  size?: number;
}

/** Reflected UDP spread over every address of `prefix` (at most 65536 addresses). */
export interface CarpetBombStream extends StreamWindow {
  kind: 'carpet-bomb';
  prefix: string;
  /** Default 53. */
  srcPort?: number;
  sources: number;
  srcPrefix?: string;
  /** Packets per second over the whole prefix. */
  pps: number;
  /** Default 1200. */
  size?: number;
}

/**
 * Bulk TCP: `server` sends full segments to `client` (PSH on every 8th), the client acknowledges
 * every second one; handshake and FIN included. Several streams make a speed test.
 */
export interface TcpBulkStream extends StreamWindow {
  kind: 'tcp-bulk';
  client: string;
  server: string;
  /** The server's port. */
  port: number;
  /** Default 1. */
  streams?: number;
  /** Data segments per second over all streams. */
  pps: number;
  /** IP length of a data segment; default 1500. */
  serverSegment?: number;
}

/** A game server: clients' small updates to `port` and the server's answers, half each. */
export interface GameUdpStream extends StreamWindow {
  kind: 'game-udp';
  server: string;
  /** Default 27015. */
  port?: number;
  clients: number;
  /** Default 100.127.0.0/16. */
  clientPrefix?: string;
  /** Packets per second both ways. */
  pps: number;
  /** Default 120. */
  size?: number;
}

/**
 * A busy recursive resolver: per query, client -> resolver:53, resolver -> an authority:53, the
 * authority's answer (from port 53) and the resolver's answer to the client.
 */
export interface DnsResolverStream extends StreamWindow {
  kind: 'dns-resolver';
  resolver: string;
  clients: number;
  clientPrefix?: string;
  qps: number;
  /** Default 50. */
  authorities?: number;
  authorityPrefix?: string;
  /** IP length of answers; default 160. */
  answerSize?: number;
}

export type StreamSpec =
  | UdpReflectionStream
  | SynFloodStream
  | IcmpFloodStream
  | UdpFloodStream
  | TcpSessionStream
  | DnsStream
  | UdpSteadyStream
  | TcpFlagsFloodStream
  | GreFloodStream
  | FragmentFloodStream
  | CarpetBombStream
  | TcpBulkStream
  | GameUdpStream
  | DnsResolverStream;

/**
 * Small UDP packets after the scenario, between two addresses that are not its destinations:
 * whatever an exporter loses or repeats at end of file falls on them. Defaults: 192.0.2.201 to
 * 192.0.2.202, 3000 packets in 300 flows at 30000 pps, 64 bytes.
 */
export interface FillerSpec {
  src?: string;
  dst?: string;
  packets?: number;
  flows?: number;
  pps?: number;
  size?: number;
}

export interface ScenarioSpec {
  /** Default 1; the same spec always gives the same pcap bytes and truth. */
  seed?: number;
  /** Unix seconds of the first packet. Exporters copy pcap times: put it near now (e.g. 30 s ago). */
  startEpoch: number;
  durationSeconds: number;
  streams: StreamSpec[];
  filler?: FillerSpec;
}

export interface Counted {
  packets: number;
  /** Sum of IP total lengths, the way NetFlow counts octets. */
  bytes: number;
}

export interface DestinationTruth {
  /** Keyed by IP protocol number as a string ("1", "6", "17"). */
  protocols: Record<string, Counted>;
  /** UDP packets to this destination by UDP source port (as a string). */
  udpSourcePorts: Record<string, number>;
  /** Non-initial IPv4 fragments (no port to count); absent when there were none. */
  fragments?: number;
}

export interface ScenarioTruth {
  pcap: string;
  seed: number;
  /** Packets in the pcap, filler included. */
  packets: number;
  /** Distinct unidirectional 5-tuples in the pcap, filler included: an upper bound for `-m`. */
  flows: number;
  firstEpoch: number;
  lastEpoch: number;
  /** Where the scenario ends and the filler begins. */
  scenarioEndEpoch: number;
  /** Every destination of the scenario (replies to clients too), filler excluded. */
  destinations: Record<string, DestinationTruth>;
  streams: { kind: StreamSpec['kind']; target: string; packets: number; bytes: number }[];
  filler: { src: string; dst: string; packets: number; bytes: number; flows: number };
}

let scenarioCount = 0;

/** Writes the scenario's pcap into `dir` and returns its path and ground truth. */
export async function makeScenario(
  spec: ScenarioSpec,
  dir: string,
): Promise<{ pcapPath: string; truth: ScenarioTruth }> {
  requireTool('python3-scapy');
  scenarioCount += 1;
  const pcapPath = join(dir, `scenario-${scenarioCount}.pcap`);
  const result = await runProcess([PYTHON, GENERATOR, '--out', pcapPath, '-'], {
    stdin: JSON.stringify(spec),
    timeoutMs: 120_000,
  });
  if (result.timedOut || result.exitCode !== 0) {
    const why = result.timedOut
      ? 'did not finish in 120 s'
      : `exited with ${result.exitCode ?? result.signal}`;
    throw new Error(`make-scenario.py ${why}: ${result.stderr.trim()}`);
  }
  return { pcapPath, truth: JSON.parse(result.stdout) as ScenarioTruth };
}
