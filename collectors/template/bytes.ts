/**
 * Big-endian readers for template-described records. Callers check bounds once per set or
 * record (never per field), so these read without checks and allocate nothing.
 */

export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * An unsigned integer of any width 1..8 (IPFIX reduced-size encoding, NetFlow v9 counters of
 * 4 or 8 bytes). Values above 2^53 lose their low bits, which no counter reaches in practice.
 */
export function readUint(b: Uint8Array, o: number, width: number): number {
  switch (width) {
    case 1:
      return b[o]!;
    case 2:
      return (b[o]! << 8) | b[o + 1]!;
    case 4:
      return u32(b, o);
    case 8:
      return u32(b, o) * 4294967296 + u32(b, o + 4);
    default: {
      let v = 0;
      for (let i = 0; i < width; i++) v = v * 256 + b[o + i]!;
      return v;
    }
  }
}

const floatBytes = new Uint8Array(8);
const floatView = new DataView(floatBytes.buffer);

/** A float32 or float64 (IPFIX allows float64 in reduced size 4); NaN for other widths. */
export function readFloat(b: Uint8Array, o: number, width: number): number {
  if (width !== 4 && width !== 8) return Number.NaN;
  for (let i = 0; i < width; i++) floatBytes[i] = b[o + i]!;
  return width === 4 ? floatView.getFloat32(0) : floatView.getFloat64(0);
}

/** Seconds between the NTP era 0 origin (1900) and the Unix epoch. */
const NTP_UNIX_OFFSET = 2_208_988_800;
const NTP_ERA_SECONDS = 4_294_967_296;

/**
 * An NTP-format timestamp (RFC 7011 dateTimeMicroseconds/Nanoseconds: seconds since 1900 and
 * a 2^-32 fraction) as Unix milliseconds. Seconds below the Unix offset can only be era 1
 * (from February 2036), so they are taken as such.
 */
export function ntpToUnixMs(b: Uint8Array, o: number): number {
  const seconds = u32(b, o);
  const fraction = u32(b, o + 4);
  const era = seconds < NTP_UNIX_OFFSET ? NTP_ERA_SECONDS : 0;
  return (seconds + era - NTP_UNIX_OFFSET) * 1000 + Math.round((fraction * 1000) / NTP_ERA_SECONDS);
}

/** Are bytes [from, to) all zero? Tells padding from a record. */
export function allZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}
