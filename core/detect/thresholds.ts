/**
 * Resolves each monitored network's effective thresholds once, at start-up, so the per-second
 * evaluation reads two numbers per host. Most specific wins, per metric: the network's own value,
 * else the closest enclosing configured network that sets it, else the global one. 0 means the
 * metric is disabled (thresholds themselves are always positive), which is also how an
 * incident's `thresholds` report a disabled metric.
 */
import type { Rates } from '../incident/incident.js';
import { type Prefix, parsePrefix, prefixCovers } from '../net/address.js';
import type { DetectionConfig } from './config.js';

export interface ResolvedNetwork {
  /** The prefix as configured ("203.0.113.0/24"), reported as an incident's `network`. */
  text: string;
  name: string | undefined;
  prefix: Prefix;
  /** Effective thresholds; 0 = disabled. */
  thresholds: Rates;
}

export function resolveNetworks(config: DetectionConfig): ResolvedNetwork[] {
  const parsed = config.networks.map((n) => {
    const prefix = parsePrefix(n.prefix);
    if (!prefix) throw new RangeError(`monitored network ${n.prefix} is not a prefix`);
    return { config: n, prefix };
  });
  return parsed.map(({ config: n, prefix }) => {
    // This network and every configured network enclosing it, most specific first.
    const chain = parsed
      .filter((other) => prefixCovers(other.prefix, prefix))
      .sort((a, b) => b.prefix.length - a.prefix.length);
    const pick = (metric: 'pps' | 'bps'): number => {
      for (const link of chain) {
        const value = link.config.thresholds?.[metric];
        if (value !== undefined) return value ?? 0;
      }
      return config.thresholds[metric] ?? 0;
    };
    return { text: n.prefix, name: n.name, prefix, thresholds: { pps: pick('pps'), bps: pick('bps') } };
  });
}
