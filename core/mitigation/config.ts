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

/** One upstream's blackhole convention: RTBH routes towards it carry its communities and next hop. */
export const rtbhUpstreamSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes'),
    communities: z.array(standardCommunity).min(1),
    nextHopV4: ipv4Address.optional(),
    nextHopV6: ipv6Address.optional(),
    /** Adapters (names from `adapters`) that speak to this upstream; all the tier's adapters when empty. */
    adapters: z.array(z.string().min(1)).default([]),
  })
  .strict();

export type RtbhUpstream = z.infer<typeof rtbhUpstreamSchema>;

const prefixLengthV4 = z.number().int().min(8).max(32);
const prefixLengthV6 = z.number().int().min(16).max(128);

export const mitigationConfigSchema = z
  .object({
    /** Never targeted by any intent, whatever detection says (infrastructure, resolvers, peering LANs). */
    protectedPrefixes: z.array(cidr).default([]),
    /** Tier 1: rules on the attacked node's own firewall (delivered by a node adapter). */
    firewall: z
      .object({
        enabled: z.boolean().default(true),
        /** Most sources one drop-source rule lists; more (or spoofed ones) fall back to a protocol rule. */
        maxSources: z.number().int().min(1).max(1024).default(16),
        /** Packets per second a rate-limit rule lets through to the target. */
        rateLimitPps: z.number().int().min(1).default(1000),
      })
      .strict()
      .prefault({}),
    rtbh: z
      .object({
        enabled: z.boolean().default(true),
        /** 192.0.2.1 and 100::1 are the documentation / discard-only defaults routers map to null. */
        nextHopV4: ipv4Address.default('192.0.2.1'),
        nextHopV6: ipv6Address.default('100::1'),
        communities: z.array(standardCommunity).default(['65535:666']),
        /**
         * Per-upstream communities and next hops: one RTBH route per upstream. Empty (the default):
         * one route with `communities` and the next hops above.
         */
        upstreams: z
          .array(rtbhUpstreamSchema)
          .default([])
          .refine((list) => new Set(list.map((u) => u.name)).size === list.length, {
            message: 'upstream names must be unique',
          }),
      })
      .strict()
      .prefault({}),
    flowspec: z
      .object({
        enabled: z.boolean().default(true),
        action: flowSpecActionSchema.default({ type: 'discard' }),
        /** Optional refinements of the match, from the attack's fingerprint. */
        match: z
          .object({
            /** Floods (UDP, SYN, ACK/RST): match the fingerprint's destination ports too. */
            destinationPorts: z.boolean().default(false),
            /** Match the packet lengths the attack uses (10th to 90th percentile). */
            packetLength: z.boolean().default(false),
            /** A port list longer than this is left out of the match rather than truncated. */
            maxPorts: z.number().int().min(1).max(64).default(8),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** Tier 4: diversion of the prefix around the victim to a scrubbing provider. */
    scrubbing: z
      .object({
        enabled: z.boolean().default(true),
        /** The covering prefix that is diverted. */
        prefixLengthV4: prefixLengthV4.default(24),
        prefixLengthV6: prefixLengthV6.default(48),
        /** Nothing shorter is ever announced for scrubbing (the guard refuses it). */
        minPrefixLengthV4: prefixLengthV4.default(24),
        minPrefixLengthV6: prefixLengthV6.default(48),
        nextHopV4: ipv4Address.optional(),
        nextHopV6: ipv6Address.optional(),
        communities: z.array(standardCommunity).default([]),
      })
      .strict()
      .prefault({})
      .superRefine((s, ctx) => {
        if (s.prefixLengthV4 < s.minPrefixLengthV4) {
          ctx.addIssue({
            code: 'custom',
            path: ['prefixLengthV4'],
            message: `/${s.prefixLengthV4} is shorter than minPrefixLengthV4 /${s.minPrefixLengthV4}: every diversion would be refused`,
          });
        }
        if (s.prefixLengthV6 < s.minPrefixLengthV6) {
          ctx.addIssue({
            code: 'custom',
            path: ['prefixLengthV6'],
            message: `/${s.prefixLengthV6} is shorter than minPrefixLengthV6 /${s.minPrefixLengthV6}: every diversion would be refused`,
          });
        }
      }),
    /** Most intents of each kind in place at once; the one that would exceed it is refused. */
    caps: z
      .object({
        firewall: capCount.default(1000),
        flowspec: capCount.default(1000),
        rtbh: capCount.default(1000),
        scrubbing: capCount.default(16),
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
