/**
 * A fake of Cloudflare's zone IP Access Rules API (client/v4), as documented: the
 * {success, errors:[{code,message}], messages, result} envelope, POST/GET/DELETE on
 * /zones/{zone}/firewall/access_rules/rules, ip / ip6 / ip_range targets with the allowed range
 * sizes (IPv4 /16 /24, IPv6 /32 /48 /64), error 10009 for a duplicate configuration, list
 * filters (configuration.target, configuration.value, mode, notes as a case-insensitive
 * substring) with page/per_page and result_info. Error codes other than 10009 are plausible
 * stand-ins (the documentation does not list them): 10000 authentication, 7003 unknown zone,
 * 10001 validation / not found, 971 throttled.
 */
import { randomBytes } from 'node:crypto';
import { Address4, Address6 } from 'ip-address';
import { BAD_JSON, FakeHttpServer, type FakeReply, type FakeRequest } from './fake-server.js';

export interface FakeAccessRule {
  id: string;
  mode: string;
  notes: string;
  configuration: { target: string; value: string };
  allowed_modes: string[];
  scope: { id: string; type: 'zone' };
  created_on: string;
  modified_on: string;
  paused: boolean;
}

const MODES = ['block', 'challenge', 'whitelist', 'js_challenge', 'managed_challenge'];

const fail = (status: number, code: number, message: string): FakeReply => ({
  status,
  body: { success: false, errors: [{ code, message }], messages: [], result: null },
});

const ok = (result: unknown, extra: Record<string, unknown> = {}): FakeReply => ({
  status: 200,
  body: { success: true, errors: [], messages: [], result, ...extra },
});

/** Why a configuration is refused, or undefined when Cloudflare would take it. */
function invalidConfiguration(c: unknown): string | undefined {
  if (!c || typeof c !== 'object') return 'configuration is required';
  const { target, value } = c as { target?: unknown; value?: unknown };
  if (typeof value !== 'string') return 'configuration.value must be a string';
  switch (target) {
    case 'ip':
      return Address4.isValid(value) && !value.includes('/') ? undefined : 'invalid IPv4 address';
    case 'ip6':
      return Address6.isValid(value) && !value.includes('/') ? undefined : 'invalid IPv6 address';
    case 'ip_range': {
      const [address, length] = value.split('/');
      if (address === undefined || length === undefined) return 'ip_range needs a prefix length';
      if (Address4.isValid(address) && !address.includes(':')) {
        return ['16', '24'].includes(length) ? undefined : 'IPv4 ranges must be /16 or /24';
      }
      if (Address6.isValid(address)) {
        return ['32', '48', '64'].includes(length) ? undefined : 'IPv6 ranges must be /32, /48 or /64';
      }
      return 'invalid ip_range';
    }
    case 'asn':
    case 'country':
      return undefined;
    default:
      return 'configuration.target must be one of ip, ip6, ip_range, asn, country';
  }
}

export class CloudflareFake {
  readonly server: FakeHttpServer;
  private readonly zones = new Map<string, Map<string, FakeAccessRule>>();
  private clock = Date.parse('2026-01-01T00:00:00Z');

  constructor(
    readonly token: string,
    zoneIds: readonly string[],
  ) {
    for (const z of zoneIds) this.zones.set(z, new Map());
    this.server = new FakeHttpServer(token, {
      unauthorized: () => fail(401, 10000, 'Authentication error'),
      tooManyRequests: () => fail(429, 971, 'Please wait and consider throttling your request speed'),
      serverError: (status) => fail(status, 10002, 'Internal server error'),
      notFound: (r) =>
        fail(404, 7003, `Could not route to ${r.path}, perhaps your object identifier is invalid?`),
    });
    const base = '/client/v4/zones/:zone/firewall/access_rules/rules';
    this.server.route('POST', base, (r) => this.create(r));
    this.server.route('GET', base, (r) => this.list(r));
    this.server.route('DELETE', `${base}/:id`, (r) => this.remove(r));
  }

  /** Starts the server; answers its base URL (".../client/v4"). */
  async start(): Promise<string> {
    return `${await this.server.start()}/client/v4`;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  rules(zone: string): FakeAccessRule[] {
    return [...(this.zones.get(zone)?.values() ?? [])];
  }

  /** Seeds a rule as if an operator had made it. */
  addRule(
    zone: string,
    rule: { mode: string; notes?: string; configuration: { target: string; value: string } },
  ) {
    return this.insert(zone, rule.mode, rule.notes ?? '', rule.configuration);
  }

  private insert(
    zone: string,
    mode: string,
    notes: string,
    configuration: { target: string; value: string },
  ) {
    this.clock += 1000;
    const now = new Date(this.clock).toISOString();
    const rule: FakeAccessRule = {
      id: randomBytes(16).toString('hex'),
      mode,
      notes,
      configuration: { ...configuration },
      allowed_modes: [...MODES],
      scope: { id: zone, type: 'zone' },
      created_on: now,
      modified_on: now,
      paused: false,
    };
    this.zones.get(zone)!.set(rule.id, rule);
    return rule;
  }

  private create(r: FakeRequest): FakeReply {
    const zone = this.zones.get(r.params['zone']!);
    if (!zone)
      return fail(404, 7003, `Could not route to ${r.path}, perhaps your object identifier is invalid?`);
    if (r.body === BAD_JSON || !r.body || typeof r.body !== 'object')
      return fail(400, 10001, 'Invalid JSON body');
    const body = r.body as { mode?: unknown; configuration?: unknown; notes?: unknown };
    if (typeof body.mode !== 'string' || !MODES.includes(body.mode)) {
      return fail(400, 10001, `mode must be one of ${MODES.join(', ')}`);
    }
    const invalid = invalidConfiguration(body.configuration);
    if (invalid) return fail(400, 10001, invalid);
    if (body.notes !== undefined && typeof body.notes !== 'string')
      return fail(400, 10001, 'notes must be a string');
    const configuration = body.configuration as { target: string; value: string };
    for (const existing of zone.values()) {
      if (
        existing.configuration.target === configuration.target &&
        existing.configuration.value === configuration.value
      ) {
        return fail(400, 10009, 'firewallaccessrules.api.duplicate_of_existing');
      }
    }
    return ok(
      this.insert(r.params['zone']!, body.mode, (body.notes as string | undefined) ?? '', configuration),
    );
  }

  private list(r: FakeRequest): FakeReply {
    const zone = this.zones.get(r.params['zone']!);
    if (!zone)
      return fail(404, 7003, `Could not route to ${r.path}, perhaps your object identifier is invalid?`);
    const q = r.query;
    let rules = [...zone.values()];
    const target = q.get('configuration.target');
    const value = q.get('configuration.value');
    const mode = q.get('mode');
    const notes = q.get('notes');
    if (target) rules = rules.filter((x) => x.configuration.target === target);
    if (value) rules = rules.filter((x) => x.configuration.value === value);
    if (mode) rules = rules.filter((x) => x.mode === mode);
    if (notes) rules = rules.filter((x) => x.notes.toLowerCase().includes(notes.toLowerCase()));
    const perPage = Math.min(1000, Math.max(5, Number(q.get('per_page') ?? 20)));
    const page = Math.max(1, Number(q.get('page') ?? 1));
    const slice = rules.slice((page - 1) * perPage, page * perPage);
    return ok(slice, {
      result_info: {
        page,
        per_page: perPage,
        count: slice.length,
        total_count: rules.length,
        total_pages: Math.max(1, Math.ceil(rules.length / perPage)),
      },
    });
  }

  private remove(r: FakeRequest): FakeReply {
    const zone = this.zones.get(r.params['zone']!);
    if (!zone)
      return fail(404, 7003, `Could not route to ${r.path}, perhaps your object identifier is invalid?`);
    const id = r.params['id']!;
    if (!zone.delete(id)) return fail(404, 10001, 'firewallaccessrules.api.not_found');
    return ok({ id });
  }
}
