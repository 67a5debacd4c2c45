/**
 * Configuration of an FRR adapter instance (`type: frr`): RTBH through vtysh, on this machine or,
 * with an `ssh:` block, on the router over SSH (host key pinned). FRR cannot originate FlowSpec,
 * so the adapter never declares it.
 */
import { z } from 'zod';
import { sshTargetSchema } from '../exec/ssh-config.js';

export const FRR_CAPABILITIES = ['rtbh4', 'rtbh6'] as const;

/** The tags the adapter puts on its static routes: tagBase + the route-map sequence number. */
const DEFAULT_TAG_BASE = 2_700_000_000;

export const frrConfigSchema = z
  .object({
    /**
     * The vtysh binary (on the router when `ssh` is set). Whoever runs it must be allowed to
     * configure FRR (root, the frrvty group, or `ssh.sudo`).
     */
    vtysh: z.string().startsWith('/', { message: 'must be an absolute path' }).default('/usr/bin/vtysh'),
    /** FRR's vty socket directory when not the default (vtysh --vty_socket). */
    vtySocket: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
    /**
     * The route map `redistribute static` uses in the router's BGP configuration; the adapter
     * adds and removes its own entries in it (see docs/adapters.md).
     */
    routeMap: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,63}$/, { message: 'letters, digits, "_" and "-" only' })
      .default('FLOODGATE-RTBH'),
    /** The route-map sequence numbers the adapter may use, inclusive. */
    sequences: z
      .object({ first: z.number().int().min(1).max(65535), last: z.number().int().min(1).max(65535) })
      .refine((s) => s.first <= s.last, { message: 'first must not exceed last' })
      .default({ first: 1000, last: 60000 }),
    /** Tags on the adapter's static routes are tagBase + sequence; keep clear of your own tags. */
    tagBase: z
      .number()
      .int()
      .min(1)
      .max(4_294_967_295 - 65_535)
      .default(DEFAULT_TAG_BASE),
    capabilities: z
      .array(z.enum(FRR_CAPABILITIES))
      .min(1)
      .refine((list) => new Set(list).size === list.length, { message: 'lists a capability twice' })
      .default([...FRR_CAPABILITIES]),
    /** `write memory` after each change, so the routes survive an FRR restart. */
    saveConfig: z.boolean().default(false),
    /** Deadline of each vtysh run. */
    timeoutMs: z.number().int().min(500).max(120_000).default(10_000),
    /** Run vtysh on the router over SSH instead of on this machine. */
    ssh: sshTargetSchema.optional(),
  })
  .strict();

export type FrrConfig = z.infer<typeof frrConfigSchema>;
