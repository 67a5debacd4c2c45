import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  cloudflareBlock,
  cloudflareConfigSchema,
  createCloudflareClient,
} from '../../../../adapters/node/cloud/cloudflare.js';
import type { CloudExchange } from '../../../../adapters/node/cloud/http-client.js';
import { FloodgateError } from '../../../../core/errors.js';
import { CloudflareFake } from '../../../fakes/cloudflare-fake.js';

const TOKEN = 'cf-token-VERYSECRET-0001';
const ZONE = '023e105f4ecef8ad9ca31a8372d0c353';
const fake = new CloudflareFake(TOKEN, [ZONE]);
let baseUrl = '';
let sleeps: number[] = [];
let exchanges: CloudExchange[] = [];

function setup(token = TOKEN) {
  const config = cloudflareConfigSchema.parse({ baseUrl, token, zoneId: ZONE });
  const client = createCloudflareClient(config, {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  }).withObserver((e) => exchanges.push(e));
  return { client, action: cloudflareBlock(config) };
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
  baseUrl = await fake.start();
});
afterAll(() => fake.stop());
beforeEach(() => {
  sleeps = [];
  exchanges = [];
  fake.server.requests.length = 0;
  fake.server.rateLimit(undefined);
});

describe('Cloudflare IP Access Rule block', () => {
  it('describe() shows exactly the request apply sends, token masked', async () => {
    const { client, action } = setup();
    const preview = action.describe({ source: '198.51.100.4' }, 'run-1');
    expect(preview.apply[0]).toBe(
      `POST ${baseUrl}/zones/${ZONE}/firewall/access_rules/rules Authorization: Bearer *** ` +
        '{"mode":"block","configuration":{"target":"ip","value":"198.51.100.4"},' +
        '"notes":"[floodgate:run-1] block 198.51.100.4/32 (DDoS mitigation)"}',
    );
    expect(preview.apply[1]).toContain('only if the POST answers error 10009');
    expect(preview.undo[0]).toContain(`DELETE ${baseUrl}/zones/${ZONE}/firewall/access_rules/rules/{id}`);
    expect(preview.note).toContain('Cloudflare proxy');
    const record = await action.apply(client, { source: '198.51.100.4' }, 'run-1');
    expect(exchanges[0]!.line).toBe(preview.apply[0]);
    await action.undo(client, record);
    expect(JSON.stringify(preview)).not.toContain(TOKEN);
  });

  it('blocks an IPv4 address and undoes it; the record is plain JSON', async () => {
    const { client, action } = setup();
    const record = await action.apply(client, { source: '198.51.100.4' }, 'run-1');
    expect(record).toMatchObject({
      provider: 'cloudflare',
      scope: ZONE,
      tag: 'run-1',
      source: '198.51.100.4/32',
      owned: true,
      configuration: { target: 'ip', value: '198.51.100.4' },
    });
    expect(fake.rules(ZONE)).toEqual([
      expect.objectContaining({
        id: record.ruleId,
        mode: 'block',
        configuration: { target: 'ip', value: '198.51.100.4' },
      }),
    ]);
    const stored = action.parseRecord(JSON.parse(JSON.stringify(record)));
    expect(await action.undo(client, stored)).toEqual({ wasPresent: true });
    expect(fake.rules(ZONE)).toEqual([]);
  });

  it('uses ip6 for an IPv6 address and ip_range for the allowed sizes', async () => {
    const { client, action } = setup();
    const a = await action.apply(client, { source: '2001:db8::5' }, 'run-2');
    const b = await action.apply(client, { source: '2001:db8:5::/48' }, 'run-2');
    const c = await action.apply(client, { source: '203.0.113.0/24' }, 'run-2');
    expect(a.configuration).toEqual({ target: 'ip6', value: '2001:db8::5' });
    expect(b.configuration).toEqual({ target: 'ip_range', value: '2001:db8:5::/48' });
    expect(c.configuration).toEqual({ target: 'ip_range', value: '203.0.113.0/24' });
    for (const r of [a, b, c]) await action.undo(client, r);
    expect(fake.rules(ZONE)).toEqual([]);
  });

  it('refuses a range size Cloudflare does not take, before sending anything', async () => {
    const { client, action } = setup();
    for (const source of ['203.0.112.0/20', '2001:db8::/40', '198.51.100.4/31']) {
      const e = await failure(action.apply(client, { source }, 'run-3'));
      expect(e.code).toBe('FG_ERR_NODE_PARAM');
      expect(e.message).toMatch(/IPv4 \/16 or \/24, IPv6 \/32, \/48 or \/64/);
      expect(() => action.describe({ source }, 'run-3')).toThrow(/refused/);
    }
    expect(fake.server.requests).toHaveLength(0);
  });

  it('is idempotent: applying again answers the same rule (10009, then a GET)', async () => {
    const { client, action } = setup();
    const first = await action.apply(client, { source: '198.51.100.9' }, 'run-4');
    const second = await action.apply(client, { source: '198.51.100.9' }, 'run-4');
    expect(second.ruleId).toBe(first.ruleId);
    expect(second.owned).toBe(true);
    expect(fake.server.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'GET']);
    expect(fake.server.requests[2]!.query.get('configuration.value')).toBe('198.51.100.9');
    expect(fake.rules(ZONE)).toHaveLength(1);
    await action.undo(client, second);
    expect(await action.undo(client, first)).toEqual({ wasPresent: false });
  });

  it('reuses an operator’s existing block rule but never deletes it', async () => {
    const { client, action } = setup();
    const theirs = fake.addRule(ZONE, {
      mode: 'block',
      notes: 'blocked by hand',
      configuration: { target: 'ip', value: '192.0.2.50' },
    });
    const record = await action.apply(client, { source: '192.0.2.50' }, 'run-5');
    expect(record).toMatchObject({ ruleId: theirs.id, owned: false });
    expect(await action.undo(client, record)).toEqual({ wasPresent: false });
    expect(fake.rules(ZONE).map((r) => r.id)).toEqual([theirs.id]);
    await setup().client.request({
      method: 'DELETE',
      path: `/zones/${ZONE}/firewall/access_rules/rules/${theirs.id}`,
    });
  });

  it('refuses to take over a rule with another mode for the same address', async () => {
    const { client, action } = setup();
    const theirs = fake.addRule(ZONE, {
      mode: 'whitelist',
      configuration: { target: 'ip', value: '192.0.2.60' },
    });
    const e = await failure(action.apply(client, { source: '192.0.2.60' }, 'run-6'));
    expect(e.code).toBe('FG_ERR_CLOUD_API');
    expect(e.message).toContain('mode "whitelist"');
    expect(fake.rules(ZONE)).toEqual([expect.objectContaining({ id: theirs.id, mode: 'whitelist' })]);
    await client.request({
      method: 'DELETE',
      path: `/zones/${ZONE}/firewall/access_rules/rules/${theirs.id}`,
    });
  });

  it('counts a 404 on delete as done', async () => {
    const { client, action } = setup();
    const record = await action.apply(client, { source: '198.51.100.77' }, 'run-7');
    await client.request({
      method: 'DELETE',
      path: `/zones/${ZONE}/firewall/access_rules/rules/${record.ruleId}`,
    });
    expect(await action.undo(client, record)).toEqual({ wasPresent: false });
    expect(exchanges[exchanges.length - 1]).toMatchObject({ status: 404, ok: true });
  });

  it('lists its blocks by marker and tag across pages, ignoring the operator’s', async () => {
    const { client, action } = setup();
    const theirs = fake.addRule(ZONE, {
      mode: 'block',
      notes: 'manual',
      configuration: { target: 'ip', value: '192.0.2.1' },
    });
    const records = [];
    for (let i = 0; i < 120; i++) {
      records.push(await action.apply(client, { source: `10.9.${i}.1` }, i % 2 === 0 ? 'even' : 'odd'));
    }
    const even = await action.list(client, 'even');
    expect(even).toHaveLength(60);
    expect(even[0]).toMatchObject({
      provider: 'cloudflare',
      scope: ZONE,
      tag: 'even',
      source: '10.9.0.1/32',
    });
    expect(await action.list(client)).toHaveLength(120);
    expect(fake.server.requests.filter((r) => r.method === 'GET' && r.query.get('page') === '2').length).toBe(
      2,
    );
    for (const r of records) await action.undo(client, r);
    await client.request({
      method: 'DELETE',
      path: `/zones/${ZONE}/firewall/access_rules/rules/${theirs.id}`,
    });
    expect(await action.list(client)).toEqual([]);
  });

  it('waits for retry-after on 429 and retries 5xx, then succeeds', async () => {
    const { client, action } = setup();
    fake.server.rateLimit({ budget: 0, retryAfterSeconds: 3 });
    const record = await action.apply(client, { source: '198.51.100.31' }, 'run-8');
    expect(sleeps).toEqual([3000]);
    fake.server.rateLimit(undefined);
    fake.server.failNext(2, 502);
    expect(await action.undo(client, record)).toEqual({ wasPresent: true });
    expect(sleeps).toHaveLength(3);
    expect(fake.rules(ZONE)).toEqual([]);
  });

  it('fails on a wrong token with Cloudflare’s error, without retrying or showing the token', async () => {
    const { client, action } = setup('cf-wrong-token-ABC');
    const e = await failure(action.apply(client, { source: '198.51.100.32' }, 'run-9'));
    expect(e.details).toMatchObject({ provider: 'cloudflare', status: 401, vendorCode: '10000' });
    expect(e.message).not.toContain('cf-wrong-token-ABC');
    expect(fake.server.requests).toHaveLength(1);
  });

  it('refuses a malformed stored record', () => {
    const { action } = setup();
    expect(() => action.parseRecord({ provider: 'cloudflare', scope: ZONE })).toThrow(/malformed/);
  });
});
