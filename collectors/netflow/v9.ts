/**
 * NetFlow v9 (RFC 3954): a 20-byte header, then FlowSets. FlowSet 0 carries templates, 1
 * options templates, 256 and up data for the template of that id. Templates are kept per
 * exporter and source id (collectors/template); v9 has no withdrawal and no variable-length
 * fields, and its options scope fields are scope types, not field types.
 *
 * The header's count is not checked: exporters disagree on whether it counts records or
 * FlowSets, and the FlowSet lengths frame the datagram on their own. That framing is checked
 * for the whole datagram before anything is decoded; a malformed template or record found
 * later refuses the rest of the datagram (WireError), templates learned before it stay.
 */
import { WireError } from '../../core/errors.js';
import type { FlowBatch } from '../../core/flow/flow-batch.js';
import { beginDatagram, type DecodeContext, type FlowDecoder } from '../decoder.js';
import { allZero, u16, u32 } from '../template/bytes.js';
import { ExportFrame } from '../template/flow-records.js';
import { type DomainState, type ExporterState, TemplateCache } from '../template/template-cache.js';
import { TemplateDataPath } from '../template/template-data-path.js';

export const V9_VERSION = 9;
export const V9_HEADER_BYTES = 20;
const FLOWSET_HEADER_BYTES = 4;
export const V9_TEMPLATE_FLOWSET_ID = 0;
export const V9_OPTIONS_TEMPLATE_FLOWSET_ID = 1;
export const V9_MIN_DATA_FLOWSET_ID = 256;

export class NetflowV9Decoder implements FlowDecoder {
  readonly name = 'netflow-v9';
  readonly templates: TemplateCache;
  private readonly path: TemplateDataPath;
  private readonly frame = new ExportFrame();

  constructor(templates: TemplateCache = new TemplateCache('netflow-v9')) {
    this.templates = templates;
    this.path = new TemplateDataPath(templates, 'v9');
  }

  decode(b: Uint8Array, ctx: DecodeContext, out: FlowBatch): number {
    const length = checkDatagram(b, ctx.exporterText);
    beginDatagram(out, ctx);
    const sourceId = u32(b, 16);
    const frame = this.frame;
    frame.sysUptime = u32(b, 4);
    frame.exportMs = u32(b, 8) * 1000;
    frame.arrivalMs = ctx.arrivalMs;
    frame.sourceId = sourceId;

    const path = this.path;
    path.records = 0;
    const exporter = this.templates.exporter(ctx.exporterText);
    const domain = exporter ? this.templates.domain(exporter, sourceId) : undefined;
    path.expireHeld(exporter, ctx);

    for (let o = V9_HEADER_BYTES; o < length; ) {
      const flowSetId = u16(b, o);
      const end = o + u16(b, o + 2);
      if (flowSetId === V9_TEMPLATE_FLOWSET_ID) {
        this.templateFlowSet(exporter, domain, b, o + FLOWSET_HEADER_BYTES, end, ctx, out);
      } else if (flowSetId === V9_OPTIONS_TEMPLATE_FLOWSET_ID) {
        this.optionsTemplateFlowSet(exporter, domain, b, o + FLOWSET_HEADER_BYTES, end, ctx, out);
      } else if (flowSetId >= V9_MIN_DATA_FLOWSET_ID) {
        path.dataSet(exporter, domain, flowSetId, b, o + FLOWSET_HEADER_BYTES, end, frame, ctx, out);
      } else {
        ctx.stats.countNotice('reserved-set-id');
      }
      o = end;
    }
    return path.records;
  }

  private templateFlowSet(
    exporter: ExporterState | undefined,
    domain: DomainState | undefined,
    b: Uint8Array,
    o: number,
    end: number,
    ctx: DecodeContext,
    out: FlowBatch,
  ): void {
    while (end - o >= 4) {
      const id = u16(b, o);
      const count = u16(b, o + 2);
      if (id === 0 && count === 0 && allZero(b, o, end)) return; // zero padding
      checkTemplateId(id, 'template', ctx.exporterText, o);
      if (count === 0) {
        throw new WireError(
          'FG_ERR_WIRE_VALUE',
          `NetFlow v9 template ${id} from ${ctx.exporterText} has no fields`,
          o + 2,
          { exporter: ctx.exporterText, templateId: id },
        );
      }
      const header = { id, kind: 'data' as const, scopeCount: 0, count };
      o = this.path.learn(exporter, domain, header, b, o, o + 4, end, ctx, out);
    }
  }

  private optionsTemplateFlowSet(
    exporter: ExporterState | undefined,
    domain: DomainState | undefined,
    b: Uint8Array,
    o: number,
    end: number,
    ctx: DecodeContext,
    out: FlowBatch,
  ): void {
    const exporterText = ctx.exporterText;
    // Template id, scope length and options length take 6 bytes; fewer left over are padding.
    while (end - o >= 6) {
      const id = u16(b, o);
      if (id === 0 && allZero(b, o, end)) return; // zero padding
      checkTemplateId(id, 'options template', exporterText, o);
      const scopeBytes = u16(b, o + 2);
      const optionBytes = u16(b, o + 4);
      if (scopeBytes % 4 !== 0 || optionBytes % 4 !== 0 || scopeBytes + optionBytes === 0) {
        throw new WireError(
          'FG_ERR_WIRE_VALUE',
          `NetFlow v9 options template ${id} from ${exporterText} declares ${scopeBytes} scope and ${optionBytes} option bytes; each must be a non-negative multiple of 4 and not both 0`,
          o + 2,
          { exporter: exporterText, templateId: id, scopeBytes, optionBytes },
        );
      }
      if (o + 6 + scopeBytes + optionBytes > end) {
        throw new WireError(
          'FG_ERR_WIRE_TRUNCATED',
          `NetFlow v9 options template ${id} from ${exporterText} declares ${scopeBytes + optionBytes} bytes of fields; its FlowSet has ${end - o - 6} left`,
          end,
          { exporter: exporterText, templateId: id, scopeBytes, optionBytes },
        );
      }
      const scopeCount = scopeBytes / 4;
      const header = { id, kind: 'options' as const, scopeCount, count: scopeCount + optionBytes / 4 };
      o = this.path.learn(exporter, domain, header, b, o, o + 6, end, ctx, out);
    }
  }
}

function checkTemplateId(id: number, what: string, exporter: string, o: number): void {
  if (id >= V9_MIN_DATA_FLOWSET_ID) return;
  throw new WireError(
    'FG_ERR_WIRE_VALUE',
    `NetFlow v9 ${what} id ${id} from ${exporter} is reserved; ids start at 256`,
    o,
    { exporter, templateId: id },
  );
}

/** Checks the header and the FlowSet framing of the whole datagram; returns the length to decode. */
function checkDatagram(b: Uint8Array, exporter: string): number {
  if (b.length < V9_HEADER_BYTES) {
    throw new WireError(
      'FG_ERR_WIRE_TRUNCATED',
      `NetFlow v9 datagram from ${exporter} is ${b.length} bytes, shorter than the 20-byte header`,
      b.length,
      { exporter, length: b.length },
    );
  }
  const version = u16(b, 0);
  if (version !== V9_VERSION) {
    throw new WireError(
      'FG_ERR_WIRE_VERSION',
      `datagram from ${exporter} is version ${version}, not NetFlow v9`,
      0,
      {
        exporter,
        version,
      },
    );
  }
  let o = V9_HEADER_BYTES;
  while (o < b.length) {
    if (b.length - o < FLOWSET_HEADER_BYTES) {
      // Some exporters pad the datagram itself; zeros are padding, anything else a cut header.
      if (allZero(b, o, b.length)) return o;
      throw new WireError(
        'FG_ERR_WIRE_TRUNCATED',
        `NetFlow v9 datagram from ${exporter} ends ${b.length - o} bytes into a FlowSet header`,
        o,
        { exporter, length: b.length },
      );
    }
    const setLength = u16(b, o + 2);
    if (setLength < FLOWSET_HEADER_BYTES || o + setLength > b.length) {
      throw new WireError(
        'FG_ERR_WIRE_LENGTH',
        `NetFlow v9 FlowSet ${u16(b, o)} from ${exporter} declares ${setLength} bytes; ${b.length - o} remain in the datagram`,
        o + 2,
        { exporter, flowSetId: u16(b, o), setLength, remaining: b.length - o },
      );
    }
    o += setLength;
  }
  return o;
}
