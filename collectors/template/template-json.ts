/**
 * Template state as JSON, so the appliance can write it at shutdown (or periodically) and
 * read it back at start: without it a restarted collector is blind to every v9/IPFIX exporter
 * until each one's next template refresh, which can be minutes. Imported templates go
 * through the same checks as templates off the wire; a bad entry is skipped, never trusted.
 */
import { z } from 'zod';
import { formatAddressWords, parseAddress } from '../../core/net/address.js';
import {
  CompiledTemplate,
  ENTERPRISE_BIT,
  type FieldLayout,
  MAX_RECORD_BYTES,
  type TemplateDefinition,
} from './template.js';
import type { TemplateCache, TemplateProtocol } from './template-cache.js';

export const TEMPLATE_STATE_FORMAT = 'floodgate-flow-templates';
export const TEMPLATE_STATE_VERSION = 1;

const u16 = z.number().int().min(0).max(0xffff);
const u32 = z.number().int().min(0).max(0xffffffff);

const templateJson = z.object({
  id: u16,
  kind: z.enum(['data', 'options']),
  scopeCount: u16,
  /** When the exporter last sent it (Unix ms, Floodgate's clock). */
  updatedMs: z.number().nonnegative(),
  /** [element id, length] or [element id, length, enterprise number]. */
  fields: z.array(z.union([z.tuple([u16, u16]), z.tuple([u16, u16, u32])])),
});

const domainJson = z.object({
  protocol: z.enum(['netflow-v9', 'ipfix']),
  exporter: z.string(),
  /** NetFlow v9 source id or IPFIX observation domain id. */
  domain: u32,
  samplingRate: u32,
  /** [samplerId or selectorId, rate]; ids are up to 64 bits, kept as JSON numbers. */
  samplers: z.array(z.tuple([z.number().nonnegative(), u32])),
  systemInitMs: z.number().nonnegative(),
  templates: z.array(templateJson),
});

export const templateStateSchema = z.object({
  format: z.literal(TEMPLATE_STATE_FORMAT),
  version: z.literal(TEMPLATE_STATE_VERSION),
  domains: z.array(domainJson),
});

export type TemplateJson = z.infer<typeof templateJson>;
export type DomainJson = z.infer<typeof domainJson>;
export type TemplateStateJson = z.infer<typeof templateStateSchema>;

export interface ImportResult {
  templates: number;
  /** Entries refused, with why (capped list: the first 20). */
  skipped: number;
  problems: string[];
}

const MAX_PROBLEMS = 20;

export function layoutOf(protocol: TemplateProtocol): FieldLayout {
  return protocol === 'ipfix' ? 'ipfix' : 'v9';
}

/** Every domain of the cache that holds something worth keeping. */
export function exportDomains(cache: TemplateCache): DomainJson[] {
  const domains: DomainJson[] = [];
  for (const exporter of cache.exporterStates()) {
    for (const d of exporter.domains.values()) {
      if (
        d.templates.size === 0 &&
        d.samplingRate === 0 &&
        d.samplerRates.size === 0 &&
        d.systemInitMs === 0
      ) {
        continue;
      }
      const templates: TemplateJson[] = [];
      for (const t of d.templates.values()) {
        const def = t.definition;
        const fields: TemplateJson['fields'] = [];
        for (let f = 0; f < def.ids.length; f++) {
          const e = def.enterprises[f]!;
          fields.push(e === 0 ? [def.ids[f]!, def.lengths[f]!] : [def.ids[f]!, def.lengths[f]!, e]);
        }
        templates.push({
          id: def.id,
          kind: def.kind,
          scopeCount: def.scopeCount,
          updatedMs: t.updatedMs,
          fields,
        });
      }
      domains.push({
        protocol: cache.protocol,
        exporter: exporter.address,
        domain: d.id,
        samplingRate: d.samplingRate,
        samplers: [...d.samplerRates],
        systemInitMs: d.systemInitMs,
        templates,
      });
    }
  }
  return domains;
}

/**
 * Restores one domain into `cache`. A template already in the cache and refreshed more
 * recently than the imported one is kept: the wire is newer than the file.
 */
export function importDomain(cache: TemplateCache, entry: DomainJson, result: ImportResult): void {
  const problem = (text: string) => {
    result.skipped += 1;
    if (result.problems.length < MAX_PROBLEMS) result.problems.push(text);
  };
  const where = `${entry.protocol} exporter ${entry.exporter} domain ${entry.domain}`;
  const parsed = parseAddress(entry.exporter);
  if (!parsed) {
    problem(`${where}: not an address`);
    return;
  }
  const exporter = cache.exporter(formatAddressWords(parsed.words));
  const domain = exporter ? cache.domain(exporter, entry.domain) : undefined;
  if (!exporter || !domain) {
    problem(`${where}: template cache is full`);
    return;
  }
  if (domain.samplingRate === 0) domain.samplingRate = entry.samplingRate;
  if (domain.systemInitMs === 0) domain.systemInitMs = entry.systemInitMs;
  for (const [id, rate] of entry.samplers) {
    if (rate > 0 && !domain.samplerRates.has(id)) cache.setSamplerRate(domain, id, rate);
  }
  const layout = layoutOf(cache.protocol);
  for (const t of entry.templates) {
    const definition: TemplateDefinition = {
      id: t.id,
      kind: t.kind,
      scopeCount: t.scopeCount,
      ids: Uint16Array.from(t.fields, (f) => f[0]),
      lengths: Uint16Array.from(t.fields, (f) => f[1]),
      enterprises: Uint32Array.from(t.fields, (f) => f[2] ?? 0),
    };
    const bad = definitionProblem(definition, layout, cache.limits.maxFieldsPerTemplate);
    if (bad) {
      problem(`${where} template ${t.id}: ${bad}`);
      continue;
    }
    const compiled = new CompiledTemplate(definition, layout, t.updatedMs);
    if (compiled.minLength === 0 || compiled.minLength > MAX_RECORD_BYTES) {
      problem(`${where} template ${t.id}: records of ${compiled.minLength} bytes cannot be decoded`);
      continue;
    }
    const live = domain.templates.get(t.id);
    if (live && live.updatedMs >= t.updatedMs) continue;
    if (cache.store(exporter, domain, compiled) === 'limit') {
      problem(`${where} template ${t.id}: template cache is full`);
      continue;
    }
    result.templates += 1;
  }
}

/** Why a template definition cannot be used, or undefined when it can. */
export function definitionProblem(
  d: TemplateDefinition,
  layout: FieldLayout,
  maxFields: number,
): string | undefined {
  const count = d.ids.length;
  if (d.id < 256) return `template id ${d.id} is reserved; ids start at 256`;
  if (count === 0) return 'no fields';
  if (count > maxFields) return `${count} fields; at most ${maxFields} are kept`;
  if (d.kind === 'data' && d.scopeCount !== 0) return 'a data template has no scope fields';
  if (d.kind === 'options' && d.scopeCount > count) return `${d.scopeCount} scope fields of ${count}`;
  if (d.kind === 'options' && layout === 'ipfix' && d.scopeCount === 0)
    return 'IPFIX options templates need a scope';
  for (let f = 0; f < count; f++) {
    if (layout === 'v9' && d.enterprises[f] !== 0) return 'NetFlow v9 has no enterprise elements';
    if (layout === 'v9' && d.lengths[f] === 0xffff) return 'NetFlow v9 has no variable-length fields';
    if (layout === 'ipfix' && (d.ids[f]! & ENTERPRISE_BIT) !== 0) return `element id ${d.ids[f]} above 32767`;
  }
  return undefined;
}
