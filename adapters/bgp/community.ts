/**
 * Standard BGP communities (RFC 1997): 32-bit values written "ASN:VALUE". RTBH routes carry the
 * RFC 7999 BLACKHOLE community; receivers add NO_EXPORT/NO_ADVERTISE themselves.
 */
import { WireError } from '../../core/errors.js';
import { unencodable } from './bytes.js';

/** 65535:666, RFC 7999. */
export const BLACKHOLE = 0xffff029a;
export const NO_EXPORT = 0xffffff01;
export const NO_ADVERTISE = 0xffffff02;

const COMMUNITY_RE = /^(\d{1,5}):(\d{1,5})$/;

/** "65535:666" to 0xFFFF029A; throws FG_ERR_WIRE_VALUE for anything else. */
export function parseCommunity(text: string): number {
  const m = COMMUNITY_RE.exec(text);
  const high = Number(m?.[1]);
  const low = Number(m?.[2]);
  if (!m || high > 0xffff || low > 0xffff) {
    throw unencodable('community', text, 'expected ASN:VALUE with both parts 0-65535');
  }
  return (high * 0x10000 + low) >>> 0;
}

export function formatCommunity(value: number): string {
  return `${Math.floor(value / 0x10000)}:${value & 0xffff}`;
}

/** A COMMUNITIES attribute value: 4 bytes per community. */
export function encodeCommunities(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
      throw unencodable('community', v, 'expected a 32-bit value');
    view.setUint32(i * 4, v);
  });
  return out;
}

export function decodeCommunities(bytes: Uint8Array): number[] {
  if (bytes.length % 4 !== 0) {
    throw new WireError(
      'FG_ERR_WIRE_LENGTH',
      `communities attribute of ${bytes.length} bytes is not a multiple of 4`,
      0,
      { length: bytes.length },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let at = 0; at < bytes.length; at += 4) out.push(view.getUint32(at));
  return out;
}
