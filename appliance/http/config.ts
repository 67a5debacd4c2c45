/**
 * Where the HTTP API listens. Loopback by default: the API has no authentication yet, so
 * exposing it is an explicit operator decision.
 */
import { z } from 'zod';
import { listenAddress } from '../../core/config/formats.js';

export const httpConfigSchema = z
  .object({
    listen: listenAddress.default('127.0.0.1:8080'),
  })
  .strict();

export type HttpConfig = z.infer<typeof httpConfigSchema>;
