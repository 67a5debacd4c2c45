/**
 * Counts traffic towards monitored networks, per destination host and per network, from flow
 * batches. This is the hot path: `ingest` reads the batch's typed columns in one loop and
 * allocates nothing per record.
 *
 * Time model (also in docs/detection.md): exporters' clocks are not trusted, their flow
 * durations are. A record is placed on [arrivalMs - duration, arrivalMs] with duration =
 * endMs - startMs clamped to [0, MAX_FLOW_DURATION_MS], and its packets and bytes are spread
 * evenly over the one-second buckets that interval covers (second-ring.ts), so a record covering
 * 10 s is not a 10x spike on arrival.
 *
 * Memory per tracked host, all allocated up front for `hostCapacity` hosts:
 *   host table 42 B + per-second ring 264 B + breakdown 216 B + network index 4 B = 526 bytes,
 * about 132 MiB at the default cap of 262144 hosts (untouched pages of the typed arrays are not
 * resident until hosts use them). Per monitored network: one ring (264 B) and a few counters.
 */
import type { FlowBatch } from '../flow/flow-batch.js';
import type { Prefix } from '../net/address.js';
import { BreakdownStore, type TrafficBreakdown } from './breakdown.js';
import { HostTable } from './host-table.js';
import { PrefixMatcher } from './prefix-matcher.js';
import { MAX_FLOW_DURATION_MS, MAX_WINDOW_SECONDS, type RateSample, SecondRings } from './second-ring.js';

export interface TrafficCounterOptions {
  /** Monitored networks; traffic to other destinations is only counted as outside. */
  networks: readonly Prefix[];
  /** Rate window and breakdown generation length, 1..MAX_WINDOW_SECONDS. */
  windowSeconds: number;
  /** Most hosts tracked at once. */
  hostCapacity: number;
  /** Hash seed for the host table (a random one in production). */
  hashSeed?: number;
}

export interface TrafficCounterStats {
  recordsIngested: number;
  /** Records whose destination lies in no monitored network. */
  recordsOutsideNetworks: number;
  /** Records counted for their network but not their host: the host table was full. */
  overflowRecords: number;
  /** Records with no packets, or no usable arrival time (a decoder bug): nothing to add. */
  unusableRecords: number;
  /** Records whose duration was negative or over MAX_FLOW_DURATION_MS and was clamped. */
  clampedDurationRecords: number;
  trackedHosts: number;
  hostCapacity: number;
  evictedHosts: number;
  /** Bytes held by the counter's typed arrays; fixed at construction. */
  memoryBytes: number;
}

export class TrafficCounter {
  readonly windowSeconds: number;
  readonly networks: readonly Prefix[];
  readonly hosts: HostTable;
  private readonly matcher: PrefixMatcher;
  private readonly hostRings: SecondRings;
  private readonly breakdowns: BreakdownStore;
  /** Index into `networks` of each host's longest matching network. */
  private readonly hostNetwork: Int32Array;
  private readonly networkRings: SecondRings;
  private readonly networkLastArrivalMs: Float64Array;
  private readonly networkRecordCounts: Float64Array;

  private recordsIngested = 0;
  private recordsOutside = 0;
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
    this.matcher = new PrefixMatcher(options.networks);
    this.hosts = new HostTable(
      options.hashSeed === undefined
        ? { capacity: hostCapacity }
        : { capacity: hostCapacity, seed: options.hashSeed },
    );
    this.hostRings = new SecondRings(hostCapacity);
    this.breakdowns = new BreakdownStore(hostCapacity, windowSeconds);
    this.hostNetwork = new Int32Array(hostCapacity);
    const n = options.networks.length;
    this.networkRings = new SecondRings(n);
    this.networkLastArrivalMs = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
    this.networkRecordCounts = new Float64Array(n);
  }

  ingest(batch: FlowBatch): void {
    const {
      dstAddr,
      packets,
      bytes,
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
    const n = batch.length;
    this.recordsIngested += n;
    for (let row = 0; row < n; row++) {
      const network = this.matcher.matchRow(dstAddr, row);
      if (network < 0) {
        this.recordsOutside += 1;
        continue;
      }
      const p = packets[row]!;
      const arrival = arrivalMs[row]!;
      if (!(p > 0) || !Number.isFinite(arrival)) {
        this.unusableRecords += 1;
        continue;
      }
      let b = bytes[row]!;
      if (!(b > 0)) b = 0;
      let duration = endMs[row]! - startMs[row]!;
      if (!(duration >= 0)) {
        duration = 0;
        this.clampedDurations += 1;
      } else if (duration > MAX_FLOW_DURATION_MS) {
        duration = MAX_FLOW_DURATION_MS;
        this.clampedDurations += 1;
      }

      this.networkRings.add(network, arrival, duration, p, b);
      this.networkRecordCounts[network]! += 1;
      if (arrival > this.networkLastArrivalMs[network]!) this.networkLastArrivalMs[network] = arrival;

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
      }
      if (arrival > hosts.lastSeenMs[host]!) hosts.lastSeenMs[host] = arrival;
      this.hostRings.add(host, arrival, duration, p, b);
      this.breakdowns.add(
        host,
        arrival,
        protocol[row]!,
        tcpFlags[row]!,
        srcPort[row]!,
        dstPort[row]!,
        fragment[row]!,
        p,
      );
    }
  }

  /** Rate of a tracked host over the window ending at the last complete second before `nowMs`. */
  hostRates(host: number, nowMs: number, out: RateSample): void {
    this.hostRings.windowRates(host, nowMs, this.windowSeconds, this.hosts.lastSeenMs[host]!, out);
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

  /** Flow records counted for a monitored network since start. */
  networkRecords(network: number): number {
    return this.networkRecordCounts[network]!;
  }

  hostBreakdown(host: number, nowMs: number): TrafficBreakdown {
    return this.breakdowns.read(host, nowMs);
  }

  /** Index into `networks` of the host's longest matching network. */
  networkOf(host: number): number {
    return this.hostNetwork[host]!;
  }

  /** Forgets unpinned hosts with no arrival for `idleMs`; returns how many went. */
  evictIdle(nowMs: number, idleMs: number): number {
    const evicted = this.hosts.evictIdle(nowMs - idleMs);
    this.evictedHosts += evicted;
    return evicted;
  }

  get memoryBytes(): number {
    return (
      this.hosts.bytesAllocated +
      this.hostRings.bytesAllocated +
      this.breakdowns.bytesAllocated +
      this.hostNetwork.byteLength +
      this.networkRings.bytesAllocated +
      this.networkLastArrivalMs.byteLength +
      this.networkRecordCounts.byteLength +
      this.matcher.bytesAllocated
    );
  }

  stats(): TrafficCounterStats {
    return {
      recordsIngested: this.recordsIngested,
      recordsOutsideNetworks: this.recordsOutside,
      overflowRecords: this.overflowRecords,
      unusableRecords: this.unusableRecords,
      clampedDurationRecords: this.clampedDurations,
      trackedHosts: this.hosts.size,
      hostCapacity: this.hosts.capacity,
      evictedHosts: this.evictedHosts,
      memoryBytes: this.memoryBytes,
    };
  }
}
