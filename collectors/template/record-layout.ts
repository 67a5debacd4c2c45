/**
 * How the records of a data set are laid out by a compiled template: how many a set holds
 * (checking that variable-length fields frame), and where the read fields of one record with
 * variable-length fields start. Fixed-length records need neither walk: their offsets are
 * constant (CompiledTemplate.plan).
 */
import { WireError } from '../../core/errors.js';
import { u16 } from './bytes.js';
import { K, VARIABLE_LENGTH } from './information-elements.js';
import type { CompiledTemplate } from './template.js';

/**
 * How many records the set body [start, end) holds; what follows the last is padding.
 * Throws WireError, with the offset in `b`, when a variable-length field runs past the set.
 */
export function countRecords(
  b: Uint8Array,
  start: number,
  end: number,
  t: CompiledTemplate,
  exporter: string,
): number {
  if (t.fixedLength > 0) return Math.floor((end - start) / t.fixedLength);
  let o = start;
  let n = 0;
  while (end - o >= t.minLength) {
    const next = locateFields(b, o, end, t);
    if (next < 0) throw recordOverrun(t, exporter, ~next, n);
    o = next;
    n += 1;
  }
  return n;
}

function recordOverrun(t: CompiledTemplate, exporter: string, offset: number, record: number): WireError {
  return new WireError(
    'FG_ERR_WIRE_TRUNCATED',
    `record ${record} of template ${t.definition.id} from ${exporter} has a variable-length field running past the end of its set`,
    offset,
    { exporter, templateId: t.definition.id, record },
  );
}

/**
 * Walks the record at `o` of a template with variable-length fields: writes where its read
 * fields start into `t.plan` (counted from `o`) and returns where the next record
 * starts. When a field runs past `end` it returns `~offset` (negative) of the byte where the
 * record stopped making sense: countRecords reports it, and the data path, which only walks
 * sets countRecords measured, never meets it.
 */
export function locateFields(b: Uint8Array, o: number, end: number, t: CompiledTemplate): number {
  const kinds = t.kinds;
  const lengths = t.lengths;
  const plan = t.plan;
  const start = o;
  let f = 0;
  for (let s = 0; s < t.stepCount; s++) {
    let len = lengths[s]!;
    if (len === VARIABLE_LENGTH) {
      if (o >= end) return ~o;
      len = b[o]!;
      o += 1;
      if (len === 255) {
        if (o + 2 > end) return ~o;
        len = u16(b, o);
        o += 2;
      }
    }
    if (o + len > end) return ~o;
    if (kinds[s] !== K.SKIP) {
      plan[f] = (plan[f]! & 0xffff) | ((o - start) << 16);
      f += 1;
    }
    o += len;
  }
  return o;
}
