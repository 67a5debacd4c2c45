/**
 * What the attacked node's own firewall should do about an incident (tier 1). The choice goes from
 * the narrowest rule that works to the broadest:
 * - a few real sources (the fingerprint names them and they do not look spoofed): drop them;
 * - a reflection: drop UDP from the reflector source ports;
 * - a SYN flood: limit the SYN rate to the target (dropping SYNs would refuse every new client);
 * - ICMP and GRE floods: drop the protocol (a host rarely needs either from the Internet);
 * - a UDP flood on known destination ports: drop UDP to those ports;
 * - anything else: limit the packet rate of the protocol (or of everything) to the target.
 * Sources inside protected prefixes are never listed: they are never firewalled.
 */
import type { Incident } from '../incident/incident.js';
import {
  formatPrefix,
  hostPrefix,
  type IpVersion,
  parseAddress,
  parsePrefix,
  prefixCovers,
} from '../net/address.js';
import type { MitigationConfig } from './config.js';
import {
  IPPROTO_GRE,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  isAmplification,
} from './flowspec-match.js';
import type { FirewallAction } from './intent.js';

export type FirewallConfig = MitigationConfig['firewall'];

/** Top sources as host prefixes of the target's family, protected ones left out. */
function droppableSources(
  incident: Incident,
  version: IpVersion,
  protectedPrefixes: readonly string[],
): string[] {
  const guarded = protectedPrefixes.flatMap((text) => {
    const p = parsePrefix(text);
    return p ? [p] : [];
  });
  const out: string[] = [];
  for (const source of incident.fingerprint.topSources ?? []) {
    const address = parseAddress(source.address);
    if (!address || address.version !== version) continue;
    const prefix = hostPrefix(address.words);
    if (guarded.some((g) => prefixCovers(g, prefix))) continue;
    out.push(formatPrefix(prefix));
  }
  return [...new Set(out)];
}

/** Whether the fingerprint's top sources are the whole attack, few and real enough to drop by address. */
function sourcesAreDroppable(
  incident: Incident,
  sources: readonly string[],
  config: FirewallConfig,
): boolean {
  const fp = incident.fingerprint;
  if (sources.length === 0 || sources.length > config.maxSources) return false;
  // Without a spoofing verdict nobody knows whether the addresses are real: do not drop by address.
  if (fp.spoofing === undefined || fp.spoofing.likely) return false;
  return fp.distinctSources !== undefined && fp.distinctSources <= config.maxSources;
}

export function firewallActionFor(
  incident: Incident,
  version: IpVersion,
  config: FirewallConfig,
  protectedPrefixes: readonly string[],
): FirewallAction {
  const sources = droppableSources(incident, version, protectedPrefixes);
  if (sourcesAreDroppable(incident, sources, config)) return { type: 'drop-source', sources };

  const family = incident.family;
  const fp = incident.fingerprint;
  if (isAmplification(family)) {
    const ports = [...new Set(fp.sourcePorts)];
    if (ports.length > 0) return { type: 'drop-protocol', protocol: IPPROTO_UDP, sourcePorts: ports };
    return { type: 'rate-limit', packetsPerSecond: config.rateLimitPps, protocol: IPPROTO_UDP };
  }
  switch (family) {
    case 'tcp_syn_flood':
      return {
        type: 'rate-limit',
        packetsPerSecond: config.rateLimitPps,
        protocol: IPPROTO_TCP,
        synOnly: true,
      };
    case 'icmp_flood':
      return { type: 'drop-protocol', protocol: version === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6 };
    case 'gre_flood':
      return { type: 'drop-protocol', protocol: IPPROTO_GRE };
    case 'udp_flood':
      if (fp.destinationPorts.length > 0 && fp.destinationPorts.length <= config.maxSources) {
        return {
          type: 'drop-protocol',
          protocol: IPPROTO_UDP,
          destinationPorts: [...new Set(fp.destinationPorts)],
        };
      }
      return { type: 'rate-limit', packetsPerSecond: config.rateLimitPps, protocol: IPPROTO_UDP };
    case 'tcp_ack_rst_flood':
      return { type: 'rate-limit', packetsPerSecond: config.rateLimitPps, protocol: IPPROTO_TCP };
    default: {
      const only = fp.protocols.length === 1 ? fp.protocols[0] : undefined;
      return only === undefined
        ? { type: 'rate-limit', packetsPerSecond: config.rateLimitPps }
        : { type: 'rate-limit', packetsPerSecond: config.rateLimitPps, protocol: only };
    }
  }
}
