/**
 * Per-host counting for one direction of traffic. The inbound side keys a record by its
 * destination (the host being hit), the outbound side by its source (a host of the monitored
 * networks that sends: a server joining an attack, or one of our services abused as a
 * reflector). Each side has its own capped host table and the same state per host: a ring of
 * per-second counts, a breakdown, the host's network and threshold profile, its focus slot, and
 * what it received since the last evaluation step.
 *
 * On the outbound side the roles of the two addresses swap: the breakdown's distinct-count
 * sketch counts distinct destinations (the host's peers), and no packet is a "bogon source"
 * (the source is the host itself).
 *
 * Step candidates. Between steps, a host whose packets, bits or flows since the last step pass
 * the smallest threshold of its profile (`candidateMinima`) becomes a candidate; at the end of
 * the batch (`drainCandidates`, once all of a datagram's records are in) each candidate is
 * handed to `onCandidate`, which checks whether the host is already over a rule second by
 * second: if so the detector asks for an early step (Detector.stepDue), so an attack opens its
 * incident as soon as its records arrive rather than at the next tick. A host that is not over
 * is checked again only once its since-step traffic has grown by CANDIDATE_GROWTH, so a busy
 * host under its rules costs a handful of checks per step period, not one per batch. Hosts with
 * an open incident (pinned) are never candidates.
 *
 * Memory per host: table 42 B + ring 328 B + breakdown 312 B + network, profile and focus
 * indexes 12 B + since-step sums 8 B + candidate scale 4 B + flags 1 B = 707 bytes, allocated
 * up front.
 */
import type { FlowBatch } from '../flow/flow-batch.js';
import { BreakdownStore, type TrafficBreakdown } from './breakdown.js';
import type { FocusStore } from './focus.js';
import { hashWords } from './hash.js';
import { HostTable } from './host-table.js';
import { METRIC_BITS, METRIC_FLOWS, METRIC_PACKETS, type RateSample, SecondRings } from './second-ring.js';

export const DIRECTION_INBOUND = 0;
export const DIRECTION_OUTBOUND = 1;
export type Direction = typeof DIRECTION_INBOUND | typeof DIRECTION_OUTBOUND;

/** Packets or bytes a host or network may receive between two steps before it is watched closely; 0 = never. */
export interface FocusTriggers {
  packets: Float64Array;
  bytes: Float64Array;
}

export interface HostSideOptions {
  direction: Direction;
  capacity: number;
  windowSeconds: number;
  /** Seed of the host table's hash. */
  tableSeed?: number;
  /** Seed of the addresses' hashes fed to the sketches (shared with the counter). */
  sketchSeed: number;
  focus: FocusStore;
  /** The focus owner kind recorded for this side's slots. */
  focusKind: number;
  /** Per profile; default: never by traffic alone. */
  triggers?: FocusTriggers;
}

const FLAG_FOCUS_REFUSED = 1;
const FLAG_CANDIDATE_QUEUED = 2;
/** A candidate found not over is checked again once its traffic since the step has grown this much. */
export const CANDIDATE_GROWTH = 1.25;
/** Candidates checked per batch at most; the rest wait for a later batch. */
const CANDIDATE_QUEUE = 4096;

function noTriggers(): FocusTriggers {
  return { packets: new Float64Array(0), bytes: new Float64Array(0) };
}

export class HostSide {
  readonly direction: Direction;
  readonly windowSeconds: number;
  readonly hosts: HostTable;
  /** Set by `heldSeconds`: the largest per-second value of the run it counted. */
  heldPeak = 0;
  /** Records not counted for their host because the table was full. */
  overflowRecords = 0;
  evictedHosts = 0;
  /**
   * Per profile and metric (pps, bps, flows/s): since-step traffic beyond which a host is handed
   * to `onCandidate`; empty or Infinity disables. Set by the detector.
   */
  candidateMinima: Float64Array = new Float64Array(0);
  /** Whether the host is over long enough to open an incident at `nowMs` (its latest arrival). */
  onCandidate: ((host: number, nowMs: number) => boolean) | undefined;
  private readonly sketchSeed: number;
  private readonly rings: SecondRings;
  private readonly breakdowns: BreakdownStore;
  private readonly network: Int32Array;
  private readonly profile: Int32Array;
  private readonly focusSlot: Int32Array;
  private readonly pendingPackets: Float32Array;
  private readonly pendingBytes: Float32Array;
  private readonly flags: Uint8Array;
  /** Per host: the multiple of its candidate minima its since-step traffic must pass to be checked. */
  private readonly candidateScale: Float32Array;
  private readonly queue: Int32Array;
  private queued = 0;
  private readonly triggers: FocusTriggers;
  private readonly focus: FocusStore;
  private readonly focusKind: number;
  private readonly releaseEvicted: (host: number) => void;

  constructor(options: HostSideOptions) {
    const { capacity } = options;
    this.direction = options.direction;
    this.windowSeconds = options.windowSeconds;
    this.hosts = new HostTable(
      options.tableSeed === undefined ? { capacity } : { capacity, seed: options.tableSeed },
    );
    this.sketchSeed = options.sketchSeed;
    this.rings = new SecondRings(capacity);
    this.breakdowns = new BreakdownStore(capacity, options.windowSeconds);
    this.network = new Int32Array(capacity);
    this.profile = new Int32Array(capacity);
    this.focusSlot = new Int32Array(capacity).fill(-1);
    this.pendingPackets = new Float32Array(capacity);
    this.pendingBytes = new Float32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.candidateScale = new Float32Array(capacity).fill(1);
    this.queue = new Int32Array(Math.min(capacity, CANDIDATE_QUEUE));
    this.triggers = options.triggers ?? noTriggers();
    this.focus = options.focus;
    this.focusKind = options.focusKind;
    this.releaseEvicted = (host: number) => this.releaseFocus(host);
  }

  /**
   * Counts one record (row `row` of `batch`) for the host it names on this side. `peerHash` is
   * the hash of the other address (the source inbound, the destination outbound). Returns false
   * when the host is new and the table is full (counted in `overflowRecords`). Allocation-free.
   */
  count(
    batch: FlowBatch,
    row: number,
    network: number,
    profile: number,
    arrival: number,
    duration: number,
    packets: number,
    bytes: number,
    sampled: number,
    peerHash: number,
    bogon: boolean,
  ): boolean {
    const inbound = this.direction === DIRECTION_INBOUND;
    const column = inbound ? batch.dstAddr : batch.srcAddr;
    const hosts = this.hosts;
    let host = hosts.lookupRow(column, row);
    if (host < 0) {
      host = hosts.insertRow(column, row);
      if (host < 0) {
        this.overflowRecords += 1;
        return false;
      }
      this.rings.reset(host);
      this.breakdowns.reset(host);
      this.network[host] = network;
      this.profile[host] = profile;
      this.focusSlot[host] = -1;
      this.pendingPackets[host] = 0;
      this.pendingBytes[host] = 0;
      this.flags[host] = 0;
      this.candidateScale[host] = 1;
    }
    if (arrival > hosts.lastSeenMs[host]!) hosts.lastSeenMs[host] = arrival;
    this.rings.add(host, arrival, duration, packets, bytes, 1);
    const protocol = batch.protocol[row]!;
    const srcPort = batch.srcPort[row]!;
    const dstPort = batch.dstPort[row]!;
    const tcpFlags = batch.tcpFlags[row]!;
    this.breakdowns.add(
      host,
      arrival,
      protocol,
      tcpFlags,
      srcPort,
      dstPort,
      batch.fragment[row]!,
      packets,
      bytes,
      sampled,
      peerHash,
      bogon,
    );
    const since = this.pendingPackets[host]! + packets;
    const sinceBytes = this.pendingBytes[host]! + bytes;
    this.pendingPackets[host] = since;
    this.pendingBytes[host] = sinceBytes;
    const hostProfile = this.profile[host]!;
    let slot = this.focusSlot[host]!;
    const flags = this.flags[host]!;
    if (slot < 0 && (flags & FLAG_FOCUS_REFUSED) === 0) {
      const tp = this.triggers.packets[hostProfile] ?? 0;
      const tb = this.triggers.bytes[hostProfile] ?? 0;
      if ((tp > 0 && since >= tp) || (tb > 0 && sinceBytes >= tb)) {
        slot = this.focus.acquire(this.focusKind, host, arrival);
        this.focusSlot[host] = slot;
        // Refused: do not ask again for every record until the next step.
        if (slot < 0) this.flags[host] = flags | FLAG_FOCUS_REFUSED;
      }
    }
    if (slot >= 0) {
      const a = row * 4;
      const selfHash = hashWords(column[a]!, column[a + 1]!, column[a + 2]!, column[a + 3]!, this.sketchSeed);
      this.focus.add(
        slot,
        arrival,
        batch.srcAddr,
        batch.dstAddr,
        row,
        protocol,
        srcPort,
        dstPort,
        tcpFlags,
        packets,
        bytes,
        sampled,
        inbound ? peerHash : selfHash,
        inbound ? selfHash : peerHash,
      );
    }
    if ((this.flags[host]! & FLAG_CANDIDATE_QUEUED) === 0 && this.queued < this.queue.length) {
      const m = hostProfile * 3;
      const minima = this.candidateMinima;
      const scale = this.candidateScale[host]!;
      // Flows since the step are at most the packets (a record carries at least one packet).
      if (
        since > (minima[m + METRIC_PACKETS] ?? Number.POSITIVE_INFINITY) * scale ||
        sinceBytes * 8 > (minima[m + METRIC_BITS] ?? Number.POSITIVE_INFINITY) * scale ||
        since > (minima[m + METRIC_FLOWS] ?? Number.POSITIVE_INFINITY) * scale
      ) {
        this.flags[host] = this.flags[host]! | FLAG_CANDIDATE_QUEUED;
        this.queue[this.queued] = host;
        this.queued += 1;
      }
    }
    return true;
  }

  /**
   * Hands the batch's candidates to `onCandidate` (see above); the detector calls it once a
   * batch is counted. Pinned hosts are skipped.
   */
  drainCandidates(): void {
    const check = this.onCandidate;
    for (let i = 0; i < this.queued; i++) {
      const host = this.queue[i]!;
      this.flags[host] = this.flags[host]! & ~FLAG_CANDIDATE_QUEUED;
      if (this.hosts.used[host] !== 1 || this.hosts.isPinned(host) || check === undefined) continue;
      if (check(host, this.hosts.lastSeenMs[host]!)) continue;
      const m = this.profile[host]! * 3;
      const minima = this.candidateMinima;
      const since = this.pendingPackets[host]!;
      const ratio = Math.max(
        since / (minima[m + METRIC_PACKETS] ?? Number.POSITIVE_INFINITY),
        (this.pendingBytes[host]! * 8) / (minima[m + METRIC_BITS] ?? Number.POSITIVE_INFINITY),
        since / (minima[m + METRIC_FLOWS] ?? Number.POSITIVE_INFINITY),
      );
      this.candidateScale[host] = Math.max(1, ratio) * CANDIDATE_GROWTH;
    }
    this.queued = 0;
  }

  /** Starts a new between-steps period: since-step sums, refused focus and candidates are forgotten. */
  beginStep(): void {
    const high = this.hosts.highWater;
    this.pendingPackets.fill(0, 0, high);
    this.pendingBytes.fill(0, 0, high);
    this.flags.fill(0, 0, high);
    this.candidateScale.fill(1, 0, high);
    this.queued = 0;
  }

  /**
   * Packets (metric 0), bits (1) or, as an upper bound, flows (2: at most one per packet) the
   * host received since the last step; the second being reported holds no more than that.
   */
  sinceStep(host: number, metric: number): number {
    return metric === METRIC_BITS ? this.pendingBytes[host]! * 8 : this.pendingPackets[host]!;
  }

  /** Rate of a host over the window ending at the last complete second before `nowMs`. */
  rates(host: number, nowMs: number, out: RateSample): void {
    this.rings.windowRates(host, nowMs, this.windowSeconds, this.hosts.lastSeenMs[host]!, out);
  }

  /** Seconds the host has been over `threshold` on `metric` (SecondRings.heldSeconds); sets `heldPeak`. */
  heldSeconds(host: number, nowMs: number, metric: number, threshold: number, share: number): number {
    const held = this.rings.heldSeconds(host, nowMs, metric, threshold, share);
    this.heldPeak = this.rings.heldPeak;
    return held;
  }

  /** The host's packets, bits or flows so far in the second holding `nowMs`. */
  currentSecond(host: number, nowMs: number, metric: number): number {
    return this.rings.currentSecond(host, nowMs, metric);
  }

  /** Per-class shares of the host's traffic (BreakdownStore.sharesInto). */
  shares(host: number, nowMs: number, out: Float64Array): void {
    this.breakdowns.sharesInto(host, nowMs, out);
  }

  breakdown(host: number, nowMs: number): TrafficBreakdown {
    return this.breakdowns.read(host, nowMs);
  }

  /** Index of the host's longest matching monitored network. */
  networkOf(host: number): number {
    return this.network[host]!;
  }

  /** The host's threshold profile (its longest matching leaf's). */
  profileOf(host: number): number {
    return this.profile[host]!;
  }

  /** The host's focus slot, or -1. */
  focusSlotOf(host: number): number {
    return this.focusSlot[host]!;
  }

  /** Puts a host under focus (no-op when it is); returns its slot or -1 when none is free. */
  acquireFocus(host: number, nowMs: number): number {
    const current = this.focusSlot[host]!;
    if (current >= 0) return current;
    const slot = this.focus.acquire(this.focusKind, host, nowMs);
    this.focusSlot[host] = slot;
    return slot;
  }

  releaseFocus(host: number): void {
    const slot = this.focusSlot[host]!;
    if (slot >= 0) this.focus.release(slot);
    this.focusSlot[host] = -1;
  }

  /** Forgets unpinned hosts with no arrival for `idleMs` (and lets their focus go); returns how many went. */
  evictIdle(nowMs: number, idleMs: number): number {
    const evicted = this.hosts.evictIdle(nowMs - idleMs, this.releaseEvicted);
    this.evictedHosts += evicted;
    return evicted;
  }

  get bytesAllocated(): number {
    return (
      this.hosts.bytesAllocated +
      this.rings.bytesAllocated +
      this.breakdowns.bytesAllocated +
      this.network.byteLength +
      this.profile.byteLength +
      this.focusSlot.byteLength +
      this.pendingPackets.byteLength +
      this.pendingBytes.byteLength +
      this.flags.byteLength +
      this.candidateScale.byteLength +
      this.queue.byteLength
    );
  }
}
