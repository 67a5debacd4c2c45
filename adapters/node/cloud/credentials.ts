/**
 * The parts every cloud provider's configuration shares: where the API is, the bearer token
 * (inline or, better, in a file only Floodgate can read), and the client's patience. Each
 * provider's schema extends this with the object it edits (zone, firewall, group).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FloodgateError } from '../../../core/errors.js';

export const clientTuningSchema = {
  /** Deadline of one HTTP attempt. */
  timeoutMs: z.number().int().min(500).max(120_000).default(10_000),
  /** Attempts per request in all (network errors, 5xx and 429 are retried; other 4xx never). */
  maxAttempts: z.number().int().min(1).max(10).default(4),
  /** Longest rate-limit wait honoured inside one call before failing it to be rescheduled. */
  maxRetryAfterMs: z.number().int().min(0).max(600_000).default(30_000),
};

export const tokenFields = {
  /** The API token itself; prefer tokenFile so the token stays out of the configuration file. */
  token: z.string().min(1).max(4096).optional(),
  /** Absolute path of a file holding the token (surrounding whitespace ignored). */
  tokenFile: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
};

/** Reads the configured token; the error names the file, never its content. */
export function resolveToken(provider: string, config: { token?: string; tokenFile?: string }): string {
  if (config.token !== undefined) return config.token;
  if (config.tokenFile === undefined) {
    throw new FloodgateError('FG_ERR_CLOUD_API', `${provider}: no token or tokenFile configured`, {
      provider,
    });
  }
  let text: string;
  try {
    text = readFileSync(config.tokenFile, 'utf8');
  } catch (error) {
    throw new FloodgateError(
      'FG_ERR_CLOUD_API',
      `${provider}: cannot read tokenFile ${config.tokenFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      { provider, tokenFile: config.tokenFile },
    );
  }
  const token = text.trim();
  if (token.length === 0 || /\s/.test(token)) {
    throw new FloodgateError(
      'FG_ERR_CLOUD_API',
      `${provider}: tokenFile ${config.tokenFile} must hold the token alone on one line`,
      { provider, tokenFile: config.tokenFile },
    );
  }
  return token;
}
