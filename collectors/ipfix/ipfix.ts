/**
 * IPFIX (RFC 7011) over UDP: a 16-byte message header, then sets. Set 2 carries templates,
 * set 3 options templates, sets 256 and up data for the template of that id. Templates are
 * kept per exporter and observation domain (collectors/template), withdrawn by a record with
 * field count 0 (one template) or by a record whose id is the set id (all of that kind).
 *
 * The set framing of the whole message is checked before anything is decoded, so a message
 * whose lengths do not add up changes no state. A malformed template or data record found
 * later refuses the rest of the message (WireError); templates learned before it stay.
 */
import { WireError } from '../../core/errors.js';
import type { FlowBatch } from '../../core/flow/flow-batch.js';
import { beginDatagram, type DecodeContext, type FlowDecoder } from '../decoder.js';
import { allZero, u16, u32 } from '../template/bytes.js';
import { ExportFrame } from '../template/flow-records.js';
import type { TemplateKind } from '../template/template.js';
import { type DomainState, type ExporterState, TemplateCache } from '../template/template-cache.js';
import { TemplateDataPath } from '../template/template-data-path.js';

export const IPFIX_VERSION = 10;
export const IPFIX_HEADER_BYTES = 16;
const SET_HEADER_BYTES = 4;
export const TEMPLATE_SET_ID = 2;
export const OPTIONS_TEMPLATE_SET_ID = 3;
export const MIN_DATA_SET_ID = 256;

export class IpfixDecoder implements FlowDecoder {
  readonly name = 'ipfix';
  readonly templates: TemplateCache;
  private readonly path: TemplateDataPath;
  private readonly frame = new ExportFrame();

  constructor(templates: TemplateCache = new TemplateCache('ipfix')) {
    this.templates = templates;
    this.path = new TemplateDataPath(templates, 'ipfix');
  }

  decode(b: Uint8Array, ctx: DecodeContext, out: FlowBatch): number {
    const length = checkMessage(b, ctx.exporterText);
    beginDatagram(out, ctx);
    const domainId = u32(b, 12);
    const frame = this.frame;
    frame.exportMs = u32(b, 4) * 1000;
    frame.sysUptime = -1;
    frame.arrivalMs = ctx.arrivalMs;
    frame.sourceId = domainId;

    const path = this.path;
    path.records = 0;
    const exporter = this.templates.exporter(ctx.exporterText);
    const domain = exporter ? this.templates.domain(exporter, domainId) : undefined;
    path.expireHeld(exporter, ctx);

    for (let o = IPFIX_HEADER_BYTES; o < length; ) {
      const setId = u16(b, o);
      const end = o + u16(b, o + 2);
      if (setId === TEMPLATE_SET_ID) {
        this.templateSet(exporter, domain, 'data', b, o + SET_HEADER_BYTES, end, ctx, out);
      } else if (setId === OPTIONS_TEMPLATE_SET_ID) {
        this.templateSet(exporter, domain, 'options', b, o + SET_HEADER_BYTES, end, ctx, out);
      } else if (setId >= MIN_DATA_SET_ID) {
        path.dataSet(exporter, domain, setId, b, o + SET_HEADER_BYTES, end, frame, ctx, out);
      } else {
        // 0 and 1 (NetFlow v9's ids) and 4-255 are reserved: skipped by length.
        ctx.stats.countNotice('reserved-set-id');
      }
      o = end;
    }
    return path.records;
  }

  private templateSet(
    exporter: ExporterState | undefined,
    domain: DomainState | undefined,
    kind: TemplateKind,
    b: Uint8Array,
    o: number,
    end: number,
    ctx: DecodeContext,
    out: FlowBatch,
  ): void {
    const setId = kind === 'data' ? TEMPLATE_SET_ID : OPTIONS_TEMPLATE_SET_ID;
    const exporterText = ctx.exporterText;
    // A record needs at least 4 bytes; fewer left over are padding.
    while (end - o >= 4) {
      const id = u16(b, o);
      const count = u16(b, o + 2);
      if (id === 0 && count === 0 && allZero(b, o, end)) return; // zero padding
      if (count === 0) {
        if (id === setId) this.path.withdrawAll(exporter, domain, kind, ctx);
        else if (id >= MIN_DATA_SET_ID) this.path.withdraw(exporter, domain, id, ctx);
        else throw badTemplateId(id, kind, exporterText, o);
        o += 4;
        continue;
      }
      if (id < MIN_DATA_SET_ID) throw badTemplateId(id, kind, exporterText, o);
      let scopeCount = 0;
      let fieldsAt = o + 4;
      if (kind === 'options') {
        if (end - o < 6) {
          throw new WireError(
            'FG_ERR_WIRE_TRUNCATED',
            `IPFIX options template ${id} from ${exporterText} is cut before its scope field count`,
            end,
            { exporter: exporterText, templateId: id },
          );
        }
        scopeCount = u16(b, o + 4);
        fieldsAt = o + 6;
        if (scopeCount === 0 || scopeCount > count) {
          throw new WireError(
            'FG_ERR_WIRE_VALUE',
            `IPFIX options template ${id} from ${exporterText} has ${scopeCount} scope fields of ${count}; it needs 1 to ${count}`,
            o + 4,
            { exporter: exporterText, templateId: id, scopeCount, fieldCount: count },
          );
        }
      }
      o = this.path.learn(exporter, domain, { id, kind, scopeCount, count }, b, o, fieldsAt, end, ctx, out);
    }
  }
}

/** Checks the header and the set framing of the whole message; returns the message length. */
function checkMessage(b: Uint8Array, exporter: string): number {
  if (b.length < IPFIX_HEADER_BYTES) {
    throw new WireError(
      'FG_ERR_WIRE_TRUNCATED',
      `IPFIX message from ${exporter} is ${b.length} bytes, shorter than the 16-byte header`,
      b.length,
      { exporter, length: b.length },
    );
  }
  const version = u16(b, 0);
  if (version !== IPFIX_VERSION) {
    throw new WireError(
      'FG_ERR_WIRE_VERSION',
      `datagram from ${exporter} is version ${version}, not IPFIX (10)`,
      0,
      {
        exporter,
        version,
      },
    );
  }
  const length = u16(b, 2);
  if (length < IPFIX_HEADER_BYTES) {
    throw new WireError(
      'FG_ERR_WIRE_VALUE',
      `IPFIX message from ${exporter} declares a length of ${length}, shorter than its header`,
      2,
      { exporter, declared: length },
    );
  }
  if (length > b.length) {
    throw new WireError(
      'FG_ERR_WIRE_TRUNCATED',
      `IPFIX message from ${exporter} declares ${length} bytes but the datagram has ${b.length}`,
      b.length,
      { exporter, declared: length, length: b.length },
    );
  }
  if (length < b.length) {
    throw new WireError(
      'FG_ERR_WIRE_LENGTH',
      `IPFIX message from ${exporter} declares ${length} bytes but the datagram has ${b.length}; trailing bytes`,
      length,
      { exporter, declared: length, length: b.length },
    );
  }
  for (let o = IPFIX_HEADER_BYTES; o < length; ) {
    if (length - o < SET_HEADER_BYTES) {
      throw new WireError(
        'FG_ERR_WIRE_TRUNCATED',
        `IPFIX message from ${exporter} ends ${length - o} bytes into a set header`,
        o,
        { exporter, declared: length },
      );
    }
    const setLength = u16(b, o + 2);
    if (setLength < SET_HEADER_BYTES || o + setLength > length) {
      throw new WireError(
        'FG_ERR_WIRE_LENGTH',
        `IPFIX set ${u16(b, o)} from ${exporter} declares ${setLength} bytes; ${length - o} remain in the message`,
        o + 2,
        { exporter, setId: u16(b, o), setLength, remaining: length - o },
      );
    }
    o += setLength;
  }
  return length;
}

function badTemplateId(id: number, kind: TemplateKind, exporter: string, o: number): WireError {
  return new WireError(
    'FG_ERR_WIRE_VALUE',
    `IPFIX ${kind === 'data' ? '' : 'options '}template id ${id} from ${exporter} is reserved; ids start at 256`,
    o,
    { exporter, templateId: id },
  );
}
