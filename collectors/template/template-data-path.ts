/**
 * What NetFlow v9 and IPFIX do alike once their headers and set framing are read: learning a
 * template (and decoding the data that waited for it), and routing a data set to the flow
 * path, the options path, or the waiting room when its template is unknown. Each decoder owns
 * one instance; it counts the flow records it appends so the decoder can return the total.
 */
import { WireError } from '../../core/errors.js';
import type { FlowBatch } from '../../core/flow/flow-batch.js';
import type { DecodeContext } from '../decoder.js';
import { decodeFlowRecords, ExportFrame } from './flow-records.js';
import { applyOptionsRecords } from './options-records.js';
import { countRecords } from './record-layout.js';
import { SamplingValues } from './sampling.js';
import {
  CompiledTemplate,
  type FieldLayout,
  MAX_RECORD_BYTES,
  matchDefinition,
  readFieldSpecs,
  type TemplateKind,
} from './template.js';
import type { DomainState, ExporterState, TemplateCache } from './template-cache.js';

export interface TemplateHeader {
  id: number;
  kind: TemplateKind;
  scopeCount: number;
  /** Field specifiers, scope fields included. */
  count: number;
}

export class TemplateDataPath {
  /** Flow records appended since the decoder last reset it (at the start of each datagram). */
  records = 0;
  private readonly sampling = new SamplingValues();
  /** The frame of a held set being decoded late (the datagram's own frame is the decoder's). */
  private readonly heldFrame = new ExportFrame();

  constructor(
    readonly cache: TemplateCache,
    private readonly layout: FieldLayout,
  ) {}

  /**
   * Reads the template whose field specifiers start at `fieldsAt` and puts it in force (or
   * just marks it refreshed when unchanged), then decodes the data sets that waited for it.
   * `recordAt` is where the template record starts, for errors. Returns the offset after it.
   */
  learn(
    exporter: ExporterState | undefined,
    domain: DomainState | undefined,
    header: TemplateHeader,
    b: Uint8Array,
    recordAt: number,
    fieldsAt: number,
    end: number,
    ctx: DecodeContext,
    out: FlowBatch,
  ): number {
    // Exporters repeat their templates every few datagrams: the unchanged template is the
    // common case, checked before anything is allocated.
    const existing = domain?.templates.get(header.id);
    if (existing) {
      const next = matchDefinition(existing.definition, b, fieldsAt, end, header, this.layout);
      if (next >= 0) {
        existing.updatedMs = ctx.arrivalMs;
        return next;
      }
    }
    const spec = { ...header, layout: this.layout };
    if (header.count > this.cache.limits.maxFieldsPerTemplate) {
      ctx.stats.countNotice('template-limit');
      return skipFieldSpecs(b, fieldsAt, end, header, this.layout, ctx.exporterText);
    }
    const { definition, next } = readFieldSpecs(b, fieldsAt, end, spec, ctx.exporterText);
    const template = new CompiledTemplate(definition, this.layout, ctx.arrivalMs);
    if (template.minLength === 0) {
      // Zero-length records would let one data set claim any number of records.
      throw new WireError(
        'FG_ERR_WIRE_VALUE',
        `template ${header.id} from ${ctx.exporterText} describes records of 0 bytes`,
        recordAt,
        { exporter: ctx.exporterText, templateId: header.id, fieldCount: header.count },
      );
    }
    if (template.ignoredFields > 0) ctx.stats.countNotice('template-field-ignored', template.ignoredFields);
    if (template.minLength > MAX_RECORD_BYTES || !exporter || !domain) {
      ctx.stats.countNotice('template-limit');
      return next;
    }
    if (this.cache.store(exporter, domain, template) === 'limit') {
      ctx.stats.countNotice('template-limit');
      return next;
    }
    if (exporter.pending.length > 0) this.release(exporter, domain, template, ctx, out);
    return next;
  }

  /** Removes one template (IPFIX withdrawal). */
  withdraw(
    exporter: ExporterState | undefined,
    domain: DomainState | undefined,
    templateId: number,
    ctx: DecodeContext,
  ): void {
    if (exporter && domain && this.cache.withdraw(exporter, domain, templateId)) {
      ctx.stats.countNotice('template-withdrawn');
    }
  }

  /** Removes every template of a kind in the domain (IPFIX "withdraw all"). */
  withdrawAll(
    exporter: ExporterState | undefined,
    domain: DomainState | undefined,
    kind: TemplateKind,
    ctx: DecodeContext,
  ): void {
    if (!exporter || !domain) return;
    const n = this.cache.withdrawAll(exporter, domain, kind);
    if (n > 0) ctx.stats.countNotice('template-withdrawn', n);
  }

  /**
   * One data set (set id ≥ 256), body [start, end): flow records appended, options applied,
   * or, with its template unknown, held for a while.
   */
  dataSet(
    exporter: ExporterState | undefined,
    domain: DomainState | undefined,
    setId: number,
    b: Uint8Array,
    start: number,
    end: number,
    frame: ExportFrame,
    ctx: DecodeContext,
    out: FlowBatch,
  ): void {
    const template = domain?.templates.get(setId);
    if (!template || !domain) {
      ctx.stats.countNotice('unknown-template');
      this.hold(exporter, setId, b, start, end, frame, ctx);
      return;
    }
    const count = countRecords(b, start, end, template, ctx.exporterText);
    this.apply(template, domain, b, start, count, frame, ctx, out);
  }

  /** Drops held sets whose template did not come within the window. */
  expireHeld(exporter: ExporterState | undefined, ctx: DecodeContext): void {
    if (!exporter || exporter.pending.length === 0) return;
    const n = this.cache.expire(exporter, ctx.arrivalMs);
    if (n > 0) ctx.stats.countNotice('unknown-template-expired', n);
  }

  private apply(
    template: CompiledTemplate,
    domain: DomainState,
    b: Uint8Array,
    start: number,
    count: number,
    frame: ExportFrame,
    ctx: DecodeContext,
    out: FlowBatch,
  ): void {
    if (count === 0) return;
    if (template.definition.kind === 'options') {
      if (!applyOptionsRecords(b, start, count, template, domain, this.cache, this.sampling)) {
        ctx.stats.countNotice('template-limit');
      }
      return;
    }
    decodeFlowRecords(b, start, count, template, domain, frame, this.sampling, ctx, out);
    this.records += count;
  }

  private hold(
    exporter: ExporterState | undefined,
    setId: number,
    b: Uint8Array,
    start: number,
    end: number,
    frame: ExportFrame,
    ctx: DecodeContext,
  ): void {
    const held =
      exporter !== undefined &&
      this.cache.hold(exporter, {
        domainId: frame.sourceId,
        templateId: setId,
        arrivalMs: frame.arrivalMs,
        exportMs: frame.exportMs,
        sysUptime: frame.sysUptime,
        body: b.slice(start, end),
      });
    if (!held) ctx.stats.countNotice('unknown-template-dropped');
  }

  private release(
    exporter: ExporterState,
    domain: DomainState,
    template: CompiledTemplate,
    ctx: DecodeContext,
    out: FlowBatch,
  ): void {
    const sets = this.cache.take(exporter, domain.id, template.definition.id);
    const oldest = ctx.arrivalMs - this.cache.limits.pendingWindowMs;
    const frame = this.heldFrame;
    for (const set of sets) {
      if (set.arrivalMs < oldest) {
        ctx.stats.countNotice('unknown-template-expired');
        continue;
      }
      let count: number;
      try {
        count = countRecords(set.body, 0, set.body.length, template, ctx.exporterText);
      } catch {
        // The set was held before its template was known; the new template does not frame it.
        ctx.stats.countNotice('unknown-template-mismatch');
        continue;
      }
      frame.exportMs = set.exportMs;
      frame.sysUptime = set.sysUptime;
      frame.arrivalMs = set.arrivalMs;
      frame.sourceId = set.domainId;
      this.apply(template, domain, set.body, 0, count, frame, ctx, out);
      ctx.stats.countNotice('unknown-template-recovered');
    }
  }
}

/** Walks past `header.count` field specifiers without keeping them (a template refused for size). */
function skipFieldSpecs(
  b: Uint8Array,
  o: number,
  end: number,
  header: TemplateHeader,
  layout: FieldLayout,
  exporter: string,
): number {
  for (let f = 0; f < header.count; f++) {
    const size = layout === 'ipfix' && o < end && (b[o]! & 0x80) !== 0 ? 8 : 4;
    if (o + size > end) {
      throw new WireError(
        'FG_ERR_WIRE_TRUNCATED',
        `template ${header.id} from ${exporter} declares ${header.count} fields but its set ends after ${f}`,
        o,
        { exporter, templateId: header.id, fieldCount: header.count, fieldsRead: f },
      );
    }
    o += size;
  }
  return o;
}
