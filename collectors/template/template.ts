/**
 * A template as the exporter defined it (kept for refresh checks and persistence) and as
 * Floodgate runs it, compiled once when the template arrives:
 * - the layout: steps of (kind, length), skipped fields merged, which frames records (and,
 *   with variable-length fields, finds where each field of a record starts);
 * - the read plan: only the fields Floodgate reads, each with its kind, width and offset in
 *   the record, so that decoding a record is one loop over three small typed arrays with no
 *   lookups, no objects and no bounds checks per field (the set is measured first).
 */
import { WireError } from '../../core/errors.js';
import { u16, u32 } from './bytes.js';
import {
  type FieldKind,
  isSamplingKind,
  K,
  kindOf,
  VARIABLE_LENGTH,
  widthFits,
} from './information-elements.js';

export type TemplateKind = 'data' | 'options';

/** The fields of a template, exactly as sent. */
export interface TemplateDefinition {
  readonly id: number;
  readonly kind: TemplateKind;
  /** Leading scope fields of an options template; 0 for data templates. */
  readonly scopeCount: number;
  readonly ids: Uint16Array;
  readonly lengths: Uint16Array;
  /** Private enterprise number per field, 0 for IANA elements (always 0 in NetFlow v9). */
  readonly enterprises: Uint32Array;
}

/** Field specifier layouts: IPFIX may append a 4-byte enterprise number, NetFlow v9 never. */
export type FieldLayout = 'ipfix' | 'v9';

export const ENTERPRISE_BIT = 0x8000;

/** Highest record length that fits a set: 16-bit set length minus the 4-byte set header. */
export const MAX_RECORD_BYTES = 0xffff - 4;

export class CompiledTemplate {
  /** Steps: consecutive skipped fixed-length fields are merged into one. */
  readonly stepCount: number;
  readonly kinds: Uint8Array;
  /** Step length in bytes, or VARIABLE_LENGTH (read from the record). */
  readonly lengths: Uint16Array;
  /** Record length when every field is fixed-length, else -1. */
  readonly fixedLength: number;
  /** The shortest record possible (a variable field takes at least its 1-byte length). */
  readonly minLength: number;
  /** Known elements skipped because their width cannot hold them (e.g. a 3-byte IPv4 address). */
  readonly ignoredFields: number;
  /** The record carries sampling parameters or a sampler id of its own. */
  readonly hasSampling: boolean;
  /**
   * Read plan: one entry per field that is not skipped, in record order, each packing the
   * field's kind, width and offset from the start of its record (planEntry). Offsets are
   * constant for fixed-length templates; with variable-length fields, `locateFields` rewrites
   * them for each record (decoding is synchronous, so a template decodes one record at a time).
   */
  readonly plan: Int32Array;
  /** When the template was last received (Unix ms, arrival clock). */
  updatedMs: number;

  constructor(
    readonly definition: TemplateDefinition,
    layout: FieldLayout,
    updatedMs: number,
  ) {
    const d = definition;
    const kinds: FieldKind[] = [];
    const lengths: number[] = [];
    const plan: number[] = [];
    let fixed = 0;
    let variable = false;
    let minLength = 0;
    let ignored = 0;
    for (let f = 0; f < d.ids.length; f++) {
      const length = d.lengths[f]!;
      // NetFlow v9 options scope fields are scope types (System, Interface, ...), not elements.
      const isV9Scope = layout === 'v9' && f < d.scopeCount;
      let kind: FieldKind = isV9Scope ? K.SKIP : kindOf(d.ids[f]!, d.enterprises[f]!);
      if (kind !== K.SKIP && (length === VARIABLE_LENGTH || !widthFits(kind, length))) {
        kind = K.SKIP;
        ignored += 1;
      }
      if (kind !== K.SKIP) {
        // The offset means something only while no variable-length field came before; see plan.
        plan.push(planEntry(kind, length, variable ? 0 : fixed));
      }
      if (length === VARIABLE_LENGTH) {
        variable = true;
        minLength += 1;
      } else {
        fixed += length;
        minLength += length;
      }
      const last = kinds.length - 1;
      if (
        kind === K.SKIP &&
        length !== VARIABLE_LENGTH &&
        last >= 0 &&
        kinds[last] === K.SKIP &&
        lengths[last] !== VARIABLE_LENGTH &&
        lengths[last]! + length < VARIABLE_LENGTH
      ) {
        lengths[last] = lengths[last]! + length;
      } else {
        kinds.push(kind);
        lengths.push(length);
      }
    }
    this.stepCount = kinds.length;
    this.kinds = Uint8Array.from(kinds);
    this.lengths = Uint16Array.from(lengths);
    this.fixedLength = variable ? -1 : fixed;
    this.minLength = minLength;
    this.ignoredFields = ignored;
    this.hasSampling = kinds.some(isSamplingKind);
    this.plan = Int32Array.from(plan);
    this.updatedMs = updatedMs;
  }
}

/**
 * One read plan entry: the offset in the record (16 bits: a record fits a set, under 65536
 * bytes), the width (8 bits: read fields are at most 16 bytes) and the kind (8 bits), in one
 * int32 so that the data path loads one number per field.
 */
export function planEntry(kind: FieldKind, width: number, offset: number): number {
  return (offset << 16) | (width << 8) | kind;
}

export function planKind(entry: number): number {
  return entry & 0xff;
}

export function planWidth(entry: number): number {
  return (entry >>> 8) & 0xff;
}

export function planOffset(entry: number): number {
  return entry >>> 16;
}

/** Bytes one field specifier takes at `o`. */
function specBytes(b: Uint8Array, o: number, layout: FieldLayout): number {
  return layout === 'ipfix' && (b[o]! & 0x80) !== 0 ? 8 : 4;
}

/**
 * Reads `count` field specifiers starting at `o` and ending by `end`. Throws WireError when
 * they run past `end`. Returns the definition and the offset after the last specifier.
 */
export function readFieldSpecs(
  b: Uint8Array,
  o: number,
  end: number,
  header: { id: number; kind: TemplateKind; scopeCount: number; count: number; layout: FieldLayout },
  exporter: string,
): { definition: TemplateDefinition; next: number } {
  const { count, layout } = header;
  const ids = new Uint16Array(count);
  const lengths = new Uint16Array(count);
  const enterprises = new Uint32Array(count);
  for (let f = 0; f < count; f++) {
    if (o + 4 > end || o + specBytes(b, o, layout) > end) {
      throw new WireError(
        'FG_ERR_WIRE_TRUNCATED',
        `template ${header.id} from ${exporter} declares ${count} fields but its set ends after ${f}`,
        o,
        { exporter, templateId: header.id, fieldCount: count, fieldsRead: f },
      );
    }
    const raw = u16(b, o);
    if (layout === 'ipfix' && (raw & ENTERPRISE_BIT) !== 0) {
      ids[f] = raw & ~ENTERPRISE_BIT;
      enterprises[f] = u32(b, o + 4);
    } else {
      ids[f] = raw;
    }
    lengths[f] = u16(b, o + 2);
    if (layout === 'v9' && lengths[f] === VARIABLE_LENGTH) {
      // v9 has no variable-length fields; a 65535-byte field cannot fit any datagram either.
      throw new WireError(
        'FG_ERR_WIRE_VALUE',
        `NetFlow v9 template ${header.id} from ${exporter} has a field of length 65535`,
        o + 2,
        { exporter, templateId: header.id, fieldType: raw },
      );
    }
    o += specBytes(b, o, layout);
  }
  return {
    definition: {
      id: header.id,
      kind: header.kind,
      scopeCount: header.scopeCount,
      ids,
      lengths,
      enterprises,
    },
    next: o,
  };
}

/**
 * Does the template at `o` (its field specifiers) equal `d`? Returns the offset after its
 * specifiers when it does, -1 when it differs or runs past `end`. Lets a template refresh,
 * which exporters send every few seconds, cost a byte comparison instead of a recompile.
 */
export function matchDefinition(
  d: TemplateDefinition,
  b: Uint8Array,
  o: number,
  end: number,
  header: { kind: TemplateKind; scopeCount: number; count: number },
  layout: FieldLayout,
): number {
  if (d.kind !== header.kind || d.scopeCount !== header.scopeCount || d.ids.length !== header.count) {
    return -1;
  }
  const ipfix = layout === 'ipfix';
  for (let f = 0; f < header.count; f++) {
    if (o + 4 > end) return -1;
    const raw = u16(b, o);
    const enterprise = ipfix && (raw & ENTERPRISE_BIT) !== 0;
    if (enterprise) {
      if (o + 8 > end) return -1;
      if ((raw & ~ENTERPRISE_BIT) !== d.ids[f] || u32(b, o + 4) !== d.enterprises[f]) return -1;
    } else if (raw !== d.ids[f] || d.enterprises[f] !== 0) {
      return -1;
    }
    if (u16(b, o + 2) !== d.lengths[f]) return -1;
    o += enterprise ? 8 : 4;
  }
  return o;
}
