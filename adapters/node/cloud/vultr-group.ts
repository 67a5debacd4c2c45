/**
 * A Vultr firewall group as the API shapes it (API v2): its rules (one subnet each, integer ids,
 * accept only), the four requests Floodgate sends, and the rule helpers narrowing works with.
 */
import { FloodgateError } from '../../../core/errors.js';
import { type Cidr, formatAddress, parseRemoteCidr } from './cidr.js';
import type { CloudHttpClient, CloudRequest } from './http-client.js';

/** Vultr's largest page of rules. */
export const VULTR_PAGE_SIZE = 500;

export interface VultrRule {
  id: number;
  ip_type: 'v4' | 'v6';
  action?: string;
  protocol: string;
  port?: string;
  subnet: string;
  subnet_size: number;
  /** "" (use subnet), "cloudflare", or a load balancer id. */
  source?: string;
  notes?: string;
  [field: string]: unknown;
}

/** A rule as it was deleted, enough to create it again. */
export interface VultrRuleSnapshot {
  id: number;
  ip_type: 'v4' | 'v6';
  protocol: string;
  port: string;
  subnet: string;
  subnet_size: number;
  notes: string;
}

export const vultrRequests = {
  group: (g: string): CloudRequest => ({ method: 'GET', path: `/firewalls/${g}` }),
  rules: (g: string, cursor?: string): CloudRequest => ({
    method: 'GET',
    path: `/firewalls/${g}/rules`,
    query: { per_page: VULTR_PAGE_SIZE, cursor },
  }),
  create: (g: string, body: unknown): CloudRequest => ({
    method: 'POST',
    path: `/firewalls/${g}/rules`,
    body,
  }),
  remove: (g: string, id: number): CloudRequest => ({
    method: 'DELETE',
    path: `/firewalls/${g}/rules/${id}`,
  }),
};

export function ruleCidr(rule: Pick<VultrRule, 'ip_type' | 'subnet' | 'subnet_size'>): Cidr | undefined {
  const c = parseRemoteCidr(`${rule.subnet}/${rule.subnet_size}`);
  return c && c.version === (rule.ip_type === 'v4' ? 4 : 6) ? c : undefined;
}

/** Rules that accept the same traffic apart from the subnet: the unit narrowing works in. */
export function familyKey(rule: Pick<VultrRule, 'ip_type' | 'protocol' | 'port'>): string {
  return JSON.stringify([rule.ip_type, rule.protocol.toLowerCase(), rule.port ?? '']);
}

/** An accept rule by subnet (not Cloudflare's ranges or a load balancer's addresses). */
export function isSubnetAccept(rule: VultrRule): boolean {
  return (rule.action === undefined || rule.action === 'accept') && (rule.source ?? '') === '';
}

export function snapshot(rule: VultrRule): VultrRuleSnapshot {
  return {
    id: rule.id,
    ip_type: rule.ip_type,
    protocol: rule.protocol,
    port: rule.port ?? '',
    subnet: rule.subnet,
    subnet_size: rule.subnet_size,
    notes: rule.notes ?? '',
  };
}

/** The create body for a rule like `like` on another subnet: {ip_type, protocol, subnet, ...}. */
export function createBody(
  like: Pick<VultrRuleSnapshot, 'ip_type' | 'protocol' | 'port'>,
  subnet: Cidr,
  notes: string,
) {
  return {
    ip_type: like.ip_type,
    protocol: like.protocol,
    subnet: formatAddress(subnet.version, subnet.network),
    subnet_size: subnet.length,
    ...(like.port === '' ? {} : { port: like.port }),
    source: '',
    notes,
  };
}

/** The group's requests through one client. */
export class VultrGroup {
  constructor(
    readonly client: CloudHttpClient,
    readonly id: string,
  ) {}

  /** Every rule, following meta.links.next until it is empty. */
  async listRules(): Promise<VultrRule[]> {
    const rules: VultrRule[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const res = await this.client.request<{
        firewall_rules?: VultrRule[];
        meta?: { links?: { next?: string } };
      }>(vultrRequests.rules(this.id, cursor));
      rules.push(...(res.body?.firewall_rules ?? []));
      cursor = res.body?.meta?.links?.next || undefined;
      if (cursor === undefined) break;
    }
    return rules;
  }

  /** The group's rule ceiling (max_rule_count); unlimited when the API gives none. */
  async maxRules(): Promise<number> {
    const res = await this.client.request<{ firewall_group?: { max_rule_count?: number } }>(
      vultrRequests.group(this.id),
    );
    const max = res.body?.firewall_group?.max_rule_count;
    return typeof max === 'number' && max > 0 ? max : Number.POSITIVE_INFINITY;
  }

  async create(body: unknown): Promise<VultrRule> {
    const res = await this.client.request<{ firewall_rule?: VultrRule }>(vultrRequests.create(this.id, body));
    const rule = res.body?.firewall_rule;
    if (!rule || typeof rule.id !== 'number') {
      throw new FloodgateError('FG_ERR_CLOUD_API', 'vultr: the created firewall rule has no id', {
        provider: 'vultr',
      });
    }
    return rule;
  }

  /** Deletes a rule; a 404 (gone already) counts as done. True when it was there. */
  async remove(id: number): Promise<boolean> {
    const res = await this.client.request(vultrRequests.remove(this.id, id), { accept: [404] });
    return res.status !== 404;
  }
}
