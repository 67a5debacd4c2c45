/**
 * pmacct's pmacctd playing a capture and exporting it as NetFlow v9 and IPFIX (nfprobe) and as
 * sFlow v5 (sfprobe, 1 in 1), through the flow lab's runners. Its templates, field choices and
 * sFlow samples differ from softflowd's, which is why the fuzz benchmark seeds from both.
 */
import { runPmacctdNfprobe } from '../../test/lab/pmacctd-nfprobe.js';
import { runPmacctdSfprobe } from '../../test/lab/pmacctd-sfprobe.js';
import { collectDatagrams, type DatagramSink } from '../../test/lab/udp-sink.js';

export interface PmacctdExports {
  v9: Buffer[];
  ipfix: Buffer[];
  sflow: Buffer[];
}

/** pmacctd flushes its plugins as it exits; wait for the stragglers. */
const settle = (s: DatagramSink): Promise<Buffer[]> =>
  s.settle({ quietMs: 1000, timeoutMs: 20_000 }).then((d) => d.map((x) => x.data));

export async function pmacctdDatagrams(pcapPath: string, dir: string): Promise<PmacctdExports> {
  const sinks: DatagramSink[] = [];
  try {
    const v9 = await collectDatagrams(0);
    const ipfix = await collectDatagrams(0);
    const sflow = await collectDatagrams(0);
    sinks.push(v9, ipfix, sflow);
    const nf = await runPmacctdNfprobe({ pcapPath, dir, v9Port: v9.port, ipfixPort: ipfix.port });
    if (nf.exitCode !== 0) throw new Error(`pmacctd (nfprobe) exited ${nf.exitCode}: ${nf.log}`);
    const sf = await runPmacctdSfprobe({ pcapPath, dir, port: sflow.port });
    if (sf.exitCode !== 0) throw new Error(`pmacctd (sfprobe) exited ${sf.exitCode}: ${sf.stderr}`);
    return { v9: await settle(v9), ipfix: await settle(ipfix), sflow: await settle(sflow) };
  } finally {
    for (const s of sinks) await s.close();
  }
}
