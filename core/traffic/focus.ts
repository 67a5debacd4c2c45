/**
 * Closer watch on the few hosts and networks that matter right now: the ones over a
 * pre-threshold, and the ones with an open incident. Counting top source addresses, source
 * ports and TCP flag patterns for every host would cost hundreds of bytes per host for data
 * nobody reads; a fixed pool of focus slots, handed out and taken back by the detector, keeps it
 * for the targets an incident will describe.
 *
 * A slot records, from the moment it is handed out:
 * - top source addresses, top destination addresses (for a network: which hosts are hit), top
 *   source ports, top destination ports and top TCP flag combinations, each with space-saving
 *   (TOP_ENTRIES entries; a reported count is a lower bound: count minus the count the entry
 *   inherited);
 * - a packet-size histogram (32-byte buckets to 1536, one bucket above), by each record's mean
 *   packet size (bytes / packets: the packet size itself for flows of equal packets), weighted
 *   by packets;
 * - distinct sources and distinct destinations (HyperLogLog, 512 registers: 4.6% error);
 * - records, packets, bytes and sampled packets.
 * Counts age like the breakdown's: halved when a new generation of W seconds begins, the
 * sketches keep two generations.
 *
 * Memory per slot is about 4.5 KiB (two 1 KiB sketch pairs dominate): 1024 slots take 4.6 MiB.
 */
import { ADDRESS_WORDS } from '../flow/flow-batch.js';
import { formatAddressWords } from '../net/address.js';
import { IPPROTO_TCP, IPPROTO_UDP } from './breakdown.js';
import { largeSketchAdd, largeSketchEstimate } from './distinct-count.js';

export const TOP_ENTRIES = 8;
const SKETCH_BITS = 9;
const SKETCH_BYTES = 1 << SKETCH_BITS;
const SIZE_STEP = 32;
const SIZE_BUCKETS = 1536 / SIZE_STEP + 1;
const MAX_PACKET_BYTES = 65535;

const KEY_SOURCE_PORT = 0;
const KEY_DESTINATION_PORT = 1;
const KEY_TCP_FLAGS = 2;
const KEY_TABLES = 3;

const T_RECORDS = 0;
const T_PACKETS = 1;
const T_BYTES = 2;
const T_SAMPLED = 3;
const TOTALS = 4;

export const FOCUS_FREE = 0;
export const FOCUS_HOST = 1;
export const FOCUS_NETWORK = 2;
/** A host of the monitored networks watched for what it sends. */
export const FOCUS_OUTBOUND_HOST = 3;

export interface AddressCount {
  address: string;
  packets: number;
}

export interface KeyCount {
  key: number;
  packets: number;
}

export interface FocusReport {
  /** When the slot was handed out (Unix ms): what it saw started then. */
  sinceMs: number;
  records: number;
  packets: number;
  bytes: number;
  sampledPackets: number;
  topSources: AddressCount[];
  topDestinations: AddressCount[];
  topSourcePorts: KeyCount[];
  topDestinationPorts: KeyCount[];
  /** TCP flag bytes (OR over each flow) and their packets. */
  tcpFlags: KeyCount[];
  distinctSources: number;
  distinctDestinations: number;
  /** Packet sizes (bytes): [p10, p90] covers at least 80% of packets (sizePercentiles); 0 when none. */
  packetSizes: { p10: number; p50: number; p90: number };
}

export class FocusStore {
  readonly capacity: number;
  readonly windowSeconds: number;
  readonly ownerKind: Uint8Array;
  readonly ownerId: Int32Array;
  private readonly sinceMs: Float64Array;
  private readonly stamps: Float64Array;
  private readonly totals: Float64Array;
  private readonly srcKeys: Uint32Array;
  private readonly srcCounts: Float64Array;
  private readonly srcErrors: Float64Array;
  private readonly dstKeys: Uint32Array;
  private readonly dstCounts: Float64Array;
  private readonly dstErrors: Float64Array;
  private readonly smallKeys: Int32Array;
  private readonly smallCounts: Float64Array;
  private readonly smallErrors: Float64Array;
  private readonly sizes: Float64Array;
  private readonly srcSketches: Uint8Array;
  private readonly dstSketches: Uint8Array;
  private readonly free: Int32Array;
  private freeTop: number;
  /** Slots in use. */
  used = 0;
  /** Requests refused because every slot was in use. */
  refused = 0;

  constructor(capacity: number, windowSeconds: number) {
    this.capacity = capacity;
    this.windowSeconds = windowSeconds;
    this.ownerKind = new Uint8Array(capacity);
    this.ownerId = new Int32Array(capacity).fill(-1);
    this.sinceMs = new Float64Array(capacity);
    this.stamps = new Float64Array(capacity);
    this.totals = new Float64Array(capacity * TOTALS);
    this.srcKeys = new Uint32Array(capacity * TOP_ENTRIES * ADDRESS_WORDS);
    this.srcCounts = new Float64Array(capacity * TOP_ENTRIES);
    this.srcErrors = new Float64Array(capacity * TOP_ENTRIES);
    this.dstKeys = new Uint32Array(capacity * TOP_ENTRIES * ADDRESS_WORDS);
    this.dstCounts = new Float64Array(capacity * TOP_ENTRIES);
    this.dstErrors = new Float64Array(capacity * TOP_ENTRIES);
    this.smallKeys = new Int32Array(capacity * KEY_TABLES * TOP_ENTRIES);
    this.smallCounts = new Float64Array(capacity * KEY_TABLES * TOP_ENTRIES);
    this.smallErrors = new Float64Array(capacity * KEY_TABLES * TOP_ENTRIES);
    this.sizes = new Float64Array(capacity * SIZE_BUCKETS);
    this.srcSketches = new Uint8Array(capacity * 2 * SKETCH_BYTES);
    this.dstSketches = new Uint8Array(capacity * 2 * SKETCH_BYTES);
    this.free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeTop = capacity;
  }

  /** Hands out a cleared slot for an owner, or -1 (counted in `refused`) when none is left. */
  acquire(kind: number, id: number, nowMs: number): number {
    if (this.freeTop === 0) {
      this.refused += 1;
      return -1;
    }
    this.freeTop -= 1;
    const slot = this.free[this.freeTop]!;
    this.ownerKind[slot] = kind;
    this.ownerId[slot] = id;
    this.sinceMs[slot] = nowMs;
    this.stamps[slot] = this.generationOf(nowMs);
    this.clear(slot);
    this.used += 1;
    return slot;
  }

  release(slot: number): void {
    if (this.ownerKind[slot] === FOCUS_FREE) return;
    this.ownerKind[slot] = FOCUS_FREE;
    this.ownerId[slot] = -1;
    this.free[this.freeTop] = slot;
    this.freeTop += 1;
    this.used -= 1;
  }

  private generationOf(ms: number): number {
    return Math.floor(Math.floor(ms / 1000) / this.windowSeconds);
  }

  private clear(slot: number): void {
    this.totals.fill(0, slot * TOTALS, (slot + 1) * TOTALS);
    this.srcCounts.fill(0, slot * TOP_ENTRIES, (slot + 1) * TOP_ENTRIES);
    this.srcErrors.fill(0, slot * TOP_ENTRIES, (slot + 1) * TOP_ENTRIES);
    this.dstCounts.fill(0, slot * TOP_ENTRIES, (slot + 1) * TOP_ENTRIES);
    this.dstErrors.fill(0, slot * TOP_ENTRIES, (slot + 1) * TOP_ENTRIES);
    const k = slot * KEY_TABLES * TOP_ENTRIES;
    this.smallCounts.fill(0, k, k + KEY_TABLES * TOP_ENTRIES);
    this.smallErrors.fill(0, k, k + KEY_TABLES * TOP_ENTRIES);
    this.sizes.fill(0, slot * SIZE_BUCKETS, (slot + 1) * SIZE_BUCKETS);
    this.srcSketches.fill(0, slot * 2 * SKETCH_BYTES, (slot + 1) * 2 * SKETCH_BYTES);
    this.dstSketches.fill(0, slot * 2 * SKETCH_BYTES, (slot + 1) * 2 * SKETCH_BYTES);
  }

  private age(slot: number, generation: number): void {
    const stamp = this.stamps[slot]!;
    if (stamp >= generation) return;
    this.stamps[slot] = generation;
    if (generation - stamp > 1) {
      const since = this.sinceMs[slot]!;
      this.clear(slot);
      this.sinceMs[slot] = since;
      return;
    }
    halve(this.totals, slot * TOTALS, TOTALS);
    halve(this.srcCounts, slot * TOP_ENTRIES, TOP_ENTRIES);
    halve(this.srcErrors, slot * TOP_ENTRIES, TOP_ENTRIES);
    halve(this.dstCounts, slot * TOP_ENTRIES, TOP_ENTRIES);
    halve(this.dstErrors, slot * TOP_ENTRIES, TOP_ENTRIES);
    halve(this.smallCounts, slot * KEY_TABLES * TOP_ENTRIES, KEY_TABLES * TOP_ENTRIES);
    halve(this.smallErrors, slot * KEY_TABLES * TOP_ENTRIES, KEY_TABLES * TOP_ENTRIES);
    halve(this.sizes, slot * SIZE_BUCKETS, SIZE_BUCKETS);
    const parity = (slot * 2 + (generation & 1)) * SKETCH_BYTES;
    this.srcSketches.fill(0, parity, parity + SKETCH_BYTES);
    this.dstSketches.fill(0, parity, parity + SKETCH_BYTES);
  }

  /** Counts one flow record into a slot. Allocation-free. */
  add(
    slot: number,
    arrivalMs: number,
    srcAddr: Uint32Array,
    dstAddr: Uint32Array,
    row: number,
    protocol: number,
    srcPort: number,
    dstPort: number,
    tcpFlags: number,
    packets: number,
    bytes: number,
    sampledPackets: number,
    sourceHash: number,
    destinationHash: number,
  ): void {
    this.age(slot, this.generationOf(arrivalMs));
    const t = slot * TOTALS;
    this.totals[t + T_RECORDS]! += 1;
    this.totals[t + T_PACKETS]! += packets;
    this.totals[t + T_BYTES]! += bytes;
    this.totals[t + T_SAMPLED]! += sampledPackets;
    const a = row * ADDRESS_WORDS;
    countAddress(this.srcKeys, this.srcCounts, this.srcErrors, slot, srcAddr, a, packets);
    countAddress(this.dstKeys, this.dstCounts, this.dstErrors, slot, dstAddr, a, packets);
    const k = slot * KEY_TABLES;
    if (protocol === IPPROTO_TCP || protocol === IPPROTO_UDP) {
      countKey(
        this.smallKeys,
        this.smallCounts,
        this.smallErrors,
        (k + KEY_SOURCE_PORT) * TOP_ENTRIES,
        srcPort,
        packets,
      );
      countKey(
        this.smallKeys,
        this.smallCounts,
        this.smallErrors,
        (k + KEY_DESTINATION_PORT) * TOP_ENTRIES,
        dstPort,
        packets,
      );
    }
    if (protocol === IPPROTO_TCP) {
      countKey(
        this.smallKeys,
        this.smallCounts,
        this.smallErrors,
        (k + KEY_TCP_FLAGS) * TOP_ENTRIES,
        tcpFlags,
        packets,
      );
    }
    let bucket = Math.floor(bytes / packets / SIZE_STEP);
    if (bucket >= SIZE_BUCKETS) bucket = SIZE_BUCKETS - 1;
    this.sizes[slot * SIZE_BUCKETS + bucket]! += packets;
    const parity = (slot * 2 + (this.stamps[slot]! & 1)) * SKETCH_BYTES;
    largeSketchAdd(this.srcSketches, parity, SKETCH_BITS, sourceHash);
    largeSketchAdd(this.dstSketches, parity, SKETCH_BITS, destinationHash);
  }

  /** What a slot saw, as of `nowMs`. Allocates: per incident, not per record. */
  read(slot: number, nowMs: number): FocusReport {
    const lag = this.generationOf(nowMs) - this.stamps[slot]!;
    const factor = lag <= 0 ? 1 : lag === 1 ? 0.5 : 0;
    const t = slot * TOTALS;
    const k = slot * KEY_TABLES;
    const sketchA = slot * 2 * SKETCH_BYTES;
    let sketches: [number, number] = [sketchA, sketchA + SKETCH_BYTES];
    if (factor === 0.5) sketches = [sketchA + (this.stamps[slot]! & 1) * SKETCH_BYTES, -1];
    const distinct = (regs: Uint8Array) =>
      factor === 0 ? 0 : Math.round(largeSketchEstimate(regs, sketches[0], sketches[1], SKETCH_BITS));
    return {
      sinceMs: this.sinceMs[slot]!,
      records: this.totals[t + T_RECORDS]! * factor,
      packets: this.totals[t + T_PACKETS]! * factor,
      bytes: this.totals[t + T_BYTES]! * factor,
      sampledPackets: this.totals[t + T_SAMPLED]! * factor,
      topSources: readAddresses(this.srcKeys, this.srcCounts, this.srcErrors, slot, factor),
      topDestinations: readAddresses(this.dstKeys, this.dstCounts, this.dstErrors, slot, factor),
      topSourcePorts: readKeys(
        this.smallKeys,
        this.smallCounts,
        this.smallErrors,
        (k + KEY_SOURCE_PORT) * TOP_ENTRIES,
        factor,
      ),
      topDestinationPorts: readKeys(
        this.smallKeys,
        this.smallCounts,
        this.smallErrors,
        (k + KEY_DESTINATION_PORT) * TOP_ENTRIES,
        factor,
      ),
      tcpFlags: readKeys(
        this.smallKeys,
        this.smallCounts,
        this.smallErrors,
        (k + KEY_TCP_FLAGS) * TOP_ENTRIES,
        factor,
      ),
      distinctSources: distinct(this.srcSketches),
      distinctDestinations: distinct(this.dstSketches),
      packetSizes: sizePercentiles(this.sizes, slot * SIZE_BUCKETS),
    };
  }

  get bytesAllocated(): number {
    return (
      this.ownerKind.byteLength +
      this.ownerId.byteLength +
      this.sinceMs.byteLength +
      this.stamps.byteLength +
      this.totals.byteLength +
      this.srcKeys.byteLength +
      this.srcCounts.byteLength +
      this.srcErrors.byteLength +
      this.dstKeys.byteLength +
      this.dstCounts.byteLength +
      this.dstErrors.byteLength +
      this.smallKeys.byteLength +
      this.smallCounts.byteLength +
      this.smallErrors.byteLength +
      this.sizes.byteLength +
      this.srcSketches.byteLength +
      this.dstSketches.byteLength +
      this.free.byteLength
    );
  }
}

function halve(values: Float64Array, from: number, count: number): void {
  for (let i = from; i < from + count; i++) values[i] = values[i]! * 0.5;
}

/** Space-saving over 4-word addresses: count a known one, take a free entry, or replace the smallest. */
function countAddress(
  keys: Uint32Array,
  counts: Float64Array,
  errors: Float64Array,
  slot: number,
  column: Uint32Array,
  a: number,
  packets: number,
): void {
  const w0 = column[a]!;
  const w1 = column[a + 1]!;
  const w2 = column[a + 2]!;
  const w3 = column[a + 3]!;
  const base = slot * TOP_ENTRIES;
  let smallest = base;
  for (let i = base; i < base + TOP_ENTRIES; i++) {
    const count = counts[i]!;
    const k = i * ADDRESS_WORDS;
    if (count > 0 && keys[k] === w0 && keys[k + 1] === w1 && keys[k + 2] === w2 && keys[k + 3] === w3) {
      counts[i] = count + packets;
      return;
    }
    if (count < counts[smallest]!) smallest = i;
  }
  const k = smallest * ADDRESS_WORDS;
  keys[k] = w0;
  keys[k + 1] = w1;
  keys[k + 2] = w2;
  keys[k + 3] = w3;
  errors[smallest] = counts[smallest]!;
  counts[smallest] = counts[smallest]! + packets;
}

function countKey(
  keys: Int32Array,
  counts: Float64Array,
  errors: Float64Array,
  base: number,
  key: number,
  packets: number,
): void {
  let smallest = base;
  for (let i = base; i < base + TOP_ENTRIES; i++) {
    const count = counts[i]!;
    if (count > 0 && keys[i] === key) {
      counts[i] = count + packets;
      return;
    }
    if (count < counts[smallest]!) smallest = i;
  }
  keys[smallest] = key;
  errors[smallest] = counts[smallest]!;
  counts[smallest] = counts[smallest]! + packets;
}

function readAddresses(
  keys: Uint32Array,
  counts: Float64Array,
  errors: Float64Array,
  slot: number,
  factor: number,
): AddressCount[] {
  const out: AddressCount[] = [];
  for (let i = slot * TOP_ENTRIES; i < (slot + 1) * TOP_ENTRIES; i++) {
    const guaranteed = (counts[i]! - errors[i]!) * factor;
    if (counts[i]! > 0 && guaranteed > 0) {
      out.push({ address: formatAddressWords(keys, i * ADDRESS_WORDS), packets: guaranteed });
    }
  }
  return out.sort((a, b) => b.packets - a.packets);
}

function readKeys(
  keys: Int32Array,
  counts: Float64Array,
  errors: Float64Array,
  base: number,
  factor: number,
): KeyCount[] {
  const out: KeyCount[] = [];
  for (let i = base; i < base + TOP_ENTRIES; i++) {
    const guaranteed = (counts[i]! - errors[i]!) * factor;
    if (counts[i]! > 0 && guaranteed > 0) out.push({ key: keys[i]!, packets: guaranteed });
  }
  return out.sort((a, b) => b.packets - a.packets || a.key - b.key);
}

/**
 * Packet sizes at the 10th, 50th and 90th percentile of packets, read so that [p10, p90] is a
 * range a filter can use: p10 is the lower edge of its bucket, p90 the upper edge (inclusive) of
 * its bucket, p50 the middle of its bucket. At least 80% of the packets lie in [p10, p90].
 */
function sizePercentiles(sizes: Float64Array, base: number): { p10: number; p50: number; p90: number } {
  let total = 0;
  for (let i = 0; i < SIZE_BUCKETS; i++) total += sizes[base + i]!;
  if (!(total > 0)) return { p10: 0, p50: 0, p90: 0 };
  const bucketAt = (q: number): number => {
    let seen = 0;
    for (let i = 0; i < SIZE_BUCKETS; i++) {
      seen += sizes[base + i]!;
      if (seen >= q * total) return i;
    }
    return SIZE_BUCKETS - 1;
  };
  const last = SIZE_BUCKETS - 1;
  const lower = (i: number) => i * SIZE_STEP;
  const upper = (i: number) => (i === last ? MAX_PACKET_BYTES : i * SIZE_STEP + SIZE_STEP - 1);
  const p50 = bucketAt(0.5);
  return {
    p10: lower(bucketAt(0.1)),
    p50: p50 === last ? lower(last) : p50 * SIZE_STEP + SIZE_STEP / 2,
    p90: upper(bucketAt(0.9)),
  };
}
