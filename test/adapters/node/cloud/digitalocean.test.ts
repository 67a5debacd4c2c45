import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  formatCidr,
  isCovered,
  minimalCover,
  parseRemoteCidr,
  parseSourceParam,
} from '../../../../adapters/node/cloud/cidr.js';
import {
  createDigitalOceanClient,
  type DigitalOceanUndoRecord,
  digitalOceanBlock,
  digitalOceanConfigSchema,
} from '../../../../adapters/node/cloud/digitalocean.js';
import type { CloudExchange } from '../../../../adapters/node/cloud/http-client.js';
import { FloodgateError } from '../../../../core/errors.js';
import { DigitalOceanFake, type FakeDoFirewall, type FakeDoRule } from '../../../fakes/digitalocean-fake.js';

const TOKEN = 'dop_v1_SECRET_0123456789abcdef';
const fake = new DigitalOceanFake(TOKEN);
let baseUrl = '';
let sleeps: number[] = [];
let exchanges: CloudExchange[] = [];

const ORIGINAL_INBOUND: FakeDoRule[] = [
  { protocol: 'tcp', ports: '443', sources: { addresses: ['0.0.0.0/0', '::/0'] } },
  { protocol: 'tcp', ports: '22', sources: { addresses: ['203.0.113.0/24', '2001:db8:ffff::/48'] } },
  { protocol: 'udp', ports: '53', sources: { addresses: ['0.0.0.0/0'], tags: ['dns-clients'] } },
  { protocol: 'tcp', ports: '8080', sources: { addresses: ['198.51.100.4'] } },
  { protocol: 'icmp', sources: { addresses: ['0.0.0.0/0', '::/0'] } },
  { protocol: 'tcp', ports: '25', action: 'deny', sources: { addresses: ['0.0.0.0/0'] } },
];
const OUTBOUND: FakeDoRule[] = [
  { protocol: 'tcp', ports: '0', destinations: { addresses: ['0.0.0.0/0', '::/0'] } },
];

function newFirewall(name = 'web'): string {
  return fake.addFirewall({
    name,
    inbound_rules: ORIGINAL_INBOUND,
    outbound_rules: OUTBOUND,
    droplet_ids: [8043964],
    tags: ['frontend'],
  });
}

function setup(
  selector: { firewallId?: string; firewallName?: string },
  options: { token?: string; now?: () => number } = {},
) {
  const config = digitalOceanConfigSchema.parse({ baseUrl, token: options.token ?? TOKEN, ...selector });
  const client = createDigitalOceanClient(config, {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...(options.now ? { now: options.now } : {}),
  }).withObserver((e) => exchanges.push(e));
  return { client, action: digitalOceanBlock(config) };
}

/** Whether any inbound allow rule of the firewall admits the source (checked independently). */
function admitted(fw: FakeDoFirewall, source: string): boolean {
  const s = parseSourceParam(source);
  return fw.inbound_rules.some(
    (rule) =>
      rule.action !== 'deny' &&
      isCovered(
        s,
        ((rule.sources?.['addresses'] ?? []) as string[]).map((t) => parseRemoteCidr(t)!),
      ),
  );
}

const writable = (fw: FakeDoFirewall) => ({
  name: fw.name,
  inbound_rules: fw.inbound_rules,
  outbound_rules: fw.outbound_rules,
  droplet_ids: fw.droplet_ids,
  tags: fw.tags,
});

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
  fake.maxPerPage = 200;
});

describe('DigitalOcean Cloud Firewall block (narrowing allow rules)', () => {
  it('describe() says what "deny" means and matches the requests apply sends', async () => {
    const id = newFirewall();
    const { client, action } = setup({ firewallId: id });
    const preview = action.describe({ source: '198.51.100.4' }, 'run-1');
    expect(preview.note).toContain('drop inbound traffic that no rule allows');
    expect(preview.note).toContain('already blocked');
    expect(preview.apply[0]).toBe(`GET ${baseUrl}/firewalls/${id} Authorization: Bearer ***`);
    expect(preview.apply[1]).toMatch(
      new RegExp(`^PUT ${baseUrl}/firewalls/${id} Authorization: Bearer \\*\\*\\* \\{`),
    );
    expect(preview.apply[1]).toContain('"0.0.0.0/0" becomes ["0.0.0.0/1",');
    await action.apply(client, { source: '198.51.100.4' }, 'run-1');
    expect(exchanges.map((e) => e.line.slice(0, e.line.indexOf(' ***') + 4))).toEqual([
      preview.apply[0],
      preview.apply[1]!.slice(0, preview.apply[1]!.indexOf(' ***') + 4),
    ]);
    expect(JSON.stringify(preview)).not.toContain(TOKEN);
  });

  it('narrows every allow rule admitting an IPv4 source, then undo restores the firewall exactly', async () => {
    const id = newFirewall();
    const original = fake.firewall(id);
    const { client, action } = setup({ firewallId: id });
    const record = await action.apply(client, { source: '198.51.100.4' }, 'run-2');
    const after = fake.firewall(id);
    expect(admitted(after, '198.51.100.4')).toBe(false);
    expect(admitted(after, '198.51.100.5')).toBe(true);
    expect(admitted(after, '2001:db8::1')).toBe(true);
    // tcp/443: 0.0.0.0/0 became 32 prefixes in place, ::/0 untouched.
    const https = after.inbound_rules[0]!.sources!['addresses'] as string[];
    expect(https).toHaveLength(33);
    expect(https[32]).toBe('::/0');
    // tcp/8080 allowed only 198.51.100.4: the rule is gone; the deny rule and outbound are untouched.
    expect(after.inbound_rules.some((r) => r.ports === '8080')).toBe(false);
    expect(after.inbound_rules.find((r) => r.action === 'deny')).toEqual(original.inbound_rules[5]);
    expect(after.outbound_rules).toEqual(original.outbound_rules);
    expect(after.droplet_ids).toEqual([8043964]);
    expect(after.tags).toEqual(['frontend']);
    expect(record).toMatchObject({
      provider: 'digitalocean',
      scope: id,
      source: '198.51.100.4/32',
      alreadyBlocked: false,
    });
    expect(record.changes.map((c) => c.rule.ports)).toEqual(['443', '53', '8080', '0']);

    const stored = action.parseRecord(JSON.parse(JSON.stringify(record)));
    expect(await action.undo(client, stored)).toEqual({ wasPresent: true });
    expect(writable(fake.firewall(id))).toEqual(writable(original));
    expect(await action.undo(client, stored)).toEqual({ wasPresent: false });
  });

  it('narrows for an IPv6 prefix and restores exactly', async () => {
    const id = newFirewall();
    const original = fake.firewall(id);
    const { client, action } = setup({ firewallId: id });
    const record = await action.apply(client, { source: '2001:db8:ffff:1::/64' }, 'run-3');
    const after = fake.firewall(id);
    expect(admitted(after, '2001:db8:ffff:1::9')).toBe(false);
    expect(admitted(after, '2001:db8:ffff:2::9')).toBe(true);
    expect(admitted(after, '198.51.100.4')).toBe(true);
    expect(record.changes.map((c) => c.rule.ports)).toEqual(['443', '22', '0']);
    await action.undo(client, record);
    expect(writable(fake.firewall(id))).toEqual(writable(original));
  });

  it('does nothing for a source no rule admits, and records that', async () => {
    const id = newFirewall();
    fake.firewalls.get(id)!.inbound_rules = [
      { protocol: 'tcp', ports: '22', sources: { addresses: ['203.0.113.0/24'] } },
    ];
    const { client, action } = setup({ firewallId: id });
    const record = await action.apply(client, { source: '198.51.100.4' }, 'run-4');
    expect(record).toMatchObject({ alreadyBlocked: true, changes: [] });
    expect(fake.server.count('PUT')).toBe(0);
    expect(await action.undo(client, record)).toEqual({ wasPresent: false });
    expect(fake.server.count('PUT')).toBe(0);
  });

  it('keeps a second concurrent block in place whichever is lifted first, and ends exactly at the original', async () => {
    for (const firstOut of ['a', 'b'] as const) {
      const id = newFirewall();
      const original = fake.firewall(id);
      const { client, action } = setup({ firewallId: id });
      const a = await action.apply(client, { source: '198.51.100.4' }, 'run-a');
      const b = await action.apply(client, { source: '198.51.101.0/24' }, 'run-b', { active: [a] });
      // The firewall each block alone would give, for comparison.
      const only = async (source: string) => {
        const twin = newFirewall();
        const t = setup({ firewallId: twin });
        await t.action.apply(t.client, { source }, 'twin');
        return writable(fake.firewall(twin)).inbound_rules;
      };
      const [lifted, kept] = firstOut === 'a' ? [a, b] : [b, a];
      await action.undo(client, lifted);
      const now = fake.firewall(id);
      expect(admitted(now, kept.source.replace(/\/\d+$/, ''))).toBe(false);
      expect(admitted(now, lifted.source.replace(/\/\d+$/, ''))).toBe(true);
      expect(now.inbound_rules).toEqual(await only(kept.source));
      await action.undo(client, kept);
      expect(writable(fake.firewall(id))).toEqual(writable(original));
    }
  });

  it('puts back a rule two blocks emptied, in either order, exactly as it was', async () => {
    for (const firstOut of [0, 1]) {
      const id = fake.addFirewall({
        name: 'ssh-allow-list',
        inbound_rules: [
          { protocol: 'tcp', ports: '443', sources: { addresses: ['0.0.0.0/0'] } },
          { protocol: 'tcp', ports: '22', sources: { addresses: ['198.51.100.4', '198.51.100.5'] } },
          { protocol: 'udp', ports: '53', sources: { addresses: ['192.0.2.0/24'] } },
        ],
      });
      const original = fake.firewall(id);
      const { client, action } = setup({ firewallId: id });
      const a = await action.apply(client, { source: '198.51.100.4' }, 'a');
      const b = await action.apply(client, { source: '198.51.100.5' }, 'b', { active: [a] });
      expect(fake.firewall(id).inbound_rules.map((r) => r.ports)).toEqual(['443', '53']);
      const order = firstOut === 0 ? [a, b] : [b, a];
      await action.undo(client, order[0]!);
      expect(fake.firewall(id).inbound_rules[1]).toEqual({
        protocol: 'tcp',
        ports: '22',
        sources: { addresses: [order[0]!.source.replace('/32', '')] },
      });
      await action.undo(client, order[1]!);
      expect(writable(fake.firewall(id))).toEqual(writable(original));
    }
  });

  it('serialises concurrent applies on one firewall so neither write is lost', async () => {
    const id = newFirewall();
    const original = fake.firewall(id);
    const { client, action } = setup({ firewallId: id });
    const [a, b] = await Promise.all([
      action.apply(client, { source: '198.51.100.4' }, 'p1'),
      action.apply(client, { source: '203.0.113.9' }, 'p2'),
    ]);
    const fw = fake.firewall(id);
    expect(admitted(fw, '198.51.100.4')).toBe(false);
    expect(admitted(fw, '203.0.113.9')).toBe(false);
    await Promise.all([action.undo(client, a), action.undo(client, b)]);
    // Started together, neither apply could pass the other as active, so the pieces may come
    // back split finer than the original entries; what each rule admits is exactly the original.
    const cover = (fw: FakeDoFirewall) =>
      fw.inbound_rules.map((r) =>
        minimalCover(((r.sources?.['addresses'] ?? []) as string[]).map((t) => parseRemoteCidr(t)!)).map(
          formatCidr,
        ),
      );
    expect(cover(fake.firewall(id))).toEqual(cover(original));
  });

  it('applying twice is harmless: the second finds the source blocked already', async () => {
    const id = newFirewall();
    const original = fake.firewall(id);
    const { client, action } = setup({ firewallId: id });
    const first = await action.apply(client, { source: '198.51.100.4' }, 'run-5');
    const second = await action.apply(client, { source: '198.51.100.4' }, 'run-5', { active: [first] });
    expect(second.alreadyBlocked).toBe(true);
    await action.undo(client, second);
    await action.undo(client, first);
    expect(writable(fake.firewall(id))).toEqual(writable(original));
  });

  it('finds the firewall by name through links.pages.next', async () => {
    fake.maxPerPage = 2;
    for (let i = 0; i < 4; i++) newFirewall(`other-${i}`);
    const id = newFirewall('by-name-target');
    const { client, action } = setup({ firewallName: 'by-name-target' });
    const record: DigitalOceanUndoRecord = await action.apply(client, { source: '198.51.100.4' }, 'run-6');
    expect(record.scope).toBe(id);
    const pages = fake.server.requests
      .filter((r) => r.path === '/v2/firewalls')
      .map((r) => r.query.get('page'));
    expect(pages.length).toBeGreaterThan(2);
    expect(pages[0]).toBeNull();
    expect(action.describe({ source: '198.51.100.4' }, 'x').apply[0]).toContain('links.pages.next');
    await action.undo(client, record);
  });

  it('refuses, before writing, a narrowing past 1,000 sources in a rule', async () => {
    const many = Array.from({ length: 990 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    const id = fake.addFirewall({
      name: 'big',
      inbound_rules: [{ protocol: 'tcp', ports: '443', sources: { addresses: [...many, '0.0.0.0/0'] } }],
    });
    const { client, action } = setup({ firewallId: id });
    const e = await failure(action.apply(client, { source: '198.51.100.4' }, 'run-7'));
    expect(e.details).toMatchObject({ reason: 'source-limit', limit: 1000 });
    expect(fake.server.count('PUT')).toBe(0);
  });

  it('honours 429 through ratelimit-reset, retries 5xx, reports 404 with DigitalOcean’s error id', async () => {
    const id = newFirewall();
    const now = 1_900_000_000_000;
    const { client, action } = setup({ firewallId: id }, { now: () => now });
    fake.server.rateLimit({
      budget: 0,
      retryAfterSeconds: null,
      headers: { 'ratelimit-reset': String(now / 1000 + 4) },
    });
    const record = await action.apply(client, { source: '198.51.100.4' }, 'run-8');
    expect(sleeps[0]).toBe(4000);
    fake.server.rateLimit(undefined);
    fake.server.failNext(1, 500);
    await action.undo(client, record);
    expect(admitted(fake.firewall(id), '198.51.100.4')).toBe(true);
    const missing = setup({ firewallId: '00000000-0000-4000-8000-000000000000' });
    const e = await failure(missing.action.apply(missing.client, { source: '198.51.100.4' }, 'run-8'));
    expect(e.details).toMatchObject({ status: 404, vendorCode: 'not_found' });
  });

  it('a wrong token fails once with 401, the token never shown', async () => {
    const id = newFirewall();
    const { client, action } = setup({ firewallId: id }, { token: 'dop_v1_WRONG_TOKEN' });
    const e = await failure(action.apply(client, { source: '198.51.100.4' }, 'run-9'));
    expect(e.details).toMatchObject({ status: 401, vendorCode: 'Unauthorized' });
    expect(JSON.stringify({ m: e.message, d: e.details })).not.toContain('WRONG_TOKEN');
    expect(fake.server.requests).toHaveLength(1);
  });

  it('lists the known blocks still in place', async () => {
    const id = newFirewall();
    const { client, action } = setup({ firewallId: id });
    const a = await action.apply(client, { source: '198.51.100.4' }, 'ta');
    const b = await action.apply(client, { source: '192.0.2.7' }, 'tb', { active: [a] });
    expect((await action.list(client, undefined, [a, b])).map((x) => x.tag)).toEqual(['ta', 'tb']);
    expect((await action.list(client, 'tb', [a, b])).map((x) => x.source)).toEqual(['192.0.2.7/32']);
    await action.undo(client, a);
    expect((await action.list(client, undefined, [a, b])).map((x) => x.tag)).toEqual(['tb']);
    await action.undo(client, b);
  });

  it('property: blocks applied with the others as context, lifted in any order, end at the exact firewall', async () => {
    const v4 = fc
      .record({ o: fc.integer({ min: 0, max: 255 }), l: fc.integer({ min: 26, max: 32 }) })
      .map(({ o, l }) => {
        const c = parseRemoteCidr(`10.0.0.${o}/${l}`)!;
        return `10.0.0.${Number(c.network & 255n)}/${l}`;
      });
    const v6 = fc
      .record({ o: fc.integer({ min: 0, max: 255 }), l: fc.integer({ min: 122, max: 128 }) })
      .map(({ o, l }) => formatCidr(parseRemoteCidr(`2001:db8::${o.toString(16)}/${l}`)!));
    const prefix = fc.oneof({ weight: 3, arbitrary: v4 }, { weight: 1, arbitrary: v6 });
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(['0.0.0.0/0', '10.0.0.0/25', '10.0.0.128/26', '192.0.2.0/24', '::/0', '2001:db8::/124'], {
          minLength: 1,
        }),
        fc.array(prefix, { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
        async (picked, blocks, order) => {
          // One allow-all rule and one with the picked entries (never nested in one another).
          // Never one entry nested in another: drop the narrower ones under an allow-all.
          const entries = picked.filter(
            (t) =>
              !(picked.includes('0.0.0.0/0') && t.startsWith('10.')) &&
              !(picked.includes('::/0') && t.startsWith('2001:')),
          );
          const id = fake.addFirewall({
            name: 'prop',
            inbound_rules: [
              { protocol: 'tcp', ports: '443', sources: { addresses: entries } },
              { protocol: 'udp', ports: '0', sources: { addresses: ['0.0.0.0/0', '::/0'] } },
            ],
          });
          const original = fake.firewall(id);
          const { client, action } = setup({ firewallId: id });
          const active: DigitalOceanUndoRecord[] = [];
          for (const source of blocks) {
            active.push(await action.apply(client, { source }, 'p', { active }));
            for (const b of blocks.slice(0, active.length))
              expect(admitted(fake.firewall(id), b)).toBe(false);
          }
          for (let i = 0; active.length > 0; i++) {
            const [r] = active.splice(order[i % order.length]! % active.length, 1);
            await action.undo(client, r!);
          }
          expect(writable(fake.firewall(id))).toEqual(writable(original));
        },
      ),
      { numRuns: 60 },
    );
  });
});
