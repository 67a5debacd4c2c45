/**
 * The one contract every flow decoder implements (NetFlow v5/v9, IPFIX, sFlow), shaped after
 * Akvorado's: bytes and context in, rows appended to a caller-owned FlowBatch, a count out.
 * A decoder throws WireError on malformed input; the decoder table (registry.ts) catches it,
 * so a decoder never has to worry about the socket loop.
 */
import type { FlowBatch } from '../core/flow/flow-batch.js';
import type { ExporterStats } from './exporter-stats.js';

/**
 * What configuration says about one exporter's sampling (collectors/sampling-overrides.ts
 * builds it per exporter from `collectors.defaultSamplingRate` and `collectors.sampling`).
 */
export interface SamplingSettings {
  /** Used when a datagram reports 0 or no rate; every use is counted as 'sampling-default-used'. */
  readonly defaultRate: number;
  /**
   * The rate an override forces on this exporter's records of `sourceId` (v5 engine word, v9
   * source id, IPFIX observation domain, sFlow sub-agent id), or 0 when none applies.
   * Called per datagram or data set on the hot path: it must not allocate.
   */
  forcedRate(sourceId: number): number;
}

export interface DecodeContext {
  /** Exporter address as 4 words, IPv4-mapped for IPv4 (the FlowBatch address layout). */
  readonly exporterWords: Uint32Array;
  /** Exporter address as text ("192.0.2.1", "2001:db8::1"), for logs and state keys. */
  readonly exporterText: string;
  /** When the datagram reached Floodgate, Unix ms. */
  arrivalMs: number;
  readonly sampling: SamplingSettings;
  /** Where the decoder counts notices (sampling-default-used, ...) and the last rate seen. */
  readonly stats: ExporterStats;
  /**
   * Hands a full batch to the sink, which consumes it and leaves it empty. Decoders reach it
   * only through `appendRecord`. Records handed over stay delivered even if the rest of the
   * datagram turns out malformed: a sink cannot take records back.
   */
  readonly flush: (out: FlowBatch) => void;
  /** Row of `out` where the current datagram's records start; kept by the helpers below. */
  datagramStart: number;
}

export interface FlowDecoder {
  /** Short name for logs and stats ("netflow-v5"). */
  readonly name: string;
  /**
   * Appends the datagram's records to `out` and returns how many were appended. Throws
   * WireError (with the byte offset) when the datagram is malformed; then none of its
   * records remain in `out` beyond what a flush already delivered.
   */
  decode(datagram: Uint8Array, ctx: DecodeContext, out: FlowBatch): number;
}

/** Marks where the datagram's records begin, so `abandonDatagram` can drop them. */
export function beginDatagram(out: FlowBatch, ctx: DecodeContext): void {
  ctx.datagramStart = out.length;
}

/** Reserves a zeroed row, flushing the batch to the sink first when it is full. */
export function appendRecord(out: FlowBatch, ctx: DecodeContext): number {
  const row = out.append();
  return row >= 0 ? row : flushThen(out, ctx, true);
}

/**
 * Reserves a row without zeroing it (FlowBatch.reserve), flushing first when the batch is
 * full: for a decoder that writes every column of the row.
 */
export function reserveRecord(out: FlowBatch, ctx: DecodeContext): number {
  const row = out.reserve();
  return row >= 0 ? row : flushThen(out, ctx, false);
}

function flushThen(out: FlowBatch, ctx: DecodeContext, zeroed: boolean): number {
  ctx.flush(out);
  ctx.datagramStart = 0;
  const row = zeroed ? out.append() : out.reserve();
  if (row < 0) {
    // A sink that does not empty the batch would make every later record vanish silently.
    throw new Error(`flush left the batch full (${out.length}/${out.capacity}); the sink must consume it`);
  }
  return row;
}

/** Drops the records the current datagram appended (those not yet flushed). */
export function abandonDatagram(out: FlowBatch, ctx: DecodeContext): void {
  if (out.length > ctx.datagramStart) out.length = ctx.datagramStart;
}

/**
 * The rate to scale records by, in the order docs/collectors.md gives: an override from
 * configuration whatever the exporter says, else the exporter's own rate, else the configured
 * default. The override and the default are counted (per call: a v5 datagram, a v9/IPFIX data
 * set, an sFlow sample), so operators see which exporters' numbers rest on configuration.
 */
export function resolveSamplingRate(reported: number, sourceId: number, ctx: DecodeContext): number {
  let rate = ctx.sampling.forcedRate(sourceId);
  if (rate > 0) {
    ctx.stats.countNotice('sampling-override-used');
  } else if (reported > 0) {
    rate = reported;
  } else {
    rate = ctx.sampling.defaultRate;
    ctx.stats.countNotice('sampling-default-used');
  }
  ctx.stats.lastSamplingRate = rate;
  return rate;
}
