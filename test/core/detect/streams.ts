/**
 * A live exporter for the detector tests: streams of traffic to hosts, exported every second,
 * and the appliance's once-a-second step.
 */
import { detectionConfigSchema } from '../../../core/detect/config.js';
import { createDetector, type Detector } from '../../../core/detect/detector.js';
import type { IncidentEvent } from '../../../core/incident/incident.js';
import { batchOf, type SyntheticFlow, T0 } from '../synthetic-flows.js';

/** Traffic to one host from `sources` senders, constant while fromSec <= second < toSec. */
export interface Stream {
  dst: string;
  pps: number;
  packetBytes: number;
  protocol: number;
  sources: number;
  srcPort?: (i: number) => number;
  dstPort?: (i: number) => number;
  tcpFlags?: number;
  /** Source address of sender i; default 198.18.x.y (bogon benchmarking space). */
  src?: (i: number) => string;
  fragment?: number;
  /** 1 in N sampling: each record carries packets / N sampled packets. */
  samplingRate?: number;
  fromSec: number;
  toSec: number;
}

/**
 * A live exporter: every second, each source's flow of the past second is exported and arrives
 * 200 ms into the second. The appliance steps 700 ms into each second.
 */
export function run(detector: Detector, streams: Stream[], fromSec: number, toSec: number): IncidentEvent[] {
  const events: IncidentEvent[] = [];
  for (let sec = fromSec; sec < toSec; sec++) {
    const arrivalMs = T0 + sec * 1000 + 200;
    const flows: SyntheticFlow[] = [];
    for (const s of streams) {
      if (sec < s.fromSec || sec >= s.toSec) continue;
      const packets = s.pps / s.sources;
      for (let i = 0; i < s.sources; i++) {
        flows.push({
          dst: s.dst,
          src: s.src?.(i) ?? `198.18.${(i >> 8) & 255}.${i & 255}`,
          protocol: s.protocol,
          srcPort: s.srcPort?.(i + sec * 7) ?? 1024 + ((i * 131 + sec) % 60000),
          dstPort: s.dstPort?.(i + sec * 13) ?? 1024 + ((i * 977 + sec * 31) % 60000),
          tcpFlags: s.tcpFlags ?? 0,
          ...(s.fragment === undefined ? {} : { fragment: s.fragment }),
          ...(s.samplingRate === undefined
            ? {}
            : { samplingRate: s.samplingRate, sampledPackets: packets / s.samplingRate }),
          packets,
          bytes: packets * s.packetBytes,
          durationMs: 1000,
          arrivalMs,
        });
      }
    }
    if (flows.length > 0) detector.ingest(batchOf(flows));
    events.push(...detector.step(T0 + sec * 1000 + 700));
  }
  return events;
}

export function detectorWith(config: Record<string, unknown> = {}): Detector {
  return createDetector(detectionConfigSchema.parse(config));
}

export const opened = (events: IncidentEvent[]) =>
  events.filter((e) => e.type === 'opened').map((e) => e.incident);

/** Everyday traffic: 40 hosts at 800 pps each, established TCP and DNS answers. */
export function benign(fromSec: number, toSec: number): Stream[] {
  return Array.from({ length: 40 }, (_, h) => ({
    dst: `203.0.113.${100 + h}`,
    pps: 800,
    packetBytes: 700,
    protocol: h % 2 === 0 ? 6 : 17,
    tcpFlags: 0x1b,
    srcPort: h % 2 === 0 ? () => 443 : () => 53,
    sources: 4,
    fromSec,
    toSec,
  }));
}
