/**
 * A second, independent NetFlow/IPFIX decoder for lab tests: the datagrams a sink received are
 * written to a pcap (as UDP from the exporter to the sink's port) and decoded by tshark, one
 * record per flow record in datagram order, every field the normalised record shares with the
 * wire (addresses, protocol, ports, TCP flags, ICMP type/code, interfaces, counters, times and
 * source id / observation domain).
 *
 * tshark's JSON output keeps each flow record's fields together (unlike `-T fields`, whose
 * per-field lists stop lining up as soon as a capture mixes templates), so every record is
 * compared whatever template carried it. tshark states each field as the exporter sent it; the
 * few conventions the normalised record adds are applied here, independently of Floodgate's
 * code, and named where they are.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frame, ipv4Udp, writePcap } from '../helpers/pcap-writer.js';
import { runProcess } from './run-process.js';
import { requireTool } from './tools.js';

export interface TsharkRecord {
  src: string;
  dst: string;
  protocol: number;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  icmpType: number;
  icmpCode: number;
  inputIf: number;
  outputIf: number;
  packets: number;
  octets: number;
  startMs: number;
  endMs: number;
  /** v5: engine type × 256 + engine id; v9: source id; IPFIX: observation domain. */
  sourceId: number;
}

export type Json = string | Json[] | { [key: string]: Json };
export type TsharkNode = { [key: string]: Json };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const ABSOLUTE_TIME = /^([A-Z][a-z]{2}) +(\d{1,2}), (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? UTC$/;

/** tshark's absolute time ("Nov 21, 2026 14:56:25.094000000 UTC") as Unix ms. */
export function parseTsharkTime(text: string): number {
  const m = ABSOLUTE_TIME.exec(text);
  if (!m) throw new Error(`tshark time not understood (expected UTC): ${text}`);
  const month = MONTHS.indexOf(m[1]!);
  const nanos = Number((m[7] ?? '0').padEnd(9, '0'));
  const seconds = Date.UTC(Number(m[3]), month, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]));
  return seconds + Math.round(nanos / 1e6);
}

function isNode(v: Json | undefined): v is TsharkNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A field's value; fields repeated in one record come as arrays (--no-duplicate-keys). */
function text(node: TsharkNode, key: string): string | undefined {
  const v = node[key];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') {
    throw new Error(`tshark gave ${key} ${v.length} times in one record: ${JSON.stringify(v)}`);
  }
  return undefined;
}

function num(node: TsharkNode, key: string): number | undefined {
  const t = text(node, key);
  return t === undefined ? undefined : Number(t); // Number() reads "0x02" as hex too
}

/** The header fields every record of one message is relative to. */
interface Header {
  version: number;
  sourceId: number;
  /** Export time in ms: unix_secs (+ unix_nsecs for v5). */
  exportMs: number;
  /** sysUptime in ms; undefined for IPFIX. */
  uptimeMs: number | undefined;
}

function header(cflow: TsharkNode): Header {
  const version = num(cflow, 'cflow.version')!;
  const times = isNode(cflow['cflow.timestamp_tree']) ? cflow['cflow.timestamp_tree'] : {};
  const secs = num(times, 'cflow.unix_secs') ?? num(times, 'cflow.exporttime') ?? 0;
  const nsecs = num(times, 'cflow.unix_nsecs') ?? 0;
  const uptime = text(cflow, 'cflow.sysuptime');
  const sourceId =
    version === 5
      ? num(cflow, 'cflow.engine_type')! * 256 + num(cflow, 'cflow.engine_id')!
      : version === 9
        ? num(cflow, 'cflow.source_id')!
        : num(cflow, 'cflow.od_id')!;
  return {
    version,
    sourceId,
    // v5 nanoseconds are whole milliseconds' worth for the decoder (floor), as for any reader.
    exportMs: secs * 1000 + Math.floor(nsecs / 1e6),
    uptimeMs: uptime === undefined ? undefined : Math.round(Number(uptime) * 1000),
  };
}

/** A start or end time: absolute when the template says so, else relative to sysUptime. */
function flowTime(h: Header, times: TsharkNode, absolute: string, relative: string): number {
  const abs = text(times, absolute);
  let rel = text(times, relative);
  if (abs !== undefined) {
    const ms = parseTsharkTime(abs);
    // tshark 4.0 shows a NetFlow v9 sysUptime stamp of exactly 0 as the absolute time 0
    // ("Jan  1, 1970") rather than as the relative time 0 it is.
    if (ms !== 0 || h.uptimeMs === undefined) return ms;
    rel = '0';
  }
  if (rel === undefined || h.uptimeMs === undefined) {
    throw new Error(`tshark record has neither ${absolute} nor ${relative} with a sysUptime`);
  }
  // Uptime stamps wrap at 2^32 ms; the signed difference is right across the wrap.
  return h.exportMs - ((h.uptimeMs - Math.round(Number(rel) * 1000)) | 0);
}

function record(h: Header, r: TsharkNode): TsharkRecord | undefined {
  // Options data (sampling, interface names) carries no counters: not a flow record.
  if (r['cflow.packets'] === undefined && r['cflow.octets'] === undefined) return undefined;
  const protocol = num(r, 'cflow.protocol') ?? 0;
  let srcPort = num(r, 'cflow.srcport') ?? 0;
  let dstPort = num(r, 'cflow.dstport') ?? 0;
  let icmpType = 0;
  let icmpCode = 0;
  if (protocol === 1 || protocol === 58) {
    // The normalised record's convention: ICMP type/code in their own columns, ports 0. Where
    // the template has no ICMP element, exporters put type × 256 + code in the destination port.
    const typeCode = num(r, 'cflow.icmp_type_code_ipv4') ?? num(r, 'cflow.icmp_type_code_ipv6') ?? dstPort;
    icmpType = num(r, 'cflow.icmp_ipv4_type') ?? num(r, 'cflow.icmp_ipv6_type') ?? typeCode >>> 8;
    icmpCode = num(r, 'cflow.icmp_ipv4_code') ?? num(r, 'cflow.icmp_ipv6_code') ?? typeCode & 0xff;
    srcPort = 0;
    dstPort = 0;
  }
  const times = isNode(r['cflow.timedelta_tree']) ? r['cflow.timedelta_tree'] : r;
  return {
    src: text(r, 'cflow.srcaddr') ?? text(r, 'cflow.srcaddrv6') ?? '',
    dst: text(r, 'cflow.dstaddr') ?? text(r, 'cflow.dstaddrv6') ?? '',
    protocol,
    srcPort,
    dstPort,
    // IPFIX tcpControlBits is 16 bits; the normalised record keeps the classic 8 flags.
    tcpFlags: (num(r, 'cflow.tcpflags') ?? 0) & 0xff,
    icmpType,
    icmpCode,
    inputIf: num(r, 'cflow.inputint') ?? 0,
    outputIf: num(r, 'cflow.outputint') ?? 0,
    packets: num(r, 'cflow.packets') ?? 0,
    octets: num(r, 'cflow.octets') ?? 0,
    startMs: flowTime(h, times, 'cflow.abstimestart', 'cflow.timestart'),
    endMs: flowTime(h, times, 'cflow.abstimeend', 'cflow.timeend'),
    sourceId: h.sourceId,
  };
}

/** The flow records of one message, in order: v5 "pdu i/n", v9 "FlowSet" and IPFIX "Set" children. */
function messageRecords(cflow: TsharkNode, into: TsharkRecord[]): void {
  const h = header(cflow);
  for (const [key, value] of Object.entries(cflow)) {
    if (h.version === 5 && key.startsWith('pdu ') && isNode(value)) {
      const r = record(h, value);
      if (r) into.push(r);
    } else if ((key.startsWith('FlowSet ') || key.startsWith('Set ')) && isNode(value)) {
      for (const [flowKey, flow] of Object.entries(value)) {
        if (!flowKey.startsWith('Flow ') || !isNode(flow)) continue;
        const r = record(h, flow);
        if (r) into.push(r);
      }
    }
  }
}

/** Writes the datagrams (sent to UDP `port`) to a pcap in `dir`; returns its path. */
export function writeDatagramPcap(
  datagrams: readonly { data: Uint8Array; arrivalMs: number; fromPort: number }[],
  port: number,
  dir: string,
): string {
  const pcapPath = join(dir, `export-${port}.pcap`);
  const packets = datagrams.map((d) => ({
    tsMs: d.arrivalMs,
    frame: frame(
      1,
      ipv4Udp({ src: '127.0.0.1', dst: '127.0.0.1', srcPort: d.fromPort, dstPort: port, payload: d.data }),
    ),
  }));
  writeFileSync(pcapPath, writePcap(packets));
  return pcapPath;
}

/**
 * Runs tshark on `pcapPath`, decoding UDP `port` as `dissector`, and returns the JSON layer of
 * `protocol` of every packet, in packet order (a packet without it gives undefined).
 */
export async function tsharkLayers(
  pcapPath: string,
  port: number,
  dissector: 'cflow' | 'sflow',
  protocol: string,
): Promise<(TsharkNode | undefined)[]> {
  const tshark = requireTool('tshark');
  const argv = [tshark, '-r', pcapPath, '-d', `udp.port==${port},${dissector}`];
  argv.push('-T', 'json', '--no-duplicate-keys', '-J', protocol);
  const result = await runProcess(argv, { timeoutMs: 120_000 });
  if (result.exitCode !== 0) throw new Error(`tshark exited with ${result.exitCode}: ${result.stderr}`);
  const packets = JSON.parse(result.stdout) as { _source: { layers: TsharkNode } }[];
  return packets.map((p) => {
    const layer = p._source.layers[protocol];
    return isNode(layer) ? layer : undefined;
  });
}

/** Decodes `datagrams` (sent to UDP `port`) with tshark; returns the data records in order. */
export async function tsharkFlowRecords(
  datagrams: readonly { data: Uint8Array; arrivalMs: number; fromPort: number }[],
  port: number,
): Promise<TsharkRecord[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-tshark-'));
  try {
    const layers = await tsharkLayers(writeDatagramPcap(datagrams, port, dir), port, 'cflow', 'cflow');
    const records: TsharkRecord[] = [];
    for (const cflow of layers) {
      // A datagram carrying several messages would show as an array; exporters send one.
      if (cflow) messageRecords(cflow, records);
    }
    return records;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
