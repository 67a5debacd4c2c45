/**
 * The `dispatch` section of floodgate.yaml: how the dispatcher retries what an adapter failed to
 * do, what happens to mitigations in place when Floodgate stops, and how often adapters are checked.
 */
import { z } from 'zod';

export const dispatchConfigSchema = z
  .object({
    /**
     * keep: mitigations stay in place across a stop; the next start reconciles them with the
     * store (a restart does not drop protection). withdraw: everything is withdrawn at stop.
     */
    onShutdown: z.enum(['keep', 'withdraw']).default('keep'),
    /**
     * Every adapter's health() is checked this often (0: only when /healthz is asked). For SSH
     * nodes and BGP speakers the check is what notices a session that came back, after a reboot
     * say, so the adapter is reconciled and what the device lost is put back.
     */
    healthCheckSeconds: z.number().int().min(0).max(3600).default(30),
    /** A failed apply or withdraw is tried again after first, then doubling, up to max seconds. */
    retry: z
      .object({
        firstSeconds: z.number().positive().max(3600).default(5),
        maxSeconds: z.number().positive().max(86400).default(300),
        /** Attempts before giving up (the error stays on the mitigation for an operator); 0: never. */
        maxAttempts: z.number().int().min(0).default(0),
      })
      .strict()
      .prefault({})
      .refine((r) => r.firstSeconds <= r.maxSeconds, { message: 'firstSeconds must not exceed maxSeconds' }),
  })
  .strict();

export type DispatchConfig = z.infer<typeof dispatchConfigSchema>;
