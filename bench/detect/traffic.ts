/**
 * The traffic the detection benchmarks' exporters report: streams of packets to one destination
 * from a set of sources, each with a pool of prebuilt frames (sFlow samples copy their headers)
 * and the per-flow keys an IPFIX exporter counts.
 */
import { ethernet, ipv4, payload, tcp, udp } from '../../test/helpers/raw-packets.js';

export interface TrafficStream {
  /** Names the stream in the exporters' reports ("attack-17", "benign-3"). */
  id: string;
  dst: string;
  /** Packets per second in all, spread evenly over the sources. */
  pps: number;
  protocol: 6 | 17;
  /** IP length of each packet. */
  size: number;
  sources: string[];
  srcPort: (source: number) => number;
  dstPort: number;
  /** TCP flags (OR-ed); 0 for UDP. */
  tcpFlags: number;
}

/** A random-port UDP flood to `dst` from `sources` addresses of 198.18.0.0/15. */
export function udpFlood(id: string, dst: string, pps: number, sources: number): TrafficStream {
  return {
    id,
    dst,
    pps,
    protocol: 17,
    size: 512,
    sources: Array.from({ length: sources }, (_, i) => `198.18.${(i >> 8) & 255}.${(i & 255) + 1}`),
    srcPort: (s) => 1024 + ((s * 7919) % 60000),
    dstPort: 27015,
    tcpFlags: 0,
  };
}

/** Everyday traffic to `dst`: established HTTPS from a few clients. */
export function benignTcp(id: string, dst: string, pps: number): TrafficStream {
  return {
    id,
    dst,
    pps,
    protocol: 6,
    size: 1200,
    sources: Array.from({ length: 4 }, (_, i) => `100.64.${i}.${(pps % 200) + 1}`),
    srcPort: () => 443,
    dstPort: 51_000,
    tcpFlags: 0x18,
  };
}

/** One Ethernet frame per source, as an sFlow agent would sample them. */
export function framesOf(stream: TrafficStream): Uint8Array[] {
  return stream.sources.map((src, i) => {
    const ip = (body: Uint8Array) => ipv4({ src, dst: stream.dst, protocol: stream.protocol, body });
    const payloadBytes = payload(Math.max(0, stream.size - 20 - (stream.protocol === 6 ? 20 : 8)));
    return ethernet(
      ip(
        stream.protocol === 6
          ? tcp(stream.srcPort(i), stream.dstPort, stream.tcpFlags, payloadBytes)
          : udp(stream.srcPort(i), stream.dstPort, payloadBytes),
      ),
    );
  });
}
