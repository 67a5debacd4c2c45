/**
 * The one JSON HTTP client the cloud firewall actions use (Node's global fetch): a base URL, a
 * bearer token, a deadline per attempt, retries for network errors and 5xx with backoff and
 * jitter, 429 honoured through `retry-after` or the vendor's rate-limit headers, every other 4xx
 * final. The token is sent and nothing else: it never appears in a preview line, an error, an
 * observed exchange or a log (any echo of it in a vendor answer is masked too).
 */
import { FloodgateError } from '../../../core/errors.js';
import { backoffDelayMs, classifyStatus, parseRetryAfterMs } from './retry-policy.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface CloudRequest {
  method: HttpMethod;
  /**
   * Below the base URL ("/zones/Z/firewall/access_rules/rules"), or an absolute URL on the same
   * origin and base path (pagination links the vendor hands back); anything else is refused so
   * the token never leaves for another host.
   */
  path: string;
  query?: Readonly<Record<string, string | number | undefined>>;
  body?: unknown;
}

export interface CloudResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** One attempt as it happened, for audit entries: the request line, the answer, how long. */
export interface CloudExchange {
  line: string;
  /** HTTP status; null when no answer came (network error, timeout). */
  status: number | null;
  ok: boolean;
  ms: number;
  /** The start of the answer (or the network error), token masked. */
  output: string;
  attempt: number;
}

/** The vendor's own error code and message, pulled out of an error body. */
export interface VendorError {
  code?: string | number;
  message?: string;
}

export interface CloudClientOptions {
  /** "cloudflare", "digitalocean", "vultr": named in every error. */
  provider: string;
  baseUrl: string;
  token: string;
  /** Deadline of one attempt. */
  timeoutMs?: number;
  /** Attempts in all, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Longest rate-limit wait honoured inside one call; a vendor asking for more (Cloudflare blocks
   * for 5 minutes) makes the call fail at once with the wait in the error, for the caller to
   * reschedule rather than hold a mitigation hostage.
   */
  maxRetryAfterMs?: number;
  parseError?: (body: unknown) => VendorError;
  /** Vendor-specific wait for a 429 without `retry-after` (DigitalOcean, Cloudflare headers). */
  rateLimitWaitMs?: (headers: Headers, nowMs: number) => number | undefined;
  /** Injected by tests so retries take no real time. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  fetch?: typeof fetch;
  observer?: (exchange: CloudExchange) => void;
}

export interface RequestOptions {
  /** Statuses answered as a response instead of an error (404 on a delete is success). */
  accept?: readonly number[];
}

const OUTPUT_LIMIT = 500;
export const REDACTED_AUTHORIZATION = 'Authorization: Bearer ***';

export function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class CloudHttpClient {
  readonly provider: string;
  readonly baseUrl: string;
  private readonly token: string;
  private readonly options: Required<
    Omit<CloudClientOptions, 'observer' | 'parseError' | 'rateLimitWaitMs'>
  > &
    Pick<CloudClientOptions, 'observer' | 'parseError' | 'rateLimitWaitMs'>;

  constructor(options: CloudClientOptions) {
    if (!/^https?:\/\//.test(options.baseUrl)) {
      throw new FloodgateError('FG_ERR_CLOUD_API', `${options.provider}: base URL must start with https://`, {
        provider: options.provider,
      });
    }
    if (options.token.length === 0 || /[\r\n]/.test(options.token)) {
      throw new FloodgateError(
        'FG_ERR_CLOUD_API',
        `${options.provider}: the API token is empty or spans lines`,
        {
          provider: options.provider,
        },
      );
    }
    this.provider = options.provider;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.options = {
      provider: options.provider,
      baseUrl: this.baseUrl,
      token: options.token,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxAttempts: Math.max(1, options.maxAttempts ?? 4),
      baseDelayMs: options.baseDelayMs ?? 250,
      maxDelayMs: options.maxDelayMs ?? 8_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
      sleep: options.sleep ?? defaultSleep,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      observer: options.observer,
      parseError: options.parseError,
      rateLimitWaitMs: options.rateLimitWaitMs,
    };
  }

  /** A client sharing everything but reporting each exchange to `observer` (one per action run). */
  withObserver(observer: (exchange: CloudExchange) => void): CloudHttpClient {
    return new CloudHttpClient({ ...this.options, observer });
  }

  /** The absolute URL of a request, query included, exactly as sent. */
  url(request: Pick<CloudRequest, 'path' | 'query'>): string {
    let url: URL;
    if (/^https?:\/\//.test(request.path)) {
      url = new URL(request.path);
      const base = new URL(this.baseUrl);
      if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) {
        throw new FloodgateError(
          'FG_ERR_CLOUD_API',
          `${this.provider}: refusing to follow a link outside ${this.baseUrl} (${url.origin}${url.pathname})`,
          { provider: this.provider, link: `${url.origin}${url.pathname}` },
        );
      }
    } else {
      url = new URL(this.baseUrl + (request.path.startsWith('/') ? request.path : `/${request.path}`));
    }
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /** The request as one preview line: `METHOD URL Authorization: Bearer *** {json}`. */
  line(request: CloudRequest): string {
    return requestLine(request.method, this.url(request), request.body);
  }

  async request<T = unknown>(request: CloudRequest, options: RequestOptions = {}): Promise<CloudResponse<T>> {
    const url = this.url(request);
    const line = requestLine(request.method, url, request.body);
    const { maxAttempts } = this.options;
    for (let attempt = 1; ; attempt++) {
      const started = this.options.now();
      let response: Response;
      let text: string;
      try {
        response = await this.options.fetch(url, {
          method: request.method,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: 'application/json',
            ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          signal: AbortSignal.timeout(this.options.timeoutMs),
          redirect: 'error',
        });
        text = await response.text();
      } catch (error) {
        const why = this.redact(describeNetworkError(error, this.options.timeoutMs));
        this.observe({
          line,
          status: null,
          ok: false,
          ms: this.options.now() - started,
          output: why,
          attempt,
        });
        if (attempt < maxAttempts) {
          await this.options.sleep(backoffDelayMs(attempt, this.options, this.options.random));
          continue;
        }
        throw new FloodgateError(
          'FG_ERR_CLOUD_API',
          `${this.provider} ${request.method} ${pathOf(url)} failed after ${attempt} attempt(s): ${why}`,
          {
            provider: this.provider,
            method: request.method,
            path: pathOf(url),
            status: null,
            attempts: attempt,
          },
        );
      }
      const body = parseBody(text);
      const ok =
        (response.status >= 200 && response.status < 300) || (options.accept ?? []).includes(response.status);
      this.observe({
        line,
        status: response.status,
        ok,
        ms: this.options.now() - started,
        output: this.redact(text.slice(0, OUTPUT_LIMIT)),
        attempt,
      });
      if (ok) return { status: response.status, headers: response.headers, body: body as T };

      const decision = classifyStatus(response.status);
      let waitMs: number | undefined;
      if (decision === 'rate-limited') {
        const nowMs = this.options.now();
        waitMs =
          parseRetryAfterMs(response.headers.get('retry-after'), nowMs) ??
          this.options.rateLimitWaitMs?.(response.headers, nowMs) ??
          backoffDelayMs(attempt, this.options, this.options.random);
      } else if (decision === 'retry') {
        waitMs = backoffDelayMs(attempt, this.options, this.options.random);
      }
      const tooLong = waitMs !== undefined && waitMs > this.options.maxRetryAfterMs;
      if (waitMs !== undefined && attempt < maxAttempts && !tooLong) {
        await this.options.sleep(waitMs);
        continue;
      }
      throw this.httpError(request.method, url, response.status, body, attempt, decision, waitMs);
    }
  }

  private httpError(
    method: HttpMethod,
    url: string,
    status: number,
    body: unknown,
    attempts: number,
    decision: string,
    waitMs: number | undefined,
  ): FloodgateError {
    const vendor = this.options.parseError?.(body) ?? {};
    const code = vendor.code === undefined ? '' : ` ${this.redact(String(vendor.code))}`;
    const message = vendor.message === undefined ? '' : `: ${this.redact(vendor.message)}`;
    const retryNote =
      decision === 'rate-limited' && waitMs !== undefined
        ? ` (rate limited; retry in ${Math.ceil(waitMs / 1000)} s)`
        : '';
    return new FloodgateError(
      'FG_ERR_CLOUD_API',
      `${this.provider} ${method} ${pathOf(url)} answered HTTP ${status}${code}${message}${retryNote}`,
      {
        provider: this.provider,
        method,
        path: pathOf(url),
        status,
        vendorCode: vendor.code === undefined ? undefined : this.redact(String(vendor.code)),
        vendorMessage: vendor.message === undefined ? undefined : this.redact(vendor.message),
        attempts,
        ...(decision === 'rate-limited' && waitMs !== undefined ? { retryAfterMs: waitMs } : {}),
      },
    );
  }

  private observe(exchange: CloudExchange): void {
    this.options.observer?.(exchange);
  }

  /** Masks the token wherever a vendor or the network stack might echo it. */
  redact(text: string): string {
    return text.split(this.token).join('***');
  }
}

export function requestLine(method: HttpMethod, url: string, body?: unknown): string {
  const json = body === undefined ? '' : ` ${JSON.stringify(body)}`;
  return `${method} ${url} ${REDACTED_AUTHORIZATION}${json}`;
}

/** The status of a FG_ERR_CLOUD_API error, when it came from an HTTP answer. */
export function cloudStatus(error: unknown): number | undefined {
  if (error instanceof FloodgateError && error.code === 'FG_ERR_CLOUD_API') {
    const status = error.details['status'];
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}

function parseBody(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError')
      return `no answer within ${timeoutMs} ms`;
    const cause = (error as Error & { cause?: unknown }).cause;
    const causeText = cause instanceof Error ? `: ${cause.message}` : '';
    return `${error.message}${causeText}`;
  }
  return String(error);
}
