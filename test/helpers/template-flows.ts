/**
 * Builds NetFlow v9 and IPFIX datagrams for tests: template and options template sets, data
 * sets encoded from values by field, IPFIX withdrawals, padding, raw sets, and header
 * overrides to forge datagrams whose lengths lie. Values are keyed by field name (default:
 * the element id as a string; `e<enterprise>.<id>` for enterprise elements).
 */
import { parseAddress } from '../../core/net/address.js';

export interface FieldSpec {
  id: number;
  /** Bytes; 0xffff for an IPFIX variable-length field. */
  length: number;
  /** IPFIX private enterprise number (sets the enterprise bit). */
  enterprise?: number;
  /** Key of the field's value in a record; defaults to fieldKey(). */
  name?: string;
}

export interface TemplateSpec {
  id: number;
  fields: FieldSpec[];
  /** Leading scope fields: set for an options template. */
  scopeCount?: number;
}

export type FieldValue = number | bigint | string | Uint8Array | { float: number };
export type RecordValues = Record<string, FieldValue>;

export type SetSpec =
  /** A template set; options templates when `options`. `padding` zero bytes at the end. */
  | { templates: TemplateSpec[]; options?: boolean; padding?: number }
  /** IPFIX withdrawals: field count 0 records (id 2 or 3 withdraws all of the kind). */
  | { withdraw: number[]; options?: boolean }
  /** A data set for `template`; `setId` overrides the template id. */
  | { template: TemplateSpec; records: RecordValues[]; padding?: number; setId?: number }
  | { raw: { setId: number; body: Uint8Array } };

export type Layout = 'ipfix' | 'v9';

export const VARIABLE = 0xffff;

export function fieldKey(f: FieldSpec): string {
  if (f.name !== undefined) return f.name;
  return f.enterprise !== undefined ? `e${f.enterprise}.${f.id}` : String(f.id);
}

class Bytes {
  private readonly parts: number[] = [];
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v >>> 8).u8(v);
  }
  u32(v: number): this {
    return this.u16(Math.floor(v / 65536) & 0xffff).u16(v & 0xffff);
  }
  bytes(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.parts.push(b[i]! & 0xff);
    return this;
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function uintBytes(value: number | bigint, length: number): number[] {
  let v = BigInt(value);
  if (v < 0n) throw new Error(`test helper: negative value ${value}`);
  const out = new Array<number>(length).fill(0);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new Error(`test helper: ${value} does not fit ${length} bytes`);
  return out;
}

function addressBytes(text: string): number[] {
  const a = parseAddress(text);
  if (!a) throw new Error(`test helper: not an address: ${text}`);
  const words = a.version === 4 ? [a.words[3]] : a.words;
  return words.flatMap((w) => [w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255]);
}

function valueBytes(f: FieldSpec, value: FieldValue | undefined): number[] {
  if (f.length === VARIABLE) {
    let content: number[] = [];
    if (value instanceof Uint8Array) content = [...value];
    else if (typeof value === 'string') content = [...new TextEncoder().encode(value)];
    else if (value !== undefined)
      throw new Error(`test helper: variable-length field ${fieldKey(f)} needs bytes or text`);
    const head = content.length < 255 ? [content.length] : [255, content.length >>> 8, content.length & 255];
    return [...head, ...content];
  }
  if (value === undefined) return new Array<number>(f.length).fill(0);
  if (value instanceof Uint8Array) {
    if (value.length !== f.length) throw new Error(`test helper: ${fieldKey(f)} takes ${f.length} bytes`);
    return [...value];
  }
  if (typeof value === 'string') {
    const bytes = addressBytes(value);
    if (bytes.length !== f.length) throw new Error(`test helper: ${value} does not fit ${fieldKey(f)}`);
    return bytes;
  }
  if (typeof value === 'object') {
    const b = new Uint8Array(f.length);
    const v = new DataView(b.buffer);
    if (f.length === 4) v.setFloat32(0, value.float);
    else v.setFloat64(0, value.float);
    return [...b];
  }
  return uintBytes(value, f.length);
}

/** One data record of `t`, as bytes. */
export function encodeRecord(t: TemplateSpec, values: RecordValues): number[] {
  return t.fields.flatMap((f) => valueBytes(f, values[fieldKey(f)]));
}

function fieldSpecBytes(out: Bytes, f: FieldSpec, layout: Layout): void {
  if (layout === 'ipfix' && f.enterprise !== undefined) {
    out
      .u16(f.id | 0x8000)
      .u16(f.length)
      .u32(f.enterprise);
  } else {
    out.u16(f.id).u16(f.length);
  }
}

function templateRecord(out: Bytes, t: TemplateSpec, options: boolean, layout: Layout): void {
  const scope = t.scopeCount ?? 0;
  if (layout === 'ipfix') {
    out.u16(t.id).u16(t.fields.length);
    if (options) out.u16(scope);
  } else if (options) {
    out
      .u16(t.id)
      .u16(scope * 4)
      .u16((t.fields.length - scope) * 4);
  } else {
    out.u16(t.id).u16(t.fields.length);
  }
  for (const f of t.fields) fieldSpecBytes(out, f, layout);
}

function setBytes(spec: SetSpec, layout: Layout): { setId: number; body: Uint8Array } {
  const body = new Bytes();
  if ('raw' in spec) return spec.raw;
  if ('withdraw' in spec) {
    for (const id of spec.withdraw) body.u16(id).u16(0);
    return { setId: spec.options ? 3 : 2, body: body.done() };
  }
  if ('templates' in spec) {
    const options = spec.options ?? false;
    for (const t of spec.templates) templateRecord(body, t, options, layout);
    body.zeros(spec.padding ?? 0);
    const setId = layout === 'ipfix' ? (options ? 3 : 2) : options ? 1 : 0;
    return { setId, body: body.done() };
  }
  for (const r of spec.records) body.bytes(encodeRecord(spec.template, r));
  body.zeros(spec.padding ?? 0);
  return { setId: spec.setId ?? spec.template.id, body: body.done() };
}

function appendSets(out: Bytes, sets: readonly SetSpec[], layout: Layout): void {
  for (const s of sets) {
    const { setId, body } = setBytes(s, layout);
    out
      .u16(setId)
      .u16(body.length + 4)
      .bytes(body);
  }
}

export interface IpfixHeader {
  /** Unix seconds. */
  exportTime: number;
  sequence: number;
  domain: number;
}

export const defaultIpfixHeader: IpfixHeader = { exportTime: 1_700_000_000, sequence: 1, domain: 0 };

export function encodeIpfix(
  header: Partial<IpfixHeader>,
  sets: readonly SetSpec[],
  options: { length?: number; version?: number } = {},
): Uint8Array {
  const h = { ...defaultIpfixHeader, ...header };
  const body = new Bytes();
  appendSets(body, sets, 'ipfix');
  const out = new Bytes()
    .u16(options.version ?? 10)
    .u16(options.length ?? body.length + 16)
    .u32(h.exportTime)
    .u32(h.sequence)
    .u32(h.domain);
  return out.bytes(body.done()).done();
}

export interface V9Header {
  sysUptime: number;
  /** Unix seconds. */
  unixSecs: number;
  sequence: number;
  sourceId: number;
}

export const defaultV9Header: V9Header = {
  sysUptime: 3_600_000,
  unixSecs: 1_700_000_000,
  sequence: 1,
  sourceId: 0,
};

export function encodeNetflowV9(
  header: Partial<V9Header>,
  sets: readonly SetSpec[],
  options: { count?: number; version?: number; trailing?: number } = {},
): Uint8Array {
  const h = { ...defaultV9Header, ...header };
  const body = new Bytes();
  appendSets(body, sets, 'v9');
  body.zeros(options.trailing ?? 0);
  const records = sets.reduce(
    (n, s) => n + ('records' in s ? s.records.length : 'templates' in s ? s.templates.length : 0),
    0,
  );
  const out = new Bytes()
    .u16(options.version ?? 9)
    .u16(options.count ?? records)
    .u32(h.sysUptime)
    .u32(h.unixSecs)
    .u32(h.sequence)
    .u32(h.sourceId);
  return out.bytes(body.done()).done();
}
