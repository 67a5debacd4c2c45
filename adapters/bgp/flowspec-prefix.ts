/**
 * FlowSpec prefix components. IPv4 (RFC 8955 4.2.2.1): `type, length, prefix` with the prefix in
 * as few bytes as hold `length` bits. IPv6 (RFC 8956 3.1): `type, length, offset, pattern,
 * padding`, the pattern being address bits [offset, length) moved to the front, so an offset
 * that is not a multiple of 8 shifts the bits.
 */
import { WireError } from '../../core/errors.js';
import { formatPrefix, type IpVersion, parsePrefix } from '../../core/net/address.js';
import { need, unencodable } from './bytes.js';
import type { PrefixComponent, PrefixComponentType } from './flowspec-types.js';

function addressBits(version: IpVersion): number {
  return version === 4 ? 32 : 128;
}

/** The address of a parsed prefix as an unsigned integer of its family's width. */
function prefixValue(text: string, version: IpVersion, what: string): { value: bigint; length: number } {
  const prefix = parsePrefix(text);
  if (!prefix || prefix.version !== version) {
    throw unencodable(what, text, `expected an IPv${version} prefix with its host bits clear`);
  }
  const words = version === 4 ? [prefix.words[3]] : prefix.words;
  let value = 0n;
  for (const w of words) value = (value << 32n) | BigInt(w! >>> 0);
  return { value, length: prefix.length };
}

function prefixText(value: bigint, length: number, version: IpVersion): string {
  const words: [number, number, number, number] =
    version === 4
      ? [0, 0, 0xffff, Number(value)]
      : [
          Number((value >> 96n) & 0xffffffffn),
          Number((value >> 64n) & 0xffffffffn),
          Number((value >> 32n) & 0xffffffffn),
          Number(value & 0xffffffffn),
        ];
  return formatPrefix({ version, words, length });
}

function patternBytes(length: number, offset: number): number {
  return Math.ceil((length - offset) / 8);
}

/** Bytes the component takes, type byte included. */
export function prefixComponentSize(component: PrefixComponent, version: IpVersion): number {
  const { length } = prefixValue(component.prefix, version, 'FlowSpec prefix');
  return (version === 4 ? 2 : 3) + patternBytes(length, component.offset);
}

export function writePrefixComponent(
  out: Uint8Array,
  at: number,
  component: PrefixComponent,
  version: IpVersion,
): number {
  const what = component.type === 1 ? 'FlowSpec destination prefix' : 'FlowSpec source prefix';
  const width = addressBits(version);
  const { value, length } = prefixValue(component.prefix, version, what);
  const { offset } = component;
  if (version === 4 && offset !== 0)
    throw unencodable(`${what} offset`, offset, 'IPv4 prefixes have no offset');
  if (!Number.isInteger(offset) || offset < 0 || (offset >= length && !(offset === 0 && length === 0))) {
    throw unencodable(`${what} offset`, offset, `expected 0 <= offset < prefix length ${length}`);
  }
  if (offset > 0 && value >> BigInt(width - offset) !== 0n) {
    throw unencodable(what, component.prefix, `the ${offset} bit(s) before the offset must be zero`);
  }
  const bits = length - offset;
  const size = patternBytes(length, offset);
  // Bits [offset, length) of the address, left-aligned in `size` bytes (padding zero).
  const pattern =
    bits === 0
      ? 0n
      : ((value >> BigInt(width - length)) & ((1n << BigInt(bits)) - 1n)) << BigInt(size * 8 - bits);
  let p = at;
  out[p++] = component.type;
  out[p++] = length;
  if (version === 6) out[p++] = offset;
  for (let i = size - 1; i >= 0; i--) out[p + i] = Number((pattern >> BigInt((size - 1 - i) * 8)) & 0xffn);
  return p + size;
}

export function readPrefixComponent(
  bytes: Uint8Array,
  at: number,
  end: number,
  type: PrefixComponentType,
  version: IpVersion,
): { component: PrefixComponent; end: number } {
  const what = type === 1 ? 'FlowSpec destination prefix' : 'FlowSpec source prefix';
  const width = addressBits(version);
  let p = at + 1;
  need(end, p, version === 4 ? 1 : 2, `${what} length`);
  const length = bytes[p++]!;
  const offset = version === 6 ? bytes[p++]! : 0;
  if (length > width) {
    throw new WireError('FG_ERR_WIRE_VALUE', `${what} length ${length} exceeds ${width}`, at + 1, {
      what,
      length,
    });
  }
  if (offset >= length && !(offset === 0 && length === 0)) {
    throw new WireError(
      'FG_ERR_WIRE_VALUE',
      `${what} offset ${offset} is not below its length ${length}`,
      at + 2,
      { what, length, offset },
    );
  }
  const size = patternBytes(length, offset);
  need(end, p, size, `${what} pattern`);
  let pattern = 0n;
  for (let i = 0; i < size; i++) pattern = (pattern << 8n) | BigInt(bytes[p + i]!);
  const bits = length - offset;
  // Padding bits are ignored on decoding (RFC 8956 3.1; RFC 4271 for IPv4 prefixes).
  pattern >>= BigInt(size * 8 - bits);
  const value = bits === 0 ? 0n : pattern << BigInt(width - length);
  return {
    component: { type, prefix: prefixText(value, length, version), offset },
    end: p + size,
  };
}
