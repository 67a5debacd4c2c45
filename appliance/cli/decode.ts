/**
 * `floodgate decode CAPTURE.pcap`: what Floodgate makes of captured exporter traffic, one JSON
 * object per flow record on stdout, per-exporter statistics on stderr. Datagrams are fed in
 * capture order so templates are learned before the data that uses them, as on the wire.
 */
import { readPcapFile } from '../../collectors/capture/pcap-reader.js';
import { collectorsConfigSchema } from '../../collectors/config.js';
import { flowRecordJson } from '../../collectors/flow-record-json.js';
import { createDecoderTable } from '../../collectors/registry.js';
import { FlowBatch } from '../../core/flow/flow-batch.js';
import type { CliIo } from './check-config.js';

export interface DecodeOptions {
  /** Only datagrams sent to these UDP ports (all UDP datagrams when empty). */
  ports: readonly number[];
  defaultSamplingRate: number;
}

/** Returns the exit code: 0 when the whole file was read, 1 when it could not be read to the end. */
export async function decodeCapture(file: string, options: DecodeOptions, io: CliIo): Promise<number> {
  let reader: Awaited<ReturnType<typeof readPcapFile>>;
  try {
    reader = await readPcapFile(file);
  } catch (e) {
    io.err(`${file}: cannot read the capture: ${(e as Error).message}\n`);
    return 1;
  }
  const config = collectorsConfigSchema.parse({ defaultSamplingRate: options.defaultSamplingRate });
  const table = createDecoderTable(config);
  const batch = new FlowBatch(4096);
  const emit = (out: FlowBatch) => {
    let text = '';
    for (let row = 0; row < out.length; row++) text += `${JSON.stringify(flowRecordJson(out, row))}\n`;
    if (text) io.out(text);
    out.clear();
  };
  const ports = new Set(options.ports);
  let datagrams = 0;
  for (const d of reader) {
    if (ports.size > 0 && !ports.has(d.dstPort)) continue;
    datagrams += 1;
    table.decode(d.payload, d.srcAddr, d.tsMs, batch, emit);
    emit(batch);
  }
  const stats = table.snapshot();
  io.err(`${JSON.stringify({ file, datagrams, ...stats })}\n`);
  if (reader.error) {
    io.err(`${file}: capture ends early: ${reader.error.message}\n`);
    return 1;
  }
  return 0;
}
