/**
 * A fake of DigitalOcean's Cloud Firewalls API (v2), as documented: firewalls with inbound and
 * outbound allow rules ({protocol, ports, sources|destinations:{addresses, droplet_ids,
 * load_balancer_uids, kubernetes_ids, tags}}); GET /v2/firewalls paginated with page/per_page
 * and links.pages.next; GET and PUT /v2/firewalls/{id} (PUT replaces the writable attributes and
 * resets the ones left out); POST and DELETE /v2/firewalls/{id}/rules (204). Errors are
 * {id, message, request_id}: 401 Unauthorized, 404 not_found, 400 bad_request for an unreadable
 * body, 422 unprocessable_entity for invalid rules (limits: 50 rules per firewall, 1,000 sources
 * per rule), 429 too_many_requests. Every answer carries ratelimit-limit/-remaining/-reset.
 */
import { randomUUID } from 'node:crypto';
import { Address4, Address6 } from 'ip-address';
import { BAD_JSON, FakeHttpServer, type FakeReply, type FakeRequest } from './fake-server.js';

export interface FakeDoRule {
  protocol: string;
  ports?: string;
  sources?: Record<string, unknown[]>;
  destinations?: Record<string, unknown[]>;
  action?: string;
}

export interface FakeDoFirewall {
  id: string;
  name: string;
  status: string;
  created_at: string;
  pending_changes: unknown[];
  inbound_rules: FakeDoRule[];
  outbound_rules: FakeDoRule[];
  droplet_ids: number[];
  tags: string[];
}

const error = (status: number, id: string, message: string): FakeReply => ({
  status,
  body: { id, message, request_id: randomUUID() },
});

const SOURCE_KEYS = ['addresses', 'droplet_ids', 'load_balancer_uids', 'kubernetes_ids', 'tags'];

/** As stored and answered: "For ICMP rules this parameter will always return "0"". */
const stored = (rules: readonly FakeDoRule[]): FakeDoRule[] =>
  structuredClone(rules).map((r) => (r.protocol === 'icmp' ? { ...r, ports: '0' } : r));

function validAddress(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  const address = text.split('/')[0] ?? '';
  return address.includes(':') ? Address6.isValid(text) : Address4.isValid(text);
}

/** Why a rule is refused, or undefined. */
function invalidRule(rule: unknown, side: 'sources' | 'destinations'): string | undefined {
  if (!rule || typeof rule !== 'object') return 'each rule must be an object';
  const r = rule as Record<string, unknown>;
  if (!['tcp', 'udp', 'icmp'].includes(r['protocol'] as string)) return 'protocol must be tcp, udp or icmp';
  if (r['protocol'] !== 'icmp') {
    const ports = r['ports'];
    if (typeof ports !== 'string') return 'ports is required for tcp and udp rules';
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(ports);
    if (!(ports === '0' || ports === 'all' || (m && Number(m[1]) >= 1 && Number(m[2] ?? m[1]) <= 65535))) {
      return `invalid ports "${ports}"`;
    }
  }
  if (r['action'] !== undefined && r['action'] !== 'allow' && r['action'] !== 'deny') {
    return 'action must be allow or deny';
  }
  const targets = r[side];
  if (!targets || typeof targets !== 'object' || Array.isArray(targets)) {
    return `You specified an invalid type for one of the ${side}.`;
  }
  let count = 0;
  for (const [key, value] of Object.entries(targets as Record<string, unknown>)) {
    if (!SOURCE_KEYS.includes(key)) return `unknown ${side} field ${key}`;
    if (!Array.isArray(value)) return `${side}.${key} must be an array`;
    count += value.length;
    if (key === 'addresses' && !value.every(validAddress))
      return `${side}.addresses holds an invalid address`;
  }
  if (count === 0) return `a rule needs at least one entry in ${side}`;
  if (count > 1000) return `rules are limited to 1000 entries in ${side}`;
  return undefined;
}

export class DigitalOceanFake {
  readonly server: FakeHttpServer;
  readonly firewalls = new Map<string, FakeDoFirewall>();
  /** Page size used when a list request gives no per_page. */
  defaultPerPage = 20;
  /** Largest page the fake hands out (DigitalOcean's is 200; tests lower it to see pagination). */
  maxPerPage = 200;
  private remaining = 5000;

  constructor(readonly token: string) {
    this.server = new FakeHttpServer(token, {
      unauthorized: () => error(401, 'Unauthorized', 'Unable to authenticate you'),
      tooManyRequests: () => error(429, 'too_many_requests', 'API Rate limit exceeded.'),
      serverError: (status) => error(status, 'server_error', 'Unexpected server-side error'),
      notFound: () => error(404, 'not_found', 'The resource you were accessing could not be found.'),
    });
    this.server.everyAnswer = () => ({
      'ratelimit-limit': '5000',
      'ratelimit-remaining': String(Math.max(0, --this.remaining)),
      'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 60),
    });
    this.server.route('GET', '/v2/firewalls', (r) => this.list(r));
    this.server.route('GET', '/v2/firewalls/:id', (r) => this.get(r));
    this.server.route('PUT', '/v2/firewalls/:id', (r) => this.put(r));
    this.server.route('POST', '/v2/firewalls/:id/rules', (r) => this.rules(r, 'add'));
    this.server.route('DELETE', '/v2/firewalls/:id/rules', (r) => this.rules(r, 'remove'));
  }

  async start(): Promise<string> {
    return `${await this.server.start()}/v2`;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  addFirewall(fw: {
    name: string;
    inbound_rules: FakeDoRule[];
    outbound_rules?: FakeDoRule[];
    droplet_ids?: number[];
    tags?: string[];
  }): string {
    const id = randomUUID();
    this.firewalls.set(id, {
      id,
      name: fw.name,
      status: 'succeeded',
      created_at: '2026-01-01T00:00:00Z',
      pending_changes: [],
      inbound_rules: stored(fw.inbound_rules),
      outbound_rules: stored(fw.outbound_rules ?? []),
      droplet_ids: fw.droplet_ids ?? [],
      tags: fw.tags ?? [],
    });
    return id;
  }

  firewall(id: string): FakeDoFirewall {
    return structuredClone(this.firewalls.get(id)!);
  }

  private list(r: FakeRequest): FakeReply {
    const perPage = Math.min(
      this.maxPerPage,
      Math.max(1, Number(r.query.get('per_page') ?? this.defaultPerPage)),
    );
    const page = Math.max(1, Number(r.query.get('page') ?? 1));
    const all = [...this.firewalls.values()];
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (p: number) => `${this.server.url}/v2/firewalls?page=${p}&per_page=${perPage}`;
    const pages: Record<string, string> = {};
    if (page > 1) Object.assign(pages, { first: link(1), prev: link(page - 1) });
    if (page < last) Object.assign(pages, { next: link(page + 1), last: link(last) });
    return {
      status: 200,
      body: {
        firewalls: all.slice((page - 1) * perPage, page * perPage),
        links: { pages },
        meta: { total: all.length },
      },
    };
  }

  private get(r: FakeRequest): FakeReply {
    const fw = this.firewalls.get(r.params['id']!);
    if (!fw) return error(404, 'not_found', 'The resource you were accessing could not be found.');
    return { status: 200, body: { firewall: fw } };
  }

  private validate(body: Record<string, unknown>): string | undefined {
    if (typeof body['name'] !== 'string' || body['name'].length === 0) return 'name is required';
    const inbound = body['inbound_rules'] ?? [];
    const outbound = body['outbound_rules'] ?? [];
    if (!Array.isArray(inbound) || !Array.isArray(outbound)) return 'rules must be arrays';
    if (inbound.length + outbound.length > 50) return 'a firewall can have up to 50 rules';
    for (const rule of inbound) {
      const why = invalidRule(rule, 'sources');
      if (why) return why;
    }
    for (const rule of outbound) {
      const why = invalidRule(rule, 'destinations');
      if (why) return why;
    }
    return undefined;
  }

  private put(r: FakeRequest): FakeReply {
    const fw = this.firewalls.get(r.params['id']!);
    if (!fw) return error(404, 'not_found', 'The resource you were accessing could not be found.');
    if (r.body === BAD_JSON || !r.body || typeof r.body !== 'object') {
      return error(400, 'bad_request', 'error parsing request body');
    }
    const body = r.body as Record<string, unknown>;
    const why = this.validate(body);
    if (why) return error(422, 'unprocessable_entity', why);
    // Attributes left out are reset to their defaults (API documentation of PUT).
    fw.name = body['name'] as string;
    fw.inbound_rules = stored((body['inbound_rules'] as FakeDoRule[] | undefined) ?? []);
    fw.outbound_rules = stored((body['outbound_rules'] as FakeDoRule[] | undefined) ?? []);
    fw.droplet_ids = structuredClone((body['droplet_ids'] as number[] | undefined) ?? []);
    fw.tags = structuredClone((body['tags'] as string[] | undefined) ?? []);
    return { status: 200, body: { firewall: fw } };
  }

  private rules(r: FakeRequest, op: 'add' | 'remove'): FakeReply {
    const fw = this.firewalls.get(r.params['id']!);
    if (!fw) return error(404, 'not_found', 'The resource you were accessing could not be found.');
    if (r.body === BAD_JSON || !r.body || typeof r.body !== 'object') {
      return error(400, 'bad_request', 'error parsing request body');
    }
    const body = r.body as { inbound_rules?: FakeDoRule[]; outbound_rules?: FakeDoRule[] };
    for (const rule of body.inbound_rules ?? []) {
      const why = invalidRule(rule, 'sources');
      if (why) return error(422, 'unprocessable_entity', why);
    }
    const same = (a: FakeDoRule, b: FakeDoRule) => JSON.stringify(a) === JSON.stringify(b);
    if (op === 'add') {
      fw.inbound_rules.push(...stored(body.inbound_rules ?? []));
      fw.outbound_rules.push(...stored(body.outbound_rules ?? []));
    } else {
      fw.inbound_rules = fw.inbound_rules.filter((x) => !(body.inbound_rules ?? []).some((y) => same(x, y)));
      fw.outbound_rules = fw.outbound_rules.filter(
        (x) => !(body.outbound_rules ?? []).some((y) => same(x, y)),
      );
    }
    return { status: 204 };
  }
}
