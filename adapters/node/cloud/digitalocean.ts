/**
 * DigitalOcean Cloud Firewall. Its rules only allow (traffic no rule allows is dropped), so
 * "block source S" narrows every inbound allow rule whose sources.addresses admit S: each entry
 * covering S is replaced by that entry minus S, each entry inside S is removed. Undo puts S back
 * and merges the pieces (address-narrowing.ts).
 *
 * Write path: GET /v2/firewalls/{id}, then PUT /v2/firewalls/{id} with the whole firewall. The
 * API also has POST/DELETE /v2/firewalls/{id}/rules, but its documentation does not say how a
 * DELETE matches a rule whose sources were merged with others, and a remove-then-add pair leaves
 * a moment with the whole rule gone; a PUT is documented as "a full representation of the
 * firewall" and swaps the rules in one request. The PUT sends back every field the GET returned
 * except the read-only ones, so nothing the operator set is reset to a default. Read-modify-write
 * is serialised per firewall in this process (cloudObjectLocks).
 */

import { z } from 'zod';
import { FloodgateError } from '../../../core/errors.js';
import { narrowAddresses, type ReplacedEntry, restoreAddresses } from './address-narrowing.js';
import { type Cidr, complement, formatCidr, isCovered, parseRemoteCidr, parseSourceParam } from './cidr.js';
import { clientTuningSchema, tokenFields } from './credentials.js';
import {
  type CloudClientOptions,
  CloudHttpClient,
  type CloudRequest,
  type VendorError,
} from './http-client.js';
import { cloudObjectLocks } from './keyed-mutex.js';
import { checkTag } from './marker.js';
import { createProviderClient, flatVendorError } from './provider-kit.js';
import { digitalOceanResetMs } from './retry-policy.js';
import type {
  ApplyContext,
  BlockParams,
  CloudBlock,
  CloudBlockAction,
  CloudDescribe,
  UndoRecordBase,
  UndoResult,
} from './types.js';

export const DIGITALOCEAN_DEFAULT_BASE_URL = 'https://api.digitalocean.com/v2';
/** "Firewall rules are limited to 1000 entries in the Sources or Destinations field." */
export const DIGITALOCEAN_MAX_SOURCES = 1000;
/** Fields of a firewall the PUT must not send back. */
const READ_ONLY_FIELDS = ['id', 'status', 'created_at', 'pending_changes'] as const;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const digitalOceanConfigSchema = z
  .object({
    baseUrl: z.url().default(DIGITALOCEAN_DEFAULT_BASE_URL),
    ...tokenFields,
    /** The firewall to narrow, by id (a UUID) ... */
    firewallId: z.string().regex(UUID_RE, { message: 'must be a firewall id (a UUID)' }).optional(),
    /** ... or by name, looked up once through GET /v2/firewalls. */
    firewallName: z.string().min(1).max(255).optional(),
    ...clientTuningSchema,
  })
  .strict()
  .refine((c) => (c.token === undefined) !== (c.tokenFile === undefined), {
    message: 'give exactly one of token and tokenFile',
  })
  .refine((c) => (c.firewallId === undefined) !== (c.firewallName === undefined), {
    message: 'give exactly one of firewallId and firewallName',
  });

export type DigitalOceanConfig = z.output<typeof digitalOceanConfigSchema>;

export interface DoSources {
  addresses?: string[];
  droplet_ids?: number[];
  load_balancer_uids?: string[];
  kubernetes_ids?: string[];
  tags?: string[];
  [field: string]: unknown;
}

export interface DoInboundRule {
  protocol: string;
  /** "0" for all ports and for ICMP. */
  ports?: string;
  sources: DoSources;
  /** Newer API versions: "allow" or "deny"; absent means allow. */
  action?: string;
  [field: string]: unknown;
}

export interface DoFirewall {
  id: string;
  name: string;
  inbound_rules: DoInboundRule[] | null;
  outbound_rules: unknown[] | null;
  [field: string]: unknown;
}

export interface DigitalOceanRuleChange {
  /** Position of the rule in inbound_rules at apply time. */
  index: number;
  /** The rule exactly as it was before the block (JSON). */
  rule: DoInboundRule;
  replaced: ReplacedEntry[];
}

export interface DigitalOceanUndoRecord extends UndoRecordBase {
  provider: 'digitalocean';
  /** True when no inbound rule allowed S at apply time: nothing was changed. */
  alreadyBlocked: boolean;
  changes: DigitalOceanRuleChange[];
}

const recordSchema = z.object({
  provider: z.literal('digitalocean'),
  scope: z.string().regex(UUID_RE),
  tag: z.string(),
  source: z.string(),
  alreadyBlocked: z.boolean(),
  changes: z.array(
    z.object({
      index: z.number().int().min(0),
      rule: z.looseObject({ protocol: z.string(), ports: z.string().optional(), sources: z.looseObject({}) }),
      replaced: z.array(z.object({ original: z.string(), pieces: z.array(z.string()), root: z.string() })),
    }),
  ),
});

export function digitalOceanError(body: unknown): VendorError {
  return flatVendorError(body, 'id', 'message');
}

export function createDigitalOceanClient(
  config: DigitalOceanConfig,
  overrides: Partial<CloudClientOptions> = {},
): CloudHttpClient {
  return createProviderClient(
    'digitalocean',
    config,
    { parseError: digitalOceanError, rateLimitWaitMs: digitalOceanResetMs },
    overrides,
  );
}

const isAllowRule = (rule: DoInboundRule): boolean => rule.action === undefined || rule.action === 'allow';

/** Rules are matched across a read-modify-write by everything but their addresses. */
function ruleKey(rule: DoInboundRule): string {
  const { addresses: _addresses, ...others } = rule.sources ?? {};
  const sorted = Object.fromEntries(
    Object.entries(others)
      .filter(([, v]) => !(Array.isArray(v) && v.length === 0) && v !== null && v !== undefined)
      .map(([k, v]): [string, unknown] => [k, Array.isArray(v) ? [...v].map(String).sort() : v])
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  return JSON.stringify([rule.protocol, rule.ports ?? '0', rule.action ?? 'allow', sorted]);
}

function sourceCount(sources: DoSources): number {
  return Object.values(sources ?? {}).reduce<number>((n, v) => n + (Array.isArray(v) ? v.length : 0), 0);
}

function withAddresses(rule: DoInboundRule, addresses: string[]): DoInboundRule {
  return { ...rule, sources: { ...rule.sources, addresses } };
}

/** The PUT body: the firewall as read, minus read-only fields, with these inbound rules. */
function putBody(firewall: DoFirewall, inbound: DoInboundRule[]): Record<string, unknown> {
  const body: Record<string, unknown> = { ...firewall, inbound_rules: inbound };
  for (const field of READ_ONLY_FIELDS) delete body[field];
  return body;
}

function allowedBy(firewall: DoFirewall, source: Cidr): boolean {
  return (firewall.inbound_rules ?? []).some(
    (rule) =>
      isAllowRule(rule) &&
      isCovered(
        source,
        (rule.sources?.addresses ?? []).flatMap((t) => {
          const c = parseRemoteCidr(t);
          return c ? [c] : [];
        }),
      ),
  );
}

export function digitalOceanBlock(
  config: Pick<DigitalOceanConfig, 'baseUrl' | 'firewallId' | 'firewallName'>,
): CloudBlockAction<DigitalOceanUndoRecord> {
  const previewer = new CloudHttpClient({
    provider: 'digitalocean',
    baseUrl: config.baseUrl,
    token: 'preview',
  });
  let resolvedId = config.firewallId;
  const idText = config.firewallId ?? `{id of the firewall named "${config.firewallName}"}`;

  const getRequest = (id: string): CloudRequest => ({ method: 'GET', path: `/firewalls/${id}` });
  const putRequest = (id: string, body: unknown): CloudRequest => ({
    method: 'PUT',
    path: `/firewalls/${id}`,
    body,
  });
  const listRequest: CloudRequest = { method: 'GET', path: '/firewalls', query: { per_page: 200 } };

  async function firewallId(client: CloudHttpClient): Promise<string> {
    if (resolvedId !== undefined) return resolvedId;
    const found: string[] = [];
    let next: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const res = await client.request<{ firewalls?: DoFirewall[]; links?: { pages?: { next?: string } } }>(
        next === undefined ? listRequest : { method: 'GET', path: next },
      );
      for (const fw of res.body?.firewalls ?? []) {
        if (fw.name === config.firewallName) found.push(fw.id);
      }
      next = res.body?.links?.pages?.next;
      if (!next) break;
    }
    if (found.length !== 1) {
      throw new FloodgateError(
        'FG_ERR_CLOUD_API',
        `digitalocean: ${found.length === 0 ? 'no' : `${found.length}`} firewall(s) named "${config.firewallName}"` +
          '; configure firewallId instead',
        { provider: 'digitalocean', firewallName: config.firewallName, matches: found.length },
      );
    }
    resolvedId = found[0]!;
    return resolvedId;
  }

  async function readFirewall(client: CloudHttpClient, id: string): Promise<DoFirewall> {
    const res = await client.request<{ firewall?: DoFirewall }>(getRequest(id));
    const firewall = res.body?.firewall;
    if (!firewall || !Array.isArray(firewall.inbound_rules ?? [])) {
      throw new FloodgateError(
        'FG_ERR_CLOUD_API',
        `digitalocean: GET /firewalls/${id} returned no firewall`,
        {
          provider: 'digitalocean',
          firewallId: id,
        },
      );
    }
    return firewall;
  }

  function checkLimits(inbound: DoInboundRule[]): void {
    for (const rule of inbound) {
      const count = sourceCount(rule.sources);
      if (count > DIGITALOCEAN_MAX_SOURCES) {
        throw new FloodgateError(
          'FG_ERR_CLOUD_API',
          `digitalocean: narrowing the ${rule.protocol}/${rule.ports ?? '0'} rule would give it ${count} sources, over ` +
            `DigitalOcean's ${DIGITALOCEAN_MAX_SOURCES}; block a wider prefix or use another action`,
          {
            provider: 'digitalocean',
            reason: 'source-limit',
            limit: DIGITALOCEAN_MAX_SOURCES,
            needed: count,
          },
        );
      }
    }
  }

  return {
    provider: 'digitalocean',

    describe(params: BlockParams, tag: string): CloudDescribe {
      checkTag(tag);
      const source = parseSourceParam(params.source);
      const s = formatCidr(source);
      const all = source.version === 4 ? '0.0.0.0/0' : '::/0';
      const example = complement(parseRemoteCidr(all)!, source).map(formatCidr);
      const lookup =
        config.firewallId === undefined
          ? [
              `${previewer.line(listRequest)} (then each links.pages.next, to find the id of "${config.firewallName}")`,
            ]
          : [];
      const firewallLine = (method: string): string =>
        `${method} ${previewer.url({ path: '/firewalls' })}/${idText} Authorization: Bearer ***`;
      const get = firewallLine('GET');
      const put = (what: string): string => `${firewallLine('PUT')} {${what}}`;
      return {
        apply: [
          ...lookup,
          get,
          put(
            `the firewall exactly as the GET returned it, without id, status, created_at and pending_changes, ` +
              `where in every inbound rule without "action":"deny" each sources.addresses entry covering ${s} is ` +
              `replaced in place by the prefixes covering it minus ${s} (e.g. "${all}" becomes ` +
              `${JSON.stringify(example)}), each entry inside ${s} is removed, and a rule left with no source at ` +
              `all is removed; nothing is sent when no rule allows ${s}`,
          ),
        ],
        undo: [
          ...lookup,
          get,
          put(
            `the firewall as the GET returned it, without the read-only fields, where each rule apply changed ` +
              `allows ${s} again: it is added back and merged with the pieces inside the entry apply replaced, so ` +
              `that entry returns verbatim when no other block lies inside it (a removed rule is put back); ` +
              `nothing is sent when ${s} is already allowed there`,
          ),
        ],
        note:
          `DigitalOcean Cloud Firewalls drop inbound traffic that no rule allows, and Floodgate blocks by ` +
          `allowing less rather than by adding deny rules: "block ${s}" narrows every inbound allow rule whose ` +
          `source addresses include ${s} so they no longer do. A source no address rule allows is already ` +
          `blocked: apply then changes nothing and records that. Sources admitted by droplet, tag, load balancer ` +
          `or Kubernetes sources are not narrowed. The firewall is read and written back whole (PUT), one change ` +
          `at a time.`,
      };
    },

    async apply(
      client: CloudHttpClient,
      params: BlockParams,
      tag: string,
      context: ApplyContext<DigitalOceanUndoRecord> = {},
    ): Promise<DigitalOceanUndoRecord> {
      checkTag(tag);
      const source = parseSourceParam(params.source);
      const id = await firewallId(client);
      // Roots the blocks still in place recorded, per rule: entries inside them are their pieces.
      const rootsOf = (key: string): string[] =>
        (context.active ?? [])
          .filter((r) => r.scope === id)
          .flatMap((r) =>
            r.changes.filter((c) => ruleKey(c.rule) === key).flatMap((c) => c.replaced.map((x) => x.root)),
          );
      return cloudObjectLocks.run(`digitalocean:${id}`, async () => {
        const firewall = await readFirewall(client, id);
        const inbound = firewall.inbound_rules ?? [];
        const changes: DigitalOceanRuleChange[] = [];
        const next: DoInboundRule[] = [];
        inbound.forEach((rule, index) => {
          if (!isAllowRule(rule)) {
            next.push(rule);
            return;
          }
          const narrowed = narrowAddresses(rule.sources?.addresses ?? [], source, rootsOf(ruleKey(rule)));
          if (narrowed.replaced.length === 0) {
            next.push(rule);
            return;
          }
          changes.push({ index, rule: structuredClone(rule), replaced: narrowed.replaced });
          const updated = withAddresses(rule, narrowed.addresses);
          if (sourceCount(updated.sources) > 0) next.push(updated);
        });
        const record: DigitalOceanUndoRecord = {
          provider: 'digitalocean',
          scope: id,
          tag,
          source: formatCidr(source),
          alreadyBlocked: changes.length === 0,
          changes,
        };
        if (changes.length === 0) return record;
        checkLimits(next);
        await client.request(putRequest(id, putBody(firewall, next)));
        return record;
      });
    },

    async undo(client: CloudHttpClient, record: DigitalOceanUndoRecord): Promise<UndoResult> {
      if (record.alreadyBlocked || record.changes.length === 0) return { wasPresent: false };
      const source = parseSourceParam(record.source);
      return cloudObjectLocks.run(`digitalocean:${record.scope}`, async () => {
        const firewall = await readFirewall(client, record.scope);
        const inbound = [...(firewall.inbound_rules ?? [])];
        let restoredAny = false;
        for (const change of record.changes) {
          const key = ruleKey(change.rule);
          const before = change.rule.sources?.addresses ?? [];
          const candidates = inbound.flatMap((rule, i) =>
            isAllowRule(rule) && ruleKey(rule) === key ? [i] : [],
          );
          const at = candidates.includes(change.index) ? change.index : candidates[0];
          if (at === undefined) {
            // The rule is gone (a concurrent block emptied it, or it was removed): put back S's part.
            const { addresses } = restoreAddresses([], before, change.replaced, source);
            inbound.splice(Math.min(change.index, inbound.length), 0, withAddresses(change.rule, addresses));
            restoredAny = true;
            continue;
          }
          const rule = inbound[at]!;
          const result = restoreAddresses(rule.sources?.addresses ?? [], before, change.replaced, source);
          if (result.restored) {
            inbound[at] = withAddresses(rule, result.addresses);
            restoredAny = true;
          }
        }
        if (!restoredAny) return { wasPresent: false };
        checkLimits(inbound);
        await client.request(putRequest(record.scope, putBody(firewall, inbound)));
        return { wasPresent: true };
      });
    },

    async list(
      client: CloudHttpClient,
      tag?: string,
      known: readonly DigitalOceanUndoRecord[] = [],
    ): Promise<CloudBlock[]> {
      // Rules carry no note to mark them, so only known records can be checked: a block is in
      // place while no inbound allow rule admits its source.
      const blocks: CloudBlock[] = [];
      const firewalls = new Map<string, DoFirewall>();
      for (const record of known) {
        if (tag !== undefined && record.tag !== tag) continue;
        let firewall = firewalls.get(record.scope);
        if (!firewall) {
          firewall = await readFirewall(client, record.scope);
          firewalls.set(record.scope, firewall);
        }
        if (!allowedBy(firewall, parseSourceParam(record.source))) {
          blocks.push({
            provider: 'digitalocean',
            scope: record.scope,
            tag: record.tag,
            source: record.source,
            ids: [],
          });
        }
      }
      return blocks;
    },

    parseRecord(value: unknown): DigitalOceanUndoRecord {
      const parsed = recordSchema.safeParse(value);
      if (!parsed.success) {
        throw new FloodgateError('FG_ERR_CLOUD_API', 'digitalocean: stored undo record is malformed', {
          provider: 'digitalocean',
          issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
        });
      }
      return parsed.data as DigitalOceanUndoRecord;
    },
  };
}
