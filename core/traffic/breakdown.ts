/**
 * What a slot's (a host's or a network's) traffic is made of: packets, bytes and flows by
 * traffic class, TCP flag patterns, fragments, UDP packets by reflector source port, the top
 * destination ports, the spread of packet sizes, bogon sources and the number of distinct
 * sources. The classifier reads shares of it, per-protocol thresholds scale the slot's rate by
 * them, and the evidence guard reads how many records and sampled packets stand behind them.
 *
 * Traffic classes. A record is in exactly one protocol class (TCP, UDP, ICMP and ICMPv6, GRE,
 * other) and in any of the kind classes:
 * - syn: TCP whose flags (OR-ed over the flow) have SYN without ACK: handshakes never completed;
 * - ackRst: TCP with ACK or RST but none of SYN, FIN, PSH: no handshake, no data;
 * - fragment: the exporter said "fragment", or, when it cannot say (NetFlow v5, softflowd), TCP
 *   or UDP with source and destination port 0: non-initial fragments carry no transport header,
 *   so exporters report their ports as 0 (and port 0 is not a real service). IPv6 fragments
 *   carry a Fragment extension header; exporters that do not walk it report protocol 44 (the
 *   header's own number), and softflowd reports non-initial ones as protocol 0: both, with
 *   ports 0, are fragments too (neither number is a transport anyone sends traffic on);
 * - amplification: UDP from a reflector source port (REFLECTOR_PORTS).
 *
 * Aging. Counts are by arrival time in generations of `windowSeconds` W (generation =
 * floor(arrival second / W)). When a slot is first written in a new generation its counts are
 * halved, so a read weighs the current generation fully, the previous one half, the one before
 * a quarter...; a slot not written for two whole generations starts from zero. Nothing needs a
 * timer. The distinct-source sketch cannot be halved: it keeps the current and the previous
 * generation (chosen by parity) and a read takes their union.
 *
 * Counters are Uint32 with saturating adds (a share stays meaningful when one saturates; a wrap
 * would not); bytes and sampled packets are Float64. Top destination ports use space-saving
 * with TOP_PORTS entries, each entry keeping the count it inherited when it replaced another
 * port, so a port's reported packets are a lower bound: random destination ports never pose as
 * a "top port".
 *
 * Memory per slot: 38 Uint32 counters (152) + 10 Float64 (bytes per class, sampled packets: 80)
 * + TOP_PORTS * 10 (40) + two 16-byte sketches (32) + generation stamp (8) = 312 bytes.
 */
import { FRAGMENT_UNKNOWN, FRAGMENT_YES } from '../flow/flow-batch.js';
import {
  SMALL_SKETCH_BYTES,
  smallSketchAdd,
  smallSketchClear,
  smallSketchEstimate,
} from './distinct-count.js';

/** IPv6 Hop-by-Hop header; softflowd's protocol for non-initial IPv6 fragments. */
export const IPPROTO_HOPOPT = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_GRE = 47;
/** The IPv6 Fragment extension header, reported as the protocol by exporters that stop at it. */
export const IPPROTO_IPV6_FRAGMENT = 44;
export const IPPROTO_ICMPV6 = 58;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export const CLASS_TCP = 0;
export const CLASS_UDP = 1;
export const CLASS_ICMP = 2;
export const CLASS_GRE = 3;
export const CLASS_OTHER = 4;
export const CLASS_SYN = 5;
export const CLASS_ACK_RST = 6;
export const CLASS_FRAGMENT = 7;
export const CLASS_AMPLIFICATION = 8;
export const CLASS_COUNT = 9;
/** Classes 0..PROTOCOL_CLASSES-1 partition all traffic; the others are subsets. */
export const PROTOCOL_CLASSES = 5;

/**
 * UDP source ports of services that answer a small spoofed request with a large reply; each has
 * an amplification family of its own (AMPLIFICATION_PORTS, core/incident/incident.ts).
 */
export const REFLECTOR_PORTS: readonly number[] = [53, 123, 11211, 1900, 389, 19, 161, 111, 3702, 37810];

/** Upper bounds (bytes, inclusive) of the packet-size buckets; the last one is open. */
export const SIZE_BUCKET_LIMITS: readonly number[] = [
  64,
  128,
  256,
  512,
  1024,
  1500,
  Number.POSITIVE_INFINITY,
];

export const TOP_PORTS = 4;

// Uint32 counter layout of one slot.
const U_PACKETS = 0;
const U_FLOWS = CLASS_COUNT;
const U_ACK_ONLY = 2 * CLASS_COUNT;
const U_RST = U_ACK_ONLY + 1;
const U_BOGON = U_ACK_ONLY + 2;
const U_REFLECTOR = U_ACK_ONLY + 3;
const U_SIZES = U_REFLECTOR + REFLECTOR_PORTS.length;
const COUNTERS = U_SIZES + SIZE_BUCKET_LIMITS.length;
// Float64 layout of one slot: bytes per class, then sampled packets (a Uint32 halved with
// truncation would skew the packets / sampled-packets ratio when few samples stand behind it).
const F_SAMPLED = CLASS_COUNT;
const FLOATS = CLASS_COUNT + 1;
const U32_MAX = 0xffffffff;

/** port -> index into REFLECTOR_PORTS, -1 for any other port. 64 KiB, shared. */
const REFLECTOR_INDEX = new Int8Array(65536).fill(-1);
REFLECTOR_PORTS.forEach((port, i) => {
  REFLECTOR_INDEX[port] = i;
});

export function isReflectorPort(port: number): boolean {
  return REFLECTOR_INDEX[port]! >= 0;
}

export interface PortCount {
  port: number;
  packets: number;
}

/** Packets, bytes and flows of one traffic class. */
export interface ClassTotals {
  packets: number;
  bytes: number;
  flows: number;
}

/** A slot's traffic composition, aged as described above; counts are packets unless named. */
export interface TrafficBreakdown {
  /** All packets (= tcp + udp + icmp + gre + other). */
  packets: number;
  tcp: number;
  udp: number;
  /** ICMP and ICMPv6. */
  icmp: number;
  gre: number;
  other: number;
  /** TCP flows whose flags had SYN without ACK (connection attempts that never completed). */
  tcpSynOnly: number;
  /** TCP flows with ACK or RST but none of SYN, FIN, PSH (no handshake, no data). */
  tcpAckRstOnly: number;
  /** Of those, the ones with ACK and no RST, and the ones with RST. */
  tcpAckOnly: number;
  tcpRst: number;
  fragments: number;
  /** UDP packets from any reflector source port. */
  amplification: number;
  bytes: number;
  /** Flow records. */
  flows: number;
  /** Packets as the exporters reported them, before scaling by their sampling rates. */
  sampledPackets: number;
  /** Packets whose source is a bogon (bogons.ts). */
  bogonSourcePackets: number;
  /** Estimated distinct source addresses (18% standard error). */
  distinctSources: number;
  /** Per class, for rates and thresholds: tcp, udp, icmp, gre, other, syn, ackRst, fragment, amplification. */
  classes: ClassTotals[];
  /** UDP packets by reflector source port, largest first, zero counts left out. */
  udpReflectorPorts: PortCount[];
  /** TCP/UDP destination ports, largest first; counts are lower bounds. */
  topDestinationPorts: PortCount[];
  /** Packets per SIZE_BUCKET_LIMITS bucket, by each record's mean packet size. */
  packetSizes: number[];
}

export class BreakdownStore {
  readonly windowSeconds: number;
  private readonly generationMs: number;
  private readonly counts: Uint32Array;
  private readonly floats: Float64Array;
  private readonly stamps: Float64Array;
  private readonly ports: Uint16Array;
  private readonly portCounts: Uint32Array;
  private readonly portErrors: Uint32Array;
  private readonly sketches: Uint8Array;

  constructor(slots: number, windowSeconds: number) {
    this.windowSeconds = windowSeconds;
    this.generationMs = windowSeconds * 1000;
    this.counts = new Uint32Array(slots * COUNTERS);
    this.floats = new Float64Array(slots * FLOATS);
    this.stamps = new Float64Array(slots).fill(Number.NEGATIVE_INFINITY);
    this.ports = new Uint16Array(slots * TOP_PORTS);
    this.portCounts = new Uint32Array(slots * TOP_PORTS);
    this.portErrors = new Uint32Array(slots * TOP_PORTS);
    this.sketches = new Uint8Array(slots * 2 * SMALL_SKETCH_BYTES);
  }

  /** Forgets a slot (its counters are cleared lazily by the next write). */
  reset(slot: number): void {
    this.stamps[slot] = Number.NEGATIVE_INFINITY;
  }

  private generationOf(ms: number): number {
    // floor(floor(ms / 1000) / W) in one division.
    return Math.floor(ms / this.generationMs);
  }

  /** Brings a slot to `generation`: halves after one generation, clears after more. */
  private age(slot: number, generation: number): void {
    const stamp = this.stamps[slot]!;
    if (stamp >= generation) return;
    const c = slot * COUNTERS;
    const b = slot * FLOATS;
    const p = slot * TOP_PORTS;
    const sketchBase = slot * 2 * SMALL_SKETCH_BYTES;
    if (generation - stamp === 1) {
      for (let i = c; i < c + COUNTERS; i++) this.counts[i] = this.counts[i]! >>> 1;
      for (let i = b; i < b + FLOATS; i++) this.floats[i] = this.floats[i]! * 0.5;
      for (let i = p; i < p + TOP_PORTS; i++) {
        this.portCounts[i] = this.portCounts[i]! >>> 1;
        this.portErrors[i] = this.portErrors[i]! >>> 1;
      }
      // The sketch of this parity holds generation - 2: gone.
      smallSketchClear(this.sketches, sketchBase + (generation & 1) * SMALL_SKETCH_BYTES);
    } else {
      this.counts.fill(0, c, c + COUNTERS);
      this.floats.fill(0, b, b + FLOATS);
      this.portCounts.fill(0, p, p + TOP_PORTS);
      this.portErrors.fill(0, p, p + TOP_PORTS);
      this.sketches.fill(0, sketchBase, sketchBase + 2 * SMALL_SKETCH_BYTES);
    }
    this.stamps[slot] = generation;
  }

  /**
   * Counts one flow record. `sourceHash` is the record's source address hash (hash.ts) and
   * `bogonSource` whether that source is a bogon. Allocation-free.
   */
  add(
    slot: number,
    arrivalMs: number,
    protocol: number,
    tcpFlags: number,
    srcPort: number,
    dstPort: number,
    fragment: number,
    packets: number,
    bytes: number,
    sampledPackets: number,
    sourceHash: number,
    bogonSource: boolean,
  ): void {
    const generation = this.generationOf(arrivalMs);
    this.age(slot, generation);
    const generationNow = this.stamps[slot]!;
    const c = slot * COUNTERS;
    let protocolClass: number;
    switch (protocol) {
      case IPPROTO_TCP:
        protocolClass = CLASS_TCP;
        if ((tcpFlags & TCP_SYN) !== 0 && (tcpFlags & TCP_ACK) === 0) {
          this.countClass(slot, CLASS_SYN, packets, bytes);
        } else if (
          (tcpFlags & (TCP_SYN | TCP_FIN | TCP_PSH)) === 0 &&
          (tcpFlags & (TCP_ACK | TCP_RST)) !== 0
        ) {
          this.countClass(slot, CLASS_ACK_RST, packets, bytes);
          this.bump(c + ((tcpFlags & TCP_RST) !== 0 ? U_RST : U_ACK_ONLY), packets);
        }
        this.countPort(slot, dstPort, packets);
        break;
      case IPPROTO_UDP: {
        protocolClass = CLASS_UDP;
        const reflector = REFLECTOR_INDEX[srcPort]!;
        if (reflector >= 0) {
          this.countClass(slot, CLASS_AMPLIFICATION, packets, bytes);
          this.bump(c + U_REFLECTOR + reflector, packets);
        }
        this.countPort(slot, dstPort, packets);
        break;
      }
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6:
        protocolClass = CLASS_ICMP;
        break;
      case IPPROTO_GRE:
        protocolClass = CLASS_GRE;
        break;
      default:
        protocolClass = CLASS_OTHER;
    }
    this.countClass(slot, protocolClass, packets, bytes);
    if (
      fragment === FRAGMENT_YES ||
      (fragment === FRAGMENT_UNKNOWN &&
        srcPort === 0 &&
        dstPort === 0 &&
        (protocolClass <= CLASS_UDP || protocol === IPPROTO_IPV6_FRAGMENT || protocol === IPPROTO_HOPOPT))
    ) {
      this.countClass(slot, CLASS_FRAGMENT, packets, bytes);
    }
    this.floats[slot * FLOATS + F_SAMPLED]! += sampledPackets;
    if (bogonSource) this.bump(c + U_BOGON, packets);
    const mean = bytes / packets;
    let size = 0;
    while (mean > SIZE_BUCKET_LIMITS[size]!) size++;
    this.bump(c + U_SIZES + size, packets);
    smallSketchAdd(this.sketches, (slot * 2 + (generationNow & 1)) * SMALL_SKETCH_BYTES, sourceHash);
  }

  private countClass(slot: number, cls: number, packets: number, bytes: number): void {
    const c = slot * COUNTERS;
    this.bump(c + U_PACKETS + cls, packets);
    this.bump(c + U_FLOWS + cls, 1);
    this.floats[slot * FLOATS + cls]! += bytes;
  }

  private bump(i: number, n: number): void {
    const v = this.counts[i]! + n;
    this.counts[i] = v < U32_MAX ? v : U32_MAX;
  }

  /** Space-saving: count a known port, take a free entry, or replace the smallest. */
  private countPort(slot: number, port: number, packets: number): void {
    const base = slot * TOP_PORTS;
    let smallest = base;
    for (let i = base; i < base + TOP_PORTS; i++) {
      const count = this.portCounts[i]!;
      if (count !== 0 && this.ports[i] === port) {
        const v = count + packets;
        this.portCounts[i] = v < U32_MAX ? v : U32_MAX;
        return;
      }
      if (count < this.portCounts[smallest]!) smallest = i;
    }
    const inherited = this.portCounts[smallest]!;
    const v = inherited + packets;
    this.ports[smallest] = port;
    this.portCounts[smallest] = v < U32_MAX ? v : U32_MAX;
    this.portErrors[smallest] = inherited;
  }

  /**
   * How a read at `nowMs` sees the slot: the factor to apply to its stored counts (1 when
   * written this generation, 0.5 the previous one, 0 when older) and which sketches count.
   */
  private view(slot: number, nowMs: number): number {
    const lag = this.generationOf(nowMs) - this.stamps[slot]!;
    return lag <= 0 ? 1 : lag === 1 ? 0.5 : 0;
  }

  /**
   * Shares of the slot's traffic per class, written into `out` (length >= CLASS_COUNT * 3):
   * out[cls * 3] packets, out[cls * 3 + 1] bytes, out[cls * 3 + 2] flows, each a fraction of
   * the slot's total. All zero when the slot has no recent traffic. Allocation-free.
   */
  sharesInto(slot: number, nowMs: number, out: Float64Array): void {
    const factor = this.view(slot, nowMs);
    const c = slot * COUNTERS;
    const b = slot * FLOATS;
    let packets = 0;
    let bytes = 0;
    let flows = 0;
    for (let k = 0; k < PROTOCOL_CLASSES; k++) {
      packets += this.counts[c + U_PACKETS + k]!;
      flows += this.counts[c + U_FLOWS + k]!;
      bytes += this.floats[b + k]!;
    }
    for (let k = 0; k < CLASS_COUNT; k++) {
      const o = k * 3;
      if (factor === 0) {
        out[o] = 0;
        out[o + 1] = 0;
        out[o + 2] = 0;
        continue;
      }
      out[o] = packets > 0 ? this.counts[c + U_PACKETS + k]! / packets : 0;
      out[o + 1] = bytes > 0 ? this.floats[b + k]! / bytes : 0;
      out[o + 2] = flows > 0 ? this.counts[c + U_FLOWS + k]! / flows : 0;
    }
  }

  /** The breakdown of a slot as of `nowMs`. Allocates the result: call it per incident, not per record. */
  read(slot: number, nowMs: number): TrafficBreakdown {
    const factor = this.view(slot, nowMs);
    const c = slot * COUNTERS;
    const u = (i: number) => this.counts[c + i]! * factor;
    const classes: ClassTotals[] = [];
    for (let k = 0; k < CLASS_COUNT; k++) {
      classes.push({
        packets: u(U_PACKETS + k),
        bytes: this.floats[slot * FLOATS + k]! * factor,
        flows: u(U_FLOWS + k),
      });
    }
    const udpReflectorPorts = REFLECTOR_PORTS.map((port, i) => ({ port, packets: u(U_REFLECTOR + i) }))
      .filter((p) => p.packets > 0)
      .sort((a, b) => b.packets - a.packets);
    const topDestinationPorts: PortCount[] = [];
    if (factor > 0) {
      for (let i = slot * TOP_PORTS; i < (slot + 1) * TOP_PORTS; i++) {
        const guaranteed = (this.portCounts[i]! - this.portErrors[i]!) * factor;
        if (this.portCounts[i] === 0 || guaranteed <= 0) continue;
        topDestinationPorts.push({ port: this.ports[i]!, packets: guaranteed });
      }
      topDestinationPorts.sort((a, b) => b.packets - a.packets || a.port - b.port);
    }
    const sketchBase = slot * 2 * SMALL_SKETCH_BYTES;
    const stamp = this.stamps[slot]!;
    let distinctSources = 0;
    if (factor === 1) {
      distinctSources = smallSketchEstimate(this.sketches, sketchBase, sketchBase + SMALL_SKETCH_BYTES);
    } else if (factor > 0) {
      distinctSources = smallSketchEstimate(this.sketches, sketchBase + (stamp & 1) * SMALL_SKETCH_BYTES, -1);
    }
    const byClass = (k: number) => classes[k]!;
    let bytes = 0;
    let flows = 0;
    for (let k = 0; k < PROTOCOL_CLASSES; k++) {
      bytes += byClass(k).bytes;
      flows += byClass(k).flows;
    }
    const tcp = byClass(CLASS_TCP).packets;
    const udp = byClass(CLASS_UDP).packets;
    const icmp = byClass(CLASS_ICMP).packets;
    const gre = byClass(CLASS_GRE).packets;
    const other = byClass(CLASS_OTHER).packets;
    return {
      packets: tcp + udp + icmp + gre + other,
      tcp,
      udp,
      icmp,
      gre,
      other,
      tcpSynOnly: byClass(CLASS_SYN).packets,
      tcpAckRstOnly: byClass(CLASS_ACK_RST).packets,
      tcpAckOnly: u(U_ACK_ONLY),
      tcpRst: u(U_RST),
      fragments: byClass(CLASS_FRAGMENT).packets,
      amplification: byClass(CLASS_AMPLIFICATION).packets,
      bytes,
      flows,
      sampledPackets: this.floats[slot * FLOATS + F_SAMPLED]! * factor,
      bogonSourcePackets: u(U_BOGON),
      distinctSources: distinctSources > 0 ? Math.round(distinctSources) : 0,
      classes,
      udpReflectorPorts,
      topDestinationPorts,
      packetSizes: SIZE_BUCKET_LIMITS.map((_, i) => u(U_SIZES + i)),
    };
  }

  get bytesAllocated(): number {
    return (
      this.counts.byteLength +
      this.floats.byteLength +
      this.stamps.byteLength +
      this.ports.byteLength +
      this.portCounts.byteLength +
      this.portErrors.byteLength +
      this.sketches.byteLength
    );
  }
}
