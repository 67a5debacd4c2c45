/**
 * FlowSpec NLRI encode/decode (RFC 8955 section 4, RFC 8956 section 3): a 1-byte length below
 * 240, else 2 bytes `0xFnnn` (at most 4095), then the components in strictly increasing type
 * order, each at most once. Decoding hostile input only ever throws WireError.
 */
import { WireError } from '../../core/errors.js';
import type { IpVersion } from '../../core/net/address.js';
import { need, unencodable } from './bytes.js';
import { readBitmaskTerms, readNumericTerms, termsSize, writeTerms } from './flowspec-operators.js';
import { prefixComponentSize, readPrefixComponent, writePrefixComponent } from './flowspec-prefix.js';
import {
  type FlowSpecComponent,
  type FlowSpecNlri,
  isBitmaskType,
  isKnownType,
  isPrefixType,
  type NumericComponentType,
} from './flowspec-types.js';

/** The largest NLRI value the 2-byte length form can carry. */
export const MAX_NLRI_LENGTH = 0xfff;
const EXTENDED_LENGTH_FROM = 240;

const COMPONENT_NAMES: Readonly<Record<number, string>> = {
  1: 'destination prefix',
  2: 'source prefix',
  3: 'IP protocol',
  4: 'port',
  5: 'destination port',
  6: 'source port',
  7: 'ICMP type',
  8: 'ICMP code',
  9: 'TCP flags',
  10: 'packet length',
  11: 'DSCP',
  12: 'fragment',
  13: 'flow label',
};

export function componentName(type: number): string {
  return COMPONENT_NAMES[type] ?? `type ${type}`;
}

/** Throws unless the components are valid for the family and in strictly increasing type order. */
function checkComponents(nlri: FlowSpecNlri): void {
  if (nlri.version !== 4 && nlri.version !== 6) {
    throw unencodable('FlowSpec IP version', nlri.version, 'expected 4 or 6');
  }
  if (nlri.components.length === 0) throw unencodable('FlowSpec NLRI', [], 'needs at least one component');
  let previous = 0;
  for (const c of nlri.components) {
    if (!isKnownType(c.type, nlri.version)) {
      throw unencodable(
        'FlowSpec component type',
        c.type,
        `IPv${nlri.version} knows types 1-${nlri.version === 4 ? 12 : 13}`,
      );
    }
    if (c.type <= previous) {
      throw unencodable(
        `FlowSpec ${componentName(c.type)} component`,
        c.type,
        `components must be in strictly increasing type order, each once (after type ${previous})`,
      );
    }
    if (!isPrefixType(c.type) && (c as { terms: unknown[] }).terms.length === 0) {
      throw unencodable(`FlowSpec ${componentName(c.type)} component`, [], 'needs at least one term');
    }
    previous = c.type;
  }
}

function componentSize(c: FlowSpecComponent, version: IpVersion): number {
  if (isPrefixType(c.type))
    return prefixComponentSize(c as Extract<FlowSpecComponent, { offset: number }>, version);
  return 1 + termsSize((c as { terms: { value: number }[] }).terms, `FlowSpec ${componentName(c.type)}`);
}

/** The NLRI value (components only, no length). */
export function encodeFlowSpecValue(nlri: FlowSpecNlri): Uint8Array {
  checkComponents(nlri);
  let size = 0;
  for (const c of nlri.components) size += componentSize(c, nlri.version);
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of nlri.components) {
    if ('prefix' in c) {
      at = writePrefixComponent(out, at, c, nlri.version);
    } else {
      out[at++] = c.type;
      at = writeTerms(out, at, c.terms, isBitmaskType(c.type), `FlowSpec ${componentName(c.type)}`);
    }
  }
  return out;
}

/** The NLRI as carried in MP_REACH/MP_UNREACH: length (1 or 2 bytes) then the value. */
export function encodeFlowSpecNlri(nlri: FlowSpecNlri): Uint8Array {
  const value = encodeFlowSpecValue(nlri);
  if (value.length > MAX_NLRI_LENGTH) {
    throw unencodable('FlowSpec NLRI length', value.length, `at most ${MAX_NLRI_LENGTH} bytes`);
  }
  const head = value.length < EXTENDED_LENGTH_FROM ? 1 : 2;
  const out = new Uint8Array(head + value.length);
  if (head === 1) {
    out[0] = value.length;
  } else {
    out[0] = 0xf0 | (value.length >> 8);
    out[1] = value.length & 0xff;
  }
  out.set(value, head);
  return out;
}

/** Decodes the components of one NLRI value occupying [offset, end). */
export function decodeFlowSpecValue(
  bytes: Uint8Array,
  version: IpVersion,
  offset = 0,
  end = bytes.length,
): FlowSpecNlri {
  const components: FlowSpecComponent[] = [];
  let at = offset;
  let previous = 0;
  if (at >= end) throw new WireError('FG_ERR_WIRE_VALUE', 'FlowSpec NLRI has no component', at);
  while (at < end) {
    const type = bytes[at]!;
    if (!isKnownType(type, version)) {
      throw new WireError('FG_ERR_WIRE_VALUE', `unknown IPv${version} FlowSpec component type ${type}`, at, {
        type,
      });
    }
    if (type <= previous) {
      throw new WireError(
        'FG_ERR_WIRE_VALUE',
        `FlowSpec ${componentName(type)} (type ${type}) follows type ${previous}: types must strictly increase`,
        at,
        { type, previous },
      );
    }
    previous = type;
    const what = `FlowSpec ${componentName(type)}`;
    if (isPrefixType(type)) {
      const read = readPrefixComponent(bytes, at, end, type, version);
      components.push(read.component);
      at = read.end;
    } else if (isBitmaskType(type)) {
      const read = readBitmaskTerms(bytes, at + 1, end, what);
      components.push({ type, terms: read.terms });
      at = read.end;
    } else {
      const read = readNumericTerms(bytes, at + 1, end, what);
      components.push({ type: type as NumericComponentType, terms: read.terms });
      at = read.end;
    }
  }
  return { version, components };
}

/** Decodes one length-prefixed NLRI at `offset`; returns it and the offset after it. */
export function decodeFlowSpecNlri(
  bytes: Uint8Array,
  version: IpVersion,
  offset = 0,
  end = bytes.length,
): { nlri: FlowSpecNlri; end: number } {
  need(end, offset, 1, 'FlowSpec NLRI length');
  let length = bytes[offset]!;
  let head = 1;
  if (length >= EXTENDED_LENGTH_FROM) {
    need(end, offset, 2, 'FlowSpec NLRI extended length');
    length = ((length & 0x0f) << 8) | bytes[offset + 1]!;
    head = 2;
  }
  const start = offset + head;
  if (start + length > end) {
    throw new WireError(
      'FG_ERR_WIRE_LENGTH',
      `FlowSpec NLRI length ${length} runs past the ${end - start} byte(s) present`,
      offset,
      { length, present: end - start },
    );
  }
  return { nlri: decodeFlowSpecValue(bytes, version, start, start + length), end: start + length };
}

/** Every NLRI of an MP_REACH/MP_UNREACH NLRI field. */
export function decodeFlowSpecNlris(bytes: Uint8Array, version: IpVersion): FlowSpecNlri[] {
  const out: FlowSpecNlri[] = [];
  let at = 0;
  while (at < bytes.length) {
    const read = decodeFlowSpecNlri(bytes, version, at);
    out.push(read.nlri);
    at = read.end;
  }
  return out;
}
