/**
 * Options data: what Floodgate keeps from it, per domain (sampling rates, per sampler too, and
 * IPFIX systemInitTimeMilliseconds), read with the same plan as flow records.
 */
import { readUint } from './bytes.js';
import { K } from './information-elements.js';
import { locateFields } from './record-layout.js';
import { readSamplingField, type SamplingValues } from './sampling.js';
import { type CompiledTemplate, planKind, planOffset, planWidth } from './template.js';
import type { DomainState, TemplateCache } from './template-cache.js';

/**
 * Reads `count` options records for what Floodgate keeps from options data: sampling rates
 * (per domain, and per sampler/selector id) and IPFIX systemInitTimeMilliseconds. The most
 * recent rate any record of the domain states also applies to flow records naming no sampler.
 * Returns false when a sampler could not be remembered (cap reached).
 */
export function applyOptionsRecords(
  b: Uint8Array,
  o: number,
  count: number,
  t: CompiledTemplate,
  domain: DomainState,
  cache: TemplateCache,
  sampling: SamplingValues,
): boolean {
  const plan = t.plan;
  let allKept = true;
  for (let r = 0; r < count; r++) {
    const record = o;
    o = t.fixedLength > 0 ? o + t.fixedLength : locateFields(b, o, b.length, t);
    sampling.reset();
    let systemInitMs = 0;
    for (let f = 0; f < plan.length; f++) {
      const entry = plan[f]!;
      const at = record + planOffset(entry);
      const kind = planKind(entry);
      if (kind === K.SYSTEM_INIT_MILLIS) systemInitMs = readUint(b, at, planWidth(entry));
      else readSamplingField(kind, b, at, planWidth(entry), sampling);
    }
    const rate = sampling.rate();
    if (rate > 0) {
      domain.samplingRate = rate;
      if (sampling.samplerId >= 0 && !cache.setSamplerRate(domain, sampling.samplerId, rate)) allKept = false;
    }
    if (systemInitMs > 0) domain.systemInitMs = systemInitMs;
  }
  return allKept;
}
