import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Cidr,
  isCovered,
  overlaps,
  parseRemoteCidr,
  parseSourceParam,
} from '../../../../adapters/node/cloud/cidr.js';
import type { CloudExchange } from '../../../../adapters/node/cloud/http-client.js';
import { createVultrClient, vultrBlock, vultrConfigSchema } from '../../../../adapters/node/cloud/vultr.js';
import { parsePieceNotes } from '../../../../adapters/node/cloud/vultr-notes.js';
import { FloodgateError } from '../../../../core/errors.js';
import { type FakeVultrRule, VultrFake } from '../../../fakes/vultr-fake.js';

const TOKEN = 'VULTR-SECRET-KEY-0123456789';
const fake = new VultrFake(TOKEN);
let baseUrl = '';
let sleeps: number[] = [];
let exchanges: CloudExchange[] = [];

function newGroup(maxRuleCount = 200): string {
  const g = fake.addGroup({ maxRuleCount });
  fake.addRule(g, {
    ip_type: 'v4',
    protocol: 'tcp',
    port: '443',
    subnet: '0.0.0.0',
    subnet_size: 0,
    notes: 'web',
  });
  fake.addRule(g, {
    ip_type: 'v4',
    protocol: 'tcp',
    port: '22',
    subnet: '203.0.113.0',
    subnet_size: 24,
    notes: 'office',
  });
  fake.addRule(g, { ip_type: 'v4', protocol: 'udp', port: '53', subnet: '0.0.0.0', subnet_size: 0 });
  fake.addRule(g, { ip_type: 'v4', protocol: 'icmp', subnet: '0.0.0.0', subnet_size: 0 });
  fake.addRule(g, {
    ip_type: 'v6',
    protocol: 'tcp',
    port: '443',
    subnet: '::',
    subnet_size: 0,
    notes: 'web6',
  });
  fake.addRule(g, {
    ip_type: 'v4',
    protocol: 'tcp',
    port: '80',
    subnet: '0.0.0.0',
    subnet_size: 0,
    source: 'cloudflare',
  });
  return g;
}

function setup(group: string, options: { token?: string; maxAttempts?: number } = {}) {
  const config = vultrConfigSchema.parse({
    baseUrl,
    token: options.token ?? TOKEN,
    firewallGroupId: group,
    maxAttempts: options.maxAttempts ?? 4,
  });
  const client = createVultrClient(config, {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  }).withObserver((e) => exchanges.push(e));
  return { client, action: vultrBlock(config) };
}

/** Whether some subnet accept rule admits the source (checked independently of the adapter). */
function accepted(rules: FakeVultrRule[], source: string, protocol?: string): boolean {
  const s = parseSourceParam(source);
  const subnets = rules
    .filter((r) => r.source === '' && (protocol === undefined || r.protocol === protocol))
    .map((r) => parseRemoteCidr(`${r.subnet}/${r.subnet_size}`)!);
  return isCovered(s, subnets);
}

/** A group's rules without their ids (undo recreates rules, so ids change). */
const shape = (rules: FakeVultrRule[]) => rules.map(({ id: _id, ...rest }) => JSON.stringify(rest)).sort();

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
  fake.server.onRequest = undefined;
  fake.maxPerPage = 500;
});

describe('Vultr firewall group block (narrowing accept rules)', () => {
  it('describe() explains accept-only groups and the rule ceiling, with the exact request lines', async () => {
    const g = newGroup();
    const { client, action } = setup(g);
    const preview = action.describe({ source: '198.51.100.4' }, 'run-1');
    expect(preview.note).toContain('only accept');
    expect(preview.note).toContain('max_rule_count');
    expect(preview.note).toContain('32 rules');
    expect(preview.apply[0]).toBe(`GET ${baseUrl}/firewalls/${g} Authorization: Bearer ***`);
    expect(preview.apply[1]).toContain(
      `GET ${baseUrl}/firewalls/${g}/rules?per_page=500 Authorization: Bearer ***`,
    );
    expect(preview.apply[2]).toContain(
      `POST ${baseUrl}/firewalls/${g}/rules Authorization: Bearer *** {"ip_type":"v4"`,
    );
    await action.apply(client, { source: '198.51.100.4' }, 'run-1');
    expect(exchanges[0]!.line).toBe(preview.apply[0]);
    expect(preview.apply[1]!.startsWith(exchanges[1]!.line)).toBe(true);
    expect(JSON.stringify(preview)).not.toContain(TOKEN);
  });

  it('replaces each covering rule by its pieces, then undo restores the group exactly', async () => {
    const g = newGroup();
    const original = fake.rules(g);
    const { client, action } = setup(g);
    const record = await action.apply(client, { source: '198.51.100.4' }, 'run-2');
    const after = fake.rules(g);
    for (const protocol of ['tcp', 'udp', 'icmp']) {
      expect(accepted(after, '198.51.100.4', protocol)).toBe(false);
      expect(accepted(after, '198.51.100.5', protocol)).toBe(true);
    }
    expect(accepted(after, '203.0.113.9', 'tcp')).toBe(true);
    expect(after.find((r) => r.source === 'cloudflare')).toBeDefined();
    expect(record.changes.map((c) => `${c.deleted.protocol}/${c.deleted.port}`)).toEqual([
      'tcp/443',
      'udp/53',
      'icmp/',
    ]);
    expect(record.changes.every((c) => c.created.length === 32)).toBe(true);
    const piece = after.find((r) => r.port === '443' && r.ip_type === 'v4' && r.subnet === '198.51.100.5')!;
    expect(parsePieceNotes(piece.notes)).toMatchObject({ tag: 'run-2', rootNotes: 'web', complete: true });
    expect(piece.notes).toBe('[floodgate:run-2] hole=198.51.100.4/32 root=0.0.0.0/0 | web');

    const stored = action.parseRecord(JSON.parse(JSON.stringify(record)));
    expect(await action.undo(client, stored)).toEqual({ wasPresent: true });
    expect(shape(fake.rules(g))).toEqual(shape(original));
    expect(await action.undo(client, stored)).toEqual({ wasPresent: false });
  });

  it('narrows IPv6 rules for an IPv6 prefix and restores them', async () => {
    const g = newGroup();
    const original = fake.rules(g);
    const { client, action } = setup(g);
    const record = await action.apply(client, { source: '2001:db8::/32' }, 'run-3');
    expect(record.changes).toHaveLength(1);
    expect(accepted(fake.rules(g), '2001:db8::1')).toBe(false);
    expect(accepted(fake.rules(g), '2001:db9::1')).toBe(true);
    await action.undo(client, record);
    expect(shape(fake.rules(g))).toEqual(shape(original));
  });

  it('refuses a narrowing that would pass the group’s max_rule_count, before changing anything', async () => {
    const g = newGroup(50);
    const { client, action } = setup(g);
    const e = await failure(action.apply(client, { source: '2001:db8::1' }, 'run-4'));
    expect(e.details).toMatchObject({ reason: 'rule-limit', limit: 50, current: 6, needed: 128 });
    expect(e.message).toContain('at most 50');
    expect(fake.server.count('POST') + fake.server.count('DELETE')).toBe(0);
  });

  it('does nothing for a source no rule accepts, and records that', async () => {
    const g = fake.addGroup();
    fake.addRule(g, { ip_type: 'v4', protocol: 'tcp', port: '22', subnet: '203.0.113.0', subnet_size: 24 });
    const { client, action } = setup(g);
    const record = await action.apply(client, { source: '198.51.100.4' }, 'run-5');
    expect(record).toMatchObject({ alreadyBlocked: true, changes: [] });
    expect(fake.server.count('POST')).toBe(0);
    expect(await action.undo(client, record)).toEqual({ wasPresent: false });
  });

  it('keeps a second block in place whichever is lifted first, and ends exactly at the original', async () => {
    for (const firstOut of ['a', 'b'] as const) {
      const g = newGroup();
      const original = fake.rules(g);
      const { client, action } = setup(g);
      const a = await action.apply(client, { source: '198.51.100.4' }, 'run-a');
      const b = await action.apply(client, { source: '198.51.100.5' }, 'run-b');
      const [lifted, kept] = firstOut === 'a' ? [a, b] : [b, a];
      await action.undo(client, lifted);
      const now = fake.rules(g);
      expect(accepted(now, kept.source, 'tcp')).toBe(false);
      expect(accepted(now, lifted.source, 'tcp')).toBe(true);
      // The same rules (by subnet) as the kept block alone would give.
      const twin = newGroup();
      await setup(twin).action.apply(setup(twin).client, { source: kept.source }, 'twin');
      const subnets = (rules: FakeVultrRule[]) =>
        rules.map((r) => `${r.protocol}/${r.port}/${r.subnet}/${r.subnet_size}/${r.source}`).sort();
      expect(subnets(now)).toEqual(subnets(fake.rules(twin)));
      // Block b took out a whole piece and left no note behind: its record finds it.
      expect(await action.list(client, kept.tag, [a, b])).toEqual([
        expect.objectContaining({ tag: kept.tag, source: kept.source }),
      ]);
      expect(await action.list(client, lifted.tag, [a, b])).toEqual([]);
      await action.undo(client, kept);
      expect(shape(fake.rules(g))).toEqual(shape(original));
    }
  });

  it('is idempotent: applying again finds the source blocked; a failed apply takes its pieces back', async () => {
    const g = newGroup();
    const original = fake.rules(g);
    const { client, action } = setup(g, { maxAttempts: 1 });
    // GET group, GET rules, 5 piece POSTs, then a 503 on the sixth.
    fake.server.failAfter(7, 1, 503);
    const e = await failure(action.apply(client, { source: '198.51.100.4' }, 'run-6'));
    expect(e.details).toMatchObject({ status: 503 });
    expect(shape(fake.rules(g))).toEqual(shape(original));
    const record = await action.apply(client, { source: '198.51.100.4' }, 'run-6');
    const again = await action.apply(client, { source: '198.51.100.4' }, 'run-6');
    expect(again.alreadyBlocked).toBe(true);
    await action.undo(client, again);
    await action.undo(client, record);
    expect(shape(fake.rules(g))).toEqual(shape(original));
  });

  it('counts a 404 on delete as done (the rule vanished meanwhile)', async () => {
    const g = fake.addGroup();
    const rule = fake.addRule(g, {
      ip_type: 'v4',
      protocol: 'tcp',
      port: '22',
      subnet: '198.51.100.0',
      subnet_size: 24,
    });
    const { client, action } = setup(g);
    fake.server.onRequest = (r) => {
      if (r.method === 'DELETE') fake.removeRule(g, rule.id);
    };
    const record = await action.apply(client, { source: '198.51.100.4' }, 'run-7');
    expect(exchanges.find((x) => x.line.startsWith('DELETE'))).toMatchObject({ status: 404, ok: true });
    expect(record.changes[0]!.created).toHaveLength(8);
    fake.server.onRequest = undefined;
    await action.undo(client, record);
    expect(fake.rules(g).map((r) => `${r.subnet}/${r.subnet_size}`)).toEqual(['198.51.100.0/24']);
  });

  it('reads every page of rules through meta.links.next', async () => {
    fake.maxPerPage = 4;
    const g = newGroup();
    const original = fake.rules(g);
    const { client, action } = setup(g);
    const record = await action.apply(client, { source: '198.51.100.4' }, 'run-8');
    const cursors = fake.server.requests.filter((r) => r.method === 'GET' && r.query.has('cursor')).length;
    expect(cursors).toBeGreaterThan(0);
    expect(record.changes).toHaveLength(3);
    await action.undo(client, record);
    expect(shape(fake.rules(g))).toEqual(shape(original));
  });

  it('honours 429 retry-after, retries 5xx, never retries 401, never shows the token', async () => {
    const g = newGroup();
    const { client, action } = setup(g);
    fake.server.rateLimit({ budget: 3, retryAfterSeconds: 1 });
    const record = await action.apply(client, { source: '198.51.100.4' }, 'run-9');
    expect(sleeps.filter((ms) => ms === 1000).length).toBeGreaterThan(0);
    fake.server.rateLimit(undefined);
    fake.server.failNext(2, 500);
    await action.undo(client, record);
    expect(accepted(fake.rules(g), '198.51.100.4')).toBe(true);
    const wrong = setup(g, { token: 'VULTR-WRONG-KEY' });
    fake.server.requests.length = 0;
    const e = await failure(wrong.action.apply(wrong.client, { source: '198.51.100.4' }, 'run-9'));
    expect(e.details).toMatchObject({ status: 401, vendorMessage: 'Invalid API token.' });
    expect(JSON.stringify({ m: e.message, d: e.details })).not.toContain('WRONG-KEY');
    expect(fake.server.requests).toHaveLength(1);
  });

  it('lists its blocks from the rule notes, by tag', async () => {
    const g = newGroup();
    const { client, action } = setup(g);
    const a = await action.apply(client, { source: '198.51.100.4' }, 'la');
    const b = await action.apply(client, { source: '2001:db8::/32' }, 'lb');
    const all = await action.list(client);
    expect(all.map((x) => `${x.tag} ${x.source}`).sort()).toEqual(['la 198.51.100.4/32', 'lb 2001:db8::/32']);
    expect(all.find((x) => x.tag === 'la')!.ids).toHaveLength(96);
    expect(await action.list(client, 'lb')).toHaveLength(1);
    await action.undo(client, a);
    await action.undo(client, b);
    expect(await action.list(client)).toEqual([]);
  });

  it('property: any blocks, lifted in any order, keep the accepted set right and end at the original rules', async () => {
    const prefix = fc
      .record({ o: fc.integer({ min: 0, max: 255 }), l: fc.integer({ min: 26, max: 32 }) })
      .map(({ o, l }) => {
        const c = parseRemoteCidr(`10.0.0.${o}/${l}`)!;
        return `10.0.0.${Number(c.network & 255n)}/${l}`;
      });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom('10.0.0.0/24', '10.0.0.0/25', '10.0.0.128/26', '0.0.0.0/0'), {
          minLength: 1,
          maxLength: 2,
        }),
        fc.array(prefix, { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
        async (subnets, blocks, order) => {
          const g = fake.addGroup({ maxRuleCount: 500 });
          for (const text of subnets) {
            const [subnet, size] = text.split('/');
            fake.addRule(g, {
              ip_type: 'v4',
              protocol: 'tcp',
              port: '443',
              subnet: subnet!,
              subnet_size: Number(size),
              notes: text,
            });
          }
          const original = fake.rules(g);
          const { client, action } = setup(g);
          const records = [];
          for (const [i, source] of blocks.entries()) {
            records.push(await action.apply(client, { source }, `p${i}`));
            for (const b of blocks.slice(0, i + 1)) expect(accepted(fake.rules(g), b)).toBe(false);
          }
          const lifted: Cidr[] = [];
          for (let i = 0; records.length > 0; i++) {
            const [r] = records.splice(order[i % order.length]! % records.length, 1);
            await action.undo(client, r!);
            lifted.push(parseSourceParam(r!.source));
            // The blocks still in place stay blocked, unless they overlap one lifted already (a
            // block found already blocked at apply holds nothing of its own).
            for (const other of records) {
              const o = parseSourceParam(other.source);
              if (lifted.some((l) => overlaps(l, o))) continue;
              expect(accepted(fake.rules(g), other.source)).toBe(false);
            }
          }
          expect(shape(fake.rules(g))).toEqual(shape(original));
        },
      ),
      { numRuns: 40 },
    );
  });
});
