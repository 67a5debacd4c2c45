/**
 * The `mitigation` section of floodgate.yaml: what the planner may build and what the safety
 * guards must never let through. Adapters (who delivers) are configured apart, in `adapters`.
 */
import { z } from 'zod';
import { cidr } from '../config/formats.js';
import { parseAddress } from '../net/address.js';
import type { FlowSpecAction } from './intent.js';

const UINT16_MAX = 0xffff;
const UINT32_MAX = 0xffffffff;

/** A standard community "ASN:VALUE", both halves 16-bit (RFC 1997). */
export const standardCommunity = z.string().refine(
  (s) => {
    const m = /^(\d{1,5}):(\d{1,5})$/.exec(s);
    return m !== null && Number(m[1]) <= UINT16_MAX && Number(m[2]) <= UINT16_MAX;
  },
  { message: 'must be a standard community ASN:VALUE with both parts from 0 to 65535, e.g. 65535:666' },
);

/**
 * A FlowSpec redirect route target "ASN:NN": 2-byte AS with a 4-byte value, or 4-byte AS with a
 * 2-byte value (the two redirect extended communities of RFC 8955 and RFC 7674).
 */
export const redirectRouteTarget = z.string().refine(
  (s) => {
    const m = /^(\d{1,10}):(\d{1,10})$/.exec(s);
    if (!m) return false;
    const asn = Number(m[1]);
    const value = Number(m[2]);
    if (asn > UINT32_MAX || value > UINT32_MAX) return false;
    return asn <= UINT16_MAX || value <= UINT16_MAX;
  },
  {
    message:
      'must be a route target ASN:NN (2-byte ASN with a 32-bit value, or 4-byte ASN with a 16-bit value)',
  },
);

const ipv4Address = z
  .string()
  .refine((s) => parseAddress(s)?.version === 4, { message: 'must be an IPv4 address' });
const ipv6Address = z
  .string()
  .refine((s) => parseAddress(s)?.version === 6, { message: 'must be an IPv6 address' });

export const flowSpecActionSchema: z.ZodType<FlowSpecAction> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('discard') }).strict(),
  z
    .object({
      type: z.literal('rate-limit'),
      /** Bytes per second, as the traffic-rate extended community carries it; 0 discards. */
      bytesPerSecond: z.number().int().min(0).max(1_000_000_000_000),
    })
    .strict(),
  z.object({ type: z.literal('redirect'), routeTarget: redirectRouteTarget }).strict(),
  z.object({ type: z.literal('mark'), dscp: z.number().int().min(0).max(63) }).strict(),
]);

const capCount = z.number().int().min(0);

export const mitigationConfigSchema = z
  .object({
    /** Never targeted by any intent, whatever detection says (infrastructure, resolvers, peering LANs). */
    protectedPrefixes: z.array(cidr).default([]),
    rtbh: z
      .object({
        enabled: z.boolean().default(true),
        /** 192.0.2.1 and 100::1 are the documentation / discard-only defaults routers map to null. */
        nextHopV4: ipv4Address.default('192.0.2.1'),
        nextHopV6: ipv6Address.default('100::1'),
        communities: z.array(standardCommunity).default(['65535:666']),
      })
      .strict()
      .prefault({}),
    flowspec: z
      .object({
        enabled: z.boolean().default(true),
        action: flowSpecActionSchema.default({ type: 'discard' }),
      })
      .strict()
      .prefault({}),
    /** Most intents of each kind in place at once; the one that would exceed it is refused. */
    caps: z
      .object({
        flowspec: capCount.default(1000),
        rtbh: capCount.default(1000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type MitigationConfig = z.infer<typeof mitigationConfigSchema>;

/** The section as it is when floodgate.yaml leaves it out. */
export function defaultMitigationConfig(): MitigationConfig {
  return mitigationConfigSchema.parse({});
}
