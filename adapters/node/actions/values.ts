/**
 * Parsing of every value an action places in a command, whether an operator wrote it in a rule
 * or it came from attack data. Each kind has one strict grammar; anything else is refused, so a
 * value can never smuggle an option ("-j ACCEPT"), a second command or a shell construct into
 * an argv word. Addresses are parsed with `ip-address` and re-rendered canonically: the text that
 * runs is ours, never the input.
 */
import { Address4, Address6 } from 'ip-address';
import type { IpVersion, ParamKind } from './action-type.js';

export interface ParsedIp {
  /** Canonical text: a bare address for a host prefix, "network/length" otherwise. */
  text: string;
  version: IpVersion;
  /** Prefix length within the family (32 or 128 for one address). */
  length: number;
}

export type ParsedValue = ParsedIp | number | string;

export type Parsed<T> = { value: T } | { why: string };

const IPV4_TEXT = /^\d{1,3}(?:\.\d{1,3}){3}(?:\/(?:0|[1-9]\d?))?$/;
// No dotted IPv4 tail and no zone: those are refused rather than interpreted.
const IPV6_TEXT = /^[0-9A-Fa-f:]{2,39}(?:\/(?:0|[1-9]\d{0,2}))?$/;

/** Parses an address ('address') or a CIDR prefix with clear host bits ('prefix'). */
export function parseIp(raw: unknown, kind: 'address' | 'prefix'): Parsed<ParsedIp> {
  const what = kind === 'address' ? 'an IPv4 or IPv6 address' : 'an IPv4 or IPv6 address or CIDR prefix';
  if (typeof raw !== 'string') return { why: `is not ${what}` };
  if (kind === 'address' && raw.includes('/')) return { why: `is not ${what} (no /length here)` };
  const v4 = IPV4_TEXT.test(raw);
  if (!v4 && !(raw.includes(':') && IPV6_TEXT.test(raw))) return { why: `is not ${what}` };
  let parsed: Address4 | Address6;
  try {
    parsed = v4 ? new Address4(raw) : new Address6(raw);
  } catch {
    return { why: `is not ${what}` };
  }
  const version: IpVersion = v4 ? 4 : 6;
  const max = version === 4 ? 32 : 128;
  const length = parsed.subnetMask;
  if (!Number.isInteger(length) || length < 0 || length > max) return { why: `is not ${what}` };
  if (length === 0) return { why: 'is a /0 prefix, which matches every address' };
  const address = parsed.correctForm();
  const network = parsed.startAddress().correctForm();
  if (network !== address) {
    return { why: `has host bits set (did you mean ${network}/${length}?)` };
  }
  return { value: { text: length === max ? address : `${address}/${length}`, version, length } };
}

/** The network of `ip` cut to `length` bits (no change when it is already that short or shorter). */
export function widenPrefix(ip: ParsedIp, length: number): ParsedIp {
  if (ip.length <= length) return ip;
  const address = ip.text.split('/')[0]!;
  const parsed =
    ip.version === 4 ? new Address4(`${address}/${length}`) : new Address6(`${address}/${length}`);
  const network = parsed.startAddress().correctForm();
  const max = ip.version === 4 ? 32 : 128;
  return { text: length === max ? network : `${network}/${length}`, version: ip.version, length };
}

/** IP protocol names we accept, as the tools and /etc/protocols spell them. */
export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  'ipv6-icmp': 58,
  sctp: 132,
  udplite: 136,
};

const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  1: 'icmp',
  2: 'igmp',
  6: 'tcp',
  17: 'udp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'ipv6-icmp',
  132: 'sctp',
  136: 'udplite',
};

/** The name tools print for a protocol number, or the number itself. */
export function protocolName(protocol: number): string {
  return PROTOCOL_NAMES[protocol] ?? String(protocol);
}

/** A non-negative integer: a JSON number, or decimal digits without sign, spaces or leading zeros. */
function parseInteger(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw >= 0 ? raw : undefined;
  if (typeof raw === 'string' && /^(?:0|[1-9]\d{0,9})$/.test(raw)) return Number(raw);
  return undefined;
}

const RANGES: Partial<Record<ParamKind, { min: number; max: number; unit: string }>> = {
  port: { min: 0, max: 65_535, unit: 'a port (0-65535)' },
  'prefix-length': { min: 1, max: 128, unit: 'a prefix length (1-32 for IPv4, 1-128 for IPv6)' },
  rate: { min: 1, max: 1_000_000, unit: 'a rate in packets per second (1-1000000)' },
  burst: { min: 1, max: 1_000_000, unit: 'a burst in packets (1-1000000)' },
  bandwidth: { min: 8, max: 100_000_000, unit: 'a bandwidth in kbit/s (8-100000000)' },
  bytes: { min: 1_600, max: 268_435_456, unit: 'a size in bytes (1600-268435456)' },
  seconds: { min: 1, max: 2_147_483, unit: 'a duration in seconds (1-2147483)' },
};

/**
 * Names end up as argv words of tools that parse options: none may start with "-", and each is
 * held to what its tool allows (ipset: 31 characters, iptables chains: 28, interfaces: 15).
 */
const NAMES: Partial<Record<ParamKind, { re: RegExp; unit: string }>> = {
  'set-name': {
    re: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,30}$/,
    unit: 'an ipset name (letters, digits, "_", ".", "-"; at most 31; not starting with "-" or ".")',
  },
  jail: {
    re: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/,
    unit: 'a fail2ban jail name (letters, digits, "_", ".", "-"; at most 64; not starting with "-" or ".")',
  },
  interface: {
    re: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/,
    unit: 'an interface name (letters, digits, "_", ".", "-"; at most 15; not starting with "-" or ".")',
  },
  chain: {
    re: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,27}$/,
    unit: 'an iptables chain name (letters, digits, "_", ".", "-"; at most 28; not starting with "-" or ".")',
  },
  path: {
    re: /^\/(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\/){0,15}[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/,
    unit: 'an absolute path (letters, digits, "_", ".", "-" between slashes; no "..")',
  },
};

/** Parses one value of a kind. Lists and "any" are handled by the caller and `port-or-any`. */
export function parseValue(kind: ParamKind, raw: unknown): Parsed<ParsedValue> {
  switch (kind) {
    case 'address':
    case 'prefix':
      return parseIp(raw, kind);
    case 'protocol': {
      if (typeof raw === 'string' && /^[A-Za-z][A-Za-z0-9-]{0,15}$/.test(raw)) {
        const n = PROTOCOL_NUMBERS[raw.toLowerCase()];
        if (n !== undefined) return { value: n };
        return {
          why: `is not a protocol name we know (${Object.keys(PROTOCOL_NUMBERS).join(', ')}) nor a number 0-255`,
        };
      }
      const n = parseInteger(raw);
      if (n === undefined || n > 255) return { why: 'is not an IP protocol (a name or a number 0-255)' };
      return { value: n };
    }
    case 'port-or-any': {
      if (raw === 'any') return { value: 'any' };
      const port = parseValue('port', raw);
      return 'why' in port ? { why: 'is not a port (0-65535) or "any"' } : port;
    }
    default: {
      const range = RANGES[kind];
      if (range) {
        const n = parseInteger(raw);
        if (n === undefined || n < range.min || n > range.max) return { why: `is not ${range.unit}` };
        return { value: n };
      }
      const name = NAMES[kind];
      if (name) {
        if (typeof raw !== 'string' || !name.re.test(raw) || raw.split('/').includes('..')) {
          return { why: `is not ${name.unit}` };
        }
        return { value: raw };
      }
      return { why: `has a kind (${kind}) no parser knows` };
    }
  }
}

/** A value as text for an error message: quoted and escaped, never longer than 80 characters. */
export function showValue(raw: unknown): string {
  let text: string;
  try {
    text = typeof raw === 'string' ? JSON.stringify(raw) : (JSON.stringify(raw) ?? String(raw));
  } catch {
    text = String(raw);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
