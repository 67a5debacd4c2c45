/**
 * BGP path attribute framing (RFC 4271 section 4.3): flags, type code, a 1-byte length or, with
 * the extended-length flag, 2 bytes, then the value. The bodies the FlowSpec/RTBH model uses are
 * decoded by their own modules (communities, extended communities, FlowSpec NLRI in MP_REACH).
 */
import { WireError } from '../../core/errors.js';
import { need, unencodable } from './bytes.js';

export const ATTR_FLAG_OPTIONAL = 0x80;
export const ATTR_FLAG_TRANSITIVE = 0x40;
export const ATTR_FLAG_EXTENDED_LENGTH = 0x10;

export const ATTR_ORIGIN = 1;
export const ATTR_NEXT_HOP = 3;
export const ATTR_COMMUNITIES = 8;
export const ATTR_MP_REACH_NLRI = 14;
export const ATTR_MP_UNREACH_NLRI = 15;
export const ATTR_EXTENDED_COMMUNITIES = 16;

export interface PathAttribute {
  flags: number;
  type: number;
  value: Uint8Array;
}

export function encodePathAttribute(attribute: PathAttribute): Uint8Array {
  const { type, value } = attribute;
  if (!Number.isInteger(type) || type < 0 || type > 255)
    throw unencodable('path attribute type', type, 'expected 0-255');
  if (value.length > 0xffff) throw unencodable('path attribute length', value.length, 'at most 65535 bytes');
  const extended = value.length > 0xff || (attribute.flags & ATTR_FLAG_EXTENDED_LENGTH) !== 0;
  const head = extended ? 4 : 3;
  const out = new Uint8Array(head + value.length);
  out[0] = (attribute.flags & ~ATTR_FLAG_EXTENDED_LENGTH) | (extended ? ATTR_FLAG_EXTENDED_LENGTH : 0);
  out[1] = type;
  if (extended) {
    out[2] = value.length >> 8;
    out[3] = value.length & 0xff;
  } else {
    out[2] = value.length;
  }
  out.set(value, head);
  return out;
}

/** Decodes the attribute at `offset`; returns it and the offset after it. */
export function decodePathAttribute(
  bytes: Uint8Array,
  offset = 0,
  end = bytes.length,
): { attribute: PathAttribute; end: number } {
  need(end, offset, 3, 'path attribute header');
  const flags = bytes[offset]!;
  const type = bytes[offset + 1]!;
  let length = bytes[offset + 2]!;
  let head = 3;
  if ((flags & ATTR_FLAG_EXTENDED_LENGTH) !== 0) {
    need(end, offset, 4, 'path attribute extended length');
    length = (length << 8) | bytes[offset + 3]!;
    head = 4;
  }
  const start = offset + head;
  if (start + length > end) {
    throw new WireError(
      'FG_ERR_WIRE_LENGTH',
      `path attribute ${type} length ${length} runs past the ${end - start} byte(s) present`,
      offset,
      { type, length },
    );
  }
  return { attribute: { flags, type, value: bytes.slice(start, start + length) }, end: start + length };
}

export interface MpReach {
  afi: number;
  safi: number;
  /** Next-hop bytes (0, 4, 16 or 32 long). */
  nextHop: Uint8Array;
  /** The NLRI field, to be decoded by the family's NLRI decoder. */
  nlri: Uint8Array;
}

/** The value of an MP_REACH_NLRI attribute (RFC 4760 section 3). */
export function decodeMpReach(value: Uint8Array): MpReach {
  need(value.length, 0, 5, 'MP_REACH_NLRI header');
  const afi = (value[0]! << 8) | value[1]!;
  const safi = value[2]!;
  const hopLength = value[3]!;
  need(value.length, 4, hopLength + 1, 'MP_REACH_NLRI next hop and reserved byte');
  return {
    afi,
    safi,
    nextHop: value.slice(4, 4 + hopLength),
    nlri: value.slice(5 + hopLength),
  };
}
