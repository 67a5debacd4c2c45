/**
 * Mitigation intents as ExaBGP 4.2 text-API commands, one line each, in the syntax checked
 * against exabgp 4.2.21 (docs in shared/reference/bgp-lab.md). Pure: the same intent always
 * renders to the same bytes, which is what previews, receipts and audit entries rely on.
 *
 * Every value is re-validated and re-formatted here, never pasted: a `;` or `}` smuggled into an
 * intent would otherwise become a second command on ExaBGP's control channel.
 */
import { FloodgateError } from '../../core/errors.js';
import type {
  BlackholeIntent,
  FirewallIntent,
  FlowSpecAction,
  FlowSpecIntent,
  FlowSpecMatch,
  MitigationIntent,
  NumericRange,
  ScrubbingIntent,
} from '../../core/mitigation/intent.js';
import {
  formatAddressWords,
  formatPrefix,
  type IpVersion,
  parseAddress,
  parsePrefix,
} from '../../core/net/address.js';

export interface ExaBgpRenderOptions {
  /**
   * Peers the command is for (`neighbor 127.0.0.2 announce ...`); all peers when empty. ExaBGP
   * answers `error` when a selector matches no configured peer.
   */
  neighbors?: readonly string[];
}

/** Protocol names ExaBGP knows and routers' CLIs print; other protocols go as numbers. */
const PROTOCOL_NAMES: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 47: 'gre' };

/** ExaBGP's TCP flag names by bit, lowest first (the order they are written in). */
const TCP_FLAG_NAMES: readonly (readonly [number, string])[] = [
  [0x01, 'fin'],
  [0x02, 'syn'],
  [0x04, 'rst'],
  [0x08, 'push'],
  [0x10, 'ack'],
  [0x20, 'urg'],
  [0x40, 'ece'],
  [0x80, 'cwr'],
  [0x100, 'ns'],
];
const TCP_FLAGS_ALL = 0x1ff;

const FRAGMENTS = new Set(['is-fragment', 'first-fragment', 'last-fragment', 'dont-fragment']);

function invalid(what: string, value: unknown, expected: string): FloodgateError {
  const shown = typeof value === 'string' ? `"${value}"` : String(value);
  return new FloodgateError(
    'FG_ERR_WIRE_VALUE',
    `${what} ${shown} cannot be rendered for ExaBGP: ${expected}`,
    {
      what,
      value,
    },
  );
}

function checkedInteger(what: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw invalid(what, value, `expected an integer 0-${max}`);
  return value;
}

function checkedPrefix(what: string, text: string, version: IpVersion): string {
  const prefix = parsePrefix(text);
  if (!prefix || prefix.version !== version) {
    throw invalid(what, text, `expected an IPv${version} prefix with its host bits clear`);
  }
  return formatPrefix(prefix);
}

function checkedAddress(what: string, text: string, version: IpVersion): string {
  const address = parseAddress(text);
  if (!address || address.version !== version) throw invalid(what, text, `expected an IPv${version} address`);
  return formatAddressWords(address.words);
}

function checkedCommunity(text: string): string {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  if (!m || Number(m[1]) > 0xffff || Number(m[2]) > 0xffff) {
    throw invalid('community', text, 'expected ASN:VALUE with both parts 0-65535');
  }
  return `${Number(m[1])}:${Number(m[2])}`;
}

/** One value, or several OR-ed inside brackets: `=123` or `[ =53 =123 ]`. */
function oneOrList(values: readonly string[]): string {
  return values.length === 1 ? values[0]! : `[ ${values.join(' ')} ]`;
}

function sortedUnique(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

function renderProtocols(protocols: readonly number[]): string {
  return oneOrList(
    sortedUnique(protocols).map((p) => PROTOCOL_NAMES[checkedInteger('protocol', p, 255)] ?? String(p)),
  );
}

function renderPorts(what: string, ports: readonly number[]): string {
  return oneOrList(sortedUnique(ports).map((p) => `=${checkedInteger(what, p, 65535)}`));
}

function renderPacketLength(range: NumericRange): string {
  const min = checkedInteger('packet-length min', range.min, 65535);
  const max = checkedInteger('packet-length max', range.max, 65535);
  if (min > max) throw invalid('packet-length', `${min}-${max}`, 'min must not exceed max');
  if (min === max) return `=${min}`;
  if (min === 0) return `<=${max}`;
  if (max === 65535) return `>=${min}`;
  return `>=${min}&<=${max}`;
}

function flagNames(bits: number): string {
  return TCP_FLAG_NAMES.filter(([bit]) => (bits & bit) !== 0)
    .map(([, name]) => name)
    .join('+');
}

/**
 * RFC 8955 bitmask terms AND-ed: flags that must all be set use the match bit (`=syn+ack`; a
 * single flag needs none: `syn`), flags that must all be clear use not-any (`!ack+rst`).
 */
function renderTcpFlags(set: number, clear: number): string {
  checkedInteger('tcp-flags set', set, TCP_FLAGS_ALL);
  checkedInteger('tcp-flags clear', clear, TCP_FLAGS_ALL);
  if ((set & clear) !== 0)
    throw invalid('tcp-flags', `set ${set} clear ${clear}`, 'a flag cannot be both set and clear');
  const terms: string[] = [];
  if (set !== 0) terms.push(`${(set & (set - 1)) === 0 ? '' : '='}${flagNames(set)}`);
  if (clear !== 0) terms.push(`!${flagNames(clear)}`);
  return `[ ${terms.join('&')} ]`;
}

/** The `match { ... }` block, components in RFC 8955 type order. */
export function renderFlowSpecMatch(match: FlowSpecMatch, version: IpVersion): string {
  // IPv6 prefixes carry an offset (RFC 8956); ExaBGP spells it prefix/length/offset.
  const offset = version === 6 ? '/0' : '';
  const parts: string[] = [
    `destination ${checkedPrefix('destination', match.destination, version)}${offset}`,
  ];
  if (match.source !== undefined)
    parts.push(`source ${checkedPrefix('source', match.source, version)}${offset}`);
  if (match.protocols !== undefined && match.protocols.length > 0) {
    parts.push(`${version === 4 ? 'protocol' : 'next-header'} ${renderProtocols(match.protocols)}`);
  }
  if (match.destinationPorts !== undefined && match.destinationPorts.length > 0) {
    parts.push(`destination-port ${renderPorts('destination-port', match.destinationPorts)}`);
  }
  if (match.sourcePorts !== undefined && match.sourcePorts.length > 0) {
    parts.push(`source-port ${renderPorts('source-port', match.sourcePorts)}`);
  }
  const set = match.tcpFlagsSet ?? 0;
  const clear = match.tcpFlagsClear ?? 0;
  if (set !== 0 || clear !== 0) parts.push(`tcp-flags ${renderTcpFlags(set, clear)}`);
  if (match.packetLength !== undefined) parts.push(`packet-length ${renderPacketLength(match.packetLength)}`);
  if (match.fragment !== undefined) {
    if (!FRAGMENTS.has(match.fragment)) throw invalid('fragment', match.fragment, [...FRAGMENTS].join(', '));
    parts.push(`fragment [ ${match.fragment} ]`);
  }
  return `match { ${parts.map((p) => `${p}; `).join('')}}`;
}

/** The `then { ... }` block. */
export function renderFlowSpecAction(action: FlowSpecAction): string {
  switch (action.type) {
    case 'discard':
      return 'then { discard; }';
    case 'rate-limit':
      return `then { rate-limit ${checkedInteger('rate-limit bytes/s', action.bytesPerSecond, 1_000_000_000_000)}; }`;
    case 'redirect': {
      const m = /^(\d{1,10}):(\d{1,10})$/.exec(action.routeTarget);
      const asn = Number(m?.[1]);
      const value = Number(m?.[2]);
      if (!m || asn > 0xffffffff || value > 0xffffffff || (asn > 0xffff && value > 0xffff)) {
        throw invalid(
          'redirect route target',
          action.routeTarget,
          'expected ASN:NN with a 2-byte ASN or a 2-byte NN',
        );
      }
      return `then { redirect ${asn}:${value}; }`;
    }
    case 'mark':
      return `then { mark ${checkedInteger('mark dscp', action.dscp, 63)}; }`;
    default: {
      const unknown: { type?: unknown } = action;
      throw invalid('action', String(unknown.type), 'expected discard, rate-limit, redirect or mark');
    }
  }
}

function selector(options: ExaBgpRenderOptions): string {
  const neighbors = options.neighbors ?? [];
  if (neighbors.length === 0) return '';
  // ExaBGP separates selectors with a lone comma token: "neighbor A , neighbor B announce ...".
  const parts = neighbors.map((n) => {
    const address = parseAddress(n);
    if (!address) throw invalid('neighbor', n, 'expected the IPv4 or IPv6 address of a configured peer');
    return `neighbor ${formatAddressWords(address.words)}`;
  });
  return `${parts.join(' , ')} `;
}

function flowSpecLine(
  verb: 'announce' | 'withdraw',
  intent: FlowSpecIntent,
  options: ExaBgpRenderOptions,
): string {
  const match = renderFlowSpecMatch(intent.match, intent.ipVersion);
  // ExaBGP identifies a flow route by its match alone, so a withdraw carries no action.
  const then = verb === 'announce' ? ` ${renderFlowSpecAction(intent.action)}` : '';
  return `${selector(options)}${verb} flow route { ${match}${then} }`;
}

function blackholeLine(
  verb: 'announce' | 'withdraw',
  intent: BlackholeIntent,
  options: ExaBgpRenderOptions,
): string {
  const prefix = checkedPrefix('RTBH prefix', intent.prefix, intent.ipVersion);
  const nextHop = checkedAddress('RTBH next hop', intent.nextHop, intent.ipVersion);
  const base = `${selector(options)}${verb} route ${prefix} next-hop ${nextHop}`;
  if (verb === 'withdraw' || intent.communities.length === 0) return base;
  return `${base} community [ ${intent.communities.map(checkedCommunity).join(' ')} ]`;
}

/**
 * A scrubbing diversion by BGP: the covering prefix towards the provider, with its communities;
 * `next-hop self` when the provider takes the speaker's own address.
 */
function scrubbingLine(
  verb: 'announce' | 'withdraw',
  intent: ScrubbingIntent,
  options: ExaBgpRenderOptions,
): string {
  const prefix = checkedPrefix('scrubbing prefix', intent.prefix, intent.ipVersion);
  const nextHop =
    intent.nextHop === undefined
      ? 'self'
      : checkedAddress('scrubbing next hop', intent.nextHop, intent.ipVersion);
  const base = `${selector(options)}${verb} route ${prefix} next-hop ${nextHop}`;
  if (verb === 'withdraw' || intent.communities.length === 0) return base;
  return `${base} community [ ${intent.communities.map(checkedCommunity).join(' ')} ]`;
}

function noBgpForm(intent: FirewallIntent): FloodgateError {
  return new FloodgateError(
    'FG_ERR_ADAPTER_CAPABILITY',
    `firewall intent ${intent.id} has no ExaBGP form: host firewall rules are delivered by a node adapter`,
    { intentId: intent.id, kind: intent.kind },
  );
}

function line(verb: 'announce' | 'withdraw', intent: MitigationIntent, options: ExaBgpRenderOptions): string {
  switch (intent.kind) {
    case 'flowspec':
      return flowSpecLine(verb, intent, options);
    case 'rtbh':
      return blackholeLine(verb, intent, options);
    case 'scrubbing':
      return scrubbingLine(verb, intent, options);
    case 'firewall':
      throw noBgpForm(intent);
  }
}

/** The line that puts an intent in place, e.g. `announce route 203.0.113.66/32 next-hop 192.0.2.1 community [ 65535:666 ]`. */
export function renderAnnounce(intent: MitigationIntent, options: ExaBgpRenderOptions = {}): string {
  return line('announce', intent, options);
}

/** The line that removes what `renderAnnounce` put in place. */
export function renderWithdraw(intent: MitigationIntent, options: ExaBgpRenderOptions = {}): string {
  return line('withdraw', intent, options);
}
