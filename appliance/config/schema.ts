/**
 * floodgate.yaml as one schema, composed from each component's own schema and defaults
 * (Akvorado-style): a component owns its section, the appliance only puts them together.
 */
import { z } from 'zod';
import { collectorsConfigSchema } from '../../collectors/config.js';
import { detectionConfigSchema } from '../../core/detect/config.js';
import { runbooksConfigSchema } from '../../core/escalation/config.js';
import { mitigationConfigSchema } from '../../core/mitigation/config.js';
import { dispatchConfigSchema } from '../dispatcher-config.js';
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
     * detect-only: incidents open and runbooks run, but every adapter is replaced by its preview
     * (dry-run adapters stay as they are), so operators see exactly what would be sent.
     * automatic: runbooks deliver through the configured adapters.
     */
    mode: z.enum(['detect-only', 'automatic']).default('detect-only'),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .strict()
      .prefault({}),
    collectors: collectorsConfigSchema.prefault({}),
    detection: detectionConfigSchema.prefault({}),
    mitigation: mitigationConfigSchema.prefault({}),
    runbooks: runbooksConfigSchema,
    dispatch: dispatchConfigSchema.prefault({}),
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
    // Runbooks and upstreams name adapters and host groups defined elsewhere in the file.
    const adapterNames = new Set(config.adapters.map((a) => a.name));
    const known = [...adapterNames].join(', ') || 'none';
    const groupNames = new Set(config.detection.hostGroups.map((g) => g.name));
    config.runbooks.forEach((runbook, r) => {
      runbook.tiers.forEach((tier, t) => {
        tier.adapters.forEach((name, a) => {
          if (!adapterNames.has(name)) {
            ctx.addIssue({
              code: 'custom',
              path: ['runbooks', r, 'tiers', t, 'adapters', a],
              message: `runbook ${runbook.name} names adapter "${name}", which is not under adapters (configured: ${known})`,
            });
          }
        });
      });
      runbook.match.hostGroups.forEach((name, g) => {
        if (!groupNames.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['runbooks', r, 'match', 'hostGroups', g],
            message: `host group "${name}" is not defined under detection.hostGroups`,
          });
        }
      });
    });
    config.mitigation.rtbh.upstreams.forEach((upstream, u) => {
      upstream.adapters.forEach((name, a) => {
        if (!adapterNames.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['mitigation', 'rtbh', 'upstreams', u, 'adapters', a],
            message: `upstream ${upstream.name} names adapter "${name}", which is not under adapters (configured: ${known})`,
          });
        }
      });
    });
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
