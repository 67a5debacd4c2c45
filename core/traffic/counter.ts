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
 * Memory per tracked host, all allocated up front for `hostCapacity` hosts:
 *   host table 42 B + per-second ring 328 B + breakdown 312 B + network, profile and focus
 *   indexes 12 B + between-step sums and flag 9 B = 703 bytes,
 * about 176 MiB at the default cap of 262144 hosts (untouched pages of the typed arrays are not
 * resident until hosts use them). Per monitored network: two rings and a breakdown (~1 KiB).
 */
import type { FlowBatch } from '../flow/flow-batch.js';
import type { Prefix } from '../net/address.js';
import { bogonMatcher } from './bogons.js';
import { BreakdownStore, type TrafficBreakdown } from './breakdown.js';
import { FOCUS_HOST, FOCUS_NETWORK, type FocusReport, FocusStore } from './focus.js';
import { hashWords } from './hash.js';
import { HostTable } from './host-table.js';
import { PrefixMatcher } from './prefix-matcher.js';
import { MAX_FLOW_DURATION_MS, MAX_WINDOW_SECONDS, type RateSample, SecondRings } from './second-ring.js';

/** A prefix of the trie: the network it lies in and the threshold profile of the hosts under it. */
export interface CounterLeaf {
  prefix: Prefix;
  network: number;
  profile: number;
}

/** Packets or bytes a host or network may receive between two steps before it is watched closely; 0 = never. */
export interface FocusTriggers {
  packets: Float64Array;
  bytes: Float64Array;
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
  /** Hash seed for the host table and the distinct-source sketches (a random one in production). */
  hashSeed?: number;
  /** Focus slots shared by hosts and networks; default 256. */
  focusCapacity?: number;
  /** Per profile; default: never by traffic alone. */
  hostFocusTriggers?: FocusTriggers;
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
  /** Focus slots in use, their number, and requests refused because all were taken. */
  focusInUse: number;
  focusCapacity: number;
  focusRefused: number;
  /** Bytes held by the counter's typed arrays; fixed at construction. */
  memoryBytes: number;
}

const SKETCH_SEED_MIX = 0x9e3779b9;

function noTriggers(n: number): FocusTriggers {
  return { packets: new Float64Array(n), bytes: new Float64Array(n) };
}

export class TrafficCounter {
  readonly windowSeconds: number;
  readonly networks: readonly Prefix[];
  readonly hosts: HostTable;
  readonly focus: FocusStore;
  /** Set by hostHeldSeconds / networkHeldSeconds. */
  heldPeak = 0;
  private readonly matcher: PrefixMatcher;
  private readonly leafNetwork: Int32Array;
  private readonly leafProfile: Int32Array;
  /** 1 for a /0 network: its "own" sources are everyone's, so they may still be bogons. */
  private readonly networkIsWildcard: Uint8Array;
  private readonly sketchSeed: number;
  private readonly hostRings: SecondRings;
  private readonly breakdowns: BreakdownStore;
  private readonly hostNetwork: Int32Array;
  private readonly hostProfile: Int32Array;
  private readonly hostFocus: Int32Array;
  private readonly hostPendingPackets: Float32Array;
  private readonly hostPendingBytes: Float32Array;
  private readonly hostFocusBlocked: Uint8Array;
  private readonly hostTriggers: FocusTriggers;
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
  private readonly networkTriggers: FocusTriggers;
  private readonly networkBreakdownWanted: Uint8Array;
  private readonly releaseEvicted: (host: number) => void;

  private recordsIngested = 0;
  private recordsOutside = 0;
  private recordsOutbound = 0;
  private overflowRecords = 0;
  private unusableRecords = 0;
  private clampedDurations = 0;
  private evictedHosts = 0;

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
    this.hosts = new HostTable(
      options.hashSeed === undefined
        ? { capacity: hostCapacity }
        : { capacity: hostCapacity, seed: options.hashSeed },
    );
    this.sketchSeed = ((options.hashSeed ?? 0x2545f491) ^ SKETCH_SEED_MIX) >>> 0;
    this.hostRings = new SecondRings(hostCapacity);
    this.breakdowns = new BreakdownStore(hostCapacity, windowSeconds);
    this.hostNetwork = new Int32Array(hostCapacity);
    this.hostProfile = new Int32Array(hostCapacity);
    this.hostFocus = new Int32Array(hostCapacity).fill(-1);
    this.hostPendingPackets = new Float32Array(hostCapacity);
    this.hostPendingBytes = new Float32Array(hostCapacity);
    this.hostFocusBlocked = new Uint8Array(hostCapacity);
    this.hostTriggers = options.hostFocusTriggers ?? noTriggers(profiles);
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
    this.networkTriggers = options.networkFocusTriggers ?? noTriggers(n);
    this.networkBreakdownWanted = options.networkBreakdownWanted ?? new Uint8Array(n).fill(1);
    this.focus = new FocusStore(options.focusCapacity ?? 256, windowSeconds);
    this.releaseEvicted = (host: number) => this.releaseHostFocus(host);
  }

  ingest(batch: FlowBatch): void {
    const {
      srcAddr,
      dstAddr,
      packets,
      bytes,
      sampledPackets,
      startMs,
      endMs,
      arrivalMs,
      protocol,
      tcpFlags,
      srcPort,
      dstPort,
      fragment,
    } = batch;
    const hosts = this.hosts;
    const matcher = this.matcher;
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

      if (leafOut >= 0) {
        const out = this.leafNetwork[leafOut]!;
        this.recordsOutbound += 1;
        this.networkOutRings.add(out, arrival, duration, p, b, 1);
        this.networkOutRecordCounts[out]! += 1;
        if (arrival > this.networkOutLastArrivalMs[out]!) this.networkOutLastArrivalMs[out] = arrival;
      }
      if (leafIn < 0) continue;

      const a = row * 4;
      const sourceHash = hashWords(
        srcAddr[a]!,
        srcAddr[a + 1]!,
        srcAddr[a + 2]!,
        srcAddr[a + 3]!,
        this.sketchSeed,
      );
      const bogon =
        (leafOut < 0 || this.networkIsWildcard[this.leafNetwork[leafOut]!] === 1) &&
        bogonMatcher.matchRow(srcAddr, row) >= 0;
      const proto = protocol[row]!;
      const flags = tcpFlags[row]!;
      const sport = srcPort[row]!;
      const dport = dstPort[row]!;

      const network = this.leafNetwork[leafIn]!;
      this.networkRings.add(network, arrival, duration, p, b, 1);
      if (this.networkBreakdownWanted[network] === 1) {
        this.networkBreakdowns.add(
          network,
          arrival,
          proto,
          flags,
          sport,
          dport,
          fragment[row]!,
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
      let networkSlot = this.networkFocus[network]!;
      if (networkSlot < 0 && this.networkFocusBlocked[network] === 0) {
        const tp = this.networkTriggers.packets[network]!;
        const tb = this.networkTriggers.bytes[network]!;
        if ((tp > 0 && networkPackets >= tp) || (tb > 0 && networkBytes >= tb)) {
          networkSlot = this.focus.acquire(FOCUS_NETWORK, network, arrival);
          this.networkFocus[network] = networkSlot;
          // Refused: do not ask again for every record until the next step.
          if (networkSlot < 0) this.networkFocusBlocked[network] = 1;
        }
      }
      let destinationHash = 0;
      if (networkSlot >= 0) {
        destinationHash = hashWords(
          dstAddr[a]!,
          dstAddr[a + 1]!,
          dstAddr[a + 2]!,
          dstAddr[a + 3]!,
          this.sketchSeed,
        );
        this.focus.add(
          networkSlot,
          arrival,
          srcAddr,
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

      let host = hosts.lookupRow(dstAddr, row);
      if (host < 0) {
        host = hosts.insertRow(dstAddr, row);
        if (host < 0) {
          this.overflowRecords += 1;
          continue;
        }
        this.hostRings.reset(host);
        this.breakdowns.reset(host);
        this.hostNetwork[host] = network;
        this.hostProfile[host] = this.leafProfile[leafIn]!;
        this.hostFocus[host] = -1;
        this.hostPendingPackets[host] = 0;
        this.hostPendingBytes[host] = 0;
        this.hostFocusBlocked[host] = 0;
      }
      if (arrival > hosts.lastSeenMs[host]!) hosts.lastSeenMs[host] = arrival;
      this.hostRings.add(host, arrival, duration, p, b, 1);
      this.breakdowns.add(
        host,
        arrival,
        proto,
        flags,
        sport,
        dport,
        fragment[row]!,
        p,
        b,
        sampled,
        sourceHash,
        bogon,
      );
      const hostPackets = this.hostPendingPackets[host]! + p;
      const hostBytes = this.hostPendingBytes[host]! + b;
      this.hostPendingPackets[host] = hostPackets;
      this.hostPendingBytes[host] = hostBytes;
      let hostSlot = this.hostFocus[host]!;
      if (hostSlot < 0 && this.hostFocusBlocked[host] === 0) {
        const profile = this.hostProfile[host]!;
        const tp = this.hostTriggers.packets[profile]!;
        const tb = this.hostTriggers.bytes[profile]!;
        if ((tp > 0 && hostPackets >= tp) || (tb > 0 && hostBytes >= tb)) {
          hostSlot = this.focus.acquire(FOCUS_HOST, host, arrival);
          this.hostFocus[host] = hostSlot;
          if (hostSlot < 0) this.hostFocusBlocked[host] = 1;
        }
      }
      if (hostSlot >= 0) {
        if (networkSlot < 0) {
          destinationHash = hashWords(
            dstAddr[a]!,
            dstAddr[a + 1]!,
            dstAddr[a + 2]!,
            dstAddr[a + 3]!,
            this.sketchSeed,
          );
        }
        this.focus.add(
          hostSlot,
          arrival,
          srcAddr,
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
    }
  }

  /** Starts a new between-steps period for the focus triggers; the detector calls it at each step. */
  beginStep(): void {
    this.hostPendingPackets.fill(0, 0, this.hosts.highWater);
    this.hostPendingBytes.fill(0, 0, this.hosts.highWater);
    this.hostFocusBlocked.fill(0, 0, this.hosts.highWater);
    this.networkPendingPackets.fill(0);
    this.networkPendingBytes.fill(0);
    this.networkFocusBlocked.fill(0);
  }

  /**
   * Packets (metric 0), bits (1) or, as an upper bound, flows (2: at most one per packet) the
   * host received since the last step; the second being reported holds no more than that.
   */
  hostSinceStep(host: number, metric: number): number {
    return metric === 1 ? this.hostPendingBytes[host]! * 8 : this.hostPendingPackets[host]!;
  }

  networkSinceStep(network: number, metric: number): number {
    return metric === 1 ? this.networkPendingBytes[network]! * 8 : this.networkPendingPackets[network]!;
  }

  /** Rate of a tracked host over the window ending at the last complete second before `nowMs`. */
  hostRates(host: number, nowMs: number, out: RateSample): void {
    this.hostRings.windowRates(host, nowMs, this.windowSeconds, this.hosts.lastSeenMs[host]!, out);
  }

  /**
   * Seconds the host has been over `threshold` on `metric`, in traffic time
   * (SecondRings.heldSeconds); `heldPeak` then holds the run's largest per-second value.
   */
  hostHeldSeconds(host: number, nowMs: number, metric: number, threshold: number, share: number): number {
    const held = this.hostRings.heldSeconds(host, nowMs, metric, threshold, share);
    this.heldPeak = this.hostRings.heldPeak;
    return held;
  }

  /** The host's packets, bits or flows so far in the second holding `nowMs`. */
  hostCurrentSecond(host: number, nowMs: number, metric: number): number {
    return this.hostRings.currentSecond(host, nowMs, metric);
  }

  networkCurrentSecond(network: number, nowMs: number, metric: number): number {
    return this.networkRings.currentSecond(network, nowMs, metric);
  }

  /** Per-class shares of the host's traffic (BreakdownStore.sharesInto). */
  hostShares(host: number, nowMs: number, out: Float64Array): void {
    this.breakdowns.sharesInto(host, nowMs, out);
  }

  hostBreakdown(host: number, nowMs: number): TrafficBreakdown {
    return this.breakdowns.read(host, nowMs);
  }

  /** Index into `networks` of the host's longest matching network. */
  networkOf(host: number): number {
    return this.hostNetwork[host]!;
  }

  /** The threshold profile of the host (its longest matching leaf's). */
  profileOf(host: number): number {
    return this.hostProfile[host]!;
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
    return this.networkRings.heldSeconds(network, nowMs, metric, threshold, share);
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
    return this.hostFocus[host]!;
  }

  networkFocusSlot(network: number): number {
    return this.networkFocus[network]!;
  }

  /** Puts a host under focus (no-op when it is); returns its slot or -1 when none is free. */
  acquireHostFocus(host: number, nowMs: number): number {
    const current = this.hostFocus[host]!;
    if (current >= 0) return current;
    const slot = this.focus.acquire(FOCUS_HOST, host, nowMs);
    this.hostFocus[host] = slot;
    return slot;
  }

  releaseHostFocus(host: number): void {
    const slot = this.hostFocus[host]!;
    if (slot >= 0) this.focus.release(slot);
    this.hostFocus[host] = -1;
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

  /** Forgets unpinned hosts with no arrival for `idleMs` (and lets their focus go); returns how many went. */
  evictIdle(nowMs: number, idleMs: number): number {
    const evicted = this.hosts.evictIdle(nowMs - idleMs, this.releaseEvicted);
    this.evictedHosts += evicted;
    return evicted;
  }

  get memoryBytes(): number {
    return (
      this.hosts.bytesAllocated +
      this.hostRings.bytesAllocated +
      this.breakdowns.bytesAllocated +
      this.hostNetwork.byteLength +
      this.hostProfile.byteLength +
      this.hostFocus.byteLength +
      this.hostPendingPackets.byteLength +
      this.hostPendingBytes.byteLength +
      this.hostFocusBlocked.byteLength +
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
      this.matcher.bytesAllocated +
      this.focus.bytesAllocated
    );
  }

  stats(): TrafficCounterStats {
    return {
      recordsIngested: this.recordsIngested,
      recordsOutsideNetworks: this.recordsOutside,
      recordsOutbound: this.recordsOutbound,
      overflowRecords: this.overflowRecords,
      unusableRecords: this.unusableRecords,
      clampedDurationRecords: this.clampedDurations,
      trackedHosts: this.hosts.size,
      hostCapacity: this.hosts.capacity,
      evictedHosts: this.evictedHosts,
      focusInUse: this.focus.used,
      focusCapacity: this.focus.capacity,
      focusRefused: this.focus.refused,
      memoryBytes: this.memoryBytes,
    };
  }
}
