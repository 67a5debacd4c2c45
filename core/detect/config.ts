/**
 * The `detection` section of floodgate.yaml: which networks are watched, the static thresholds
 * that open incidents, and the bounds of the counting state.
 *
 * Thresholds resolve per metric, most specific first: a network's own value, else that of the
 * closest enclosing configured network that sets one, else the global value. Omitting a global
 * threshold disables that metric; a network disables it for itself (and the networks inside it)
 * with `null`.
 */
import { z } from 'zod';
import { cidr } from '../config/formats.js';
import { formatPrefix, parsePrefix } from '../net/address.js';
import { MAX_WINDOW_SECONDS } from '../traffic/second-ring.js';

const rate = z.number().positive();

const globalThresholdsSchema = z
  .object({
    /** Packets per second towards one host. */
    pps: rate.optional(),
    /** Bits per second towards one host. */
    bps: rate.optional(),
  })
  .strict();

const networkThresholdsSchema = z
  .object({
    pps: rate.nullable().optional(),
    bps: rate.nullable().optional(),
  })
  .strict();

export const monitoredNetworkSchema = z
  .object({
    prefix: cidr,
    name: z.string().min(1).optional(),
    thresholds: networkThresholdsSchema.optional(),
  })
  .strict();

export const detectionConfigSchema = z
  .object({
    networks: z
      .array(monitoredNetworkSchema)
      .min(1)
      .default([{ prefix: '0.0.0.0/0' }, { prefix: '::/0' }])
      .superRefine((networks, ctx) => {
        const seen = new Map<string, number>();
        networks.forEach((n, i) => {
          const parsed = parsePrefix(n.prefix);
          if (!parsed) return; // reported by `cidr`
          const key = formatPrefix(parsed);
          const first = seen.get(key);
          if (first !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [i, 'prefix'],
              message: `${n.prefix} is already monitored by networks[${first}]; list each prefix once`,
            });
          } else {
            seen.set(key, i);
          }
        });
      }),
    thresholds: globalThresholdsSchema.default({ pps: 20_000, bps: 1_000_000_000 }),
    /** Seconds averaged into a host's rate (and length of one breakdown generation). */
    windowSeconds: z.number().int().min(1).max(MAX_WINDOW_SECONDS).default(3),
    /** Seconds a target must stay below every threshold before its incident closes. */
    holdDownSeconds: z.number().int().min(0).default(60),
    /** Most hosts counted at once; further new hosts are refused and counted as overflow. */
    hostCapacity: z.number().int().min(1).max(16_777_216).default(262_144),
    /** A host with no flow for this long is forgotten (unless it has an open incident). */
    hostIdleSeconds: z.number().int().min(1).default(120),
  })
  .strict();

export type DetectionConfig = z.infer<typeof detectionConfigSchema>;
export type MonitoredNetwork = z.infer<typeof monitoredNetworkSchema>;
