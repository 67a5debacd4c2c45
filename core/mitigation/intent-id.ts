/**
 * Intent ids come from what an intent does, not from who asked for it: two incidents on the same
 * host plan the same FlowSpec rule and the same RTBH route, and those must be one announcement,
 * not two. So the id hashes the content without `id` and `incidentId`, after putting every
 * value whose order or spelling carries no meaning (port sets, communities, IPv6 text) in one form.
 */
import { createHash } from 'node:crypto';
import { formatAddressWords, formatPrefix, parseAddress, parsePrefix } from '../net/address.js';
import type {
  BlackholeIntent,
  FirewallAction,
  FirewallIntent,
  FlowSpecIntent,
  FlowSpecMatch,
  IntentKind,
  MitigationIntent,
  ScrubbingIntent,
} from './intent.js';

/** What an intent says, without the identity fields the id is computed from. */
export type FlowSpecContent = Omit<FlowSpecIntent, 'id' | 'incidentId'>;
export type BlackholeContent = Omit<BlackholeIntent, 'id' | 'incidentId'>;
export type FirewallContent = Omit<FirewallIntent, 'id' | 'incidentId'>;
export type ScrubbingContent = Omit<ScrubbingIntent, 'id' | 'incidentId'>;
export type IntentContent = FlowSpecContent | BlackholeContent | FirewallContent | ScrubbingContent;

/** The id prefix of each kind: fs4-, bh6-, fw4-, sc6-... */
const ID_TAG: Readonly<Record<IntentKind, string>> = {
  flowspec: 'fs',
  rtbh: 'bh',
  firewall: 'fw',
  scrubbing: 'sc',
};

const ID_HEX_CHARS = 16;

/** A set of numbers in one order, duplicates removed. */
function numberSet(values: readonly number[] | undefined): number[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  return [...new Set(values)].sort((a, b) => a - b);
}

/** One spelling per prefix ("2001:DB8:0::5/128" and "2001:db8::5/128" are the same route). */
export function canonicalPrefixText(text: string): string {
  const prefix = parsePrefix(text);
  return prefix ? formatPrefix(prefix) : text;
}

export function canonicalAddressText(text: string): string {
  const address = parseAddress(text);
  return address ? formatAddressWords(address.words) : text;
}

/** The match with sets sorted, empty sets dropped and prefixes in canonical text. */
export function normalizeFlowSpecMatch(match: FlowSpecMatch): FlowSpecMatch {
  const out: FlowSpecMatch = { destination: canonicalPrefixText(match.destination) };
  if (match.source !== undefined) out.source = canonicalPrefixText(match.source);
  const protocols = numberSet(match.protocols);
  if (protocols) out.protocols = protocols;
  const sourcePorts = numberSet(match.sourcePorts);
  if (sourcePorts) out.sourcePorts = sourcePorts;
  const destinationPorts = numberSet(match.destinationPorts);
  if (destinationPorts) out.destinationPorts = destinationPorts;
  if (match.packetLength !== undefined)
    out.packetLength = { min: match.packetLength.min, max: match.packetLength.max };
  if (match.tcpFlagsSet) out.tcpFlagsSet = match.tcpFlagsSet;
  if (match.tcpFlagsClear) out.tcpFlagsClear = match.tcpFlagsClear;
  if (match.fragment !== undefined) out.fragment = match.fragment;
  return out;
}

/** The firewall action with its lists in one order and spelling. */
export function normalizeFirewallAction(action: FirewallAction): FirewallAction {
  switch (action.type) {
    case 'drop-source':
      return { type: 'drop-source', sources: [...new Set(action.sources.map(canonicalPrefixText))].sort() };
    case 'drop-protocol': {
      const out: FirewallAction = { type: 'drop-protocol', protocol: action.protocol };
      const sourcePorts = numberSet(action.sourcePorts);
      if (sourcePorts) out.sourcePorts = sourcePorts;
      const destinationPorts = numberSet(action.destinationPorts);
      if (destinationPorts) out.destinationPorts = destinationPorts;
      return out;
    }
    case 'rate-limit': {
      const out: FirewallAction = { type: 'rate-limit', packetsPerSecond: action.packetsPerSecond };
      if (action.protocol !== undefined) out.protocol = action.protocol;
      if (action.synOnly) out.synOnly = true;
      return out;
    }
  }
}

/** The content in the normal form the id is computed from. */
export function canonicalIntentContent(intent: FlowSpecContent): FlowSpecContent;
export function canonicalIntentContent(intent: BlackholeContent): BlackholeContent;
export function canonicalIntentContent(intent: FirewallContent): FirewallContent;
export function canonicalIntentContent(intent: ScrubbingContent): ScrubbingContent;
export function canonicalIntentContent(intent: IntentContent): IntentContent;
export function canonicalIntentContent(intent: IntentContent): IntentContent {
  switch (intent.kind) {
    case 'flowspec':
      return {
        kind: 'flowspec',
        ipVersion: intent.ipVersion,
        match: normalizeFlowSpecMatch(intent.match),
        action: { ...intent.action },
      };
    case 'rtbh': {
      const out: BlackholeContent = {
        kind: 'rtbh',
        ipVersion: intent.ipVersion,
        prefix: canonicalPrefixText(intent.prefix),
        nextHop: canonicalAddressText(intent.nextHop),
        communities: [...new Set(intent.communities)].sort(),
      };
      if (intent.upstream !== undefined) out.upstream = intent.upstream;
      return out;
    }
    case 'firewall':
      return {
        kind: 'firewall',
        ipVersion: intent.ipVersion,
        target: canonicalPrefixText(intent.target),
        action: normalizeFirewallAction(intent.action),
      };
    case 'scrubbing': {
      const out: ScrubbingContent = {
        kind: 'scrubbing',
        ipVersion: intent.ipVersion,
        prefix: canonicalPrefixText(intent.prefix),
        communities: [...new Set(intent.communities)].sort(),
      };
      if (intent.nextHop !== undefined) out.nextHop = canonicalAddressText(intent.nextHop);
      return out;
    }
  }
}

/** JSON with object keys sorted, so equal content always hashes equal. */
function sortedJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedJson(record[k])}`).join(',')}}`;
}

/**
 * The kind's tag ("fs", "bh", "fw", "sc"), the IP version, "-" and the first 16 hex digits of the
 * SHA-256 of the canonical content: short enough for logs and CLI arguments, 64 bits leave
 * collisions out of reach.
 */
export function intentId(intent: IntentContent | MitigationIntent): string {
  const content = canonicalIntentContent(intent);
  const tag = ID_TAG[content.kind];
  const digest = createHash('sha256').update(sortedJson(content)).digest('hex');
  return `${tag}${content.ipVersion}-${digest.slice(0, ID_HEX_CHARS)}`;
}
