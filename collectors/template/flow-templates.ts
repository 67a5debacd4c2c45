/**
 * The template state of both template protocols, in one object the appliance holds: handed
 * to the NetFlow v9 and IPFIX decoders (createDecoderTable), saved with `exportTemplates()`
 * and restored with `importTemplates()` across restarts, summarised for the API.
 */
import {
  DEFAULT_TEMPLATE_LIMITS,
  TemplateCache,
  type TemplateLimits,
  type TemplateProtocol,
} from './template-cache.js';
import {
  exportDomains,
  type ImportResult,
  importDomain,
  TEMPLATE_STATE_FORMAT,
  TEMPLATE_STATE_VERSION,
  type TemplateStateJson,
  templateStateSchema,
} from './template-json.js';

export interface TemplateDomainSummary {
  protocol: TemplateProtocol;
  exporter: string;
  /** NetFlow v9 source id or IPFIX observation domain. */
  domain: number;
  dataTemplates: number;
  optionsTemplates: number;
  /** The rate options data announced for the domain; 0 when none did. */
  samplingRate: number;
  samplers: number;
  /** Data sets waiting for their template (per exporter, repeated on each of its domains). */
  heldSets: number;
}

export class FlowTemplates {
  readonly v9: TemplateCache;
  readonly ipfix: TemplateCache;

  constructor(limits: Partial<TemplateLimits> = {}) {
    this.v9 = new TemplateCache('netflow-v9', { ...DEFAULT_TEMPLATE_LIMITS, ...limits });
    this.ipfix = new TemplateCache('ipfix', { ...DEFAULT_TEMPLATE_LIMITS, ...limits });
  }

  /** Everything worth keeping across a restart, as a JSON-serialisable object. */
  exportTemplates(): TemplateStateJson {
    return {
      format: TEMPLATE_STATE_FORMAT,
      version: TEMPLATE_STATE_VERSION,
      domains: [...exportDomains(this.v9), ...exportDomains(this.ipfix)],
    };
  }

  /**
   * Restores what `exportTemplates` wrote (the object or its JSON text). A file that is not
   * template state at all is refused whole (`problems` says why); entries that fail the checks
   * a template off the wire must pass are skipped one by one.
   */
  importTemplates(json: unknown): ImportResult {
    const result: ImportResult = { templates: 0, skipped: 0, problems: [] };
    let value = json;
    if (typeof json === 'string') {
      try {
        value = JSON.parse(json);
      } catch (e) {
        result.problems.push(`not JSON: ${e instanceof Error ? e.message : String(e)}`);
        return result;
      }
    }
    const parsed = templateStateSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues.slice(0, 20)) {
        result.problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
      }
      return result;
    }
    for (const entry of parsed.data.domains) {
      importDomain(entry.protocol === 'ipfix' ? this.ipfix : this.v9, entry, result);
    }
    return result;
  }

  summary(): TemplateDomainSummary[] {
    const rows: TemplateDomainSummary[] = [];
    for (const cache of [this.v9, this.ipfix]) {
      for (const exporter of cache.exporterStates()) {
        for (const d of exporter.domains.values()) {
          let data = 0;
          for (const t of d.templates.values()) if (t.definition.kind === 'data') data += 1;
          rows.push({
            protocol: cache.protocol,
            exporter: exporter.address,
            domain: d.id,
            dataTemplates: data,
            optionsTemplates: d.templates.size - data,
            samplingRate: d.samplingRate,
            samplers: d.samplerRates.size,
            heldSets: exporter.pending.length,
          });
        }
      }
    }
    return rows;
  }
}
