/**
 * The `dispatch` section of floodgate.yaml: how the dispatcher retries what an adapter failed to
 * do, and what happens to mitigations in place when Floodgate stops.
 */
import { z } from 'zod';

export const dispatchConfigSchema = z
  .object({
    /**
     * keep: mitigations stay in place across a stop; the next start reconciles them with the
     * store (a restart does not drop protection). withdraw: everything is withdrawn at stop.
     */
    onShutdown: z.enum(['keep', 'withdraw']).default('keep'),
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
