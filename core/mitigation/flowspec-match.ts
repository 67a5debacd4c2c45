/**
 * What a FlowSpec rule should match for each attack family: narrow enough that the victim's other
 * traffic keeps flowing (that is what FlowSpec buys over RTBH), wide enough to catch the attack.
 */
import { AMPLIFICATION_PORTS, type AttackFamily, type Incident } from '../incident/incident.js';
import type { IpVersion } from '../net/address.js';
import type { MitigationConfig } from './config.js';
import type { FlowSpecMatch } from './intent.js';

/** The optional refinements (mitigation.flowspec.match); all off reproduces the plain match. */
export type FlowSpecMatchOptions = MitigationConfig['flowspec']['match'];

const NO_REFINEMENTS: FlowSpecMatchOptions = { destinationPorts: false, packetLength: false, maxPorts: 8 };

/** Families whose destination ports say what is attacked (a reflection's ports are random). */
const FLOOD_FAMILIES: ReadonlySet<AttackFamily> = new Set([
  'udp_flood',
  'tcp_syn_flood',
  'tcp_ack_rst_flood',
]);

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_GRE = 47;
export const IPPROTO_ICMPV6 = 58;

export const TCP_FLAG_SYN = 0x02;
export const TCP_FLAG_ACK = 0x10;

/** The reflector port that defines each amplification family. */
const REFLECTOR_PORT: ReadonlyMap<AttackFamily, number> = new Map(
  Object.entries(AMPLIFICATION_PORTS).map(([port, family]) => [family, Number(port)]),
);

export function isAmplification(family: AttackFamily): boolean {
  return REFLECTOR_PORT.has(family);
}

/** The protocol a family implies, or undefined when only the fingerprint can tell. */
function familyProtocol(family: AttackFamily, version: IpVersion): number | undefined {
  if (isAmplification(family) || family === 'udp_flood') return IPPROTO_UDP;
  switch (family) {
    case 'tcp_syn_flood':
    case 'tcp_ack_rst_flood':
      return IPPROTO_TCP;
    case 'icmp_flood':
      return version === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    case 'gre_flood':
      return IPPROTO_GRE;
    default:
      return undefined;
  }
}

/**
 * The match for an incident's FlowSpec rule on `destination`:
 * - the protocol the family implies; for families that imply none (fragment, carpet bombing,
 *   mixed) every protocol the fingerprint saw, or none at all when it saw none;
 * - amplification: the reflector source ports from the fingerprint, plus the family's own port;
 * - SYN flood: SYN set and ACK clear, so established connections to the victim survive;
 * - fragment flood: fragments only.
 * With the refinements switched on:
 * - floods: the fingerprint's destination ports (left out when there are more than `maxPorts`);
 * - every family: the packet lengths between the 10th and 90th percentile of the attack's packets.
 */
export function flowSpecMatchFor(
  incident: Incident,
  destination: string,
  version: IpVersion,
  options: FlowSpecMatchOptions = NO_REFINEMENTS,
): FlowSpecMatch {
  const match: FlowSpecMatch = { destination };
  const fixed = familyProtocol(incident.family, version);
  const protocols = fixed !== undefined ? [fixed] : incident.fingerprint.protocols;
  if (protocols.length > 0) match.protocols = [...protocols];

  const reflectorPort = REFLECTOR_PORT.get(incident.family);
  if (reflectorPort !== undefined) {
    match.sourcePorts = [...new Set([...incident.fingerprint.sourcePorts, reflectorPort])];
  }
  if (incident.family === 'tcp_syn_flood') {
    match.tcpFlagsSet = TCP_FLAG_SYN;
    match.tcpFlagsClear = TCP_FLAG_ACK;
  }
  if (incident.family === 'fragment_flood') match.fragment = 'is-fragment';

  const ports = incident.fingerprint.destinationPorts;
  if (
    options.destinationPorts &&
    FLOOD_FAMILIES.has(incident.family) &&
    ports.length > 0 &&
    ports.length <= options.maxPorts
  ) {
    match.destinationPorts = [...new Set(ports)];
  }
  const sizes = incident.fingerprint.packetSizes;
  if (options.packetLength && sizes !== undefined && sizes.p90 > 0) {
    const min = Math.max(0, Math.floor(Math.min(sizes.p10, sizes.p90)));
    const max = Math.min(65535, Math.ceil(Math.max(sizes.p10, sizes.p90)));
    match.packetLength = { min, max };
  }
  return match;
}
