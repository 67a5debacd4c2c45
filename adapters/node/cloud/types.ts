/**
 * What every cloud firewall action offers the node adapter's catalogue: "block source S" at one
 * provider, previewed as the exact requests, applied into a plain-JSON undo record, undone from
 * that record alone, and listed back for reconciliation.
 */
import type { CloudHttpClient } from './http-client.js';

export type CloudProviderName = 'cloudflare' | 'digitalocean' | 'vultr';

export interface BlockParams {
  /** The source to block: an IPv4/IPv6 address or prefix ("198.51.100.4", "2001:db8:5::/48"). */
  source: string;
}

export interface CloudDescribe {
  /** The requests apply sends, one line each: `METHOD URL Authorization: Bearer *** {json}`. */
  apply: string[];
  /** The requests undo sends, same form. */
  undo: string[];
  /** What the action means at this provider, in words an operator reads before saving a rule. */
  note: string;
}

/** A block found at the provider, for reconciliation against stored records. */
export interface CloudBlock {
  provider: CloudProviderName;
  /** The zone, firewall or group it lives in. */
  scope: string;
  tag: string;
  /** The blocked source as Floodgate wrote it ("198.51.100.4/32"). */
  source: string;
  /** Provider object ids that carry it (rule ids); empty where the provider has none. */
  ids: string[];
}

export interface UndoResult {
  /** False when nothing of the block was in place any more (undo then did nothing). */
  wasPresent: boolean;
}

/** Fields every provider's undo record carries (cross-cutting rule: provider, scope, keys). */
export interface UndoRecordBase {
  provider: CloudProviderName;
  /** Zone id, firewall id or firewall group id. */
  scope: string;
  tag: string;
  /** The blocked source in canonical form. */
  source: string;
}

export interface ApplyContext<R extends UndoRecordBase> {
  /** Records of blocks of this provider still in place (any scope; other scopes are ignored). */
  active?: readonly R[];
}

export interface CloudBlockAction<R extends UndoRecordBase> {
  readonly provider: CloudProviderName;
  /** The exact requests for these parameters; throws FG_ERR_NODE_PARAM for an invalid source. */
  describe(params: BlockParams, tag: string): CloudDescribe;
  /**
   * Puts the block in place and answers the record undo needs. Give `context.active` the other
   * records of this provider still in place: on an allow-only firewall whose rules carry no note
   * (DigitalOcean) that is how a later undo knows which entries are pieces of an earlier block
   * and merges them back verbatim; without it the set of allowed addresses is still exact.
   */
  apply(client: CloudHttpClient, params: BlockParams, tag: string, context?: ApplyContext<R>): Promise<R>;
  undo(client: CloudHttpClient, record: R): Promise<UndoResult>;
  /**
   * The blocks in place with this tag (every Floodgate tag when omitted). Providers whose rules
   * carry no note (DigitalOcean) can only check the records they are given.
   */
  list(client: CloudHttpClient, tag?: string, known?: readonly R[]): Promise<CloudBlock[]>;
  /** Validates a record read back from storage; throws FG_ERR_CLOUD_API when it is not one. */
  parseRecord(value: unknown): R;
}
