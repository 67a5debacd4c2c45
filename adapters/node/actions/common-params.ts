/** Parameter declarations several tool groups share, so they read and validate the same. */
import type { ParamSpec } from './action-type.js';

export const destinationParam: ParamSpec = {
  name: 'destination',
  kind: 'prefix',
  description: 'The attacked address (or prefix) the rule protects; its family picks IPv4 or IPv6.',
  required: true,
  fromIncident: 'target',
};

export function sourcesParam(description: string, kind: 'address' | 'prefix' = 'prefix'): ParamSpec {
  return { name: 'sources', kind, description, required: true, multiple: true, fromIncident: 'sources' };
}

export const chainParam: ParamSpec = {
  name: 'chain',
  kind: 'chain',
  description: 'The iptables chain the rule is inserted at the top of.',
  required: true,
  default: 'INPUT',
};

/** A source prefix shorter than this catches more than one attacker's network. */
export function broadPrefix(version: 4 | 6, length: number): boolean {
  return length < (version === 4 ? 24 : 48);
}
