/**
 * Per-exporter sampling overrides (`collectors.sampling.overrides`): operators force the rate
 * of routers that report a wrong one or none. The list is matched once per exporter, when the
 * decoder table first hears from it, into an ExporterSampling whose lookup per datagram or data
 * set is a map read at most: nothing allocated, no prefix walked on the hot path.
 *
 * When several entries match one record, the most specific wins: the longer exporter prefix
 * first, then, at equal length, the entry naming the record's source id over one naming none.
 * Two entries with the same prefix and source id are refused, so the order of the list never
 * matters.
 */
import { FloodgateError } from '../core/errors.js';
import { formatPrefix, type Prefix, parsePrefix, prefixContainsRow } from '../core/net/address.js';
import type { SamplingSettings } from './decoder.js';

/** Largest rate configuration accepts, defaults and overrides alike (1 in 16 777 216). */
export const MAX_CONFIGURED_RATE = 1 << 24;
const MAX_SOURCE_ID = 0xffffffff;
/** Marks an override that applies to every source id of its exporters. */
export const ANY_SOURCE = -1;

/** One entry as configured (collectors/config.ts validates it the same way). */
export interface SamplingOverrideConfig {
  /** Address or prefix of the exporters: the datagram's source address, as for the allow-list. */
  readonly exporter: string;
  readonly rate: number;
  /** Only records of this source id / observation domain / sFlow sub-agent id; all when absent. */
  readonly sourceId?: number | undefined;
}

export interface SamplingOverride {
  readonly prefix: Prefix;
  readonly rate: number;
  /** -1 for every source id. */
  readonly sourceId: number;
}

const DEFAULT_PATH = 'collectors.sampling.overrides';

function invalid(path: string, message: string, value: unknown): FloodgateError {
  return new FloodgateError('FG_ERR_CONFIG_INVALID', `${path}: ${message}`, { path, value });
}

/** Checks and parses the configured list; throws FG_ERR_CONFIG_INVALID naming the entry. */
export function parseSamplingOverrides(
  list: readonly SamplingOverrideConfig[],
  path: string = DEFAULT_PATH,
): SamplingOverride[] {
  const parsed: SamplingOverride[] = [];
  const seen = new Map<string, number>();
  list.forEach((entry, i) => {
    const at = `${path}.${i}`;
    const prefix = parsePrefix(entry.exporter);
    if (!prefix) {
      throw invalid(
        `${at}.exporter`,
        `"${entry.exporter}" is not an address or a prefix with its host bits clear`,
        entry.exporter,
      );
    }
    if (!Number.isInteger(entry.rate) || entry.rate < 1 || entry.rate > MAX_CONFIGURED_RATE) {
      throw invalid(
        `${at}.rate`,
        `sampling rate must be an integer from 1 to ${MAX_CONFIGURED_RATE}, got ${entry.rate}`,
        entry.rate,
      );
    }
    const sourceId = entry.sourceId ?? ANY_SOURCE;
    if (
      sourceId !== ANY_SOURCE &&
      (!Number.isInteger(sourceId) || sourceId < 0 || sourceId > MAX_SOURCE_ID)
    ) {
      throw invalid(
        `${at}.sourceId`,
        `source id must be an integer from 0 to ${MAX_SOURCE_ID}, got ${sourceId}`,
        sourceId,
      );
    }
    const key = overrideKey(prefix, sourceId);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw invalid(at, `overrides entry ${earlier} for the same exporters and source id (${key})`, entry);
    }
    seen.set(key, i);
    parsed.push({ prefix, rate: entry.rate, sourceId });
  });
  return parsed;
}

/** "192.0.2.0/24" or "192.0.2.0/24 source id 5": what makes two entries the same. */
export function overrideKey(prefix: Prefix, sourceId: number): string {
  return sourceId === ANY_SOURCE ? formatPrefix(prefix) : `${formatPrefix(prefix)} source id ${sourceId}`;
}

/** Is `a` more specific than `b` for one record (both match it)? */
function moreSpecific(a: SamplingOverride, b: SamplingOverride): boolean {
  const la = a.prefix.version === 4 ? 96 + a.prefix.length : a.prefix.length;
  const lb = b.prefix.version === 4 ? 96 + b.prefix.length : b.prefix.length;
  if (la !== lb) return la > lb;
  return a.sourceId !== ANY_SOURCE && b.sourceId === ANY_SOURCE;
}

/** The sampling settings of one exporter: the default and the overrides that match it, resolved. */
export class ExporterSampling implements SamplingSettings {
  /** Rate forced on source ids that no source-specific entry names; 0 when none. */
  private readonly anySourceRate: number;
  /** Source id -> forced rate, for the source ids some matching entry names. */
  private readonly bySourceId = new Map<number, number>();

  constructor(
    readonly defaultRate: number,
    overrides: readonly SamplingOverride[],
    exporterWords: Uint32Array,
  ) {
    const matching = overrides.filter((o) => prefixContainsRow(o.prefix, exporterWords, 0));
    let anySource: SamplingOverride | undefined;
    for (const o of matching) {
      if (o.sourceId === ANY_SOURCE && (!anySource || moreSpecific(o, anySource))) anySource = o;
    }
    this.anySourceRate = anySource?.rate ?? 0;
    const bySource = new Map<number, SamplingOverride>();
    for (const o of matching) {
      if (o.sourceId === ANY_SOURCE) continue;
      const best = bySource.get(o.sourceId);
      if (!best || moreSpecific(o, best)) bySource.set(o.sourceId, o);
    }
    for (const [sourceId, o] of bySource) {
      // A longer exporter-wide entry beats a source-specific one on a shorter prefix.
      const winner = anySource && moreSpecific(anySource, o) ? anySource : o;
      this.bySourceId.set(sourceId, winner.rate);
    }
  }

  forcedRate(sourceId: number): number {
    if (this.bySourceId.size === 0) return this.anySourceRate;
    return this.bySourceId.get(sourceId) ?? this.anySourceRate;
  }
}
