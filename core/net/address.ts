/**
 * Addresses and prefixes as the rest of core sees them: 128-bit values in four 32-bit words,
 * IPv4 IPv4-mapped (::ffff:a.b.c.d). Parsing here is strict because these values come from
 * operators' configuration and, later, end up in router announcements.
 */
import { ADDRESS_WORDS } from '../flow/flow-batch.js';

export type IpVersion = 4 | 6;

export interface Prefix {
  readonly version: IpVersion;
  /** Network address, host bits cleared, 4 words (IPv4-mapped for IPv4). */
  readonly words: readonly [number, number, number, number];
  /** Length within its own family: 0–32 for IPv4, 0–128 for IPv6. */
  readonly length: number;
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIPv4(text: string): number | undefined {
  const m = IPV4_RE.exec(text);
  if (!m) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part.startsWith('0')) return undefined; // no octal-looking octets
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value >>> 0;
}

/** Parses an IPv6 address (with optional embedded IPv4 tail) into 8 16-bit groups. */
function parseIPv6Groups(text: string): number[] | undefined {
  if (text.length === 0 || text.length > 45 || text.includes('%')) return undefined;
  let tail: number[] = [];
  let body = text;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >>> 16, v4 & 0xffff];
    body = text.slice(0, lastColon + 1);
    if (body.endsWith('::')) {
      // keep "::" intact
    } else if (body.endsWith(':')) {
      body = body.slice(0, -1);
    }
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const parseHalf = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = parseHalf(halves[0]!);
  if (!head) return undefined;
  if (halves.length === 1) {
    const groups = [...head, ...tail];
    return groups.length === 8 ? groups : undefined;
  }
  const rest = parseHalf(halves[1]!);
  if (!rest) return undefined;
  const known = head.length + rest.length + tail.length;
  if (known > 7) return undefined;
  return [...head, ...new Array<number>(8 - known).fill(0), ...rest, ...tail];
}

/** Parses an IPv4 or IPv6 address into 4 words; undefined when it is not one. */
export function parseAddress(
  text: string,
): { version: IpVersion; words: [number, number, number, number] } | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { version: 4, words: [0, 0, 0xffff, v4] };
  if (!text.includes(':')) return undefined;
  const g = parseIPv6Groups(text);
  if (!g) return undefined;
  return {
    version: 6,
    words: [
      ((g[0]! << 16) | g[1]!) >>> 0,
      ((g[2]! << 16) | g[3]!) >>> 0,
      ((g[4]! << 16) | g[5]!) >>> 0,
      ((g[6]! << 16) | g[7]!) >>> 0,
    ],
  };
}

/** Parses "a.b.c.d/len" or "x::/len"; a bare address is a host prefix. Host bits must be zero. */
export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const addr = parseAddress(addrText);
  if (!addr) return undefined;
  const max = addr.version === 4 ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText)) return undefined;
    length = Number(lenText);
    if (length > max) return undefined;
  }
  const masked = maskWords(addr.words, addr.version === 4 ? 96 + length : length);
  if (masked.some((w, i) => w !== addr.words[i])) return undefined;
  return { version: addr.version, words: masked, length };
}

function maskWords(words: readonly number[], bits128: number): [number, number, number, number] {
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let w = 0; w < 4; w++) {
    const keep = Math.max(0, Math.min(32, bits128 - w * 32));
    const mask = keep === 0 ? 0 : keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
    out[w] = (words[w]! & mask) >>> 0;
  }
  return out;
}

/** Does `prefix` contain the address stored at `row` of a 4-word column? Allocation-free. */
export function prefixContainsRow(prefix: Prefix, column: Uint32Array, row: number): boolean {
  const a = row * ADDRESS_WORDS;
  let bits = prefix.version === 4 ? 96 + prefix.length : prefix.length;
  for (let w = 0; w < 4; w++) {
    if (bits <= 0) return true;
    const keep = Math.min(bits, 32);
    const mask = keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
    if (((column[a + w]! ^ prefix.words[w]!) & mask) !== 0) return false;
    bits -= 32;
  }
  return true;
}

export function prefixContainsWords(prefix: Prefix, words: readonly number[]): boolean {
  return prefixContainsRow(prefix, Uint32Array.from(words), 0);
}

/** Is `inner` wholly inside `outer` (same family, equal or longer, same network bits)? */
export function prefixCovers(outer: Prefix, inner: Prefix): boolean {
  if (outer.version !== inner.version || inner.length < outer.length) return false;
  return prefixContainsWords(outer, inner.words);
}

export function isIPv4Mapped(words: ArrayLike<number>, offset = 0): boolean {
  return words[offset] === 0 && words[offset + 1] === 0 && words[offset + 2] === 0xffff;
}

/** Formats 4 words (from `offset`) as text: dotted quad for IPv4-mapped, RFC 5952 for IPv6. */
export function formatAddressWords(words: ArrayLike<number>, offset = 0): string {
  if (isIPv4Mapped(words, offset)) {
    const v = words[offset + 3]! >>> 0;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const groups: number[] = [];
  for (let w = 0; w < 4; w++) {
    const v = words[offset + w]! >>> 0;
    groups.push(v >>> 16, v & 0xffff);
  }
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

export function formatPrefix(prefix: Prefix): string {
  return `${formatAddressWords(prefix.words)}/${prefix.length}`;
}

/** The host prefix (/32 or /128) of an address given as 4 words. */
export function hostPrefix(words: readonly [number, number, number, number]): Prefix {
  const version: IpVersion = isIPv4Mapped(words) ? 4 : 6;
  return { version, words: [...words] as [number, number, number, number], length: version === 4 ? 32 : 128 };
}

/** The covering prefix of `length` (in the address's own family) around an address. */
export function coveringPrefix(words: readonly number[], version: IpVersion, length: number): Prefix {
  const bits = version === 4 ? 96 + length : length;
  return { version, words: maskWords(words, bits), length };
}
