import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CloudExchange,
  CloudHttpClient,
  cloudStatus,
} from '../../../../adapters/node/cloud/http-client.js';
import {
  backoffDelayMs,
  cloudflareResetMs,
  digitalOceanResetMs,
  parseRetryAfterMs,
} from '../../../../adapters/node/cloud/retry-policy.js';
import { FloodgateError } from '../../../../core/errors.js';
import { FakeHttpServer, type FakeReply } from '../../../fakes/fake-server.js';

const TOKEN = 'tok-SECRET-1234567890';
const vendor = (status: number, message: string): FakeReply => ({ status, body: { error: message, status } });

const server = new FakeHttpServer(TOKEN, {
  unauthorized: () => vendor(401, 'Invalid API token.'),
  tooManyRequests: () => vendor(429, 'Rate limit exceeded.'),
  serverError: (status) => vendor(status, 'Internal server error.'),
  notFound: () => vendor(404, 'Not found.'),
});
server.route('GET', '/v2/things', () => ({ status: 200, body: { things: [1, 2] } }));
server.route('POST', '/v2/things', (r) => {
  const body = r.body as { name?: unknown };
  if (typeof body?.name !== 'string') return vendor(400, 'name is required');
  return { status: 201, body: { thing: { id: 7, name: body.name } } };
});
server.route('GET', '/v2/echo', (r) => ({
  status: 400,
  body: { error: `bad header ${r.headers.authorization}` },
}));
server.route('DELETE', '/v2/things/:id', () => vendor(404, 'Not found.'));

let base = '';
let sleeps: number[] = [];
let exchanges: CloudExchange[] = [];

function client(overrides: Partial<ConstructorParameters<typeof CloudHttpClient>[0]> = {}) {
  return new CloudHttpClient({
    provider: 'vultr',
    baseUrl: base,
    token: TOKEN,
    parseError: (body) => {
      const b = body as { error?: string; status?: number };
      return { code: b?.status, message: b?.error };
    },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    observer: (e) => exchanges.push(e),
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<FloodgateError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof FloodgateError) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  base = `${await server.start()}/v2`;
});
afterAll(() => server.stop());
beforeEach(() => {
  sleeps = [];
  exchanges = [];
  server.requests.length = 0;
  server.rateLimit(undefined);
});

describe('CloudHttpClient', () => {
  it('sends the bearer token and JSON, and answers the parsed body', async () => {
    const res = await client().request<{ thing: { id: number } }>({
      method: 'POST',
      path: '/things',
      body: { name: 'x' },
    });
    expect(res.status).toBe(201);
    expect(res.body.thing.id).toBe(7);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(server.requests[0]!.headers['content-type']).toBe('application/json');
    expect(exchanges).toEqual([
      expect.objectContaining({
        line: `POST ${base}/things Authorization: Bearer *** {"name":"x"}`,
        status: 201,
        ok: true,
        attempt: 1,
      }),
    ]);
  });

  it('retries 5xx with backoff and then succeeds', async () => {
    server.failNext(2, 503);
    const res = await client().request({ method: 'GET', path: '/things' });
    expect(res.status).toBe(200);
    expect(server.count('GET')).toBe(3);
    // Equal jitter with random()=0.5: 3/4 of 250 ms, then of 500 ms.
    expect(sleeps).toEqual([188, 375]);
    expect(exchanges.map((e) => e.status)).toEqual([503, 503, 200]);
  });

  it('gives up after maxAttempts on persistent 5xx with the vendor message', async () => {
    server.failNext(3, 500);
    const e = await failure(client({ maxAttempts: 3 }).request({ method: 'GET', path: '/things' }));
    expect(e.code).toBe('FG_ERR_CLOUD_API');
    expect(e.details).toMatchObject({
      provider: 'vultr',
      method: 'GET',
      path: '/v2/things',
      status: 500,
      attempts: 3,
    });
    expect(e.message).toContain('Internal server error.');
    expect(server.count('GET')).toBe(3);
  });

  it('never retries a 400 and reports the vendor error', async () => {
    const e = await failure(client().request({ method: 'POST', path: '/things', body: {} }));
    expect(server.count('POST')).toBe(1);
    expect(sleeps).toEqual([]);
    expect(e.details).toMatchObject({ status: 400, vendorCode: '400', vendorMessage: 'name is required' });
    expect(cloudStatus(e)).toBe(400);
  });

  it('honours 429 with retry-after: waits exactly that long, then retries', async () => {
    server.rateLimit({ budget: 0, retryAfterSeconds: 2 });
    const res = await client().request({ method: 'GET', path: '/things' });
    expect(res.status).toBe(200);
    expect(sleeps).toEqual([2000]);
    expect(server.count('GET')).toBe(2);
  });

  it('uses the vendor reset header when a 429 has no retry-after', async () => {
    const now = 1_800_000_000_000;
    server.rateLimit({
      budget: 0,
      retryAfterSeconds: null,
      headers: { 'ratelimit-reset': String(now / 1000 + 7) },
    });
    const res = await client({ now: () => now, rateLimitWaitMs: digitalOceanResetMs }).request({
      method: 'GET',
      path: '/things',
    });
    expect(res.status).toBe(200);
    expect(sleeps).toEqual([7000]);
  });

  it('fails at once, with the wait, when the vendor asks for longer than maxRetryAfterMs', async () => {
    server.rateLimit({ budget: 0, retryAfterSeconds: 300 });
    const e = await failure(client({ maxRetryAfterMs: 30_000 }).request({ method: 'GET', path: '/things' }));
    expect(sleeps).toEqual([]);
    expect(e.details).toMatchObject({ status: 429, retryAfterMs: 300_000 });
    expect(e.message).toContain('retry in 300 s');
  });

  it('answers an accepted status (404 on delete) instead of throwing', async () => {
    const res = await client().request({ method: 'DELETE', path: '/things/9' }, { accept: [404] });
    expect(res.status).toBe(404);
    expect(exchanges[0]!.ok).toBe(true);
  });

  it('never shows the token: not in errors, exchanges or lines, even when the vendor echoes it', async () => {
    const e = await failure(client().request({ method: 'GET', path: '/echo' }));
    expect(JSON.stringify({ message: e.message, details: e.details, stack: e.stack })).not.toContain(TOKEN);
    expect(e.message).toContain('Bearer ***');
    expect(JSON.stringify(exchanges)).not.toContain(TOKEN);
    const wrong = new CloudHttpClient({
      provider: 'vultr',
      baseUrl: base,
      token: 'wrong-token-xyz',
      maxAttempts: 1,
    });
    const e401 = await failure(wrong.request({ method: 'GET', path: '/things' }));
    expect(e401.details['status']).toBe(401);
    expect(e401.message).not.toContain('wrong-token-xyz');
    expect(client().line({ method: 'GET', path: '/things' })).not.toContain(TOKEN);
  });

  it('retries network errors, then reports them without the token', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const c = client({ baseUrl: `http://127.0.0.1:${closed}/v2`, maxAttempts: 3 });
    const e = await failure(c.request({ method: 'GET', path: '/things' }));
    expect(e.details).toMatchObject({ status: null, attempts: 3 });
    expect(sleeps).toHaveLength(2);
    expect(e.message).not.toContain(TOKEN);
  });

  it('times an attempt out and retries it', async () => {
    // A fetch that never answers: only the per-attempt deadline ends it.
    const hang = client({
      timeoutMs: 200,
      maxAttempts: 2,
      fetch: (_input, init) =>
        new Promise((_, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    });
    const e = await failure(hang.request({ method: 'GET', path: '/things' }));
    expect(e.message).toContain('no answer within 200 ms');
    expect(e.details['attempts']).toBe(2);
    expect(sleeps).toHaveLength(1);
  });

  it('follows pagination links only on its own origin and base path', () => {
    const c = client();
    expect(c.url({ path: `${base}/things?page=2` })).toBe(`${base}/things?page=2`);
    expect(() => c.url({ path: 'https://evil.example/v2/things' })).toThrow(/refusing to follow a link/);
  });

  it('refuses a token spanning lines and a base URL that is not http(s)', () => {
    expect(() => new CloudHttpClient({ provider: 'x', baseUrl: base, token: 'a\nb' })).toThrow(/token/);
    expect(() => new CloudHttpClient({ provider: 'x', baseUrl: 'ftp://x', token: 't' })).toThrow(/base URL/);
  });
});

describe('retry policy', () => {
  it('backs off exponentially with a cap and jitter between half and all of the delay', () => {
    const o = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(1, o, () => 0)).toBe(50);
    expect(backoffDelayMs(1, o, () => 1)).toBe(100);
    expect(backoffDelayMs(3, o, () => 1)).toBe(400);
    expect(backoffDelayMs(10, o, () => 1)).toBe(1000);
  });

  it('reads retry-after as seconds or an HTTP date, and vendor headers', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfterMs('3', now)).toBe(3000);
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
    expect(cloudflareResetMs(new Headers({ ratelimit: '"default";r=0;t=30' }))).toBe(30_000);
    expect(cloudflareResetMs(new Headers({ ratelimit: '"default";r=5;t=30' }))).toBeUndefined();
    expect(digitalOceanResetMs(new Headers({ 'ratelimit-reset': String(now / 1000 + 5) }), now)).toBe(5000);
  });
});
