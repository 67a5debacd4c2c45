/**
 * The action types this build of Floodgate ships: the host-firewall tools run on nodes and the
 * cloud firewall APIs. One catalogue, shared by the node adapter, the CLI and the API; the cloud
 * entries preview the requests for the configured accounts (placeholder ids when none is).
 */
import { LOCAL_ACTION_TYPES } from './actions/catalogue.js';
import type { ActionCatalogue, ActionEntry } from './catalogue.js';
import { CLOUD_PROVIDERS, cloudEntry, type NodeCloudConfig } from './cloud-entries.js';
import { localEntry } from './local-entries.js';

export function catalogueOf(entries: readonly ActionEntry[]): ActionCatalogue {
  const byId = new Map(entries.map((e) => [e.id, e]));
  if (byId.size !== entries.length) throw new Error('two action types share an id');
  return { entries: () => entries, get: (id) => byId.get(id) };
}

export function nodeCatalogue(cloud?: NodeCloudConfig): ActionCatalogue {
  return catalogueOf([
    ...LOCAL_ACTION_TYPES.map(localEntry),
    ...CLOUD_PROVIDERS.map((name) => cloudEntry(name, cloud)),
  ]);
}

let builtin: ActionCatalogue | undefined;

/** The catalogue without cloud accounts (offline previews, docs). */
export function builtinNodeCatalogue(): ActionCatalogue {
  builtin ??= nodeCatalogue();
  return builtin;
}
