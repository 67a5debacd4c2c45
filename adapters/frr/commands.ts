/**
 * RTBH as FRR configuration: a static blackhole route per host, tagged, and one entry of the
 * redistribution route map per distinct (family, next hop, communities, upstream) that matches
 * the tag and sets the communities and next hop. The entry's description carries what it sets,
 * so the router's own running configuration is enough to read every route back as an intent.
 *
 * Pure: values are re-validated and re-formatted here (canonical prefixes and addresses,
 * numeric communities), never pasted into vtysh commands.
 */
import { createHash } from 'node:crypto';
import type { BlackholeIntent } from '../../core/mitigation/intent.js';
import type { BlackholeContent } from '../../core/mitigation/intent-id.js';
import type { IpVersion } from '../../core/net/address.js';
import { unencodable } from '../bgp/bytes.js';
import { formatCommunity } from '../bgp/community.js';
import { blackholeRouteFor } from '../bgp/intent-routes.js';
import type { BlackholeRoute } from '../bgp/routes.js';
import type { FrrConfig } from './config.js';

/** What one route-map entry sets: shared by every RTBH route that sets the same. */
export interface RtbhSet {
  version: IpVersion;
  nextHop: string;
  communities: number[];
  upstream?: string;
}

export type FrrLayout = Pick<FrrConfig, 'routeMap' | 'sequences' | 'tagBase'>;

const UPSTREAM_RE = /^[A-Za-z0-9._:-]{1,64}$/;
const DESCRIPTION_RE = /^floodgate rtbh ipv([46]) next-hop (\S+) communities (\S+)(?: upstream (\S+))?$/;

export function setOf(route: BlackholeRoute, upstream: string | undefined): RtbhSet {
  if (upstream !== undefined && !UPSTREAM_RE.test(upstream)) {
    throw unencodable(
      'RTBH upstream name',
      upstream,
      'letters, digits, ".", "_", ":" and "-" only, at most 64',
    );
  }
  return {
    version: route.version,
    nextHop: route.nextHop,
    communities: route.communities,
    ...(upstream === undefined ? {} : { upstream }),
  };
}

/** The route-map entry description: what the entry sets, readable back by parseDescription. */
export function describeSet(set: RtbhSet): string {
  const communities = set.communities.length === 0 ? '-' : set.communities.map(formatCommunity).join(',');
  const upstream = set.upstream === undefined ? '' : ` upstream ${set.upstream}`;
  return `floodgate rtbh ipv${set.version} next-hop ${set.nextHop} communities ${communities}${upstream}`;
}

export function parseDescription(text: string): RtbhSet | undefined {
  const m = DESCRIPTION_RE.exec(text.trim());
  if (!m) return undefined;
  const communities =
    m[3] === '-'
      ? []
      : m[3]!.split(',').map((c) => {
          const [high, low] = c.split(':').map(Number);
          return (high! * 0x10000 + low!) >>> 0;
        });
  if (communities.some((c) => !Number.isInteger(c))) return undefined;
  return {
    version: Number(m[1]) as IpVersion,
    nextHop: m[2]!,
    communities,
    ...(m[4] === undefined ? {} : { upstream: m[4] }),
  };
}

/** The sequence number tried first for a set: a hash into the configured range. */
export function preferredSequence(set: RtbhSet, layout: FrrLayout): number {
  const span = layout.sequences.last - layout.sequences.first + 1;
  const digest = createHash('sha256').update(describeSet(set)).digest();
  return layout.sequences.first + (digest.readUInt32BE(0) % span);
}

export function tagOf(sequence: number, layout: FrrLayout): number {
  return layout.tagBase + sequence;
}

export function routeAndSet(intent: BlackholeIntent): { route: BlackholeRoute; set: RtbhSet } {
  const route = blackholeRouteFor(intent);
  return { route, set: setOf(route, intent.upstream) };
}

function staticLine(route: Pick<BlackholeRoute, 'version' | 'prefix'>, tag: number): string {
  return `${route.version === 4 ? 'ip' : 'ipv6'} route ${route.prefix} blackhole tag ${tag}`;
}

/** The commands that put a route in place with the route-map entry at `sequence`. */
export function applyCommands(
  route: BlackholeRoute,
  set: RtbhSet,
  sequence: number,
  layout: FrrLayout,
): string[] {
  const tag = tagOf(sequence, layout);
  return [
    'configure terminal',
    `route-map ${layout.routeMap} permit ${sequence}`,
    `description ${describeSet(set)}`,
    `match tag ${tag}`,
    ...(set.communities.length === 0
      ? []
      : [`set community ${set.communities.map(formatCommunity).join(' ')}`]),
    set.version === 4 ? `set ip next-hop ${set.nextHop}` : `set ipv6 next-hop global ${set.nextHop}`,
    'exit',
    staticLine(route, tag),
    'end',
  ];
}

/** The commands that remove a route, and its route-map entry when nothing else uses it. */
export function withdrawCommands(
  route: Pick<BlackholeRoute, 'version' | 'prefix'>,
  sequence: number,
  layout: FrrLayout,
  removeEntry: boolean,
): string[] {
  return [
    'configure terminal',
    `no ${staticLine(route, tagOf(sequence, layout))}`,
    ...(removeEntry ? [`no route-map ${layout.routeMap} permit ${sequence}`] : []),
    'end',
  ];
}

/** How commands appear in receipts, previews and audit entries. */
export function commandText(commands: readonly string[]): string {
  return `vtysh ${commands.map((c) => `-c '${c}'`).join(' ')}`;
}

/** The intent content a static route and its entry's set say. */
export function contentOfStatic(prefix: string, set: RtbhSet): BlackholeContent {
  return {
    kind: 'rtbh',
    ipVersion: set.version,
    prefix,
    nextHop: set.nextHop,
    communities: set.communities.map(formatCommunity),
    ...(set.upstream === undefined ? {} : { upstream: set.upstream }),
  };
}
