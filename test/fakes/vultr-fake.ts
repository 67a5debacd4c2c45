/**
 * A fake of Vultr API v2 firewall groups, as documented: GET /v2/firewalls/{group} answering
 * firewall_group (with rule_count and max_rule_count); GET /v2/firewalls/{group}/rules with
 * cursor pagination (per_page, cursor, meta.total and meta.links.next/prev); POST of
 * {ip_type, protocol, subnet, subnet_size, port, source, notes} answering 201 {firewall_rule};
 * DELETE /v2/firewalls/{group}/rules/{id} answering 204. Rules only accept and have integer ids.
 * Errors are {error, status}: 401, 400 for invalid fields or a full group, 404, 429. The texts
 * of the messages are stand-ins (the documentation gives the shape, not the wording).
 */
import { randomUUID } from 'node:crypto';
import { Address4, Address6 } from 'ip-address';
import { BAD_JSON, FakeHttpServer, type FakeReply, type FakeRequest } from './fake-server.js';

export interface FakeVultrRule {
  id: number;
  type: 'v4' | 'v6';
  ip_type: 'v4' | 'v6';
  action: 'accept';
  protocol: string;
  port: string;
  subnet: string;
  subnet_size: number;
  source: string;
  notes: string;
}

interface Group {
  id: string;
  description: string;
  date_created: string;
  date_modified: string;
  max_rule_count: number;
  rules: FakeVultrRule[];
}

const error = (status: number, message: string): FakeReply => ({ status, body: { error: message, status } });

const PROTOCOLS = ['icmp', 'tcp', 'udp', 'gre', 'esp', 'ah'];

export class VultrFake {
  readonly server: FakeHttpServer;
  private readonly groups = new Map<string, Group>();
  private nextId = 1;
  /** Page size used when a list request gives no per_page (Vultr's default is 100). */
  defaultPerPage = 100;
  /** Largest page handed out (Vultr's maximum is 500; tests lower it to see the cursor). */
  maxPerPage = 500;

  constructor(readonly token: string) {
    this.server = new FakeHttpServer(token, {
      unauthorized: () => error(401, 'Invalid API token.'),
      tooManyRequests: () => error(429, 'Rate limit exceeded.'),
      serverError: (status) => error(status, 'Internal server error.'),
      notFound: () => error(404, 'Not found.'),
    });
    this.server.route('GET', '/v2/firewalls/:group', (r) => this.getGroup(r));
    this.server.route('GET', '/v2/firewalls/:group/rules', (r) => this.list(r));
    this.server.route('POST', '/v2/firewalls/:group/rules', (r) => this.create(r));
    this.server.route('DELETE', '/v2/firewalls/:group/rules/:id', (r) => this.remove(r));
  }

  async start(): Promise<string> {
    return `${await this.server.start()}/v2`;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  addGroup(options: { description?: string; maxRuleCount?: number } = {}): string {
    const id = randomUUID();
    this.groups.set(id, {
      id,
      description: options.description ?? 'fake group',
      date_created: '2026-01-01T00:00:00+00:00',
      date_modified: '2026-01-01T00:00:00+00:00',
      max_rule_count: options.maxRuleCount ?? 50,
      rules: [],
    });
    return id;
  }

  /** Seeds a rule as if an operator had made it; answers it. */
  addRule(
    group: string,
    rule: Partial<FakeVultrRule> & Pick<FakeVultrRule, 'ip_type' | 'subnet' | 'subnet_size'>,
  ) {
    const stored: FakeVultrRule = {
      id: this.nextId++,
      type: rule.ip_type,
      ip_type: rule.ip_type,
      action: 'accept',
      protocol: rule.protocol ?? 'tcp',
      port: rule.port ?? '',
      subnet: rule.subnet,
      subnet_size: rule.subnet_size,
      source: rule.source ?? '',
      notes: rule.notes ?? '',
    };
    this.groups.get(group)!.rules.push(stored);
    return stored;
  }

  /** Deletes a rule behind the client's back (an operator, a concurrent tool). */
  removeRule(group: string, id: number): void {
    const g = this.groups.get(group)!;
    g.rules = g.rules.filter((r) => r.id !== id);
  }

  rules(group: string): FakeVultrRule[] {
    return structuredClone(this.groups.get(group)?.rules ?? []);
  }

  private getGroup(r: FakeRequest): FakeReply {
    const g = this.groups.get(r.params['group']!);
    if (!g) return error(404, 'Invalid firewall group.');
    const { rules, ...rest } = g;
    return {
      status: 200,
      body: { firewall_group: { ...rest, instance_count: 0, rule_count: rules.length } },
    };
  }

  private list(r: FakeRequest): FakeReply {
    const g = this.groups.get(r.params['group']!);
    if (!g) return error(404, 'Invalid firewall group.');
    const perPage = Math.min(
      this.maxPerPage,
      Math.max(1, Number(r.query.get('per_page') ?? this.defaultPerPage)),
    );
    const cursor = r.query.get('cursor');
    let offset = 0;
    if (cursor) {
      const decoded = Buffer.from(cursor, 'base64').toString('utf8');
      if (!/^next__\d+$/.test(decoded)) return error(400, 'Invalid cursor.');
      offset = Number(decoded.slice(6));
    }
    const page = g.rules.slice(offset, offset + perPage);
    const next =
      offset + perPage < g.rules.length ? Buffer.from(`next__${offset + perPage}`).toString('base64') : '';
    const prev = offset > 0 ? Buffer.from(`prev__${Math.max(0, offset - perPage)}`).toString('base64') : '';
    return {
      status: 200,
      body: { firewall_rules: page, meta: { total: g.rules.length, links: { next, prev } } },
    };
  }

  private create(r: FakeRequest): FakeReply {
    const g = this.groups.get(r.params['group']!);
    if (!g) return error(404, 'Invalid firewall group.');
    if (r.body === BAD_JSON || !r.body || typeof r.body !== 'object') return error(400, 'Invalid JSON.');
    const b = r.body as Record<string, unknown>;
    if (b['ip_type'] !== 'v4' && b['ip_type'] !== 'v6')
      return error(400, 'Invalid ip_type: must be v4 or v6.');
    if (typeof b['protocol'] !== 'string' || !PROTOCOLS.includes(b['protocol'])) {
      return error(400, 'Invalid protocol.');
    }
    const subnet = b['subnet'];
    const size = b['subnet_size'];
    const v4 = b['ip_type'] === 'v4';
    if (
      typeof subnet !== 'string' ||
      !(v4
        ? Address4.isValid(subnet) && !subnet.includes('/')
        : Address6.isValid(subnet) && !subnet.includes('/'))
    ) {
      return error(400, 'Invalid subnet for ip_type.');
    }
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || size > (v4 ? 32 : 128)) {
      return error(400, 'Invalid subnet_size.');
    }
    const port = b['port'];
    if (b['protocol'] === 'tcp' || b['protocol'] === 'udp') {
      if (typeof port !== 'string' || !/^\d{1,5}(:\d{1,5})?$/.test(port)) return error(400, 'Invalid port.');
    }
    const source = b['source'] ?? '';
    if (source !== '' && source !== 'cloudflare') return error(400, 'Invalid source.');
    const notes = b['notes'] ?? '';
    if (typeof notes !== 'string' || notes.length > 255)
      return error(400, 'Notes must be at most 255 characters.');
    if (g.rules.length >= g.max_rule_count) return error(400, 'Firewall group rule limit reached.');
    const rule = this.addRule(g.id, {
      ip_type: b['ip_type'],
      protocol: b['protocol'],
      port: typeof port === 'string' ? port : '',
      subnet,
      subnet_size: size,
      source: source as string,
      notes,
    });
    return { status: 201, body: { firewall_rule: rule } };
  }

  private remove(r: FakeRequest): FakeReply {
    const g = this.groups.get(r.params['group']!);
    if (!g) return error(404, 'Invalid firewall group.');
    const id = Number(r.params['id']);
    const index = g.rules.findIndex((x) => x.id === id);
    if (index === -1) return error(404, 'Invalid firewall rule.');
    g.rules.splice(index, 1);
    return { status: 204 };
  }
}
