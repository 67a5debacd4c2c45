/**
 * What a host's traffic is made of, for the classifier: packets by protocol, TCP flag patterns,
 * fragments, UDP packets by reflector source port, and the top destination ports.
 *
 * These are shares, not rates, so they are counted by arrival time in two generations of
 * `windowSeconds` each (generation = floor(arrival second / W), stored at index generation & 1):
 * a read at `now` sums the current and the previous generation, i.e. between W and 2W seconds of
 * arrivals. A write to a generation slot still holding an older generation clears it first, so
 * nothing needs a timer.
 *
 * Counters are Uint32 with saturating adds (a share stays meaningful when one saturates; a
 * wrap would not). Top destination ports use space-saving with TOP_PORTS entries per generation,
 * each entry keeping the count it inherited when it replaced another port, so a port's reported
 * packets are a lower bound: random destination ports never pose as a "top port".
 *
 * Memory per host: 2 generations * (COUNTERS * 4 + TOP_PORTS * (2 + 4 + 4)) + 2 * 8 (generation
 * stamps) = 2 * (60 + 40) + 16 = 216 bytes.
 */
import { FRAGMENT_YES } from '../flow/flow-batch.js';
import { AMPLIFICATION_PORTS } from '../incident/incident.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_GRE = 47;
export const IPPROTO_ICMPV6 = 58;

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

const C_TCP = 0;
const C_UDP = 1;
const C_ICMP = 2;
const C_GRE = 3;
const C_OTHER = 4;
const C_SYN_ONLY = 5;
const C_ACK_RST_ONLY = 6;
const C_FRAGMENT = 7;
const C_REFLECTOR = 8;

/** The reflector source ports counted separately, in AMPLIFICATION_PORTS order. */
export const REFLECTOR_PORTS: readonly number[] = Object.keys(AMPLIFICATION_PORTS).map(Number);
const COUNTERS = C_REFLECTOR + REFLECTOR_PORTS.length;
export const TOP_PORTS = 4;
const GENERATIONS = 2;
const U32_MAX = 0xffffffff;

/** port -> index into REFLECTOR_PORTS, -1 for any other port. 64 KiB, shared. */
const REFLECTOR_INDEX = new Int8Array(65536).fill(-1);
REFLECTOR_PORTS.forEach((port, i) => {
  REFLECTOR_INDEX[port] = i;
});

export interface PortCount {
  port: number;
  packets: number;
}

/** A host's traffic composition over the breakdown window; all counts are packets. */
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
  fragments: number;
  /** UDP packets by reflector source port, largest first, zero counts left out. */
  udpReflectorPorts: PortCount[];
  /** TCP/UDP destination ports, largest first; counts are lower bounds. */
  topDestinationPorts: PortCount[];
}

export class BreakdownStore {
  readonly windowSeconds: number;
  private readonly counts: Uint32Array;
  private readonly stamps: Float64Array;
  private readonly ports: Uint16Array;
  private readonly portCounts: Uint32Array;
  private readonly portErrors: Uint32Array;

  constructor(slots: number, windowSeconds: number) {
    this.windowSeconds = windowSeconds;
    this.counts = new Uint32Array(slots * GENERATIONS * COUNTERS);
    this.stamps = new Float64Array(slots * GENERATIONS).fill(Number.NEGATIVE_INFINITY);
    this.ports = new Uint16Array(slots * GENERATIONS * TOP_PORTS);
    this.portCounts = new Uint32Array(slots * GENERATIONS * TOP_PORTS);
    this.portErrors = new Uint32Array(slots * GENERATIONS * TOP_PORTS);
  }

  reset(slot: number): void {
    this.stamps[slot * GENERATIONS] = Number.NEGATIVE_INFINITY;
    this.stamps[slot * GENERATIONS + 1] = Number.NEGATIVE_INFINITY;
  }

  /** Counts one flow record. Allocation-free. */
  add(
    slot: number,
    arrivalMs: number,
    protocol: number,
    tcpFlags: number,
    srcPort: number,
    dstPort: number,
    fragment: number,
    packets: number,
  ): void {
    const generation = Math.floor(Math.floor(arrivalMs / 1000) / this.windowSeconds);
    const g = slot * GENERATIONS + (generation & 1);
    const stamp = this.stamps[g]!;
    if (stamp !== generation) {
      if (stamp > generation) return; // a late record for a generation already overwritten
      this.counts.fill(0, g * COUNTERS, (g + 1) * COUNTERS);
      this.portCounts.fill(0, g * TOP_PORTS, (g + 1) * TOP_PORTS);
      this.portErrors.fill(0, g * TOP_PORTS, (g + 1) * TOP_PORTS);
      this.stamps[g] = generation;
    }
    const c = g * COUNTERS;
    switch (protocol) {
      case IPPROTO_TCP:
        this.bump(c + C_TCP, packets);
        if ((tcpFlags & TCP_SYN) !== 0 && (tcpFlags & TCP_ACK) === 0) {
          this.bump(c + C_SYN_ONLY, packets);
        } else if (
          (tcpFlags & (TCP_SYN | TCP_FIN | TCP_PSH)) === 0 &&
          (tcpFlags & (TCP_ACK | TCP_RST)) !== 0
        ) {
          this.bump(c + C_ACK_RST_ONLY, packets);
        }
        this.countPort(g, dstPort, packets);
        break;
      case IPPROTO_UDP: {
        this.bump(c + C_UDP, packets);
        const reflector = REFLECTOR_INDEX[srcPort]!;
        if (reflector >= 0) this.bump(c + C_REFLECTOR + reflector, packets);
        this.countPort(g, dstPort, packets);
        break;
      }
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6:
        this.bump(c + C_ICMP, packets);
        break;
      case IPPROTO_GRE:
        this.bump(c + C_GRE, packets);
        break;
      default:
        this.bump(c + C_OTHER, packets);
    }
    if (fragment === FRAGMENT_YES) this.bump(c + C_FRAGMENT, packets);
  }

  private bump(i: number, packets: number): void {
    const v = this.counts[i]! + packets;
    this.counts[i] = Math.min(v, U32_MAX);
  }

  /** Space-saving: count a known port, take a free entry, or replace the smallest. */
  private countPort(g: number, port: number, packets: number): void {
    const base = g * TOP_PORTS;
    let smallest = base;
    for (let i = base; i < base + TOP_PORTS; i++) {
      const count = this.portCounts[i]!;
      if (count !== 0 && this.ports[i] === port) {
        const v = count + packets;
        this.portCounts[i] = Math.min(v, U32_MAX);
        return;
      }
      if (count < this.portCounts[smallest]!) smallest = i;
    }
    const inherited = this.portCounts[smallest]!;
    const v = inherited + packets;
    this.ports[smallest] = port;
    this.portCounts[smallest] = Math.min(v, U32_MAX);
    this.portErrors[smallest] = inherited;
  }

  /** The breakdown of a slot as of `nowMs`. Allocates the result: call it per incident, not per record. */
  read(slot: number, nowMs: number): TrafficBreakdown {
    const current = Math.floor(Math.floor(nowMs / 1000) / this.windowSeconds);
    const totals = new Float64Array(COUNTERS);
    const portTotals = new Map<number, number>();
    for (let k = 0; k < GENERATIONS; k++) {
      const g = slot * GENERATIONS + k;
      const stamp = this.stamps[g]!;
      if (stamp !== current && stamp !== current - 1) continue;
      for (let i = 0; i < COUNTERS; i++) totals[i]! += this.counts[g * COUNTERS + i]!;
      for (let i = g * TOP_PORTS; i < (g + 1) * TOP_PORTS; i++) {
        const guaranteed = this.portCounts[i]! - this.portErrors[i]!;
        if (this.portCounts[i] === 0 || guaranteed <= 0) continue;
        const port = this.ports[i]!;
        portTotals.set(port, (portTotals.get(port) ?? 0) + guaranteed);
      }
    }
    const udpReflectorPorts = REFLECTOR_PORTS.map((port, i) => ({ port, packets: totals[C_REFLECTOR + i]! }))
      .filter((p) => p.packets > 0)
      .sort((a, b) => b.packets - a.packets);
    const topDestinationPorts = [...portTotals]
      .map(([port, packets]) => ({ port, packets }))
      .sort((a, b) => b.packets - a.packets || a.port - b.port);
    const tcp = totals[C_TCP]!;
    const udp = totals[C_UDP]!;
    const icmp = totals[C_ICMP]!;
    const gre = totals[C_GRE]!;
    const other = totals[C_OTHER]!;
    return {
      packets: tcp + udp + icmp + gre + other,
      tcp,
      udp,
      icmp,
      gre,
      other,
      tcpSynOnly: totals[C_SYN_ONLY]!,
      tcpAckRstOnly: totals[C_ACK_RST_ONLY]!,
      fragments: totals[C_FRAGMENT]!,
      udpReflectorPorts,
      topDestinationPorts,
    };
  }

  get bytesAllocated(): number {
    return (
      this.counts.byteLength +
      this.stamps.byteLength +
      this.ports.byteLength +
      this.portCounts.byteLength +
      this.portErrors.byteLength
    );
  }
}
