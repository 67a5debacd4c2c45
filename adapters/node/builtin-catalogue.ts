/**
 * The action types this build of Floodgate ships: the host-firewall tools run on nodes and the
 * cloud firewall APIs. One catalogue, shared by the node adapter, the CLI and the API.
 */
import { LOCAL_ACTION_TYPES } from './actions/catalogue.js';
import type { ActionCatalogue, ActionEntry } from './catalogue.js';
import { localEntry } from './local-entries.js';

export function catalogueOf(entries: readonly ActionEntry[]): ActionCatalogue {
  const byId = new Map(entries.map((e) => [e.id, e]));
  if (byId.size !== entries.length) throw new Error('two action types share an id');
  return { entries: () => entries, get: (id) => byId.get(id) };
}

let builtin: ActionCatalogue | undefined;

export function builtinNodeCatalogue(): ActionCatalogue {
  builtin ??= catalogueOf(LOCAL_ACTION_TYPES.map(localEntry));
  return builtin;
}
