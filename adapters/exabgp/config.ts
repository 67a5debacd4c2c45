/**
 * Configuration of an ExaBGP adapter instance (`type: exabgp`). The adapter listens on a unix
 * socket; ExaBGP runs Floodgate's helper, which connects to it. The neighbors listed here are the
 * peers commands are addressed to (`neighbor X announce ...`) and the ones `floodgate
 * exabgp-config` writes into exabgp.conf.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { ipAddress } from '../../core/config/formats.js';
import { FloodgateError } from '../../core/errors.js';
import { parseAddress } from '../../core/net/address.js';

export const EXABGP_CAPABILITIES = ['flowspec4', 'flowspec6', 'rtbh4', 'rtbh6', 'scrubbing'] as const;
export const EXABGP_DEFAULT_CAPABILITIES = ['flowspec4', 'flowspec6', 'rtbh4', 'rtbh6'] as const;

/** Longest unix socket path Linux takes (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH = 107;

const asn = z.number().int().min(1).max(4294967295);
const ipv4 = z.string().refine((s) => parseAddress(s)?.version === 4, { message: 'must be an IPv4 address' });

export const exabgpNeighborSchema = z
  .object({
    /** The peer's address, as in ExaBGP's `neighbor ADDRESS { }`. */
    address: ipAddress,
    /** The remaining fields are needed only by `floodgate exabgp-config`. */
    peerAs: asn.optional(),
    /** Overrides the adapter's `localAs` for this peer. */
    localAs: asn.optional(),
    /** The address ExaBGP connects from. */
    localAddress: ipAddress.optional(),
    /** Overrides the adapter's `routerId` for this peer. */
    routerId: ipv4.optional(),
    /** The peer's TCP port, when not 179. */
    port: z.number().int().min(1).max(65535).optional(),
    /** TTL for an eBGP peer more than one hop away (ExaBGP's `outgoing-ttl`). */
    multihop: z.number().int().min(1).max(255).optional(),
    /** TCP MD5 signature password (RFC 2385). */
    md5Password: z.string().min(1).max(80).optional(),
    description: z.string().max(200).optional(),
  })
  .strict();

export const exabgpConfigSchema = z
  .object({
    /** The unix socket the adapter listens on; default `<stateDir>/exabgp-<name>.sock`. */
    socket: z.string().min(1).max(MAX_SOCKET_PATH).optional(),
    /** Permissions of the socket: ExaBGP's user must be able to connect (group or owner). */
    socketMode: z
      .string()
      .regex(/^0?[0-7]{3}$/, { message: 'must be an octal mode such as "0660"' })
      .default('0660'),
    capabilities: z
      .array(z.enum(EXABGP_CAPABILITIES))
      .min(1)
      .refine((list) => new Set(list).size === list.length, { message: 'lists a capability twice' })
      .default([...EXABGP_DEFAULT_CAPABILITIES]),
    /**
     * Peers commands go to. Empty: no `neighbor` selector, so every peer ExaBGP has gets every
     * command (for an exabgp.conf written by hand).
     */
    neighbors: z.array(exabgpNeighborSchema).default([]),
    /** For `floodgate exabgp-config`: ExaBGP's router id and AS, unless a neighbor overrides them. */
    routerId: ipv4.optional(),
    localAs: asn.optional(),
    timeouts: z
      .object({
        /** How long apply/withdraw/list wait for the helper to connect before failing. */
        connectMs: z.number().int().min(0).max(600_000).default(5_000),
        /** How long a command waits for ExaBGP's done/error. */
        commandMs: z.number().int().min(100).max(600_000).default(10_000),
      })
      .strict()
      .default({ connectMs: 5_000, commandMs: 10_000 }),
    /** How often the helper retries connecting while Floodgate is down. */
    helperRetryMs: z.number().int().min(10).max(60_000).default(1_000),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.neighbors.forEach((n, i) => {
      const key = parseAddress(n.address) ? n.address.toLowerCase() : n.address;
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['neighbors', i, 'address'],
          message: `${n.address} is listed twice`,
        });
      }
      seen.add(key);
    });
  });

export type ExabgpConfig = z.infer<typeof exabgpConfigSchema>;
export type ExabgpNeighbor = z.infer<typeof exabgpNeighborSchema>;

/** Where the adapter listens: the configured socket, or one per instance in the state directory. */
export function exabgpSocketPath(
  config: Pick<ExabgpConfig, 'socket'>,
  name: string,
  stateDir?: string,
): string {
  if (config.socket !== undefined) return config.socket;
  if (stateDir === undefined) {
    throw new FloodgateError(
      'FG_ERR_CONFIG_INVALID',
      `exabgp adapter "${name}": set config.socket (there is no state directory to put the socket in)`,
      { adapter: name },
    );
  }
  return join(stateDir, `exabgp-${name}.sock`);
}
