/**
 * One line of plain text per intent, in no device's syntax: what logs, refusal audit entries and
 * the simulation timeline show when no adapter rendering exists (a refused intent reached no
 * adapter; a firewall rule has no BGP form). Adapters render their own exact commands.
 */
import type { FirewallAction, FlowSpecAction, FlowSpecMatch, MitigationIntent } from './intent.js';

const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  1: 'icmp',
  6: 'tcp',
  17: 'udp',
  47: 'gre',
  58: 'icmpv6',
};

function protocolName(protocol: number): string {
  return PROTOCOL_NAMES[protocol] ?? `proto ${protocol}`;
}

function list(values: readonly (number | string)[]): string {
  return values.join(',');
}

function describeMatch(match: FlowSpecMatch): string {
  const parts = [`to ${match.destination}`];
  if (match.source !== undefined) parts.push(`from ${match.source}`);
  if (match.protocols?.length) parts.push(match.protocols.map(protocolName).join('|'));
  if (match.sourcePorts?.length) parts.push(`source-port ${list(match.sourcePorts)}`);
  if (match.destinationPorts?.length) parts.push(`destination-port ${list(match.destinationPorts)}`);
  if (match.packetLength) parts.push(`length ${match.packetLength.min}-${match.packetLength.max}`);
  if (match.tcpFlagsSet) parts.push(`tcp-flags set 0x${match.tcpFlagsSet.toString(16)}`);
  if (match.tcpFlagsClear) parts.push(`tcp-flags clear 0x${match.tcpFlagsClear.toString(16)}`);
  if (match.fragment !== undefined) parts.push(match.fragment);
  return parts.join(' ');
}

function describeFlowSpecAction(action: FlowSpecAction): string {
  switch (action.type) {
    case 'discard':
      return 'discard';
    case 'rate-limit':
      return `rate-limit ${action.bytesPerSecond} bytes/s`;
    case 'redirect':
      return `redirect to VRF ${action.routeTarget}`;
    case 'mark':
      return `mark DSCP ${action.dscp}`;
  }
}

function describeFirewallAction(action: FirewallAction): string {
  switch (action.type) {
    case 'drop-source':
      return `drop from ${list(action.sources)}`;
    case 'drop-protocol': {
      const parts = [`drop ${protocolName(action.protocol)}`];
      if (action.sourcePorts?.length) parts.push(`source-port ${list(action.sourcePorts)}`);
      if (action.destinationPorts?.length) parts.push(`destination-port ${list(action.destinationPorts)}`);
      return parts.join(' ');
    }
    case 'rate-limit': {
      const what = action.protocol === undefined ? 'all' : protocolName(action.protocol);
      return `rate-limit ${what}${action.synOnly ? ' syn' : ''} to ${action.packetsPerSecond} pps`;
    }
  }
}

/** E.g. "flowspec to 203.0.113.5/32 udp source-port 123: discard". */
export function describeIntent(intent: MitigationIntent): string {
  switch (intent.kind) {
    case 'flowspec':
      return `flowspec ${describeMatch(intent.match)}: ${describeFlowSpecAction(intent.action)}`;
    case 'rtbh': {
      const upstream = intent.upstream === undefined ? '' : ` (upstream ${intent.upstream})`;
      return `rtbh ${intent.prefix} next-hop ${intent.nextHop} communities ${list(intent.communities)}${upstream}`;
    }
    case 'firewall':
      return `firewall on ${intent.target}: ${describeFirewallAction(intent.action)}`;
    case 'scrubbing': {
      const nextHop = intent.nextHop === undefined ? '' : ` next-hop ${intent.nextHop}`;
      const communities = intent.communities.length === 0 ? '' : ` communities ${list(intent.communities)}`;
      return `scrubbing divert ${intent.prefix}${nextHop}${communities}`;
    }
  }
}
