/**
 * A small HTTP server for vendor API fakes: node:http on 127.0.0.1 and a free port, routes with
 * ":param" segments, a bearer-token check, a request budget after which it answers 429 with
 * `retry-after`, and injectable 5xx failures. Each fake (cloudflare-fake.ts, ...) supplies the
 * vendor's own error bodies and keeps its state; tests inspect `requests` and that state.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  /** Path without the query ("/v2/firewalls/abc"). */
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  headers: IncomingMessage['headers'];
  rawBody: string;
  /** The parsed JSON body; undefined when empty, the symbol BAD_JSON when unparseable. */
  body: unknown;
}

export interface FakeReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type FakeHandler = (request: FakeRequest) => FakeReply;

export const BAD_JSON = Symbol('bad-json');

export interface VendorErrors {
  unauthorized(): FakeReply;
  tooManyRequests(): FakeReply;
  serverError(status: number): FakeReply;
  notFound(request: FakeRequest): FakeReply;
}

export interface RateLimitOptions {
  /** Requests answered normally before the next one gets a 429. */
  budget: number;
  /** The `retry-after` value in seconds; null sends none (vendor headers only). */
  retryAfterSeconds: number | null;
  /**
   * How many consecutive requests get a 429 once the budget is spent; then the budget refills
   * (to at least one request). Infinity keeps answering 429.
   */
  times?: number;
  /** Extra headers on the 429 (e.g. DigitalOcean's ratelimit-reset). */
  headers?: Record<string, string>;
}

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: FakeHandler;
}

export class FakeHttpServer {
  readonly requests: FakeRequest[] = [];
  private readonly routes: Route[] = [];
  private readonly failures: number[] = [];
  private rate: (RateLimitOptions & { left: number; limited: number }) | undefined;
  private server: Server | undefined;
  private origin = '';
  /** Headers added to every answer (DigitalOcean's ratelimit-* for instance). */
  everyAnswer: () => Record<string, string> = () => ({});

  constructor(
    private readonly token: string,
    private readonly errors: VendorErrors,
  ) {}

  /** The server's origin, "http://127.0.0.1:PORT". */
  get url(): string {
    return this.origin;
  }

  route(method: string, pattern: string, handler: FakeHandler): void {
    const keys: string[] = [];
    const source = pattern.replace(/:([A-Za-z_]+)/g, (_, key: string) => {
      keys.push(key);
      return '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), keys, handler });
  }

  /** The next `count` requests get this status (5xx) with the vendor's error body. */
  failNext(count: number, status = 503): void {
    this.failAfter(0, count, status);
  }

  /** Lets `ok` requests through, then fails the `count` after them. */
  failAfter(ok: number, count = 1, status = 503): void {
    for (let i = 0; i < ok; i++) this.failures.push(0);
    for (let i = 0; i < count; i++) this.failures.push(status);
  }

  /** Called with each authorised request before it is routed (tests change state under it). */
  onRequest: ((request: FakeRequest) => void) | undefined;

  rateLimit(options: RateLimitOptions | undefined): void {
    this.rate = options ? { ...options, left: options.budget, limited: 0 } : undefined;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
    return this.origin;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** How many requests came in, of one method or all (to count writes, retries). */
  count(method?: string): number {
    return this.requests.filter((r) => method === undefined || r.method === method).length;
  }

  private handle(req: IncomingMessage, rawBody: string, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.origin);
    let body: unknown;
    if (rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = BAD_JSON;
      }
    }
    const request: FakeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      params: {},
      headers: req.headers,
      rawBody,
      body,
    };
    this.requests.push(request);
    const reply = this.answer(request);
    const headers = { 'content-type': 'application/json', ...this.everyAnswer(), ...(reply.headers ?? {}) };
    res.writeHead(reply.status, headers);
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  }

  private answer(request: FakeRequest): FakeReply {
    if (request.headers.authorization !== `Bearer ${this.token}`) return this.errors.unauthorized();
    if (this.rate) {
      if (this.rate.left > 0) {
        this.rate.left--;
      } else {
        this.rate.limited++;
        if (this.rate.limited >= (this.rate.times ?? 1)) {
          this.rate.left = Math.max(1, this.rate.budget);
          this.rate.limited = 0;
        }
        const reply = this.errors.tooManyRequests();
        return {
          ...reply,
          headers: {
            ...(reply.headers ?? {}),
            ...(this.rate.retryAfterSeconds === null
              ? {}
              : { 'retry-after': String(this.rate.retryAfterSeconds) }),
            ...(this.rate.headers ?? {}),
          },
        };
      }
    }
    const failure = this.failures.shift();
    if (failure !== undefined && failure !== 0) return this.errors.serverError(failure);
    this.onRequest?.(request);
    for (const route of this.routes) {
      if (route.method !== request.method) continue;
      const m = route.pattern.exec(request.path);
      if (!m) continue;
      route.keys.forEach((key, i) => {
        request.params[key] = decodeURIComponent(m[i + 1]!);
      });
      return route.handler(request);
    }
    return this.errors.notFound(request);
  }
}
