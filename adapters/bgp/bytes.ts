/**
 * Byte helpers for the BGP encodings: bounds-checked reads that throw WireError naming what was
 * being read, and hex for fixtures, receipts and error messages.
 */
import { FloodgateError, WireError } from '../../core/errors.js';

/** Throws FG_ERR_WIRE_TRUNCATED unless `count` bytes are left at `offset` (before `end`). */
export function need(end: number, offset: number, count: number, what: string): void {
  if (offset + count > end) {
    throw new WireError(
      'FG_ERR_WIRE_TRUNCATED',
      `${what} needs ${count} byte(s), ${Math.max(0, end - offset)} left`,
      offset,
      { what },
    );
  }
}

/** Big-endian unsigned value of 1, 2, 4 or 8 bytes; 8-byte values must fit a safe integer. */
export function readUint(bytes: Uint8Array, offset: number, length: number, what: string): number {
  let value = 0;
  for (let i = 0; i < length; i++) value = value * 256 + bytes[offset + i]!;
  if (!Number.isSafeInteger(value)) {
    throw new WireError('FG_ERR_WIRE_VALUE', `${what} does not fit in 53 bits`, offset, { what });
  }
  return value;
}

/** Writes `value` big-endian into `length` bytes at `offset`. */
export function writeUint(out: Uint8Array, offset: number, length: number, value: number): void {
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[offset + i] = v % 256;
    v = Math.floor(v / 256);
  }
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Hex to bytes; spaces, newlines and `#` comments are ignored (fixture files use them). */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`not hex: ${text.slice(0, 40)}`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

/**
 * A value that cannot be encoded (encoding is not positional, so this is a FloodgateError with
 * FG_ERR_WIRE_VALUE, not a WireError): says what, the value, and what would be accepted.
 */
export function unencodable(what: string, value: unknown, expected: string): FloodgateError {
  const shown = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
  return new FloodgateError('FG_ERR_WIRE_VALUE', `${what} ${shown} cannot be encoded: ${expected}`, {
    what,
    value,
  });
}
