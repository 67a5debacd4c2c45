/**
 * Cloudflare WAF: "block source S" is an IP Access Rule with mode "block" in one zone
 * (POST /zones/{zone}/firewall/access_rules/rules), undone by deleting that rule by id. Single
 * addresses use target ip/ip6; prefixes only the sizes Cloudflare accepts for ip_range (IPv4 /16
 * and /24, IPv6 /32, /48 and /64). A duplicate (error 10009) means a rule for S exists: its id is
 * looked up, and it is only ever deleted later if Floodgate created it with this tag.
 */

import { z } from 'zod';
import { FloodgateError } from '../../../core/errors.js';
import { type Cidr, formatAddress, formatCidr, parseRemoteCidr, parseSourceParam } from './cidr.js';
import { clientTuningSchema, tokenFields } from './credentials.js';
import {
  type CloudClientOptions,
  CloudHttpClient,
  type CloudRequest,
  cloudStatus,
  requestLine,
  type VendorError,
} from './http-client.js';
import { marker, markerTag } from './marker.js';
import { createProviderClient, parseStoredRecord } from './provider-kit.js';
import { cloudflareResetMs } from './retry-policy.js';
import type {
  BlockParams,
  CloudBlock,
  CloudBlockAction,
  CloudDescribe,
  UndoRecordBase,
  UndoResult,
} from './types.js';

export const CLOUDFLARE_DEFAULT_BASE_URL = 'https://api.cloudflare.com/client/v4';
/** Cloudflare's "an access rule with this configuration exists" error. */
export const CLOUDFLARE_DUPLICATE = 10009;

export const cloudflareConfigSchema = z
  .object({
    baseUrl: z.url().default(CLOUDFLARE_DEFAULT_BASE_URL),
    ...tokenFields,
    /** The zone whose IP Access Rules hold the blocks (32 hex digits, from the zone overview). */
    zoneId: z.string().regex(/^[0-9a-f]{32}$/, { message: 'must be a zone id: 32 lower-case hex digits' }),
    ...clientTuningSchema,
  })
  .strict()
  .refine((c) => (c.token === undefined) !== (c.tokenFile === undefined), {
    message: 'give exactly one of token and tokenFile',
  });

export type CloudflareConfig = z.output<typeof cloudflareConfigSchema>;

export interface AccessRuleConfiguration {
  target: 'ip' | 'ip6' | 'ip_range';
  value: string;
}

export interface CloudflareUndoRecord extends UndoRecordBase {
  provider: 'cloudflare';
  ruleId: string;
  configuration: AccessRuleConfiguration;
  /**
   * False when the rule existed before this apply (the operator's, or another Floodgate tag's):
   * undo then leaves it in place.
   */
  owned: boolean;
}

const recordSchema = z.object({
  provider: z.literal('cloudflare'),
  scope: z.string().regex(/^[0-9a-f]{32}$/),
  tag: z.string(),
  source: z.string(),
  ruleId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  configuration: z.object({ target: z.enum(['ip', 'ip6', 'ip_range']), value: z.string() }),
  owned: z.boolean(),
});

const IP_RANGE_SIZES: Record<4 | 6, readonly number[]> = { 4: [16, 24], 6: [32, 48, 64] };

/** The access rule configuration for a source; FG_ERR_NODE_PARAM for a size Cloudflare refuses. */
export function accessRuleConfiguration(source: Cidr): AccessRuleConfiguration {
  if (source.version === 4 && source.length === 32) {
    return { target: 'ip', value: formatAddress(4, source.network) };
  }
  if (source.version === 6 && source.length === 128) {
    return { target: 'ip6', value: formatAddress(6, source.network) };
  }
  if (IP_RANGE_SIZES[source.version].includes(source.length)) {
    return { target: 'ip_range', value: formatCidr(source) };
  }
  throw new FloodgateError(
    'FG_ERR_NODE_PARAM',
    `source ${formatCidr(source)} is refused: Cloudflare IP Access Rules take single addresses or ranges of ` +
      `IPv4 /16 or /24, IPv6 /32, /48 or /64; block a covering range of an accepted size or single addresses`,
    { param: 'source', value: formatCidr(source), allowed: IP_RANGE_SIZES[source.version] },
  );
}

export function cloudflareError(body: unknown): VendorError {
  const errors = (body as { errors?: Array<{ code?: unknown; message?: unknown }> } | undefined)?.errors;
  const first = Array.isArray(errors) ? errors[0] : undefined;
  if (!first) return typeof body === 'string' ? { message: body.slice(0, 200) } : {};
  return {
    code: typeof first.code === 'number' || typeof first.code === 'string' ? first.code : undefined,
    message: typeof first.message === 'string' ? first.message : undefined,
  };
}

export function createCloudflareClient(
  config: CloudflareConfig,
  overrides: Partial<CloudClientOptions> = {},
): CloudHttpClient {
  return createProviderClient(
    'cloudflare',
    config,
    { parseError: cloudflareError, rateLimitWaitMs: (headers) => cloudflareResetMs(headers) },
    overrides,
  );
}

interface AccessRule {
  id: string;
  mode: string;
  notes?: string;
  configuration: { target: string; value: string };
}

interface Envelope<T> {
  success: boolean;
  result: T;
  result_info?: { page?: number; total_pages?: number };
}

const rulesPath = (zone: string): string => `/zones/${zone}/firewall/access_rules/rules`;

export function cloudflareBlock(
  config: Pick<CloudflareConfig, 'baseUrl' | 'zoneId'>,
): CloudBlockAction<CloudflareUndoRecord> {
  const zone = config.zoneId;
  // A client-less twin of the real one, only to build the exact preview lines.
  const previewer = new CloudHttpClient({
    provider: 'cloudflare',
    baseUrl: config.baseUrl,
    token: 'preview',
  });

  const createRequest = (source: Cidr, tag: string): CloudRequest => ({
    method: 'POST',
    path: rulesPath(zone),
    body: {
      mode: 'block',
      configuration: accessRuleConfiguration(source),
      notes: `${marker(tag)} block ${formatCidr(source)} (DDoS mitigation)`,
    },
  });
  const lookupRequest = (configuration: AccessRuleConfiguration): CloudRequest => ({
    method: 'GET',
    path: rulesPath(zone),
    query: {
      'configuration.target': configuration.target,
      'configuration.value': configuration.value,
      per_page: 50,
    },
  });
  const deleteRequest = (scope: string, id: string): CloudRequest => ({
    method: 'DELETE',
    path: `${rulesPath(scope)}/${encodeURIComponent(id)}`,
  });

  async function findExisting(client: CloudHttpClient, configuration: AccessRuleConfiguration) {
    const res = await client.request<Envelope<AccessRule[]>>(lookupRequest(configuration));
    const rules = Array.isArray(res.body?.result) ? res.body.result : [];
    return rules.find(
      (r) =>
        r.configuration?.target === configuration.target && r.configuration?.value === configuration.value,
    );
  }

  return {
    provider: 'cloudflare',

    describe(params: BlockParams, tag: string): CloudDescribe {
      const source = parseSourceParam(params.source);
      const create = createRequest(source, tag);
      const configuration = accessRuleConfiguration(source);
      return {
        apply: [
          previewer.line(create),
          `only if the POST answers error ${CLOUDFLARE_DUPLICATE} (a rule for ${configuration.value} exists): ` +
            previewer.line(lookupRequest(configuration)),
        ],
        undo: [
          `${requestLine('DELETE', `${previewer.url({ path: rulesPath(zone) })}/{id}`)} (id: the rule id the ` +
            'POST or GET returned; nothing is sent for a rule Floodgate did not create)',
        ],
        note:
          `Cloudflare IP Access Rule, mode block, in zone ${zone}: requests from ${formatCidr(source)} that pass ` +
          'through the Cloudflare proxy get a block page. Traffic reaching the origin directly (DNS-only records, ' +
          'the origin address) is not filtered by it. A rule that already exists for this source is reused and ' +
          'left in place at undo unless Floodgate created it with this tag.',
      };
    },

    async apply(client: CloudHttpClient, params: BlockParams, tag: string): Promise<CloudflareUndoRecord> {
      const source = parseSourceParam(params.source);
      const configuration = accessRuleConfiguration(source);
      const base = {
        provider: 'cloudflare' as const,
        scope: zone,
        tag,
        source: formatCidr(source),
        configuration,
      };
      for (let round = 0; round < 2; round++) {
        try {
          const res = await client.request<Envelope<AccessRule>>(createRequest(source, tag));
          const id = res.body?.result?.id;
          if (typeof id !== 'string') {
            throw new FloodgateError('FG_ERR_CLOUD_API', 'cloudflare: the created access rule has no id', {
              provider: 'cloudflare',
            });
          }
          return { ...base, ruleId: id, owned: true };
        } catch (error) {
          if (!isDuplicate(error)) throw error;
        }
        const existing = await findExisting(client, configuration);
        if (existing === undefined) continue; // deleted between the two calls: create again
        if (existing.mode !== 'block') {
          throw new FloodgateError(
            'FG_ERR_CLOUD_API',
            `cloudflare: zone ${zone} already has an access rule for ${configuration.value} with mode ` +
              `"${existing.mode}" (id ${existing.id}); Floodgate does not change rules it did not create`,
            { provider: 'cloudflare', ruleId: existing.id, mode: existing.mode },
          );
        }
        return { ...base, ruleId: existing.id, owned: markerTag(existing.notes) === tag };
      }
      throw new FloodgateError(
        'FG_ERR_CLOUD_API',
        `cloudflare: the access rule for ${configuration.value} keeps being reported as a duplicate but cannot be found`,
        { provider: 'cloudflare' },
      );
    },

    async undo(client: CloudHttpClient, record: CloudflareUndoRecord): Promise<UndoResult> {
      if (!record.owned) return { wasPresent: false };
      const res = await client.request(deleteRequest(record.scope, record.ruleId), { accept: [404] });
      return { wasPresent: res.status !== 404 };
    },

    async list(client: CloudHttpClient, tag?: string): Promise<CloudBlock[]> {
      const blocks: CloudBlock[] = [];
      for (let page = 1, pages = 1; page <= pages && page <= 1000; page++) {
        const res = await client.request<Envelope<AccessRule[]>>({
          method: 'GET',
          path: rulesPath(zone),
          // Cloudflare matches `notes` as a substring; the marker is checked again below.
          query: { mode: 'block', notes: '[floodgate:', page, per_page: 100 },
        });
        pages = res.body?.result_info?.total_pages ?? 1;
        for (const rule of Array.isArray(res.body?.result) ? res.body.result : []) {
          const ruleTag = markerTag(rule.notes);
          if (ruleTag === undefined || (tag !== undefined && ruleTag !== tag) || rule.mode !== 'block')
            continue;
          const cidr = parseRemoteCidr(rule.configuration?.value ?? '');
          if (!cidr) continue;
          blocks.push({
            provider: 'cloudflare',
            scope: zone,
            tag: ruleTag,
            source: formatCidr(cidr),
            ids: [rule.id],
          });
        }
      }
      return blocks;
    },

    parseRecord(value: unknown): CloudflareUndoRecord {
      return parseStoredRecord('cloudflare', recordSchema, value);
    },
  };
}

function isDuplicate(error: unknown): boolean {
  return (
    cloudStatus(error) !== undefined &&
    error instanceof FloodgateError &&
    String(error.details['vendorCode']) === String(CLOUDFLARE_DUPLICATE)
  );
}
