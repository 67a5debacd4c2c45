/**
 * Reads what the adapter needs from FRR's `show running-config`: the tagged blackhole static
 * routes, and the entries of the adapter's route map (sequence, description, matched tag).
 * Everything else in the configuration is ignored.
 */
import { formatPrefix, type IpVersion, parsePrefix } from '../../core/net/address.js';

export interface StaticBlackhole {
  version: IpVersion;
  /** Canonical prefix. */
  prefix: string;
  tag: number | undefined;
}

export interface RouteMapEntry {
  sequence: number;
  action: string;
  description?: string;
  matchTag?: number;
}

export interface RunningState {
  statics: StaticBlackhole[];
  /** The entries of the adapter's route map, by sequence number. */
  entries: Map<number, RouteMapEntry>;
}

const STATIC_RE = /^(ip|ipv6) route (\S+) (?:blackhole|Null0|reject)\b(.*)$/;
const TAG_RE = /\btag (\d+)\b/;

export function parseRunningConfig(text: string, routeMap: string): RunningState {
  const statics: StaticBlackhole[] = [];
  const entries = new Map<number, RouteMapEntry>();
  let current: RouteMapEntry | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (current && /^\s/.test(line)) {
      const body = line.trim();
      if (body.startsWith('description ')) current.description = body.slice('description '.length);
      const tag = /^match tag (\d+)$/.exec(body);
      if (tag) current.matchTag = Number(tag[1]);
      continue;
    }
    current = undefined;
    const rm = /^route-map (\S+) (permit|deny) (\d+)$/.exec(line);
    if (rm) {
      if (rm[1] === routeMap) {
        current = { sequence: Number(rm[3]), action: rm[2]! };
        entries.set(current.sequence, current);
      }
      continue;
    }
    const st = STATIC_RE.exec(line);
    if (st) {
      const prefix = parsePrefix(st[2]!);
      const version: IpVersion = st[1] === 'ip' ? 4 : 6;
      if (!prefix || prefix.version !== version) continue;
      const tag = TAG_RE.exec(st[3]!);
      statics.push({ version, prefix: formatPrefix(prefix), tag: tag ? Number(tag[1]) : undefined });
    }
  }
  return { statics, entries };
}
