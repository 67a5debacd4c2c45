/**
 * The decoder table: tells the protocol of a datagram from its first bytes, hands it to the
 * decoder registered for that protocol, and keeps per-exporter statistics. It is the wall
 * between hostile input and the daemon: whatever a datagram or a decoder does, nothing thrown
 * escapes `decode`; it becomes a counted, reasoned error on the exporter's stats.
 */
import { FloodgateError, isFloodgateError } from '../core/errors.js';
import type { FlowBatch } from '../core/flow/flow-batch.js';
import type { Logger } from '../core/logger.js';
import {
  formatAddressWords,
  type Prefix,
  parseAddress,
  parsePrefix,
  prefixContainsRow,
} from '../core/net/address.js';
import { abandonDatagram, type DecodeContext, type FlowDecoder } from './decoder.js';
import {
  ExporterStats,
  type ExporterStatsSnapshot,
  FlowCounters,
  type FlowCountersSnapshot,
} from './exporter-stats.js';
import { IpfixDecoder } from './ipfix/ipfix.js';
import { NetflowV5Decoder } from './netflow/v5.js';
import { NetflowV9Decoder } from './netflow/v9.js';
import {
  ExporterSampling,
  parseSamplingOverrides,
  type SamplingOverride,
  type SamplingOverrideConfig,
} from './sampling-overrides.js';
import { SflowV5Decoder } from './sflow/v5.js';
import { FlowTemplates } from './template/flow-templates.js';

export type WireProtocol = 'netflow-v5' | 'netflow-v9' | 'ipfix' | 'sflow-v5';

/**
 * NetFlow and IPFIX start with a uint16 version (5, 9, 10); sFlow with a uint32 version (5),
 * whose first uint16 is therefore 0, so the two families never collide.
 */
export function sniffProtocol(d: Uint8Array): WireProtocol | undefined {
  if (d.length < 2) return undefined;
  const v16 = (d[0]! << 8) | d[1]!;
  if (v16 === 5) return 'netflow-v5';
  if (v16 === 9) return 'netflow-v9';
  if (v16 === 10) return 'ipfix';
  if (v16 === 0 && d.length >= 4 && ((d[2]! << 8) | d[3]!) === 5) return 'sflow-v5';
  return undefined;
}

/** Names a version we recognise but have no decoder for (NetFlow v1/v7/v8, sFlow v2/v4). */
function describeOtherVersion(d: Uint8Array): { family: string; version: number } | undefined {
  if (d.length < 2) return undefined;
  const v16 = (d[0]! << 8) | d[1]!;
  if (v16 === 1 || v16 === 6 || v16 === 7 || v16 === 8) return { family: 'NetFlow', version: v16 };
  if (v16 === 0 && d.length >= 4) {
    const v = (d[2]! << 8) | d[3]!;
    if (v === 2 || v === 4) return { family: 'sFlow', version: v };
  }
  return undefined;
}

const PROTOCOL_VERSION: Record<WireProtocol, { family: string; version: number }> = {
  'netflow-v5': { family: 'NetFlow', version: 5 },
  'netflow-v9': { family: 'NetFlow', version: 9 },
  ipfix: { family: 'IPFIX', version: 10 },
  'sflow-v5': { family: 'sFlow', version: 5 },
};

/** One exporter's decode context, reused for every datagram it sends. */
class ExporterContext implements DecodeContext {
  arrivalMs = 0;
  datagramStart = 0;
  flush: (out: FlowBatch) => void = noFlush;
  readonly stats: ExporterStats;

  constructor(
    readonly exporterWords: Uint32Array,
    readonly exporterText: string,
    readonly sampling: ExporterSampling,
  ) {
    this.stats = new ExporterStats(exporterText);
  }
}

function noFlush(out: FlowBatch): void {
  throw new Error(`batch full (${out.capacity} records) and no sink to flush it to`);
}

export interface DecoderTableOptions {
  defaultSamplingRate: number;
  /** Rates forced on matching exporters whatever they report (parseSamplingOverrides). */
  samplingOverrides?: readonly SamplingOverride[];
  /** Exporters allowed to send; empty allows all. */
  allow?: readonly Prefix[];
  /** Cap on distinct exporters tracked, so spoofed sources cannot grow memory without bound. */
  maxExporters?: number;
  logger?: Logger;
}

export interface CollectorStatsSnapshot {
  /** Every datagram received, including those refused before reaching an exporter's stats. */
  totals: FlowCountersSnapshot;
  exporters: ExporterStatsSnapshot[];
}

export const DEFAULT_MAX_EXPORTERS = 10_000;

export class DecoderTable {
  private readonly decoders = new Map<WireProtocol, FlowDecoder>();
  /** Keyed by the address text as the socket reported it ("::ffff:192.0.2.1" or "192.0.2.1"). */
  private readonly byRawAddress = new Map<string, ExporterContext>();
  private readonly byAddress = new Map<string, ExporterContext>();
  /** Datagrams refused before an exporter context exists (not allowed, table full). */
  private readonly unattributed = new FlowCounters();
  private readonly defaultSamplingRate: number;
  private readonly samplingOverrides: readonly SamplingOverride[];
  private readonly allow: readonly Prefix[];
  private readonly maxExporters: number;
  private readonly logger: Logger | undefined;

  constructor(options: DecoderTableOptions) {
    if (!Number.isInteger(options.defaultSamplingRate) || options.defaultSamplingRate < 1) {
      throw new FloodgateError(
        'FG_ERR_CONFIG_INVALID',
        `default sampling rate must be a positive integer, got ${options.defaultSamplingRate}`,
        { defaultSamplingRate: options.defaultSamplingRate },
      );
    }
    this.defaultSamplingRate = options.defaultSamplingRate;
    this.samplingOverrides = options.samplingOverrides ?? [];
    this.allow = options.allow ?? [];
    this.maxExporters = options.maxExporters ?? DEFAULT_MAX_EXPORTERS;
    this.logger = options.logger;
  }

  register(protocol: WireProtocol, decoder: FlowDecoder): void {
    const existing = this.decoders.get(protocol);
    if (existing) {
      throw new FloodgateError(
        'FG_ERR_COMPONENT_START',
        `a decoder for ${protocol} is already registered (${existing.name}); cannot add ${decoder.name}`,
        { protocol, existing: existing.name, added: decoder.name },
      );
    }
    this.decoders.set(protocol, decoder);
  }

  /** The protocols that have a decoder, for the start-up log. */
  protocols(): WireProtocol[] {
    return [...this.decoders.keys()];
  }

  /**
   * Decodes one datagram into `out` and returns the number of records appended. Never throws.
   * `flush` is called (synchronously) when `out` fills before the datagram is done; it must
   * consume the batch and leave it empty.
   */
  decode(
    datagram: Uint8Array,
    exporterAddress: string,
    arrivalMs: number,
    out: FlowBatch,
    flush: (out: FlowBatch) => void,
  ): number {
    const ctx = this.exporterFor(exporterAddress, datagram.length);
    if (!ctx) return 0;
    const stats = ctx.stats;
    stats.datagrams += 1;
    stats.bytes += datagram.length;
    stats.lastSeenMs = arrivalMs;

    const protocol = sniffProtocol(datagram);
    if (protocol === undefined) {
      const other = describeOtherVersion(datagram);
      if (other) this.unsupported(ctx, other.family, other.version, arrivalMs);
      else if (datagram.length < 4) {
        this.fail(
          ctx,
          'FG_ERR_WIRE_TRUNCATED',
          `datagram of ${datagram.length} bytes is too short to carry a flow protocol header`,
          arrivalMs,
          { length: datagram.length },
        );
      } else {
        this.fail(ctx, 'unknown-protocol', 'datagram is neither NetFlow, IPFIX nor sFlow', arrivalMs, {
          firstBytes: hexPrefix(datagram, 8),
        });
      }
      return 0;
    }
    stats.lastProtocol = protocol;
    const decoder = this.decoders.get(protocol);
    if (!decoder) {
      const v = PROTOCOL_VERSION[protocol];
      this.unsupported(ctx, v.family, v.version, arrivalMs);
      return 0;
    }

    ctx.arrivalMs = arrivalMs;
    ctx.flush = flush;
    ctx.datagramStart = out.length;
    try {
      const n = decoder.decode(datagram, ctx, out);
      stats.records += n;
      return n;
    } catch (e) {
      abandonDatagram(out, ctx);
      if (isFloodgateError(e)) {
        this.fail(ctx, e.code, e.message, arrivalMs, { ...e.details, decoder: decoder.name });
      } else {
        // A decoder bug, not bad input: say so loudly, once per exporter.
        const message = e instanceof Error ? e.message : String(e);
        this.fail(
          ctx,
          'decoder-exception',
          `${decoder.name} threw: ${message}`,
          arrivalMs,
          {
            decoder: decoder.name,
            stack: e instanceof Error ? e.stack : undefined,
          },
          'error',
        );
      }
      return 0;
    } finally {
      ctx.flush = noFlush;
    }
  }

  snapshot(): CollectorStatsSnapshot {
    const totals = this.unattributed.snapshot();
    const exporters: ExporterStatsSnapshot[] = [];
    for (const ctx of this.byAddress.values()) {
      const s = ctx.stats.snapshot();
      exporters.push(s);
      totals.datagrams += s.datagrams;
      totals.records += s.records;
      totals.bytes += s.bytes;
      addInto(totals.errors, s.errors);
      addInto(totals.notices, s.notices);
    }
    exporters.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    return { totals, exporters };
  }

  private exporterFor(raw: string, length: number): ExporterContext | undefined {
    const known = this.byRawAddress.get(raw);
    if (known) return known;
    const parsed = parseAddress(raw.split('%')[0]!);
    if (!parsed) return this.refuse('bad-exporter-address', length, raw);
    const words = Uint32Array.from(parsed.words);
    const text = formatAddressWords(words);
    const same = this.byAddress.get(text);
    if (same) {
      this.byRawAddress.set(raw, same);
      return same;
    }
    if (this.allow.length > 0 && !this.allow.some((p) => prefixContainsRow(p, words, 0))) {
      return this.refuse('exporter-not-allowed', length, text);
    }
    if (this.byAddress.size >= this.maxExporters) return this.refuse('exporter-table-full', length, text);
    // Overrides are matched once here, so decoding only looks a source id up.
    const sampling = new ExporterSampling(this.defaultSamplingRate, this.samplingOverrides, words);
    const ctx = new ExporterContext(words, text, sampling);
    this.byAddress.set(text, ctx);
    this.byRawAddress.set(raw, ctx);
    return ctx;
  }

  private refuse(reason: string, length: number, exporter: string): undefined {
    this.unattributed.datagrams += 1;
    this.unattributed.bytes += length;
    this.unattributed.countError(reason);
    if (this.unattributed.errors.get(reason) === 1) {
      this.logger?.warn({ reason, exporter }, `dropping flow datagrams: ${reason} (first from ${exporter})`);
    }
    return undefined;
  }

  private unsupported(ctx: ExporterContext, family: string, version: number, atMs: number): void {
    this.fail(ctx, 'unsupported-version', `${family} version ${version} has no decoder`, atMs, {
      family,
      version,
    });
  }

  private fail(
    ctx: ExporterContext,
    reason: string,
    message: string,
    atMs: number,
    details: Record<string, unknown>,
    level: 'warn' | 'error' = 'warn',
  ): void {
    ctx.stats.recordError(reason, message, atMs, details);
    // Log the first of each kind per exporter; the counters carry the rest.
    if (ctx.stats.errors.get(reason) === 1) {
      this.logger?.[level]({ exporter: ctx.exporterText, reason, ...details }, message);
    }
  }
}

function addInto(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function hexPrefix(d: Uint8Array, n: number): string {
  return Buffer.from(d.subarray(0, n)).toString('hex');
}

export interface DecoderTableConfig {
  defaultSamplingRate: number;
  /** `collectors.sampling`; no overrides when absent. */
  sampling?: { overrides: readonly SamplingOverrideConfig[] };
  exporters: { allow: readonly string[] };
}

/**
 * The table with every decoder Floodgate ships registered. `templates` holds the NetFlow v9
 * and IPFIX template state; pass one to persist it (exportTemplates/importTemplates).
 */
export function createDecoderTable(
  config: DecoderTableConfig,
  options: { logger?: Logger; maxExporters?: number; templates?: FlowTemplates } = {},
): DecoderTable {
  const { templates = new FlowTemplates(), ...tableOptions } = options;
  const allow = config.exporters.allow.map((text) => {
    const p = parsePrefix(text);
    if (!p) {
      throw new FloodgateError(
        'FG_ERR_CONFIG_INVALID',
        `exporter allow-list entry "${text}" is not a prefix`,
        {
          path: 'collectors.exporters.allow',
          value: text,
        },
      );
    }
    return p;
  });
  const samplingOverrides = parseSamplingOverrides(config.sampling?.overrides ?? []);
  const table = new DecoderTable({
    defaultSamplingRate: config.defaultSamplingRate,
    samplingOverrides,
    allow,
    ...tableOptions,
  });
  table.register('netflow-v5', new NetflowV5Decoder());
  table.register('netflow-v9', new NetflowV9Decoder(templates.v9));
  table.register('ipfix', new IpfixDecoder(templates.ipfix));
  table.register('sflow-v5', new SflowV5Decoder());
  return table;
}
