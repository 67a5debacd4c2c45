/**
 * floodgate.yaml as one schema, composed from each component's own schema and defaults
 * (Akvorado-style): a component owns its section, the appliance only puts them together.
 */
import { z } from 'zod';
import { collectorsConfigSchema } from '../../collectors/config.js';
import { detectionConfigSchema } from '../../core/detect/config.js';
import { mitigationConfigSchema } from '../../core/mitigation/config.js';
import { httpConfigSchema } from '../http/config.js';
import { storeConfigSchema } from '../store/config.js';

/** One adapter instance; its `config` is validated by the adapter plugin's own schema. */
export const adapterEntrySchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes'),
    type: z.string().min(1),
    config: z.unknown().optional(),
  })
  .strict();

export const floodgateConfigSchema = z
  .object({
    /**
     * detect-only: incidents open and every intent goes to dry-run adapters only, so operators see
     * what would be announced. automatic: intents go to every configured adapter able to deliver them.
     */
    mode: z.enum(['detect-only', 'automatic']).default('detect-only'),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .strict()
      .prefault({}),
    collectors: collectorsConfigSchema.prefault({}),
    detection: detectionConfigSchema.prefault({}),
    mitigation: mitigationConfigSchema.prefault({}),
    adapters: z
      .array(adapterEntrySchema)
      .default([{ name: 'dry-run', type: 'dry-run' }])
      .refine((list) => new Set(list.map((a) => a.name)).size === list.length, {
        message: 'adapter names must be unique',
      }),
    http: httpConfigSchema.prefault({}),
    store: storeConfigSchema.prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    // Watching 0.0.0.0/0 also counts traffic leaving the network, so an outbound flood from a customer
    // would make Floodgate blackhole someone else's address. Fine to look at, never to act on.
    if (config.mode !== 'automatic') return;
    config.detection.networks.forEach((network, i) => {
      if (/\/0$/.test(network.prefix)) {
        ctx.addIssue({
          code: 'custom',
          path: ['detection', 'networks', i, 'prefix'],
          message: `mode automatic needs detection.networks to list your own prefixes; ${network.prefix} would act on traffic to anyone`,
        });
      }
    });
  });

export type FloodgateConfig = z.infer<typeof floodgateConfigSchema>;
