/**
 * A second, independent NetFlow/IPFIX decoder for lab tests: the datagrams a sink received are
 * written to a pcap (as UDP from the exporter to the sink's port) and decoded by tshark, one
 * row per flow record in datagram order, with the fields every template carries.
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
  packets: number;
  octets: number;
}

const FIELDS = [
  'cflow.srcaddr',
  'cflow.dstaddr',
  'cflow.srcaddrv6',
  'cflow.dstaddrv6',
  'cflow.protocol',
  'cflow.packets',
  'cflow.octets',
];

/** Decodes `datagrams` (sent to UDP `port`) with tshark; returns the data records in order. */
export async function tsharkFlowRecords(
  datagrams: readonly { data: Uint8Array; arrivalMs: number; fromPort: number }[],
  port: number,
): Promise<TsharkRecord[]> {
  const tshark = requireTool('tshark');
  const dir = mkdtempSync(join(tmpdir(), 'fg-tshark-'));
  try {
    const pcapPath = join(dir, 'export.pcap');
    const packets = datagrams.map((d) => ({
      tsMs: d.arrivalMs,
      frame: frame(
        1,
        ipv4Udp({ src: '127.0.0.1', dst: '127.0.0.1', srcPort: d.fromPort, dstPort: port, payload: d.data }),
      ),
    }));
    writeFileSync(pcapPath, writePcap(packets));
    const argv = [
      tshark,
      '-r',
      pcapPath,
      '-d',
      `udp.port==${port},cflow`,
      '-T',
      'fields',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=,',
    ];
    for (const f of FIELDS) argv.push('-e', f);
    const result = await runProcess(argv, { timeoutMs: 60_000 });
    if (result.exitCode !== 0) throw new Error(`tshark exited with ${result.exitCode}: ${result.stderr}`);
    const records: TsharkRecord[] = [];
    for (const line of result.stdout.split('\n')) {
      if (line.trim() === '') continue;
      const cols = line.split('\t').map((c) => (c === '' ? [] : c.split(',')));
      const [src4, dst4, src6, dst6, proto, pkts, octets] = cols as string[][];
      const src = [...src4!, ...src6!];
      const dst = [...dst4!, ...dst6!];
      // A packet of templates only has no record fields at all.
      for (let i = 0; i < proto!.length; i++) {
        records.push({
          src: src[i]!,
          dst: dst[i]!,
          protocol: Number(proto![i]),
          packets: Number(pkts![i]),
          octets: Number(octets![i]),
        });
      }
    }
    return records;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
