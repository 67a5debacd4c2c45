/**
 * Quiet hosts for the detection benchmarks: records for `hosts` destinations of 10.1.0.0/16 and
 * up (10.1.0.1, 10.1.0.2, ...), each host one record a second at `ppsPerHost`, handed straight
 * to the detector as other exporters' traffic would be, in chunks spread over the second. They
 * make each step judge a realistic number of hosts; none of them is ever over a threshold.
 */
import type { Detector } from '../../core/detect/detector.js';
import { FlowBatch, setIPv4 } from '../../core/flow/flow-batch.js';

const FIRST_HOST = (10 << 24) | (1 << 16);

/** The address (as a 32-bit number) of background host `i`. */
export function backgroundHost(i: number): number {
  return (FIRST_HOST + i + 1) >>> 0;
}

/** Batches of `chunk` rows covering `hosts` hosts; their times are set by `stamp`. */
export function backgroundBatches(hosts: number, chunk: number, ppsPerHost: number): FlowBatch[] {
  const batches: FlowBatch[] = [];
  for (let start = 0; start < hosts; start += chunk) {
    const rows = Math.min(chunk, hosts - start);
    const batch = new FlowBatch(rows);
    for (let i = 0; i < rows; i++) {
      const row = batch.append();
      const h = start + i;
      setIPv4(batch.dstAddr, row, backgroundHost(h));
      setIPv4(batch.srcAddr, row, ((100 << 24) | (64 << 16) | (h & 0xffff)) >>> 0);
      batch.ipVersion[row] = 4;
      batch.protocol[row] = 6;
      batch.tcpFlags[row] = 0x18;
      batch.srcPort[row] = 443;
      batch.dstPort[row] = 40_000 + (h % 20_000);
      batch.packets[row] = ppsPerHost;
      batch.sampledPackets[row] = ppsPerHost;
      batch.samplingRate[row] = 1;
      batch.bytes[row] = ppsPerHost * 900;
    }
    batches.push(batch);
  }
  return batches;
}

/** Sets every row of `batch` to a record covering the second before `arrivalMs`. */
export function stamp(batch: FlowBatch, arrivalMs: number): void {
  batch.arrivalMs.fill(arrivalMs, 0, batch.length);
  batch.endMs.fill(arrivalMs, 0, batch.length);
  batch.startMs.fill(arrivalMs - 1000, 0, batch.length);
}

/**
 * Feeds the batches to `detector` over each second, one every second / batches.length, until
 * the returned stop function is called.
 */
export function feedBackground(detector: Detector, batches: readonly FlowBatch[]): () => void {
  if (batches.length === 0) return () => {};
  let next = 0;
  const timer = setInterval(() => {
    const batch = batches[next]!;
    next = (next + 1) % batches.length;
    stamp(batch, Date.now());
    detector.ingest(batch);
  }, 1000 / batches.length);
  return () => clearInterval(timer);
}
