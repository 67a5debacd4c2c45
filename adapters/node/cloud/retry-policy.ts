/**
 * When to try a cloud API request again, and after how long. Pure functions of the answer and
 * the attempt number, so the client's loop stays small and the rules are tested on their own:
 * network errors and 5xx back off exponentially with jitter, 429 waits what the vendor says,
 * every other 4xx is final (a 400 sent again is refused again).
 */

export interface BackoffOptions {
  /** Delay before the second attempt; doubled for each later one. */
  baseDelayMs: number;
  /** Ceiling of the exponential delay. */
  maxDelayMs: number;
}

/**
 * The delay before attempt `attempt + 1` (attempt counts from 1): exponential, capped, with
 * "equal jitter" (half fixed, half random) so retries from many Floodgate instances spread out
 * while each still waits at least half the nominal delay.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number): number {
  const nominal = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

export type RetryDecision = 'retry' | 'rate-limited' | 'final';

export function classifyStatus(status: number): RetryDecision {
  if (status === 429) return 'rate-limited';
  if (status >= 500 && status <= 599) return 'retry';
  return 'final';
}

/**
 * `retry-after` as milliseconds: delta-seconds ("30") or an HTTP date. Undefined when absent or
 * unreadable (the caller then falls back to vendor headers or backoff).
 */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * DigitalOcean: `ratelimit-reset` is the Unix time (seconds) at which the oldest counted request
 * expires, i.e. when one more request fits.
 */
export function digitalOceanResetMs(headers: Headers, nowMs: number): number | undefined {
  const reset = headers.get('ratelimit-reset');
  if (reset === null || !/^\d+$/.test(reset.trim())) return undefined;
  return Math.max(0, Number(reset.trim()) * 1000 - nowMs);
}

/**
 * Cloudflare: `Ratelimit: "default";r=0;t=30` lists limits with their remaining quota (r) and
 * seconds to the window reset (t); the longest t among exhausted limits is the wait.
 */
export function cloudflareResetMs(headers: Headers): number | undefined {
  const value = headers.get('ratelimit');
  if (value === null) return undefined;
  let wait: number | undefined;
  for (const item of value.split(',')) {
    const r = /;\s*r=(\d+)/.exec(item);
    const t = /;\s*t=(\d+)/.exec(item);
    if (!r || !t) continue;
    if (Number(r[1]) === 0) wait = Math.max(wait ?? 0, Number(t[1]) * 1000);
  }
  return wait;
}
