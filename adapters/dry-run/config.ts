/**
 * Configuration of a dry-run adapter instance (the `config` of an `adapters:` entry with
 * `type: dry-run`). Every field has a default, so `{ name: dry-run, type: dry-run }` is enough.
 */
import { z } from 'zod';
import { ipAddress } from '../../core/config/formats.js';

export const DRY_RUN_CAPABILITIES = [
  'flowspec4',
  'flowspec6',
  'rtbh4',
  'rtbh6',
  'firewall',
  'scrubbing',
] as const;

export const dryRunConfigSchema = z
  .object({
    /** Whose syntax the recorded BGP commands are in; ExaBGP's text API is the only one so far. */
    render: z.enum(['exabgp']).default('exabgp'),
    /**
     * What this instance claims to deliver. Fewer than all rehearses a real device's limits
     * (an IPv4-only router: [flowspec4, rtbh4]) before the real adapter is switched on.
     */
    capabilities: z
      .array(z.enum(DRY_RUN_CAPABILITIES))
      .min(1)
      .refine((list) => new Set(list).size === list.length, { message: 'lists a capability twice' })
      .default([...DRY_RUN_CAPABILITIES]),
    /** ExaBGP peers the commands would be addressed to (`neighbor X announce ...`); all when empty. */
    neighbors: z.array(ipAddress).default([]),
    /**
     * Keep what is "in place" in `dry-run-<name>.json` in the state directory, so the table
     * survives Floodgate's restart the way a router's routes do (reconciliation then has
     * something to reconcile). Off: every process starts with an empty table.
     */
    persist: z.boolean().default(false),
  })
  .strict();

export type DryRunConfig = z.infer<typeof dryRunConfigSchema>;
