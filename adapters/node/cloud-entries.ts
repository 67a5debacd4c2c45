/**
 * The cloud firewall actions (cloud/) as catalogue entries: "block these sources" at Cloudflare,
 * DigitalOcean or Vultr, run once per rule against the provider configured in the node adapter's
 * `cloud:` section. Each source is one block with its own undo record; every HTTP exchange is an
 * outcome for the audit (token masked). Previews show the exact requests for the configured zone,
 * firewall or group, or, where none is configured (offline previews), for placeholder ids.
 */
import { z } from 'zod';
import { FloodgateError } from '../../core/errors.js';
import type { ActionParamValue } from '../../core/node-rules/rule.js';
import type {
  ActionEntry,
  ActionIncident,
  ActionOutcome,
  ActionRunRecord,
  ActionVenueHandle,
} from './catalogue.js';
import { formatCidr } from './cloud/cidr.js';
import {
  type CloudBlockAction,
  type CloudExchange,
  type CloudHttpClient,
  type CloudProviderName,
  cloudProviders,
  parseSourceParam,
} from './cloud/index.js';
import type { UndoRecordBase } from './cloud/types.js';

export const nodeCloudConfigSchema = z
  .object({
    cloudflare: cloudProviders.cloudflare.configSchema.optional(),
    digitalocean: cloudProviders.digitalocean.configSchema.optional(),
    vultr: cloudProviders.vultr.configSchema.optional(),
  })
  .strict();

export type NodeCloudConfig = z.output<typeof nodeCloudConfigSchema>;

/** What a cloud run needs at apply and undo time: the provider's client, and the blocks held now. */
export interface CloudVenue {
  /** The configured provider's client and action; undefined when the provider is not configured. */
  provider(
    name: CloudProviderName,
  ): { client: CloudHttpClient; action: CloudBlockAction<UndoRecordBase> } | undefined;
  /** Undo records of this provider's blocks in place now (DigitalOcean restores exactly with them). */
  active(name: CloudProviderName): UndoRecordBase[];
}

/** Most sources one rule blocks at a provider per incident: each is one read-modify-write. */
const MAX_CLOUD_SOURCES = 16;

const PLACEHOLDER_TOKEN = 'preview-token';
const PLACEHOLDERS: Record<CloudProviderName, Record<string, unknown>> = {
  cloudflare: { token: PLACEHOLDER_TOKEN, zoneId: '0'.repeat(32) },
  digitalocean: { token: PLACEHOLDER_TOKEN, firewallId: '00000000-0000-4000-8000-000000000000' },
  vultr: { token: PLACEHOLDER_TOKEN, firewallGroupId: '00000000-0000-4000-8000-000000000000' },
};

interface ProviderText {
  title: string;
  description: string;
  risk: ActionEntry['risk'];
  riskNote: string;
  commandTemplate: string;
  undoTemplate: string;
}

const TEXTS: Record<CloudProviderName, ProviderText> = {
  cloudflare: {
    title: 'Block sources with a Cloudflare IP Access Rule',
    description:
      'Creates an IP Access Rule (mode block) in the configured zone for each source; Cloudflare accepts single addresses and IPv4 /16 and /24, IPv6 /32, /48 and /64 ranges.',
    risk: 'low',
    riskNote:
      'Only traffic through the Cloudflare proxy is blocked; traffic to the origin address directly is not.',
    commandTemplate:
      'POST {baseUrl}/zones/{zoneId}/firewall/access_rules/rules {"mode":"block","configuration":{"target":"ip|ip_range","value":"{source}"},"notes":"[floodgate:{tag}] ..."}',
    undoTemplate: 'DELETE {baseUrl}/zones/{zoneId}/firewall/access_rules/rules/{rule id from the answer}',
  },
  digitalocean: {
    title: 'Narrow a DigitalOcean Cloud Firewall so it no longer allows sources',
    description:
      'DigitalOcean Cloud Firewalls only allow: traffic no inbound rule allows is dropped. "Block S" replaces, in every inbound rule, each allowed address range covering S by the ranges that cover it minus S (read, modify, write the whole firewall).',
    risk: 'medium',
    riskNote:
      "Rewrites the firewall's inbound rules (an allow-all becomes up to 32 IPv4 or 128 IPv6 ranges per blocked source); an operator editing the firewall at the same moment can lose the edit.",
    commandTemplate:
      'GET {baseUrl}/v2/firewalls/{firewall}; PUT {baseUrl}/v2/firewalls/{firewall} {the firewall with each allowed range covering {source} replaced by the ranges around it}',
    undoTemplate:
      'GET {baseUrl}/v2/firewalls/{firewall}; PUT {baseUrl}/v2/firewalls/{firewall} {the ranges merged back}',
  },
  vultr: {
    title: 'Narrow a Vultr firewall group so it no longer accepts sources',
    description:
      'Vultr firewall groups only accept: traffic no rule accepts is dropped. "Block S" replaces each accept rule whose subnet covers S by accept rules for the subnets around S (created first, then the original deleted).',
    risk: 'medium',
    riskNote:
      "Each blocked source inside an allow-all costs up to 32 (IPv4) or 128 (IPv6) rules; a narrowing that would pass the group's rule limit is refused before anything is sent.",
    commandTemplate:
      'GET {baseUrl}/v2/firewalls/{group}/rules; POST {baseUrl}/v2/firewalls/{group}/rules {one accept rule per range around {source}}; DELETE {baseUrl}/v2/firewalls/{group}/rules/{covering rule id}',
    undoTemplate:
      'POST {baseUrl}/v2/firewalls/{group}/rules {the original accept rule}; DELETE {baseUrl}/v2/firewalls/{group}/rules/{each created rule id}',
  },
};

function sourcesOf(
  params: Readonly<Record<string, ActionParamValue>>,
  incident: ActionIncident | undefined,
): string[] {
  const given = params['sources'];
  const list =
    given === undefined
      ? (incident?.sources ?? [])
      : Array.isArray(given)
        ? given.map(String)
        : String(given)
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '');
  if (given !== undefined && list.length > MAX_CLOUD_SOURCES) {
    throw new FloodgateError(
      'FG_ERR_NODE_PARAM',
      `parameter "sources" lists ${list.length} values; at most ${MAX_CLOUD_SOURCES}; nothing was run`,
      { param: 'sources' },
    );
  }
  // Attack data beyond the cap is cut to its top entries, as for the host tools.
  return list.slice(0, MAX_CLOUD_SOURCES).map((s) => formatCidr(parseSourceParam(s, 'sources')));
}

function checkParams(id: string, params: Readonly<Record<string, ActionParamValue>>): void {
  const unknown = Object.keys(params).filter((k) => k !== 'sources');
  if (unknown.length > 0) {
    throw new FloodgateError(
      'FG_ERR_NODE_PARAM',
      `action ${id}: no parameter ${unknown.join(', ')}; it takes sources`,
      {
        action: id,
        unknown,
      },
    );
  }
}

function outcomeOf(x: CloudExchange): ActionOutcome {
  return { command: x.line, ok: x.ok, code: x.status, output: x.output, ms: Math.round(x.ms) };
}

function cloudOf(venue: ActionVenueHandle): CloudVenue {
  const cloud = venue.cloud;
  if (cloud === undefined) {
    throw new FloodgateError('FG_ERR_ADAPTER_APPLY', 'a cloud action was given no cloud venue');
  }
  return cloud;
}

function providerOf(venue: ActionVenueHandle, name: CloudProviderName) {
  const p = cloudOf(venue).provider(name);
  if (p === undefined) {
    throw new FloodgateError(
      'FG_ERR_NODE_RULE',
      `${name} is not configured in this node adapter (config.cloud.${name}); the rule cannot run`,
      { provider: name },
    );
  }
  return p;
}

export function cloudEntry(name: CloudProviderName, config: NodeCloudConfig | undefined): ActionEntry {
  const text = TEXTS[name];
  const id = `${name}.block-source`;
  const provider = cloudProviders[name];
  const configured = config?.[name];
  // Previews use the configured zone/firewall/group; offline, placeholder ids say where they go.
  const previewAction = (provider.createAction as (c: unknown) => CloudBlockAction<UndoRecordBase>)(
    configured ?? provider.configSchema.parse(PLACEHOLDERS[name]),
  );
  const isBroad = (params: Readonly<Record<string, ActionParamValue>>): boolean =>
    sourcesOf(params, undefined).some((s) => {
      const c = parseSourceParam(s, 'sources');
      return c.length < (c.version === 4 ? 24 : 48);
    });
  return {
    id,
    group: name,
    title: text.title,
    description: text.description,
    venue: 'cloud',
    params: [
      {
        name: 'sources',
        kind: 'prefix',
        description: "The source addresses or prefixes to block (default: the incident's top sources).",
        required: true,
        fromIncident: 'sources',
      },
    ],
    risk: text.risk,
    riskNote: `${text.riskNote} A source prefix shorter than /24 (IPv4) or /48 (IPv6) is broad.`,
    commandTemplate: text.commandTemplate,
    undoTemplate: text.undoTemplate,
    isBroad: (params) => {
      checkParams(id, params);
      return isBroad(params);
    },
    preview(params, incident, tag) {
      checkParams(id, params);
      const apply: string[] = [];
      const undo: string[] = [];
      let note = '';
      for (const source of sourcesOf(params, incident)) {
        const d = previewAction.describe({ source }, tag);
        apply.push(...d.apply);
        undo.push(...d.undo);
        note = d.note;
      }
      return { apply, undo, ...(note === '' ? {} : { note }) };
    },
    async apply(params, incident, tag, venue) {
      checkParams(id, params);
      const sources = sourcesOf(params, incident);
      const { client, action } = providerOf(venue, name);
      const outcomes: ActionOutcome[] = [];
      const observed = client.withObserver((x) => outcomes.push(outcomeOf(x)));
      const records: UndoRecordBase[] = [];
      try {
        for (const source of sources) {
          records.push(
            await action.apply(observed, { source }, tag, { active: cloudOf(venue).active(name) }),
          );
        }
      } catch (e) {
        // What went in before the failure comes out again: the rule is all or nothing.
        for (const record of records.reverse()) await action.undo(observed, record).catch(() => undefined);
        throw new FloodgateError(
          'FG_ERR_CLOUD_API',
          `${id}: ${e instanceof Error ? e.message : String(e)}`,
          { outcomes, provider: name },
          { cause: e },
        );
      }
      const texts = sources.flatMap((source) => previewAction.describe({ source }, tag));
      const record: ActionRunRecord = {
        applied: outcomes.map((o) => o.command),
        undoTexts: texts.flatMap((d) => d.undo),
        outcomes,
        undo: { provider: name, records },
      };
      return record;
    },
    async undo(record, venue) {
      const { client, action } = providerOf(venue, name);
      const stored = record.undo['records'];
      if (!Array.isArray(stored)) {
        throw new FloodgateError(
          'FG_ERR_ADAPTER_WITHDRAW',
          `${id}: the run record holds no ${name} undo records`,
        );
      }
      const outcomes: ActionOutcome[] = [];
      const observed = client.withObserver((x) => outcomes.push(outcomeOf(x)));
      let wasPresent = false;
      for (const raw of [...stored].reverse()) {
        const result = await action.undo(observed, action.parseRecord(raw));
        if (result.wasPresent) wasPresent = true;
      }
      return { outcomes, wasPresent };
    },
  };
}

export const CLOUD_PROVIDERS: readonly CloudProviderName[] = ['cloudflare', 'digitalocean', 'vultr'];

/** The cloud venue of a node adapter: clients made on first use (reading a token file is I/O). */
export function cloudVenue(
  config: NodeCloudConfig,
  active: (name: CloudProviderName) => UndoRecordBase[],
): CloudVenue {
  const made = new Map<
    CloudProviderName,
    { client: CloudHttpClient; action: CloudBlockAction<UndoRecordBase> }
  >();
  return {
    provider(name) {
      const c = config[name];
      if (c === undefined) return undefined;
      let p = made.get(name);
      if (p === undefined) {
        const provider = cloudProviders[name];
        p = {
          client: (provider.createClient as (c: unknown) => CloudHttpClient)(c),
          action: (provider.createAction as (c: unknown) => CloudBlockAction<UndoRecordBase>)(c),
        };
        made.set(name, p);
      }
      return p;
    },
    active,
  };
}
