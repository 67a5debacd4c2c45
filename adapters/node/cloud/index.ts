/**
 * The cloud firewall actions of the node adapter, one per provider: each has a configuration
 * schema, a client factory (bearer token, retries) and the "block source" action bound to the
 * configured zone, firewall or group. The node adapter's catalogue adapts these to its entries.
 */
import {
  type CloudflareUndoRecord,
  cloudflareBlock,
  cloudflareConfigSchema,
  createCloudflareClient,
} from './cloudflare.js';
import {
  createDigitalOceanClient,
  type DigitalOceanUndoRecord,
  digitalOceanBlock,
  digitalOceanConfigSchema,
} from './digitalocean.js';
import { createVultrClient, type VultrUndoRecord, vultrBlock, vultrConfigSchema } from './vultr.js';

export type CloudUndoRecord = CloudflareUndoRecord | DigitalOceanUndoRecord | VultrUndoRecord;

export const cloudProviders = {
  cloudflare: {
    name: 'cloudflare',
    configSchema: cloudflareConfigSchema,
    createClient: createCloudflareClient,
    createAction: cloudflareBlock,
  },
  digitalocean: {
    name: 'digitalocean',
    configSchema: digitalOceanConfigSchema,
    createClient: createDigitalOceanClient,
    createAction: digitalOceanBlock,
  },
  vultr: {
    name: 'vultr',
    configSchema: vultrConfigSchema,
    createClient: createVultrClient,
    createAction: vultrBlock,
  },
} as const;

export { parseSourceParam } from './cidr.js';
export type { CloudflareUndoRecord } from './cloudflare.js';
export type { DigitalOceanUndoRecord } from './digitalocean.js';
export { type CloudExchange, CloudHttpClient, cloudStatus } from './http-client.js';
export type {
  ApplyContext,
  BlockParams,
  CloudBlock,
  CloudBlockAction,
  CloudDescribe,
  CloudProviderName,
  UndoResult,
} from './types.js';
export type { VultrUndoRecord } from './vultr.js';
