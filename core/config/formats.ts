/**
 * Zod building blocks for values operators type into floodgate.yaml, shared by every
 * component's config schema so a prefix or a listen address is validated one way everywhere.
 */
import { z } from 'zod';
import { parseAddress, parsePrefix } from '../net/address.js';

export const ipAddress = z.string().refine((s) => parseAddress(s) !== undefined, {
  message: 'must be an IPv4 or IPv6 address',
});

export const cidr = z.string().refine((s) => parsePrefix(s) !== undefined, {
  message: 'must be a prefix like 203.0.113.0/24 or 2001:db8::/32 with the host bits clear',
});

/** "host:port", "[v6]:port" or ":port" (all addresses). */
export const listenAddress = z.string().refine((s) => parseListen(s) !== undefined, {
  message: 'must be HOST:PORT, [IPv6]:PORT or :PORT with a port from 1 to 65535',
});

export function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  if (parseAddress(host) === undefined && host !== 'localhost') return undefined;
  return { host, port };
}

export const positiveNumber = z.number().positive();
