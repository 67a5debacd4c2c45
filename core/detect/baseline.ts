/**
 * Dynamic baselines: for each host and each monitored network, the `percentile` (p99) of its
 * recent per-minute rates over a sliding window (7 days), times a `multiplier`, never below a
 * floor, is a threshold of its own. It catches an attack that stays under the static thresholds
 * but is far above what the target normally receives.
 *
 * Per-minute rates. Each evaluation step adds the target's windowed rate (the one the static
 * thresholds read) to its current minute; at the minute's end the sum over the minute's steps,
 * divided by the number of steps, is the minute's rate. Only targets whose rate at a step is at
 * least floor / multiplier are added at that step: below that, a rate cannot lift the dynamic
 * threshold above the floor, so it need not be known (a minute's rate is then underestimated by
 * less than floor / multiplier, which changes nothing).
 *
 * Sparse hosts. That same rule means a host never seen at floor / multiplier needs no state: its
 * dynamic threshold is the floor. Hosts get a baseline slot the first time they reach it (up to
 * `hostCapacity`, refusals counted) and lose it when their history has slid out of the window.
 *
 * Window. History is kept per slice of `sliceSeconds` (1 day); the window is the current slice
 * and the windowSeconds / sliceSeconds slices before it, so it covers between windowSeconds and
 * windowSeconds + sliceSeconds. Minutes in which no step ran (the daemon was stopped) are not
 * counted at all.
 *
 * Learning. Dynamic thresholds fire once the window has observed `learningSeconds` of minutes;
 * restoring saved state counts its minutes, so a restart does not start learning anew.
 *
 * Poisoning. A target is not observed while it has an open incident or is over a threshold:
 * an attack must not become the next week's normal.
 *
 * Traffic classes. A floor may be set per class rule too (`floor: { syn: { pps: 2000 } }`): the
 * class's per-minute rates (the target's rate times the class's share) get a histogram of their
 * own and a dynamic threshold named like the rule (`dynamic.syn.pps`). Series are numbered like
 * the threshold rules (rules.ts); each one with a floor costs 40 buckets x 2 bytes per slice per
 * host, so memory stays bounded by what the floors name.
 *
 * Accuracy: see baseline-histograms.ts (a percentile is within 9.5% of the per-minute value).
 */
import { FloodgateError } from '../errors.js';
import { ADDRESS_WORDS } from '../flow/flow-batch.js';
import { formatAddressWords, formatPrefix, parseAddress, parsePrefix } from '../net/address.js';
import { HostTable } from '../traffic/host-table.js';
import { BASELINE_BUCKETS, BaselineHistograms, bucketOf, bucketValue } from './baseline-histograms.js';
import type { BaselineConfig } from './config.js';
import { METRICS, RULE_COUNT, ruleMetric, ruleValues } from './rules.js';
import type { ResolvedNetwork } from './thresholds.js';

const MINUTE_MS = 60_000;
const U16_MAX = 0xffff;

export interface BaselineStats {
  enabled: boolean;
  /** True until the window has observed `learningSeconds`. */
  learning: boolean;
  observedMinutes: number;
  learningMinutes: number;
  /** Hosts with a baseline, the most there may be, and how many were refused one. */
  hosts: number;
  hostCapacity: number;
  refusedHosts: number;
  memoryBytes: number;
}

/**
 * One histogram cell: minutes of series `metric` in `bucket` during slice `slice`. A series is
 * numbered like the threshold rules (rules.ts): 0 pps, 1 bps, 2 flows/s of the whole traffic,
 * then the same per traffic class (3 tcp.pps ... 26 amplification.flows).
 */
export interface BaselineCell {
  metric: number;
  /** Index into BaselineSnapshot.slices. */
  slice: number;
  bucket: number;
  minutes: number;
}

/** Everything a baseline needs to survive a restart; plain data (JSON-able), see baseline-codec.ts. */
export interface BaselineSnapshot {
  sliceSeconds: number;
  /** Low bounds the buckets were computed with, per series (0: not kept): host, then network. */
  hostLows: number[];
  networkLows: number[];
  /** Slices in the window: slice number (Unix ms / sliceSeconds / 1000, floored) and observed minutes. */
  slices: { number: number; minutes: number }[];
  hosts: { address: string; cells: BaselineCell[] }[];
  networks: { prefix: string; cells: BaselineCell[] }[];
}

export interface BaselineRestoreReport {
  slices: number;
  hosts: number;
  /** Hosts that did not fit under `hostCapacity`. */
  hostsDropped: number;
  networks: number;
  /** Saved networks no longer monitored. */
  networksDropped: number;
}

/** Per series: floor / multiplier, below which a rate cannot lift the dynamic threshold. */
function lowsOf(floors: Float64Array, multiplier: number): Float64Array {
  return floors.map((f) => f / multiplier);
}

/** Per metric, the smallest positive value of the series of that metric; Infinity when none. */
function smallestPerMetric(values: Float64Array): Float64Array {
  const out = new Float64Array(METRICS).fill(Number.POSITIVE_INFINITY);
  for (let r = 0; r < values.length; r++) {
    const v = values[r]!;
    const m = ruleMetric(r);
    if (v > 0 && v < out[m]!) out[m] = v;
  }
  return out;
}

export class Baselines {
  readonly enabled: boolean;
  readonly sliceMs: number;
  readonly sliceCount: number;
  /** Per series (rules.ts numbering): the host floors, 0 where none. */
  readonly hostFloors: Float64Array;
  readonly networkFloors: Float64Array;
  /** Per metric: the smallest host floor of any series (Infinity when none): below it nothing dynamic fires. */
  readonly hostFloorMinima: Float64Array;
  readonly networkFloorMinima: Float64Array;
  /** Per metric: the smallest low bound of any series (Infinity when none): below it a target is not observed. */
  readonly hostLowMinima: Float64Array;
  readonly networkLowMinima: Float64Array;
  /** Per metric: the smallest host low bound of any class series (Infinity when none). */
  readonly hostClassLowMinima: Float64Array;
  readonly networkClassLowMinima: Float64Array;
  private readonly config: BaselineConfig;
  private readonly hosts: HostTable;
  private readonly hostHist: BaselineHistograms;
  private readonly networkHist: BaselineHistograms;
  private readonly hostSeries: Int32Array;
  private readonly networkSeries: Int32Array;
  private readonly networkKeys: string[];
  private readonly sliceNumbers: Float64Array;
  private readonly sliceMinutes: Uint16Array;
  private readonly live: Int32Array;
  private liveCount = 0;
  private observedMinutes = 0;
  private currentSlice = Number.NEGATIVE_INFINITY;
  private minute = Number.NaN;
  private stepsInMinute = 0;
  private refusedHosts = 0;
  /** Per host slot: the minute its cached thresholds were computed in, and the thresholds (per stored series). */
  private readonly cacheMinute: Float64Array;
  private readonly cache: Float64Array;
  private readonly networkCacheMinute: Float64Array;
  private readonly networkCache: Float64Array;

  constructor(config: BaselineConfig, networks: readonly ResolvedNetwork[], hashSeed?: number) {
    this.config = config;
    this.enabled = config.enabled;
    this.sliceMs = config.sliceSeconds * 1000;
    this.sliceCount = config.windowSeconds / config.sliceSeconds + 1;
    const capacity = this.enabled ? config.hostCapacity : 1;
    this.hosts = new HostTable(
      hashSeed === undefined ? { capacity } : { capacity, seed: hashSeed ^ 0x5bd1e995 },
    );
    this.hostFloors = ruleValues(config.floor);
    this.networkFloors = ruleValues(config.networkFloor);
    const hostLows = lowsOf(this.hostFloors, config.multiplier);
    const networkLows = lowsOf(this.networkFloors, config.multiplier);
    this.hostFloorMinima = smallestPerMetric(this.hostFloors);
    this.networkFloorMinima = smallestPerMetric(this.networkFloors);
    this.hostLowMinima = smallestPerMetric(hostLows);
    this.networkLowMinima = smallestPerMetric(networkLows);
    this.hostClassLowMinima = smallestPerMetric(hostLows.map((v, r) => (r < METRICS ? 0 : v)));
    this.networkClassLowMinima = smallestPerMetric(networkLows.map((v, r) => (r < METRICS ? 0 : v)));
    this.hostSeries = seriesOf(this.hostFloors);
    this.networkSeries = seriesOf(this.networkFloors);
    this.hostHist = new BaselineHistograms(capacity, this.sliceCount, hostLows);
    this.networkHist = new BaselineHistograms(networks.length, this.sliceCount, networkLows);
    this.networkKeys = networks.map((n) => formatPrefix(n.prefix));
    this.sliceNumbers = new Float64Array(this.sliceCount).fill(Number.NEGATIVE_INFINITY);
    this.sliceMinutes = new Uint16Array(this.sliceCount);
    this.live = new Int32Array(this.sliceCount);
    this.cacheMinute = new Float64Array(capacity).fill(Number.NaN);
    this.cache = new Float64Array(capacity * this.hostSeries.length);
    this.networkCacheMinute = new Float64Array(networks.length).fill(Number.NaN);
    this.networkCache = new Float64Array(networks.length * this.networkSeries.length);
  }

  /** Called at the start of each evaluation step: closes a finished minute, moves the window. */
  beginStep(nowMs: number): void {
    if (!this.enabled) return;
    const minute = Math.floor(nowMs / MINUTE_MS);
    if (minute !== this.minute) {
      if (this.stepsInMinute > 0) this.closeMinute();
      this.minute = minute;
      this.stepsInMinute = 0;
    }
    this.moveWindow(Math.floor(nowMs / this.sliceMs));
    this.stepsInMinute += 1;
  }

  private closeMinute(): void {
    const slice = Math.floor((this.minute * MINUTE_MS) / this.sliceMs);
    if (slice !== this.currentSlice) {
      // The minute belongs to a slice that has already left (a clock jump): drop it.
      this.hostHist.closeMinute(-1, 0);
      this.networkHist.closeMinute(-1, 0);
      return;
    }
    const pos = this.positionOf(slice);
    this.hostHist.closeMinute(pos, this.stepsInMinute);
    this.networkHist.closeMinute(pos, this.stepsInMinute);
    if (this.sliceMinutes[pos]! < U16_MAX) {
      this.sliceMinutes[pos] = this.sliceMinutes[pos]! + 1;
      this.observedMinutes += 1;
    }
  }

  private positionOf(slice: number): number {
    return ((slice % this.sliceCount) + this.sliceCount) % this.sliceCount;
  }

  /** Makes `slice` current: slices that fell out of the window are emptied, empty hosts freed. */
  private moveWindow(slice: number): void {
    if (slice === this.currentSlice) return;
    const oldest = slice - this.sliceCount + 1;
    for (let pos = 0; pos < this.sliceCount; pos++) {
      const n = this.sliceNumbers[pos]!;
      if (n === Number.NEGATIVE_INFINITY || (n >= oldest && n <= slice)) continue;
      this.hostHist.clearSlice(pos, this.hosts.used, this.hosts.highWater);
      this.networkHist.clearSlice(pos);
      this.sliceNumbers[pos] = Number.NEGATIVE_INFINITY;
      this.sliceMinutes[pos] = 0;
    }
    const pos = this.positionOf(slice);
    if (this.sliceNumbers[pos] !== slice) {
      this.sliceNumbers[pos] = slice;
      this.sliceMinutes[pos] = 0;
    }
    this.currentSlice = slice;
    this.liveCount = 0;
    this.observedMinutes = 0;
    for (let p = 0; p < this.sliceCount; p++) {
      if (this.sliceNumbers[p] === Number.NEGATIVE_INFINITY) continue;
      this.live[this.liveCount] = p;
      this.liveCount += 1;
      this.observedMinutes += this.sliceMinutes[p]!;
    }
    for (let id = 0; id < this.hosts.highWater; id++) {
      if (this.hosts.used[id] === 1 && this.hostHist.isEmpty(id)) this.hosts.remove(id);
    }
  }

  get learning(): boolean {
    return this.observedMinutes * 60 < this.config.learningSeconds;
  }

  private lowReached(hist: BaselineHistograms, series: Int32Array, values: Float64Array): boolean {
    const lows = hist.lows;
    for (let i = 0; i < series.length; i++) {
      const r = series[i]!;
      if (values[r]! >= lows[r]!) return true;
    }
    return false;
  }

  /**
   * Adds a host's rates at this step (`keys`: a 4-word address column, `row` its row; `values`:
   * one per rule, class rules the rate times the class's share, read only where a floor is set).
   */
  observeHost(keys: Uint32Array, row: number, values: Float64Array): void {
    if (!this.enabled || !this.lowReached(this.hostHist, this.hostSeries, values)) return;
    let slot = this.hosts.lookupRow(keys, row);
    if (slot < 0) {
      slot = this.hosts.insertRow(keys, row);
      if (slot < 0) {
        this.refusedHosts += 1;
        return;
      }
      this.hostHist.clearSlot(slot);
      this.cacheMinute[slot] = Number.NaN;
    }
    this.hostHist.record(slot, values);
  }

  observeNetwork(network: number, values: Float64Array): void {
    if (!this.enabled || !this.lowReached(this.networkHist, this.networkSeries, values)) return;
    this.networkHist.record(network, values);
  }

  /**
   * The host's dynamic thresholds, one per rule, into `out` (RULE_COUNT long): all 0 while
   * learning or disabled, and 0 for a rule without a floor. A host with no baseline gets the floors.
   */
  hostThresholds(keys: Uint32Array, row: number, out: Float64Array): void {
    if (!this.enabled || this.learning) {
      out.fill(0, 0, RULE_COUNT);
      return;
    }
    const slot = this.hosts.lookupRow(keys, row);
    if (slot < 0) {
      out.set(this.hostFloors);
      return;
    }
    if (this.cacheMinute[slot] !== this.minute) {
      this.compute(this.hostHist, this.hostSeries, slot, this.hostFloors, this.cache);
      this.cacheMinute[slot] = this.minute;
    }
    this.fill(this.hostSeries, this.cache, slot, out);
  }

  networkThresholds(network: number, out: Float64Array): void {
    if (!this.enabled || this.learning) {
      out.fill(0, 0, RULE_COUNT);
      return;
    }
    if (this.networkCacheMinute[network] !== this.minute) {
      this.compute(this.networkHist, this.networkSeries, network, this.networkFloors, this.networkCache);
      this.networkCacheMinute[network] = this.minute;
    }
    this.fill(this.networkSeries, this.networkCache, network, out);
  }

  private fill(series: Int32Array, cache: Float64Array, slot: number, out: Float64Array): void {
    out.fill(0, 0, RULE_COUNT);
    const at = slot * series.length;
    for (let i = 0; i < series.length; i++) out[series[i]!] = cache[at + i]!;
  }

  private compute(
    hist: BaselineHistograms,
    series: Int32Array,
    slot: number,
    floors: Float64Array,
    into: Float64Array,
  ): void {
    const at = slot * series.length;
    for (let i = 0; i < series.length; i++) {
      const r = series[i]!;
      const p = hist.percentile(
        slot,
        r,
        this.config.percentile,
        this.live,
        this.liveCount,
        this.observedMinutes,
      );
      into[at + i] = Math.max(floors[r]!, this.config.multiplier * p);
    }
  }

  /** The saved form of the baselines (see baseline-codec.ts for the bytes). */
  snapshot(): BaselineSnapshot {
    const slicePositions: number[] = [];
    for (let pos = 0; pos < this.sliceCount; pos++) {
      if (this.sliceNumbers[pos] !== Number.NEGATIVE_INFINITY) slicePositions.push(pos);
    }
    const cellsOf = (hist: BaselineHistograms, slot: number): BaselineCell[] => {
      const cells: BaselineCell[] = [];
      for (let m = 0; m < hist.seriesCount; m++) {
        if (!hist.isStored(m)) continue;
        slicePositions.forEach((pos, index) => {
          for (let b = 1; b < BASELINE_BUCKETS; b++) {
            const minutes = hist.count(slot, m, pos, b);
            if (minutes > 0) cells.push({ metric: m, slice: index, bucket: b, minutes });
          }
        });
      }
      return cells;
    };
    const hosts: BaselineSnapshot['hosts'] = [];
    for (let id = 0; id < this.hosts.highWater; id++) {
      if (this.hosts.used[id] !== 1) continue;
      const cells = cellsOf(this.hostHist, id);
      if (cells.length > 0)
        hosts.push({ address: formatAddressWords(this.hosts.keys, id * ADDRESS_WORDS), cells });
    }
    const networks: BaselineSnapshot['networks'] = [];
    this.networkKeys.forEach((prefix, n) => {
      const cells = cellsOf(this.networkHist, n);
      if (cells.length > 0) networks.push({ prefix, cells });
    });
    return {
      sliceSeconds: this.config.sliceSeconds,
      hostLows: [...this.hostHist.lows],
      networkLows: [...this.networkHist.lows],
      slices: slicePositions.map((pos) => ({
        number: this.sliceNumbers[pos]!,
        minutes: this.sliceMinutes[pos]!,
      })),
      hosts,
      networks,
    };
  }

  /**
   * Merges saved baselines into this one at `nowMs`: slices still inside the window are kept
   * (their minutes count towards learning), buckets are re-cut if the floors or the multiplier
   * changed, hosts beyond `hostCapacity` and networks no longer monitored are dropped.
   */
  restore(saved: BaselineSnapshot, nowMs: number): BaselineRestoreReport {
    const report: BaselineRestoreReport = {
      slices: 0,
      hosts: 0,
      hostsDropped: 0,
      networks: 0,
      networksDropped: 0,
    };
    if (!this.enabled) return report;
    if (saved.sliceSeconds !== this.config.sliceSeconds) {
      throw new FloodgateError(
        'FG_ERR_WIRE_VALUE',
        `saved baselines were kept in slices of ${saved.sliceSeconds} s but detection.baseline.sliceSeconds is ${this.config.sliceSeconds}: restore the setting or let the baselines learn anew`,
        { saved: saved.sliceSeconds, configured: this.config.sliceSeconds },
      );
    }
    const slice = Math.floor(nowMs / this.sliceMs);
    this.moveWindow(slice);
    // Saved slice index -> ring position, or -1 when it left the window.
    const positions = saved.slices.map((s) => {
      if (!Number.isInteger(s.number) || s.number < slice - this.sliceCount + 1 || s.number > slice)
        return -1;
      const pos = this.positionOf(s.number);
      if (this.sliceNumbers[pos] !== s.number) {
        this.hostHist.clearSlice(pos, this.hosts.used, this.hosts.highWater);
        this.networkHist.clearSlice(pos);
        this.sliceNumbers[pos] = s.number;
        this.sliceMinutes[pos] = 0;
      }
      this.sliceMinutes[pos] = Math.min(U16_MAX, this.sliceMinutes[pos]! + s.minutes);
      report.slices += 1;
      return pos;
    });
    const apply = (hist: BaselineHistograms, slot: number, lows: number[], cells: BaselineCell[]) => {
      for (const cell of cells) {
        const pos = positions[cell.slice];
        if (pos === undefined || pos < 0) continue;
        const savedLow = lows[cell.metric] ?? 0;
        const low = cell.metric < hist.seriesCount ? hist.lows[cell.metric]! : 0;
        if (!(savedLow > 0) || !(low > 0)) continue;
        const bucket = savedLow === low ? cell.bucket : bucketOf(bucketValue(cell.bucket, savedLow), low);
        hist.addCount(slot, cell.metric, pos, bucket, cell.minutes);
      }
    };
    const column = new Uint32Array(ADDRESS_WORDS);
    for (const host of saved.hosts) {
      const address = parseAddress(host.address);
      if (!address) continue;
      column.set(address.words);
      let slot = this.hosts.lookupRow(column, 0);
      if (slot < 0) {
        slot = this.hosts.insertRow(column, 0);
        if (slot < 0) {
          report.hostsDropped += 1;
          continue;
        }
        this.hostHist.clearSlot(slot);
      }
      this.cacheMinute[slot] = Number.NaN;
      apply(this.hostHist, slot, saved.hostLows, host.cells);
      report.hosts += 1;
    }
    for (const network of saved.networks) {
      const parsed = parsePrefix(network.prefix);
      const n = parsed ? this.networkKeys.indexOf(formatPrefix(parsed)) : -1;
      if (n < 0) {
        report.networksDropped += 1;
        continue;
      }
      this.networkCacheMinute[n] = Number.NaN;
      apply(this.networkHist, n, saved.networkLows, network.cells);
      report.networks += 1;
    }
    // Recount the window with the restored minutes.
    this.currentSlice = Number.NEGATIVE_INFINITY;
    this.moveWindow(slice);
    return report;
  }

  stats(): BaselineStats {
    return {
      enabled: this.enabled,
      learning: this.enabled && this.learning,
      observedMinutes: this.observedMinutes,
      learningMinutes: Math.ceil(this.config.learningSeconds / 60),
      hosts: this.enabled ? this.hosts.size : 0,
      hostCapacity: this.enabled ? this.config.hostCapacity : 0,
      refusedHosts: this.refusedHosts,
      memoryBytes:
        this.hosts.bytesAllocated +
        this.hostHist.bytesAllocated +
        this.networkHist.bytesAllocated +
        this.cache.byteLength +
        this.hostSeries.byteLength +
        this.networkSeries.byteLength +
        this.cacheMinute.byteLength +
        this.networkCache.byteLength +
        this.networkCacheMinute.byteLength,
    };
  }
}

/** The series with a floor, in order. */
function seriesOf(floors: Float64Array): Int32Array {
  const out: number[] = [];
  floors.forEach((f, r) => {
    if (f > 0) out.push(r);
  });
  return Int32Array.from(out);
}
