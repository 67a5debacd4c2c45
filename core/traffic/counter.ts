/**
 * Counts traffic of the monitored networks, per destination host and per network, from flow
 * batches. This is the hot path: `ingest` reads the batch's typed columns in one loop and
 * allocates nothing per record.
 *
 * Direction (also in docs/detection.md). A record is **inbound** for the monitored network that
 * holds its destination, and counted there and for the destination host. It is **outbound** for
 * the monitored network that holds its source, and counted in that network's outbound totals.
 * Traffic between two monitored hosts is both. A record touching no monitored network is only
 * counted in `recordsOutsideNetworks` (which counts records whose destination is outside). With
 * 0.0.0.0/0 or ::/0 monitored every record is outbound too: those totals then mean nothing.
 *
 * Leaves. The networks, and finer prefixes inside them (host groups, single hosts with their own
 * thresholds), are compiled into one longest-prefix trie. Each leaf names the network it lies in
 * and a threshold profile; one walk per address gives both, so a host knows its network and its
 * thresholds from the record that created it.
 *
 * Time model: exporters' clocks are not trusted, their flow durations are. A record is placed on
 * [arrivalMs - duration, arrivalMs] with duration = endMs - startMs clamped to
 * [0, MAX_FLOW_DURATION_MS], and its packets, bytes and its one flow are spread evenly over the
 * one-second buckets that interval covers (second-ring.ts), so a record covering 10 s is not a
 * 10x spike on arrival.
 *
 * Focus. Between two evaluation steps each host and network adds up what it received; one that
 * gets past its profile's focus trigger is handed a focus slot there and then (focus.ts), so even
 * an exporter that delivers a whole attack in one burst leaves top sources behind. The detector
 * hands out and takes back slots at each step too.
 *
 * Outbound hosts. With `outboundHostCapacity` set, a record whose source lies in a monitored
 * network is also counted for that source host, on a second side with its own table
 * (host-side.ts): what each host of ours sends, for outbound thresholds.
 *
 * Memory per tracked host, all allocated up front for `hostCapacity` hosts (and as much again
 * per outbound host): 703 bytes (host-side.ts), about 176 MiB at the default cap of 262144
 * hosts (untouched pages of the typed arrays are not resident until hosts use them). Per
 * monitored network: two rings and a breakdown (~1 KiB).
 */
import type { FlowBatch } from '../flow/flow-batch.js';
import type { Prefix } from '../net/address.js';
import { bogonMatcher } from './bogons.js';
import { BreakdownStore, type TrafficBreakdown } from './breakdown.js';
import { FOCUS_HOST, FOCUS_NETWORK, FOCUS_OUTBOUND_HOST, type FocusReport, FocusStore } from './focus.js';
import { hashWords } from './hash.js';
import {
  CANDIDATE_GROWTH,
  DIRECTION_INBOUND,
  DIRECTION_OUTBOUND,
  type FocusTriggers,
  HostSide,
} from './host-side.js';
import type { HostTable } from './host-table.js';
import { PrefixMatcher } from './prefix-matcher.js';
import { MAX_FLOW_DURATION_MS, MAX_WINDOW_SECONDS, type RateSample, SecondRings } from './second-ring.js';

export type { FocusTriggers } from './host-side.js';

/** A prefix of the trie: the network it lies in and the threshold profile of the hosts under it. */
export interface CounterLeaf {
  prefix: Prefix;
  network: number;
  profile: number;
}

export interface TrafficCounterOptions {
  /** Monitored networks; traffic to other destinations is only counted as outside. */
  networks: readonly Prefix[];
  /** The trie's prefixes; default one per network, profile = network index. Prefixes are unique. */
  leaves?: readonly CounterLeaf[];
  /** Rate window and breakdown generation length, 1..MAX_WINDOW_SECONDS. */
  windowSeconds: number;
  /** Most hosts tracked at once. */
  hostCapacity: number;
  /** Most source hosts of the monitored networks tracked at once; 0 (default): none, networks only. */
  outboundHostCapacity?: number;
  /** Hash seed for the host tables and the distinct-source sketches (a random one in production). */
  hashSeed?: number;
  /** Focus slots shared by hosts and networks; default 256. */
  focusCapacity?: number;
  /** Per profile; default: never by traffic alone. */
  hostFocusTriggers?: FocusTriggers;
  /** Per profile, for outbound hosts; default: never by traffic alone. */
  outboundFocusTriggers?: FocusTriggers;
  /** Per network; default: never by traffic alone. */
  networkFocusTriggers?: FocusTriggers;
  /**
   * Per network, 1 when its breakdown is kept (the detector watches its totals); default all.
   * A network nobody judges as a whole need not pay for one per record.
   */
  networkBreakdownWanted?: Uint8Array;
}

export interface TrafficCounterStats {
  recordsIngested: number;
  /** Records whose destination lies in no monitored network. */
  recordsOutsideNetworks: number;
  /** Records whose source lies in a monitored network (counted outbound). */
  recordsOutbound: number;
  /** Records counted for their network but not their host: the host table was full. */
  overflowRecords: number;
  /** Records with no packets, or no usable arrival time (a decoder bug): nothing to add. */
  unusableRecords: number;
  /** Records whose duration was negative or over MAX_FLOW_DURATION_MS and was clamped. */
  clampedDurationRecords: number;
  trackedHosts: number;
  hostCapacity: number;
  evictedHosts: number;
  /** Source hosts tracked on the outbound side, their cap, evictions and records refused for a full table. */
  outboundHosts: number;
  outboundHostCapacity: number;
  outboundEvictedHosts: number;
  outboundOverflowRecords: number;
  /** Focus slots in use, their number, and requests refused because all were taken. */
  focusInUse: number;
  focusCapacity: number;
  focusRefused: number;
  /** Bytes held by the counter's typed arrays; fixed at construction. */
  memoryBytes: number;
}

const SKETCH_SEED_MIX = 0x9e3779b9;
const OUTBOUND_TABLE_SEED_MIX = 0x68e31da4;

function noTriggers(n: number): FocusTriggers {
  return { packets: new Float64Array(n), bytes: new Float64Array(n) };
}

export class TrafficCounter {
  readonly windowSeconds: number;
  readonly networks: readonly Prefix[];
  /** Hosts as destinations: the attacked side. */
  readonly inbound: HostSide;
  /** Hosts of the monitored networks as sources; undefined unless `outboundHostCapacity` > 0. */
  readonly outbound: HostSide | undefined;
  readonly focus: FocusStore;
  /** Set by hostHeldSeconds: the largest per-second value of the run it counted. */
  heldPeak = 0;
  /**
   * Per network and metric (pps, bps, flows/s): since-step traffic beyond which the network is
   * handed to `onNetworkCandidate` at the end of the batch. Set by the detector; works like the
   * hosts' step candidates (host-side.ts).
   */
  networkCandidateMinima: Float64Array = new Float64Array(0);
  onNetworkCandidate: ((network: number, nowMs: number) => boolean) | undefined;
  private readonly matcher: PrefixMatcher;
  private readonly leafNetwork: Int32Array;
  private readonly leafProfile: Int32Array;
  /** 1 for a /0 network: its "own" sources are everyone's, so they may still be bogons. */
  private readonly networkIsWildcard: Uint8Array;
  private readonly sketchSeed: number;
  private readonly networkRings: SecondRings;
  private readonly networkOutRings: SecondRings;
  private readonly networkBreakdowns: BreakdownStore;
  private readonly networkLastArrivalMs: Float64Array;
  private readonly networkOutLastArrivalMs: Float64Array;
  private readonly networkRecordCounts: Float64Array;
  private readonly networkOutRecordCounts: Float64Array;
  private readonly networkFocus: Int32Array;
  private readonly networkPendingPackets: Float64Array;
  private readonly networkPendingBytes: Float64Array;
  private readonly networkFocusBlocked: Uint8Array;
  /** Per network: 1 while queued as a candidate in this batch, and the multiple of its minima to pass. */
  private readonly networkCandidateQueued: Uint8Array;
  private readonly networkCandidateScale: Float64Array;
  private readonly networkQueue: Int32Array;
  private networkQueued = 0;
  private readonly networkTriggers: FocusTriggers;
  private readonly networkBreakdownWanted: Uint8Array;

  private recordsIngested = 0;
  private recordsOutside = 0;
  private recordsOutbound = 0;
  private unusableRecords = 0;
  private clampedDurations = 0;

  constructor(options: TrafficCounterOptions) {
    const { windowSeconds, hostCapacity } = options;
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > MAX_WINDOW_SECONDS) {
      throw new RangeError(
        `windowSeconds must be an integer from 1 to ${MAX_WINDOW_SECONDS}, got ${windowSeconds}`,
      );
    }
    this.windowSeconds = windowSeconds;
    this.networks = options.networks;
    const n = options.networks.length;
    const leaves =
      options.leaves ?? options.networks.map((prefix, i) => ({ prefix, network: i, profile: i }));
    this.matcher = new PrefixMatcher(leaves.map((l) => l.prefix));
    this.leafNetwork = Int32Array.from(leaves.map((l) => l.network));
    this.leafProfile = Int32Array.from(leaves.map((l) => l.profile));
    this.networkIsWildcard = Uint8Array.from(options.networks.map((p) => (p.length === 0 ? 1 : 0)));
    const profiles = Math.max(0, ...leaves.map((l) => l.profile + 1));
    this.sketchSeed = ((options.hashSeed ?? 0x2545f491) ^ SKETCH_SEED_MIX) >>> 0;
    this.focus = new FocusStore(options.focusCapacity ?? 256, windowSeconds);
    this.inbound = new HostSide({
      direction: DIRECTION_INBOUND,
      capacity: hostCapacity,
      windowSeconds,
      ...(options.hashSeed === undefined ? {} : { tableSeed: options.hashSeed }),
      sketchSeed: this.sketchSeed,
      focus: this.focus,
      focusKind: FOCUS_HOST,
      triggers: options.hostFocusTriggers ?? noTriggers(profiles),
    });
    const outboundCapacity = options.outboundHostCapacity ?? 0;
    this.outbound =
      outboundCapacity > 0
        ? new HostSide({
            direction: DIRECTION_OUTBOUND,
            capacity: outboundCapacity,
            windowSeconds,
            tableSeed: ((options.hashSeed ?? 0x2545f491) ^ OUTBOUND_TABLE_SEED_MIX) >>> 0,
            sketchSeed: this.sketchSeed,
            focus: this.focus,
            focusKind: FOCUS_OUTBOUND_HOST,
            triggers: options.outboundFocusTriggers ?? noTriggers(profiles),
          })
        : undefined;
    this.networkRings = new SecondRings(n);
    this.networkOutRings = new SecondRings(n);
    this.networkBreakdowns = new BreakdownStore(n, windowSeconds);
    this.networkLastArrivalMs = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
    this.networkOutLastArrivalMs = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
    this.networkRecordCounts = new Float64Array(n);
    this.networkOutRecordCounts = new Float64Array(n);
    this.networkFocus = new Int32Array(n).fill(-1);
    this.networkPendingPackets = new Float64Array(n);
    this.networkPendingBytes = new Float64Array(n);
    this.networkFocusBlocked = new Uint8Array(n);
    this.networkCandidateQueued = new Uint8Array(n);
    this.networkCandidateScale = new Float64Array(n).fill(1);
    this.networkQueue = new Int32Array(n);
    this.networkTriggers = options.networkFocusTriggers ?? noTriggers(n);
    this.networkBreakdownWanted = options.networkBreakdownWanted ?? new Uint8Array(n).fill(1);
  }

  /** The inbound host table (hosts as destinations). */
  get hosts(): HostTable {
    return this.inbound.hosts;
  }

  ingest(batch: FlowBatch): void {
    const { srcAddr, dstAddr, packets, bytes, sampledPackets, startMs, endMs, arrivalMs } = batch;
    const matcher = this.matcher;
    const inbound = this.inbound;
    const outbound = this.outbound;
    const sketchSeed = this.sketchSeed;
    const n = batch.length;
    this.recordsIngested += n;
    for (let row = 0; row < n; row++) {
      const leafIn = matcher.matchRow(dstAddr, row);
      const leafOut = matcher.matchRow(srcAddr, row);
      if (leafIn < 0) this.recordsOutside += 1;
      if (leafIn < 0 && leafOut < 0) continue;
      const p = packets[row]!;
      const arrival = arrivalMs[row]!;
      if (!(p > 0) || !Number.isFinite(arrival)) {
        this.unusableRecords += 1;
        continue;
      }
      let b = bytes[row]!;
      if (!(b > 0)) b = 0;
      let sampled = sampledPackets[row]!;
      if (!(sampled > 0)) sampled = 0;
      let duration = endMs[row]! - startMs[row]!;
      if (!(duration >= 0)) {
        duration = 0;
        this.clampedDurations += 1;
      } else if (duration > MAX_FLOW_DURATION_MS) {
        duration = MAX_FLOW_DURATION_MS;
        this.clampedDurations += 1;
      }
      const a = row * 4;

      if (leafOut >= 0) {
        const out = this.leafNetwork[leafOut]!;
        this.recordsOutbound += 1;
        this.networkOutRings.add(out, arrival, duration, p, b, 1);
        this.networkOutRecordCounts[out]! += 1;
        if (arrival > this.networkOutLastArrivalMs[out]!) this.networkOutLastArrivalMs[out] = arrival;
        if (outbound !== undefined) {
          const destinationHash = hashWords(
            dstAddr[a]!,
            dstAddr[a + 1]!,
            dstAddr[a + 2]!,
            dstAddr[a + 3]!,
            sketchSeed,
          );
          outbound.count(
            batch,
            row,
            out,
            this.leafProfile[leafOut]!,
            arrival,
            duration,
            p,
            b,
            sampled,
            destinationHash,
            false,
          );
        }
      }
      if (leafIn < 0) continue;

      const sourceHash = hashWords(
        srcAddr[a]!,
        srcAddr[a + 1]!,
        srcAddr[a + 2]!,
        srcAddr[a + 3]!,
        sketchSeed,
      );
      const bogon =
        (leafOut < 0 || this.networkIsWildcard[this.leafNetwork[leafOut]!] === 1) &&
        bogonMatcher.matchRow(srcAddr, row) >= 0;
      const network = this.leafNetwork[leafIn]!;
      this.countNetwork(batch, row, network, arrival, duration, p, b, sampled, sourceHash, bogon);
      inbound.count(
        batch,
        row,
        network,
        this.leafProfile[leafIn]!,
        arrival,
        duration,
        p,
        b,
        sampled,
        sourceHash,
        bogon,
      );
    }
    // Once the whole batch (a datagram's records) is in: what the candidates look like now.
    inbound.drainCandidates();
    outbound?.drainCandidates();
    this.drainNetworkCandidates();
  }

  /** Counts one inbound record for its monitored network (all of its traffic, tracked hosts or not). */
  private countNetwork(
    batch: FlowBatch,
    row: number,
    network: number,
    arrival: number,
    duration: number,
    p: number,
    b: number,
    sampled: number,
    sourceHash: number,
    bogon: boolean,
  ): void {
    this.networkRings.add(network, arrival, duration, p, b, 1);
    const proto = batch.protocol[row]!;
    const flags = batch.tcpFlags[row]!;
    const sport = batch.srcPort[row]!;
    const dport = batch.dstPort[row]!;
    if (this.networkBreakdownWanted[network] === 1) {
      this.networkBreakdowns.add(
        network,
        arrival,
        proto,
        flags,
        sport,
        dport,
        batch.fragment[row]!,
        p,
        b,
        sampled,
        sourceHash,
        bogon,
      );
    }
    this.networkRecordCounts[network]! += 1;
    if (arrival > this.networkLastArrivalMs[network]!) this.networkLastArrivalMs[network] = arrival;
    const networkPackets = this.networkPendingPackets[network]! + p;
    const networkBytes = this.networkPendingBytes[network]! + b;
    this.networkPendingPackets[network] = networkPackets;
    this.networkPendingBytes[network] = networkBytes;
    let slot = this.networkFocus[network]!;
    if (slot < 0 && this.networkFocusBlocked[network] === 0) {
      const tp = this.networkTriggers.packets[network]!;
      const tb = this.networkTriggers.bytes[network]!;
      if ((tp > 0 && networkPackets >= tp) || (tb > 0 && networkBytes >= tb)) {
        slot = this.focus.acquire(FOCUS_NETWORK, network, arrival);
        this.networkFocus[network] = slot;
        // Refused: do not ask again for every record until the next step.
        if (slot < 0) this.networkFocusBlocked[network] = 1;
      }
    }
    if (slot >= 0) {
      const dstAddr = batch.dstAddr;
      const a = row * 4;
      const destinationHash = hashWords(
        dstAddr[a]!,
        dstAddr[a + 1]!,
        dstAddr[a + 2]!,
        dstAddr[a + 3]!,
        this.sketchSeed,
      );
      this.focus.add(
        slot,
        arrival,
        batch.srcAddr,
        dstAddr,
        row,
        proto,
        sport,
        dport,
        flags,
        p,
        b,
        sampled,
        sourceHash,
        destinationHash,
      );
    }
    if (this.networkCandidateQueued[network] === 0) {
      const m = network * 3;
      const minima = this.networkCandidateMinima;
      const scale = this.networkCandidateScale[network]!;
      if (
        networkPackets > (minima[m] ?? Number.POSITIVE_INFINITY) * scale ||
        networkBytes * 8 > (minima[m + 1] ?? Number.POSITIVE_INFINITY) * scale ||
        networkPackets > (minima[m + 2] ?? Number.POSITIVE_INFINITY) * scale
      ) {
        this.networkCandidateQueued[network] = 1;
        this.networkQueue[this.networkQueued] = network;
        this.networkQueued += 1;
      }
    }
  }

  /** Checks the batch's network candidates (see host-side.ts, drainCandidates). */
  private drainNetworkCandidates(): void {
    const check = this.onNetworkCandidate;
    for (let i = 0; i < this.networkQueued; i++) {
      const network = this.networkQueue[i]!;
      this.networkCandidateQueued[network] = 0;
      if (check === undefined || check(network, this.networkLastArrivalMs[network]!)) continue;
      const m = network * 3;
      const minima = this.networkCandidateMinima;
      const packets = this.networkPendingPackets[network]!;
      const ratio = Math.max(
        packets / (minima[m] ?? Number.POSITIVE_INFINITY),
        (this.networkPendingBytes[network]! * 8) / (minima[m + 1] ?? Number.POSITIVE_INFINITY),
        packets / (minima[m + 2] ?? Number.POSITIVE_INFINITY),
      );
      this.networkCandidateScale[network] = Math.max(1, ratio) * CANDIDATE_GROWTH;
    }
    this.networkQueued = 0;
  }

  /** Starts a new between-steps period for the focus triggers and candidates; the detector calls it at each step. */
  beginStep(): void {
    this.inbound.beginStep();
    this.outbound?.beginStep();
    this.networkPendingPackets.fill(0);
    this.networkPendingBytes.fill(0);
    this.networkFocusBlocked.fill(0);
    this.networkCandidateQueued.fill(0);
    this.networkCandidateScale.fill(1);
    this.networkQueued = 0;
  }

  /** See HostSide.sinceStep (inbound hosts). */
  hostSinceStep(host: number, metric: number): number {
    return this.inbound.sinceStep(host, metric);
  }

  networkSinceStep(network: number, metric: number): number {
    return metric === 1 ? this.networkPendingBytes[network]! * 8 : this.networkPendingPackets[network]!;
  }

  /** Rate of a tracked host over the window ending at the last complete second before `nowMs`. */
  hostRates(host: number, nowMs: number, out: RateSample): void {
    this.inbound.rates(host, nowMs, out);
  }

  /**
   * Seconds the host has been over `threshold` on `metric`, in traffic time
   * (SecondRings.heldSeconds); `heldPeak` then holds the run's largest per-second value.
   */
  hostHeldSeconds(host: number, nowMs: number, metric: number, threshold: number, share: number): number {
    const held = this.inbound.heldSeconds(host, nowMs, metric, threshold, share);
    this.heldPeak = this.inbound.heldPeak;
    return held;
  }

  /** The host's packets, bits or flows so far in the second holding `nowMs`. */
  hostCurrentSecond(host: number, nowMs: number, metric: number): number {
    return this.inbound.currentSecond(host, nowMs, metric);
  }

  networkCurrentSecond(network: number, nowMs: number, metric: number): number {
    return this.networkRings.currentSecond(network, nowMs, metric);
  }

  /** Per-class shares of the host's traffic (BreakdownStore.sharesInto). */
  hostShares(host: number, nowMs: number, out: Float64Array): void {
    this.inbound.shares(host, nowMs, out);
  }

  hostBreakdown(host: number, nowMs: number): TrafficBreakdown {
    return this.inbound.breakdown(host, nowMs);
  }

  /** Index into `networks` of the host's longest matching network. */
  networkOf(host: number): number {
    return this.inbound.networkOf(host);
  }

  /** The threshold profile of the host (its longest matching leaf's). */
  profileOf(host: number): number {
    return this.inbound.profileOf(host);
  }

  /** Rate of all traffic to a monitored network (tracked hosts or not), same window as hosts. */
  networkRates(network: number, nowMs: number, out: RateSample): void {
    this.networkRings.windowRates(
      network,
      nowMs,
      this.windowSeconds,
      this.networkLastArrivalMs[network]!,
      out,
    );
  }

  /** Rate of all traffic from a monitored network's hosts, same window. */
  networkOutboundRates(network: number, nowMs: number, out: RateSample): void {
    this.networkOutRings.windowRates(
      network,
      nowMs,
      this.windowSeconds,
      this.networkOutLastArrivalMs[network]!,
      out,
    );
  }

  networkHeldSeconds(
    network: number,
    nowMs: number,
    metric: number,
    threshold: number,
    share: number,
  ): number {
    const held = this.networkRings.heldSeconds(network, nowMs, metric, threshold, share);
    this.heldPeak = this.networkRings.heldPeak;
    return held;
  }

  networkShares(network: number, nowMs: number, out: Float64Array): void {
    this.networkBreakdowns.sharesInto(network, nowMs, out);
  }

  networkBreakdown(network: number, nowMs: number): TrafficBreakdown {
    return this.networkBreakdowns.read(network, nowMs);
  }

  /** Flow records counted for a monitored network since start (inbound). */
  networkRecords(network: number): number {
    return this.networkRecordCounts[network]!;
  }

  networkOutboundRecords(network: number): number {
    return this.networkOutRecordCounts[network]!;
  }

  /** The host's focus slot, or -1. */
  hostFocusSlot(host: number): number {
    return this.inbound.focusSlotOf(host);
  }

  networkFocusSlot(network: number): number {
    return this.networkFocus[network]!;
  }

  /** Puts a host under focus (no-op when it is); returns its slot or -1 when none is free. */
  acquireHostFocus(host: number, nowMs: number): number {
    return this.inbound.acquireFocus(host, nowMs);
  }

  releaseHostFocus(host: number): void {
    this.inbound.releaseFocus(host);
  }

  acquireNetworkFocus(network: number, nowMs: number): number {
    const current = this.networkFocus[network]!;
    if (current >= 0) return current;
    const slot = this.focus.acquire(FOCUS_NETWORK, network, nowMs);
    this.networkFocus[network] = slot;
    return slot;
  }

  releaseNetworkFocus(network: number): void {
    const slot = this.networkFocus[network]!;
    if (slot >= 0) this.focus.release(slot);
    this.networkFocus[network] = -1;
  }

  focusReport(slot: number, nowMs: number): FocusReport {
    return this.focus.read(slot, nowMs);
  }

  /** Forgets unpinned hosts (both sides) with no arrival for `idleMs`; returns how many went. */
  evictIdle(nowMs: number, idleMs: number): number {
    return this.inbound.evictIdle(nowMs, idleMs) + (this.outbound?.evictIdle(nowMs, idleMs) ?? 0);
  }

  get memoryBytes(): number {
    return (
      this.inbound.bytesAllocated +
      (this.outbound?.bytesAllocated ?? 0) +
      this.networkRings.bytesAllocated +
      this.networkOutRings.bytesAllocated +
      this.networkBreakdowns.bytesAllocated +
      this.networkLastArrivalMs.byteLength +
      this.networkOutLastArrivalMs.byteLength +
      this.networkRecordCounts.byteLength +
      this.networkOutRecordCounts.byteLength +
      this.networkFocus.byteLength +
      this.networkPendingPackets.byteLength +
      this.networkPendingBytes.byteLength +
      this.networkFocusBlocked.byteLength +
      this.networkCandidateQueued.byteLength +
      this.networkCandidateScale.byteLength +
      this.networkQueue.byteLength +
      this.matcher.bytesAllocated +
      this.focus.bytesAllocated
    );
  }

  stats(): TrafficCounterStats {
    const outbound = this.outbound;
    return {
      recordsIngested: this.recordsIngested,
      recordsOutsideNetworks: this.recordsOutside,
      recordsOutbound: this.recordsOutbound,
      overflowRecords: this.inbound.overflowRecords,
      unusableRecords: this.unusableRecords,
      clampedDurationRecords: this.clampedDurations,
      trackedHosts: this.inbound.hosts.size,
      hostCapacity: this.inbound.hosts.capacity,
      evictedHosts: this.inbound.evictedHosts,
      outboundHosts: outbound?.hosts.size ?? 0,
      outboundHostCapacity: outbound?.hosts.capacity ?? 0,
      outboundEvictedHosts: outbound?.evictedHosts ?? 0,
      outboundOverflowRecords: outbound?.overflowRecords ?? 0,
      focusInUse: this.focus.used,
      focusCapacity: this.focus.capacity,
      focusRefused: this.focus.refused,
      memoryBytes: this.memoryBytes,
    };
  }
}
