/**
 * What the three providers build the same way: the HTTP client from their configuration (only
 * the error-body reader and the rate-limit reset header differ), the vendor error from an error
 * body (only the field names differ), and the check of an undo record read back from storage.
 */
import type { ZodType } from 'zod';
import { FloodgateError } from '../../../core/errors.js';
import { resolveToken } from './credentials.js';
import { type CloudClientOptions, CloudHttpClient, type VendorError } from './http-client.js';
import type { CloudProviderName } from './types.js';

export interface ProviderClientConfig {
  baseUrl: string;
  token?: string;
  tokenFile?: string;
  timeoutMs: number;
  maxAttempts: number;
  maxRetryAfterMs: number;
}

export function createProviderClient(
  provider: CloudProviderName,
  config: ProviderClientConfig,
  vendor: Pick<CloudClientOptions, 'parseError'> & Partial<Pick<CloudClientOptions, 'rateLimitWaitMs'>>,
  overrides: Partial<CloudClientOptions> = {},
): CloudHttpClient {
  return new CloudHttpClient({
    provider,
    baseUrl: config.baseUrl,
    token: resolveToken(provider, config),
    timeoutMs: config.timeoutMs,
    maxAttempts: config.maxAttempts,
    maxRetryAfterMs: config.maxRetryAfterMs,
    ...vendor,
    ...overrides,
  });
}

/** A vendor error from a flat error body `{ <codeField>, <messageField> }`, or a plain-text body. */
export function flatVendorError(body: unknown, codeField: string, messageField: string): VendorError {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const code = b[codeField];
    const message = b[messageField];
    return {
      code: typeof code === 'string' || typeof code === 'number' ? code : undefined,
      message: typeof message === 'string' ? message : undefined,
    };
  }
  return typeof body === 'string' ? { message: body.slice(0, 200) } : {};
}

/** An undo record read back from storage, checked against its provider's schema. */
export function parseStoredRecord<R>(provider: CloudProviderName, schema: ZodType<R>, value: unknown): R {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new FloodgateError('FG_ERR_CLOUD_API', `${provider}: stored undo record is malformed`, {
      provider,
      issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    });
  }
  return parsed.data;
}
