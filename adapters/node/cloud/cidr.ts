/**
 * Prefix arithmetic for the allow-only cloud firewalls: DigitalOcean and Vultr can only accept
 * sources, so "block S" means replacing an allowed prefix by the prefixes that cover it minus S,
 * and undo means merging them back. Prefixes are (family, network as a bigint, length), so IPv4
 * and IPv6 share one code path. Parsing of values from attack data goes through `ip-address`.
 */
import { Address4, Address6 } from 'ip-address';
import { FloodgateError } from '../../../core/errors.js';

export type IpFamily = 4 | 6;

export interface Cidr {
  readonly version: IpFamily;
  /** Network address with the host bits clear. */
  readonly network: bigint;
  /** Prefix length within the family: 0–32 or 0–128. */
  readonly length: number;
}

export function familyBits(version: IpFamily): number {
  return version === 4 ? 32 : 128;
}

function hostMask(version: IpFamily, length: number): bigint {
  return (1n << BigInt(familyBits(version) - length)) - 1n;
}

function makeCidr(version: IpFamily, address: bigint, length: number): Cidr {
  return { version, network: address & ~hostMask(version, length), length };
}

/**
 * Parses an address or prefix that came from attack data or a rule parameter, strictly: IPv4 or
 * IPv6 only, no zone index, no IPv4-mapped IPv6, no host bits set beyond the prefix length, no
 * /0 (blocking every source of a family is never a mitigation). Throws FG_ERR_NODE_PARAM.
 */
export function parseSourceParam(text: string, paramName = 'source'): Cidr {
  const refuse = (why: string): never => {
    throw new FloodgateError('FG_ERR_NODE_PARAM', `${paramName} "${text}" is refused: ${why}`, {
      param: paramName,
      value: text,
    });
  };
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) {
    refuse('expected an IPv4 or IPv6 address or prefix');
  }
  if (!/^[0-9A-Fa-f:./]+$/.test(text)) refuse('only an IPv4 or IPv6 address or prefix is accepted');
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const lengthText = slash === -1 ? undefined : text.slice(slash + 1);
  if (lengthText !== undefined && !/^\d{1,3}$/.test(lengthText)) refuse('the prefix length is not a number');
  let version: IpFamily;
  let address: bigint;
  if (Address4.isValid(addressText) && !addressText.includes(':')) {
    version = 4;
    address = new Address4(addressText).bigInt();
  } else if (addressText.includes(':') && Address6.isValid(addressText)) {
    const a6 = new Address6(addressText);
    if (a6.is4()) refuse('an IPv4-mapped IPv6 address; give the IPv4 form');
    version = 6;
    address = a6.bigInt();
  } else {
    return refuse('not a valid IPv4 or IPv6 address');
  }
  const length = lengthText === undefined ? familyBits(version) : Number(lengthText);
  if (length > familyBits(version)) refuse(`the prefix length is over ${familyBits(version)}`);
  if (length === 0) refuse('a /0 would block every source of the family');
  const cidr = makeCidr(version, address, length);
  if (cidr.network !== address) {
    refuse(`host bits are set beyond /${length}; the network is ${formatCidr(cidr)}`);
  }
  return cidr;
}

/**
 * Parses an address or prefix read back from a provider's API ("198.51.100.4", "10.0.0.0/8",
 * "2001:db8::/32"). Tolerant of host bits (they are cleared, as the providers do); undefined
 * for anything that is not an address (a tag, a droplet id) so callers leave it alone.
 */
export function parseRemoteCidr(text: string): Cidr | undefined {
  if (typeof text !== 'string' || !/^[0-9A-Fa-f:./]{2,64}$/.test(text)) return undefined;
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const lengthText = slash === -1 ? undefined : text.slice(slash + 1);
  if (lengthText !== undefined && !/^\d{1,3}$/.test(lengthText)) return undefined;
  let version: IpFamily;
  let address: bigint;
  if (!addressText.includes(':') && Address4.isValid(addressText)) {
    version = 4;
    address = new Address4(addressText).bigInt();
  } else if (addressText.includes(':') && Address6.isValid(addressText)) {
    version = 6;
    address = new Address6(addressText).bigInt();
  } else {
    return undefined;
  }
  const length = lengthText === undefined ? familyBits(version) : Number(lengthText);
  if (length > familyBits(version)) return undefined;
  return makeCidr(version, address, length);
}

/** The network address alone: "198.51.100.0", "2001:db8::". */
export function formatAddress(version: IpFamily, value: bigint): string {
  if (version === 4) return Address4.fromBigInt(value).correctForm();
  return Address6.fromBigInt(value).correctForm();
}

/** Canonical text with the length always present: "198.51.100.4/32", "2001:db8::/48". */
export function formatCidr(c: Cidr): string {
  return `${formatAddress(c.version, c.network)}/${c.length}`;
}

/** A key equal for equal prefixes whatever their original spelling. */
export function cidrKey(c: Cidr): string {
  return `${c.version}|${c.network.toString(16)}|${c.length}`;
}

export function sameCidr(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && a.length === b.length && a.network === b.network;
}

/** True when every address of `inner` is in `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
  if (outer.version !== inner.version || outer.length > inner.length) return false;
  return (inner.network & ~hostMask(outer.version, outer.length)) === outer.network;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b) || contains(b, a);
}

export function parent(c: Cidr): Cidr {
  if (c.length === 0) throw new RangeError('a /0 has no parent');
  return makeCidr(c.version, c.network, c.length - 1);
}

export function sibling(c: Cidr): Cidr {
  if (c.length === 0) throw new RangeError('a /0 has no sibling');
  const bit = 1n << BigInt(familyBits(c.version) - c.length);
  return { version: c.version, network: c.network ^ bit, length: c.length };
}

/** The two halves of a prefix, lower first. */
export function halves(c: Cidr): [Cidr, Cidr] {
  const length = c.length + 1;
  const bit = 1n << BigInt(familyBits(c.version) - length);
  return [
    { version: c.version, network: c.network, length },
    { version: c.version, network: c.network | bit, length },
  ];
}

export function compareCidrs(a: Cidr, b: Cidr): number {
  if (a.version !== b.version) return a.version - b.version;
  if (a.network !== b.network) return a.network < b.network ? -1 : 1;
  return a.length - b.length;
}

/**
 * `outer` minus `hole`, as the fewest prefixes (one per level between the two lengths), sorted
 * by address. `hole` must lie inside `outer`; when they are equal the answer is empty.
 */
export function complement(outer: Cidr, hole: Cidr): Cidr[] {
  if (!contains(outer, hole)) {
    throw new RangeError(`${formatCidr(hole)} is not inside ${formatCidr(outer)}`);
  }
  const pieces: Cidr[] = [];
  let current = outer;
  while (current.length < hole.length) {
    const [low, high] = halves(current);
    if (contains(low, hole)) {
      pieces.push(high);
      current = low;
    } else {
      pieces.push(low);
      current = high;
    }
  }
  return pieces.sort(compareCidrs);
}

function lastAddress(c: Cidr): bigint {
  return c.network | hostMask(c.version, c.length);
}

/** True when the union of `entries` holds every address of `block`. */
export function isCovered(block: Cidr, entries: readonly Cidr[]): boolean {
  const ranges: Array<[bigint, bigint]> = [];
  for (const e of entries) {
    if (contains(e, block)) return true;
    if (contains(block, e)) ranges.push([e.network, lastAddress(e)]);
  }
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let next = block.network;
  const end = lastAddress(block);
  for (const [from, to] of ranges) {
    if (from > next) return false;
    if (to >= next) next = to + 1n;
    if (next > end) return true;
  }
  return next > end;
}

/**
 * The union of some prefixes of one family as the fewest prefixes, sorted (each maximal aligned
 * block). Used by tests to compare address sets and by nothing on the request path.
 */
export function minimalCover(entries: readonly Cidr[]): Cidr[] {
  const sorted = [...entries].sort(compareCidrs);
  // Drop prefixes inside another, then merge sibling pairs until nothing changes.
  const kept: Cidr[] = [];
  for (const c of sorted) {
    const last = kept[kept.length - 1];
    if (last && contains(last, c)) continue;
    kept.push(c);
  }
  let changed = true;
  let list = kept;
  while (changed) {
    changed = false;
    const out: Cidr[] = [];
    for (const c of list) {
      const last = out[out.length - 1];
      if (last && last.length === c.length && last.length > 0 && sameCidr(sibling(last), c)) {
        out[out.length - 1] = parent(last);
        changed = true;
      } else {
        out.push(c);
      }
    }
    list = out;
  }
  return list;
}
