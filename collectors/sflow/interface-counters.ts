/**
 * The latest generic interface counters (sFlow counter record 0:1, the IF-MIB figures) per
 * agent and ifIndex. Agents send them every polling interval (20–30 s typically), so they say
 * what a link carries in total and whether it is up, which flow samples alone do not.
 *
 * The table is bounded: spoofed datagrams inventing agents and interfaces could otherwise grow
 * it forever. When full, the interface heard from least recently is dropped for the new one.
 * Counters are monotonic on the agent; this table keeps them as reported, rates are the
 * reader's business (the difference of two readings over `agentUptimeMs`).
 */
import { u32, u64 } from './format.js';

/** One interface's counters as last reported, as plain JSON. */
export interface SflowInterfaceCounters {
  /** The agent address from the sFlow datagram header ("" when the agent sent type unknown). */
  agent: string;
  subAgentId: number;
  /** Where the datagram came from (UDP source), which differs from `agent` behind a relay. */
  exporter: string;
  ifIndex: number;
  /** IANAifType (6 = ethernetCsmacd). */
  ifType: number;
  /** Bits per second. */
  ifSpeed: number;
  /** 0 unknown, 1 full-duplex, 2 half-duplex, 3 in, 4 out. */
  ifDirection: number;
  /** Bit 0 admin up, bit 1 operationally up; also given as the two booleans below. */
  ifStatus: number;
  adminUp: boolean;
  operUp: boolean;
  inOctets: number;
  inUcastPkts: number;
  inMulticastPkts: number;
  inBroadcastPkts: number;
  inDiscards: number;
  inErrors: number;
  inUnknownProtos: number;
  outOctets: number;
  outUcastPkts: number;
  outMulticastPkts: number;
  outBroadcastPkts: number;
  outDiscards: number;
  outErrors: number;
  /** 1 promiscuous, 2 not (IF-MIB TruthValue). */
  promiscuousMode: number;
  /** The counter sample's sequence number and the agent's uptime when it sent the datagram. */
  sampleSequence: number;
  agentUptimeMs: number;
  /** When Floodgate received it, ISO 8601. */
  receivedAt: string;
}

type Entry = Omit<SflowInterfaceCounters, 'receivedAt' | 'adminUp' | 'operUp'> & { receivedMs: number };

export const DEFAULT_MAX_INTERFACES = 65_536;

/** Where the agent context of a counter record comes from: the datagram and sample headers. */
export interface CounterSource {
  agent: string;
  subAgentId: number;
  exporter: string;
  sampleSequence: number;
  agentUptimeMs: number;
  receivedMs: number;
}

export class InterfaceCounterTable {
  private readonly entries = new Map<string, Entry>();

  constructor(readonly maxEntries = DEFAULT_MAX_INTERFACES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`interface counter table size must be a positive integer, got ${maxEntries}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Stores the 88-byte generic interface counters record at `b[o]` (bounds checked by the
   * caller). Returns true when another interface was evicted to make room.
   */
  update(source: CounterSource, b: Uint8Array, o: number): boolean {
    const ifIndex = u32(b, o);
    const key = `${source.agent}|${ifIndex}`;
    let entry = this.entries.get(key);
    let evicted = false;
    if (entry) {
      // Re-inserted below, so that iteration order is least recently heard first.
      this.entries.delete(key);
    } else {
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
        evicted = true;
      }
      entry = emptyEntry();
    }
    entry.agent = source.agent;
    entry.subAgentId = source.subAgentId;
    entry.exporter = source.exporter;
    entry.sampleSequence = source.sampleSequence;
    entry.agentUptimeMs = source.agentUptimeMs;
    entry.receivedMs = source.receivedMs;
    entry.ifIndex = ifIndex;
    entry.ifType = u32(b, o + 4);
    entry.ifSpeed = u64(b, o + 8);
    entry.ifDirection = u32(b, o + 16);
    entry.ifStatus = u32(b, o + 20);
    entry.inOctets = u64(b, o + 24);
    entry.inUcastPkts = u32(b, o + 32);
    entry.inMulticastPkts = u32(b, o + 36);
    entry.inBroadcastPkts = u32(b, o + 40);
    entry.inDiscards = u32(b, o + 44);
    entry.inErrors = u32(b, o + 48);
    entry.inUnknownProtos = u32(b, o + 52);
    entry.outOctets = u64(b, o + 56);
    entry.outUcastPkts = u32(b, o + 64);
    entry.outMulticastPkts = u32(b, o + 68);
    entry.outBroadcastPkts = u32(b, o + 72);
    entry.outDiscards = u32(b, o + 76);
    entry.outErrors = u32(b, o + 80);
    entry.promiscuousMode = u32(b, o + 84);
    this.entries.set(key, entry);
    return evicted;
  }

  /** Every interface, sorted by agent then ifIndex, as JSON-ready copies. */
  snapshot(): SflowInterfaceCounters[] {
    const out: SflowInterfaceCounters[] = [];
    for (const e of this.entries.values()) {
      const { receivedMs, ...rest } = e;
      out.push({
        ...rest,
        adminUp: (e.ifStatus & 1) !== 0,
        operUp: (e.ifStatus & 2) !== 0,
        receivedAt: new Date(receivedMs).toISOString(),
      });
    }
    out.sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : a.ifIndex - b.ifIndex));
    return out;
  }
}

function emptyEntry(): Entry {
  return {
    agent: '',
    subAgentId: 0,
    exporter: '',
    ifIndex: 0,
    ifType: 0,
    ifSpeed: 0,
    ifDirection: 0,
    ifStatus: 0,
    inOctets: 0,
    inUcastPkts: 0,
    inMulticastPkts: 0,
    inBroadcastPkts: 0,
    inDiscards: 0,
    inErrors: 0,
    inUnknownProtos: 0,
    outOctets: 0,
    outUcastPkts: 0,
    outMulticastPkts: 0,
    outBroadcastPkts: 0,
    outDiscards: 0,
    outErrors: 0,
    promiscuousMode: 0,
    sampleSequence: 0,
    agentUptimeMs: 0,
    receivedMs: 0,
  };
}
