/** A DecodeContext for calling a decoder directly, without the decoder table. */

import type { DecodeContext } from '../../collectors/decoder.js';
import { ExporterStats } from '../../collectors/exporter-stats.js';
import {
  ExporterSampling,
  parseSamplingOverrides,
  type SamplingOverrideConfig,
} from '../../collectors/sampling-overrides.js';
import type { FlowBatch } from '../../core/flow/flow-batch.js';
import { parseAddress } from '../../core/net/address.js';

export function testDecodeContext(
  options: {
    exporter?: string;
    arrivalMs?: number;
    defaultRate?: number;
    /** `collectors.sampling.overrides` entries; those matching `exporter` apply. */
    overrides?: readonly SamplingOverrideConfig[];
    flush?: (out: FlowBatch) => void;
  } = {},
): DecodeContext {
  const exporter = options.exporter ?? '192.0.2.1';
  const parsed = parseAddress(exporter);
  if (!parsed) throw new Error(`test helper: not an address: ${exporter}`);
  const words = Uint32Array.from(parsed.words);
  return {
    exporterWords: words,
    exporterText: exporter,
    arrivalMs: options.arrivalMs ?? 1_700_000_001_000,
    sampling: new ExporterSampling(
      options.defaultRate ?? 1,
      parseSamplingOverrides(options.overrides ?? []),
      words,
    ),
    stats: new ExporterStats(exporter),
    flush:
      options.flush ??
      (() => {
        throw new Error('test context: unexpected flush');
      }),
    datagramStart: 0,
  };
}
