/**
 * The routes BGP adapters announce, as one model: a FlowSpec rule (NLRI plus action extended
 * communities) or an RTBH host route (prefix, next hop, standard communities). Every BGP adapter
 * turns intents into these (intent-routes.ts) and renders them in its own syntax; adapters that
 * read routes back turn them into intents with the inverse mapping.
 */
import type { IpVersion } from '../../core/net/address.js';
import type { ExtendedCommunity } from './extended-community.js';
import type { FlowSpecNlri } from './flowspec-types.js';

export interface FlowSpecRoute {
  kind: 'flowspec';
  nlri: FlowSpecNlri;
  /** The actions, in the order they are sent. */
  actions: ExtendedCommunity[];
}

export interface BlackholeRoute {
  kind: 'rtbh';
  version: IpVersion;
  /** Canonical host prefix, "/32" or "/128". */
  prefix: string;
  /** Canonical next-hop address. */
  nextHop: string;
  /** 32-bit community values, sorted, each once. */
  communities: number[];
}

export type BgpRoute = FlowSpecRoute | BlackholeRoute;
