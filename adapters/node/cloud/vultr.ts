/**
 * Vultr firewall group. Rules only accept (traffic no rule accepts is dropped), each rule holds
 * one subnet and has an id. "Block source S" replaces every accept rule whose subnet covers S by
 * one rule per prefix of (subnet minus S), created first so no allowed traffic is cut while the
 * change happens, then deletes the original; a rule lying inside S is just deleted. The created
 * rules carry notes naming the original (vultr-notes.ts), so undo, from this block's record or
 * any other's, merges them back into the original rule, recreated with its own notes.
 *
 * Each group has a rule ceiling (`max_rule_count` in GET /v2/firewalls/{group}); a narrowing
 * that would pass it is refused before anything is sent. Read-modify-write is serialised per
 * group in this process.
 */

import { z } from 'zod';
import { FloodgateError } from '../../../core/errors.js';
import {
  type Cidr,
  complement,
  contains,
  formatAddress,
  formatCidr,
  overlaps,
  parseRemoteCidr,
  parseSourceParam,
  sameCidr,
} from './cidr.js';
import { clientTuningSchema, tokenFields } from './credentials.js';
import { type CloudClientOptions, CloudHttpClient, requestLine, type VendorError } from './http-client.js';
import { cloudObjectLocks } from './keyed-mutex.js';
import { checkTag } from './marker.js';
import { createProviderClient, flatVendorError, parseStoredRecord } from './provider-kit.js';
import type {
  BlockParams,
  CloudBlock,
  CloudBlockAction,
  CloudDescribe,
  UndoRecordBase,
  UndoResult,
} from './types.js';
import {
  createBody,
  familyKey,
  isSubnetAccept,
  ruleCidr,
  snapshot,
  VultrGroup,
  type VultrRule,
  vultrRequests,
} from './vultr-group.js';
import { formatPieceNotes, parsePieceNotes } from './vultr-notes.js';
import {
  completeOriginals,
  type RestoreState,
  removeLeftovers,
  restoreChange,
  type VultrRuleChange,
} from './vultr-restore.js';

export const VULTR_DEFAULT_BASE_URL = 'https://api.vultr.com/v2';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const vultrConfigSchema = z
  .object({
    baseUrl: z.url().default(VULTR_DEFAULT_BASE_URL),
    ...tokenFields,
    /** The firewall group whose accept rules are narrowed (a UUID). */
    firewallGroupId: z.string().regex(UUID_RE, { message: 'must be a firewall group id (a UUID)' }),
    ...clientTuningSchema,
  })
  .strict()
  .refine((c) => (c.token === undefined) !== (c.tokenFile === undefined), {
    message: 'give exactly one of token and tokenFile',
  });

export type VultrConfig = z.output<typeof vultrConfigSchema>;

export interface VultrUndoRecord extends UndoRecordBase {
  provider: 'vultr';
  /** True when no accept rule admitted S at apply time: nothing was changed. */
  alreadyBlocked: boolean;
  changes: VultrRuleChange[];
}

const snapshotSchema = z.object({
  id: z.number().int(),
  ip_type: z.enum(['v4', 'v6']),
  protocol: z.string(),
  port: z.string(),
  subnet: z.string(),
  subnet_size: z.number().int(),
  notes: z.string(),
});

const recordSchema = z.object({
  provider: z.literal('vultr'),
  scope: z.string().regex(UUID_RE),
  tag: z.string(),
  source: z.string(),
  alreadyBlocked: z.boolean(),
  changes: z.array(
    z.object({
      deleted: snapshotSchema,
      root: z.object({
        subnet: z.string(),
        subnet_size: z.number().int(),
        notes: z.string(),
        notesComplete: z.boolean(),
      }),
      created: z.array(z.object({ id: z.number().int(), subnet: z.string(), subnet_size: z.number().int() })),
      kept: z.array(z.object({ subnet: z.string(), subnet_size: z.number().int() })).default([]),
    }),
  ),
});

export function vultrError(body: unknown): VendorError {
  return flatVendorError(body, 'status', 'error');
}

export function createVultrClient(
  config: VultrConfig,
  overrides: Partial<CloudClientOptions> = {},
): CloudHttpClient {
  return createProviderClient('vultr', config, { parseError: vultrError }, overrides);
}

export function vultrBlock(
  config: Pick<VultrConfig, 'baseUrl' | 'firewallGroupId'>,
): CloudBlockAction<VultrUndoRecord> {
  const groupId = config.firewallGroupId;
  const previewer = new CloudHttpClient({ provider: 'vultr', baseUrl: config.baseUrl, token: 'preview' });

  return {
    provider: 'vultr',

    describe(params: BlockParams, tag: string): CloudDescribe {
      checkTag(tag);
      const source = parseSourceParam(params.source);
      const s = formatCidr(source);
      const all = parseRemoteCidr(source.version === 4 ? '0.0.0.0/0' : '::/0')!;
      const example = complement(all, source).map(formatCidr);
      const rulesUrl = previewer.url({ path: `/firewalls/${groupId}/rules` });
      const ipType = source.version === 4 ? 'v4' : 'v6';
      const pieceBody =
        `{"ip_type":"${ipType}","protocol":"<the covering rule's>","subnet":"<piece address>",` +
        `"subnet_size":<piece length>,"port":"<the covering rule's, tcp/udp only>","source":"",` +
        `"notes":"[floodgate:${tag}] hole=${s} root=<covering rule's subnet/size> | <its notes>"}`;
      return {
        apply: [
          previewer.line(vultrRequests.group(groupId)),
          `${previewer.line(vultrRequests.rules(groupId))} (then &cursor=meta.links.next until it is empty)`,
          `for each accept rule whose subnet/subnet_size covers ${s}, for each prefix of that subnet minus ${s} ` +
            `(for 0.0.0.0/0 or ::/0: ${example.length} prefixes, ${example[0]} … ${example[example.length - 1]}): ` +
            `${requestLine('POST', rulesUrl, undefined)} ${pieceBody}`,
          `then for each such rule, and each accept rule inside ${s}: ` +
            `${requestLine('DELETE', `${rulesUrl}/{its id}`)}; nothing is sent when no accept rule covers ${s}`,
        ],
        undo: [
          `${previewer.line(vultrRequests.rules(groupId))} (then &cursor=meta.links.next until it is empty)`,
          `for each rule apply deleted: ${requestLine('POST', rulesUrl, undefined)} {the deleted rule exactly ` +
            '(its ip_type, protocol, port, subnet, subnet_size, notes) when no other block lies inside it, else ' +
            `the widest merge of the Floodgate pieces around ${s} that stays clear of the other blocks}`,
          `then ${requestLine('DELETE', `${rulesUrl}/{id}`)} for each Floodgate piece inside the rule just created; ` +
            `nothing is sent when ${s} is already accepted again`,
        ],
        note:
          `Vultr firewall groups only accept: traffic no rule accepts is dropped, and there is no drop rule to add. ` +
          `"Block ${s}" therefore replaces each accept rule covering ${s} by rules covering the rest of its ` +
          `subnet (one per prefix length in between: ${example.length} rules to carve ${s} out of an allow-all), ` +
          `created before the original is deleted. A source no rule accepts is already blocked: apply then ` +
          `changes nothing and records that. Each group has a maximum rule count (max_rule_count, read from the ` +
          `group); a block that would pass it is refused before anything changes. Rules with source "cloudflare" ` +
          `or a load balancer are not narrowed.`,
      };
    },

    async apply(client: CloudHttpClient, params: BlockParams, tag: string): Promise<VultrUndoRecord> {
      checkTag(tag);
      const source = parseSourceParam(params.source);
      const group = new VultrGroup(client, groupId);
      return cloudObjectLocks.run(`vultr:${groupId}`, async () => {
        const max = await group.maxRules();
        const rules = await group.listRules();
        const covering = rules.filter((r) => {
          const c = ruleCidr(r);
          return isSubnetAccept(r) && c !== undefined && overlaps(c, source);
        });
        const record: VultrUndoRecord = {
          provider: 'vultr',
          scope: groupId,
          tag,
          source: formatCidr(source),
          alreadyBlocked: covering.length === 0,
          changes: [],
        };
        if (covering.length === 0) return record;

        const plans = covering.map((rule) => {
          const c = ruleCidr(rule)!;
          const piece = parsePieceNotes(rule.notes);
          const root = piece
            ? { cidr: piece.root, notes: piece.rootNotes, complete: piece.complete }
            : { cidr: c, notes: rule.notes ?? '', complete: true };
          const pieces = contains(c, source) ? complement(c, source) : [];
          const notes = formatPieceNotes(tag, source, root.cidr, root.notes);
          // A piece already accepted by an identical rule is not created: a Floodgate piece of the
          // same original (left by an interrupted attempt) is reused, an operator's rule is kept.
          const same = (p: Cidr) =>
            rules.find((r) => {
              const rc = ruleCidr(r);
              return (
                rc !== undefined && isSubnetAccept(r) && familyKey(r) === familyKey(rule) && sameCidr(rc, p)
              );
            });
          const existing = pieces.map((p) => {
            const found = same(p);
            const asPiece = found ? parsePieceNotes(found.notes) : undefined;
            if (!found) return undefined;
            return asPiece && sameCidr(asPiece.root, root.cidr) ? { reuse: found } : { kept: found };
          });
          return { rule, root, pieces, notes, existing };
        });
        const toCreate = plans.reduce((n, p) => n + p.existing.filter((e) => e === undefined).length, 0);
        if (rules.length + toCreate > max) {
          throw new FloodgateError(
            'FG_ERR_CLOUD_API',
            `vultr: blocking ${record.source} needs ${toCreate} more rule(s) in group ${groupId}, which holds ` +
              `${rules.length} of at most ${max}; block a wider prefix or free rules`,
            { provider: 'vultr', reason: 'rule-limit', limit: max, current: rules.length, needed: toCreate },
          );
        }

        const createdNow: number[] = [];
        try {
          for (const plan of plans) {
            const created: VultrRuleChange['created'] = [];
            const kept: VultrRuleChange['kept'] = [];
            for (const [i, piece] of plan.pieces.entries()) {
              const found = plan.existing[i];
              if (found?.kept) {
                kept.push({ subnet: found.kept.subnet, subnet_size: found.kept.subnet_size });
                continue;
              }
              const rule =
                found?.reuse ?? (await group.create(createBody(snapshot(plan.rule), piece, plan.notes)));
              if (!found) createdNow.push(rule.id);
              created.push({ id: rule.id, subnet: rule.subnet, subnet_size: rule.subnet_size });
            }
            await group.remove(plan.rule.id);
            record.changes.push({
              deleted: snapshot(plan.rule),
              root: {
                subnet: formatAddress(plan.root.cidr.version, plan.root.cidr.network),
                subnet_size: plan.root.cidr.length,
                notes: plan.root.notes,
                notesComplete: plan.root.complete,
              },
              created,
              kept,
            });
          }
        } catch (error) {
          // Pieces of a rule that was not deleted are redundant allows: take back what this call made.
          const done = new Set(record.changes.flatMap((c) => c.created.map((r) => r.id)));
          for (const id of createdNow.filter((id) => !done.has(id))) {
            await group.remove(id).catch(() => undefined);
          }
          throw error;
        }
        return record;
      });
    },

    async undo(client: CloudHttpClient, record: VultrUndoRecord): Promise<UndoResult> {
      if (record.alreadyBlocked || record.changes.length === 0) return { wasPresent: false };
      const source = parseSourceParam(record.source);
      const group = new VultrGroup(client, record.scope);
      return cloudObjectLocks.run(`vultr:${record.scope}`, async () => {
        const state: RestoreState = { rules: await group.listRules() };
        let wasPresent = false;
        for (const change of record.changes) {
          if (await restoreChange(group, state, change, source, record.tag)) wasPresent = true;
        }
        if (await completeOriginals(group, state, record.changes)) wasPresent = true;
        await removeLeftovers(group, state, source);
        return { wasPresent };
      });
    },

    async list(
      client: CloudHttpClient,
      tag?: string,
      known: readonly VultrUndoRecord[] = [],
    ): Promise<CloudBlock[]> {
      const rules = await new VultrGroup(client, groupId).listRules();
      const byBlock = new Map<string, CloudBlock>();
      // A block whose hole left no piece behind (it took out a whole rule) is found through its
      // record: in place while no accept rule of the kinds it narrowed admits any of it.
      for (const record of known) {
        if (record.scope !== groupId || (tag !== undefined && record.tag !== tag)) continue;
        const source = parseSourceParam(record.source);
        const admitted = rules.some((r) => {
          const c = ruleCidr(r);
          if (!c || !isSubnetAccept(r) || !overlaps(c, source)) return false;
          return record.alreadyBlocked || record.changes.some((ch) => familyKey(ch.deleted) === familyKey(r));
        });
        if (!admitted) {
          byBlock.set(`${record.tag}|${record.source}`, {
            provider: 'vultr',
            scope: groupId,
            tag: record.tag,
            source: record.source,
            ids: [],
          });
        }
      }
      // Pieces outlive their hole's undo when a neighbouring block stops the merge, so a hole
      // counts only while no accept rule of the piece's kind admits any of it.
      const holeOpen = (hole: Cidr, like: VultrRule): boolean =>
        rules.some((r) => {
          const c = ruleCidr(r);
          return (
            c !== undefined && isSubnetAccept(r) && familyKey(r) === familyKey(like) && overlaps(c, hole)
          );
        });
      for (const rule of rules) {
        const p = parsePieceNotes(rule.notes);
        if (!p?.hole || (tag !== undefined && p.tag !== tag) || holeOpen(p.hole, rule)) continue;
        const key = `${p.tag}|${formatCidr(p.hole)}`;
        const block = byBlock.get(key) ?? {
          provider: 'vultr' as const,
          scope: groupId,
          tag: p.tag,
          source: formatCidr(p.hole),
          ids: [],
        };
        block.ids.push(String(rule.id));
        byBlock.set(key, block);
      }
      return [...byBlock.values()];
    },

    parseRecord(value: unknown): VultrUndoRecord {
      return parseStoredRecord('vultr', recordSchema, value);
    },
  };
}
