/**
 * Configuration of a GoBGP adapter instance (`type: gobgp`): where gobgpd's gRPC API listens and
 * what this instance may announce through it.
 */
import { z } from 'zod';
import { parseListen } from '../../core/config/formats.js';

export const GOBGP_CAPABILITIES = ['flowspec4', 'flowspec6', 'rtbh4', 'rtbh6'] as const;

/** "host:port", "[v6]:port" or "unix:///absolute/path" (gobgpd --api-hosts). */
const apiTarget = z.string().refine((s) => /^unix:\/\/\/\S+$/.test(s) || parseListen(s) !== undefined, {
  message: 'must be host:port (e.g. 127.0.0.1:50051) or unix:///path/to/gobgpd.sock',
});

export const gobgpConfigSchema = z
  .object({
    /** gobgpd's gRPC API; gobgpd listens on :50051 unless started with --api-hosts. */
    api: apiTarget.default('127.0.0.1:50051'),
    /** What this instance announces; fewer than all for a speaker whose peers lack a family. */
    capabilities: z
      .array(z.enum(GOBGP_CAPABILITIES))
      .min(1)
      .refine((list) => new Set(list).size === list.length, { message: 'lists a capability twice' })
      .default([...GOBGP_CAPABILITIES]),
    /** Deadline of each API call. */
    timeoutMs: z.number().int().min(100).max(120_000).default(5_000),
  })
  .strict();

export type GobgpConfig = z.infer<typeof gobgpConfigSchema>;
