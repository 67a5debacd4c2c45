/**
 * Template state of one protocol (NetFlow v9 or IPFIX): per exporter address, per source id /
 * observation domain, the templates in force, the sampling rates options data announced, and
 * the data sets waiting for their template. Every collection here is capped, because any
 * host that can reach the collector port can send templates.
 */
import type { PendingSet } from './pending-sets.js';
import type { CompiledTemplate, TemplateKind } from './template.js';

export interface TemplateLimits {
  /** Exporters with template state (the decoder table caps exporters too). */
  maxExporters: number;
  /** Source ids / observation domains per exporter. */
  maxDomainsPerExporter: number;
  /** Templates per exporter, all domains; a new one evicts the least recently refreshed. */
  maxTemplatesPerExporter: number;
  /** Templates over all exporters; past it, an exporter can only replace its own. */
  maxTemplates: number;
  /** Fields per template; a longer template is not kept (counted 'template-limit'). */
  maxFieldsPerTemplate: number;
  /** Sampler / selector ids remembered per domain. */
  maxSamplersPerDomain: number;
  /** How long a data set waits for its template (arrival clock). */
  pendingWindowMs: number;
  maxPendingSetsPerExporter: number;
  maxPendingBytesPerExporter: number;
  /** Bytes held for all exporters together. */
  maxPendingBytes: number;
}

export const DEFAULT_TEMPLATE_LIMITS: Readonly<TemplateLimits> = {
  maxExporters: 10_000,
  maxDomainsPerExporter: 64,
  maxTemplatesPerExporter: 512,
  maxTemplates: 65_536,
  maxFieldsPerTemplate: 256,
  maxSamplersPerDomain: 256,
  pendingWindowMs: 10_000,
  maxPendingSetsPerExporter: 64,
  maxPendingBytesPerExporter: 256 * 1024,
  maxPendingBytes: 8 * 1024 * 1024,
};

export type TemplateProtocol = 'netflow-v9' | 'ipfix';

export class DomainState {
  readonly templates = new Map<number, CompiledTemplate>();
  /** "1 in N" from this domain's latest options data that stated one; 0 until then. */
  samplingRate = 0;
  /** Rates per samplerId / selectorId, for flow records that name their sampler. */
  readonly samplerRates = new Map<number, number>();
  /** IPFIX systemInitTimeMilliseconds (Unix ms), the base of sysUpTime-relative flow times; 0 unknown. */
  systemInitMs = 0;

  constructor(readonly id: number) {}
}

export class ExporterState {
  readonly domains = new Map<number, DomainState>();
  templateCount = 0;
  /** Held data sets, oldest first. */
  readonly pending: PendingSet[] = [];
  pendingBytes = 0;

  constructor(readonly address: string) {}
}

export type StoreOutcome = 'stored' | 'limit';

const NONE: readonly PendingSet[] = Object.freeze([]);

export class TemplateCache {
  readonly limits: Readonly<TemplateLimits>;
  private readonly exporters = new Map<string, ExporterState>();
  private templates = 0;
  private pendingBytesTotal = 0;

  constructor(
    readonly protocol: TemplateProtocol,
    limits: Partial<TemplateLimits> = {},
  ) {
    this.limits = { ...DEFAULT_TEMPLATE_LIMITS, ...limits };
  }

  /** Templates held over all exporters. */
  get templateCount(): number {
    return this.templates;
  }

  /** Bytes of data sets held for all exporters. */
  get pendingBytes(): number {
    return this.pendingBytesTotal;
  }

  /** The exporter's state, created on first use; undefined when the exporter cap is reached. */
  exporter(address: string): ExporterState | undefined {
    const known = this.exporters.get(address);
    if (known) return known;
    if (this.exporters.size >= this.limits.maxExporters) return undefined;
    const created = new ExporterState(address);
    this.exporters.set(address, created);
    return created;
  }

  findExporter(address: string): ExporterState | undefined {
    return this.exporters.get(address);
  }

  exporterStates(): IterableIterator<ExporterState> {
    return this.exporters.values();
  }

  /** The domain's state, created on first use; undefined when the exporter has too many. */
  domain(exporter: ExporterState, id: number): DomainState | undefined {
    const known = exporter.domains.get(id);
    if (known) return known;
    if (exporter.domains.size >= this.limits.maxDomainsPerExporter) return undefined;
    const created = new DomainState(id);
    exporter.domains.set(id, created);
    return created;
  }

  /**
   * Puts `template` in force under its id, replacing any template of that id. When the
   * exporter (or the whole cache) is full, the exporter's least recently refreshed template
   * makes room; with nothing of its own to evict, the template is refused ('limit').
   */
  store(exporter: ExporterState, domain: DomainState, template: CompiledTemplate): StoreOutcome {
    const id = template.definition.id;
    if (domain.templates.has(id)) {
      domain.templates.set(id, template);
      return 'stored';
    }
    if (
      exporter.templateCount >= this.limits.maxTemplatesPerExporter ||
      this.templates >= this.limits.maxTemplates
    ) {
      if (!this.evictOldest(exporter)) return 'limit';
    }
    domain.templates.set(id, template);
    exporter.templateCount += 1;
    this.templates += 1;
    return 'stored';
  }

  /** Removes one template; false when it was not there. */
  withdraw(exporter: ExporterState, domain: DomainState, templateId: number): boolean {
    if (!domain.templates.delete(templateId)) return false;
    exporter.templateCount -= 1;
    this.templates -= 1;
    return true;
  }

  /** Removes every template of `kind` in the domain (IPFIX "withdraw all"); returns how many. */
  withdrawAll(exporter: ExporterState, domain: DomainState, kind: TemplateKind): number {
    let n = 0;
    for (const [id, t] of domain.templates) {
      if (t.definition.kind !== kind) continue;
      domain.templates.delete(id);
      n += 1;
    }
    exporter.templateCount -= n;
    this.templates -= n;
    return n;
  }

  /** Remembers a sampler's rate; false when the domain already tracks its maximum of samplers. */
  setSamplerRate(domain: DomainState, samplerId: number, rate: number): boolean {
    if (!domain.samplerRates.has(samplerId) && domain.samplerRates.size >= this.limits.maxSamplersPerDomain) {
      return false;
    }
    domain.samplerRates.set(samplerId, rate);
    return true;
  }

  /** Holds a data set for its template; false when a cap leaves no room. */
  hold(exporter: ExporterState, set: PendingSet): boolean {
    const size = set.body.length;
    const l = this.limits;
    if (exporter.pending.length >= l.maxPendingSetsPerExporter) return false;
    if (exporter.pendingBytes + size > l.maxPendingBytesPerExporter) return false;
    if (this.pendingBytesTotal + size > l.maxPendingBytes) {
      // Sets of exporters that went quiet may still sit here: clear the expired ones first.
      for (const other of this.exporters.values()) this.expire(other, set.arrivalMs);
      if (this.pendingBytesTotal + size > l.maxPendingBytes) return false;
    }
    exporter.pending.push(set);
    exporter.pendingBytes += size;
    this.pendingBytesTotal += size;
    return true;
  }

  /** Drops held sets older than the window as of `nowMs`; returns how many. */
  expire(exporter: ExporterState, nowMs: number): number {
    const pending = exporter.pending;
    if (pending.length === 0) return 0;
    const oldest = nowMs - this.limits.pendingWindowMs;
    let n = 0;
    while (n < pending.length && pending[n]!.arrivalMs < oldest) n++;
    if (n > 0) this.release(exporter, pending.splice(0, n));
    return n;
  }

  /** Takes out the held sets for one template, oldest first. */
  take(exporter: ExporterState, domainId: number, templateId: number): readonly PendingSet[] {
    const pending = exporter.pending;
    if (pending.length === 0) return NONE;
    const matches: PendingSet[] = [];
    for (let i = 0; i < pending.length; ) {
      const p = pending[i]!;
      if (p.domainId === domainId && p.templateId === templateId) {
        matches.push(p);
        pending.splice(i, 1);
      } else {
        i++;
      }
    }
    if (matches.length === 0) return NONE;
    this.release(exporter, matches);
    return matches;
  }

  private release(exporter: ExporterState, sets: readonly PendingSet[]): void {
    let bytes = 0;
    for (const s of sets) bytes += s.body.length;
    exporter.pendingBytes -= bytes;
    this.pendingBytesTotal -= bytes;
  }

  private evictOldest(exporter: ExporterState): boolean {
    let oldest: CompiledTemplate | undefined;
    let oldestDomain: DomainState | undefined;
    for (const d of exporter.domains.values()) {
      for (const t of d.templates.values()) {
        if (!oldest || t.updatedMs < oldest.updatedMs) {
          oldest = t;
          oldestDomain = d;
        }
      }
    }
    if (!oldest || !oldestDomain) return false;
    return this.withdraw(exporter, oldestDomain, oldest.definition.id);
  }
}
