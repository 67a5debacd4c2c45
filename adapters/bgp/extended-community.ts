/**
 * The extended communities that carry FlowSpec actions (RFC 8955 section 7), as typed values
 * with an 8-byte encode/decode pair. Any other extended community decodes to `raw` and encodes
 * back byte for byte.
 */
import { WireError } from '../../core/errors.js';
import { parseIPv4 } from '../../core/net/address.js';
import { toHex, unencodable } from './bytes.js';

export type ExtendedCommunity =
  /** 0x8006: bytes per second as an IEEE-754 single; 0 discards. `asn` is informational. */
  | { type: 'traffic-rate-bytes'; asn: number; rate: number }
  /** 0x800C: packets per second, same layout. */
  | { type: 'traffic-rate-packets'; asn: number; rate: number }
  /** 0x8007: terminal (bit 47) and sample (bit 46). */
  | { type: 'traffic-action'; terminal: boolean; sample: boolean }
  /** 0x8008: redirect to the VRF with route target 2-byte AS : 4-byte value. */
  | { type: 'redirect-as2'; asn: number; value: number }
  /** 0x8108: redirect to route target IPv4 address : 2-byte value. */
  | { type: 'redirect-ipv4'; address: string; value: number }
  /** 0x8208: redirect to route target 4-byte AS : 2-byte value. */
  | { type: 'redirect-as4'; asn: number; value: number }
  /** 0x8009: rewrite the DSCP. */
  | { type: 'traffic-marking'; dscp: number }
  /** Anything else, kept as its 8 bytes in hex. */
  | { type: 'raw'; hex: string };

export const EXT_TRAFFIC_RATE_BYTES = 0x8006;
export const EXT_TRAFFIC_ACTION = 0x8007;
export const EXT_REDIRECT_AS2 = 0x8008;
export const EXT_TRAFFIC_MARKING = 0x8009;
export const EXT_TRAFFIC_RATE_PACKETS = 0x800c;
export const EXT_REDIRECT_IPV4 = 0x8108;
export const EXT_REDIRECT_AS4 = 0x8208;

const ACTION_TERMINAL = 0x01;
const ACTION_SAMPLE = 0x02;

function checkUint(what: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw unencodable(what, value, `expected an integer 0-${max}`);
  }
  return value;
}

/**
 * Any single-precision value is carried as it is (a decoded one re-encodes to its own bytes);
 * only a finite rate too large for a single is refused. Whether a rate makes sense as an action
 * is decided where intents become routes.
 */
function checkRate(what: string, rate: number): number {
  if (typeof rate !== 'number' || (Number.isFinite(rate) && !Number.isFinite(Math.fround(rate)))) {
    throw unencodable(what, rate, 'expected a rate that fits an IEEE-754 single');
  }
  return rate;
}

/** The 8 bytes of one extended community. */
export function encodeExtendedCommunity(community: ExtendedCommunity): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  switch (community.type) {
    case 'traffic-rate-bytes':
    case 'traffic-rate-packets':
      view.setUint16(
        0,
        community.type === 'traffic-rate-bytes' ? EXT_TRAFFIC_RATE_BYTES : EXT_TRAFFIC_RATE_PACKETS,
      );
      view.setUint16(2, checkUint(`${community.type} ASN`, community.asn, 0xffff));
      view.setFloat32(4, checkRate(`${community.type} rate`, community.rate));
      return out;
    case 'traffic-action':
      view.setUint16(0, EXT_TRAFFIC_ACTION);
      out[7] = (community.terminal ? ACTION_TERMINAL : 0) | (community.sample ? ACTION_SAMPLE : 0);
      return out;
    case 'redirect-as2':
      view.setUint16(0, EXT_REDIRECT_AS2);
      view.setUint16(2, checkUint('redirect ASN', community.asn, 0xffff));
      view.setUint32(4, checkUint('redirect value', community.value, 0xffffffff));
      return out;
    case 'redirect-ipv4': {
      const address = parseIPv4(community.address);
      if (address === undefined)
        throw unencodable('redirect address', community.address, 'expected an IPv4 address');
      view.setUint16(0, EXT_REDIRECT_IPV4);
      view.setUint32(2, address);
      view.setUint16(6, checkUint('redirect value', community.value, 0xffff));
      return out;
    }
    case 'redirect-as4':
      view.setUint16(0, EXT_REDIRECT_AS4);
      view.setUint32(2, checkUint('redirect ASN', community.asn, 0xffffffff));
      view.setUint16(6, checkUint('redirect value', community.value, 0xffff));
      return out;
    case 'traffic-marking':
      view.setUint16(0, EXT_TRAFFIC_MARKING);
      out[7] = checkUint('traffic-marking DSCP', community.dscp, 63);
      return out;
    case 'raw': {
      if (!/^[0-9a-f]{16}$/.test(community.hex)) {
        throw unencodable('extended community', community.hex, 'expected 16 lower-case hex digits');
      }
      out.set(Buffer.from(community.hex, 'hex'));
      return out;
    }
    default: {
      const unknown: { type?: unknown } = community;
      throw unencodable('extended community type', unknown.type, 'not a known extended community');
    }
  }
}

function ipv4Text(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** Decodes the 8 bytes at `offset`. */
export function decodeExtendedCommunity(bytes: Uint8Array, offset = 0): ExtendedCommunity {
  if (offset + 8 > bytes.length) {
    throw new WireError('FG_ERR_WIRE_TRUNCATED', 'extended community needs 8 bytes', offset, {
      present: bytes.length - offset,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8);
  const code = view.getUint16(0);
  switch (code) {
    case EXT_TRAFFIC_RATE_BYTES:
    case EXT_TRAFFIC_RATE_PACKETS:
      return {
        type: code === EXT_TRAFFIC_RATE_BYTES ? 'traffic-rate-bytes' : 'traffic-rate-packets',
        asn: view.getUint16(2),
        rate: view.getFloat32(4),
      };
    case EXT_TRAFFIC_ACTION: {
      const bits = view.getUint8(7);
      return {
        type: 'traffic-action',
        terminal: (bits & ACTION_TERMINAL) !== 0,
        sample: (bits & ACTION_SAMPLE) !== 0,
      };
    }
    case EXT_REDIRECT_AS2:
      return { type: 'redirect-as2', asn: view.getUint16(2), value: view.getUint32(4) };
    case EXT_REDIRECT_IPV4:
      return { type: 'redirect-ipv4', address: ipv4Text(view.getUint32(2)), value: view.getUint16(6) };
    case EXT_REDIRECT_AS4:
      return { type: 'redirect-as4', asn: view.getUint32(2), value: view.getUint16(6) };
    case EXT_TRAFFIC_MARKING:
      return { type: 'traffic-marking', dscp: view.getUint8(7) & 0x3f };
    default:
      return { type: 'raw', hex: toHex(bytes.subarray(offset, offset + 8)) };
  }
}

/** An EXTENDED_COMMUNITIES attribute value: 8 bytes per community. */
export function encodeExtendedCommunities(list: readonly ExtendedCommunity[]): Uint8Array {
  const out = new Uint8Array(list.length * 8);
  for (const [i, c] of list.entries()) out.set(encodeExtendedCommunity(c), i * 8);
  return out;
}

export function decodeExtendedCommunities(bytes: Uint8Array): ExtendedCommunity[] {
  if (bytes.length % 8 !== 0) {
    throw new WireError(
      'FG_ERR_WIRE_LENGTH',
      `extended communities attribute of ${bytes.length} bytes is not a multiple of 8`,
      0,
      { length: bytes.length },
    );
  }
  const out: ExtendedCommunity[] = [];
  for (let at = 0; at < bytes.length; at += 8) out.push(decodeExtendedCommunity(bytes, at));
  return out;
}
