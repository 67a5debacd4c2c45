/**
 * nftables, in a table of our own ("inet floodgate") so the operator's tables are never
 * touched. Each plan owns one base chain on the input hook named "fg-<tag>"; apply writes the
 * chain's whole content in one nft transaction (create if missing, flush, add the rules), so
 * applying twice leaves the same rules. Undo removes the chain, then the table once it holds
 * nothing else. Rule handles never need to be known.
 */
import type { CommandStep, IpVersion } from './action-type.js';
import { broadPrefix, destinationParam, sourcesParam } from './common-params.js';
import { defineAction } from './define.js';
import { paramError, type ResolvedParams } from './resolve.js';

export const NFT_TABLE = 'floodgate';

function chainName(tag: string): string {
  return `fg-${tag}`;
}

/** The nft family keyword of address matches. */
function ipKeyword(version: IpVersion): string {
  return version === 4 ? 'ip' : 'ip6';
}

function chainSteps(tag: string, rules: readonly string[]): { apply: CommandStep[]; undo: CommandStep[] } {
  const chain = `inet ${NFT_TABLE} ${chainName(tag)}`;
  const tableList = ['nft', 'list', 'table', 'inet', NFT_TABLE];
  // One argv word: nft joins its arguments into one script anyway, and one word previews readably.
  // Priority 0 (what "filter" names), spelled as a number for nft releases before 0.9.1.
  const script = [
    `add table inet ${NFT_TABLE}`,
    `add chain ${chain} { type filter hook input priority 0; policy accept; }`,
    `flush chain ${chain}`,
    ...rules.map((r) => `add rule ${chain} ${r}`),
  ].join('; ');
  return {
    apply: [{ argv: ['nft', script] }],
    undo: [
      {
        argv: ['nft', `flush chain ${chain}; delete chain ${chain}`],
        skipIf: [{ argv: ['nft', 'list', 'chain', 'inet', NFT_TABLE, chainName(tag)], exitCodes: [1] }],
      },
      {
        argv: ['nft', 'delete', 'table', 'inet', NFT_TABLE],
        // Missing, or still holding another plan's chain.
        skipIf: [
          { argv: tableList, exitCodes: [1] },
          { argv: tableList, stdoutLacks: `^table inet ${NFT_TABLE} \\{\\s*\\}\\s*$` },
        ],
      },
    ],
  };
}

const APPLY_HEAD =
  "nft 'add table inet floodgate; add chain inet floodgate fg-{tag} { type filter hook input priority 0; policy accept; }; flush chain inet floodgate fg-{tag}; add rule inet floodgate fg-{tag}";
const UNDO = [
  "nft 'flush chain inet floodgate fg-{tag}; delete chain inet floodgate fg-{tag}'    (when the chain exists)",
  'nft delete table inet floodgate    (when the table is empty)',
].join('\n');

function destination(v: ResolvedParams): string {
  return `${ipKeyword(v.version())} daddr ${v.ip('destination').text}`;
}

function nonZeroProtocol(v: ResolvedParams): number {
  const protocol = v.num('protocol');
  if (protocol === 0)
    throw paramError(v.actionId, 'protocol', protocol, 'is 0, which is no transport protocol');
  return protocol;
}

export const nftablesDropProtocol = defineAction({
  id: 'nftables.drop-protocol',
  group: 'nftables',
  title: 'Drop a protocol to the target (nftables)',
  description: 'Drops every packet of one IP protocol addressed to the target, in our own nftables table.',
  params: [
    {
      name: 'protocol',
      kind: 'protocol',
      description: 'The IP protocol to drop (name or number 1-255).',
      required: true,
      fromIncident: 'protocols',
    },
    destinationParam,
  ],
  risk: 'high',
  riskNote: 'Drops the whole protocol to the target, legitimate traffic included.',
  commandTemplate: `${APPLY_HEAD} ip|ip6 daddr {destination} meta l4proto {protocol} counter drop'`,
  undoTemplate: UNDO,
  broad: () => true,
  build: (v, tag) => chainSteps(tag, [`${destination(v)} meta l4proto ${nonZeroProtocol(v)} counter drop`]),
});

export const nftablesDropSource = defineAction({
  id: 'nftables.drop-source',
  group: 'nftables',
  title: 'Drop sources to the target (nftables)',
  description: 'Drops every packet from each source address or prefix to the target: one rule per source.',
  params: [
    sourcesParam("The source addresses or CIDR prefixes to drop (default: the incident's top sources)."),
    destinationParam,
  ],
  risk: 'low',
  riskNote:
    'Only the listed sources are dropped; a short prefix (shorter than /24 or /48) catches legitimate neighbours.',
  commandTemplate: `${APPLY_HEAD} ip|ip6 saddr {sources} ip|ip6 daddr {destination} counter drop'`,
  undoTemplate: UNDO,
  broad: (v) => v.ips('sources').some((s) => broadPrefix(s.version, s.length)),
  build(v, tag) {
    const kw = ipKeyword(v.version());
    return chainSteps(
      tag,
      v.ips('sources').map((s) => `${kw} saddr ${s.text} ${destination(v)} counter drop`),
    );
  },
});

export const nftablesDropDestinationPort = defineAction({
  id: 'nftables.drop-destination-port',
  group: 'nftables',
  title: 'Drop a destination port on the target (nftables)',
  description: 'Drops TCP or UDP packets to each destination port of the target: one rule per port.',
  params: [
    {
      name: 'ports',
      kind: 'port',
      description: "The destination ports to drop (default: the incident's top destination ports).",
      required: true,
      multiple: true,
      fromIncident: 'destinationPorts',
    },
    {
      name: 'protocol',
      kind: 'protocol',
      description: 'tcp or udp.',
      required: true,
      default: 'udp',
      protocols: [6, 17],
    },
    destinationParam,
  ],
  risk: 'medium',
  riskNote: 'Every client of the service on that port is cut off while the rule is in place.',
  commandTemplate: `${APPLY_HEAD} ip|ip6 daddr {destination} {protocol} dport {ports} counter drop'`,
  undoTemplate: UNDO,
  broad: () => false,
  build(v, tag) {
    const proto = v.num('protocol') === 6 ? 'tcp' : 'udp';
    return chainSteps(
      tag,
      v.nums('ports').map((p) => `${destination(v)} ${proto} dport ${p} counter drop`),
    );
  },
});

export const nftablesRateLimit = defineAction({
  id: 'nftables.rate-limit',
  group: 'nftables',
  title: 'Limit the packet rate to the target (nftables limit rate)',
  description:
    'Drops packets to the target above a total rate (all senders together), optionally for one protocol only.',
  params: [
    {
      name: 'rate',
      kind: 'rate',
      description: 'Packets per second let through.',
      required: true,
      default: 10000,
    },
    {
      name: 'burst',
      kind: 'burst',
      description: 'Packets let through at once above the rate.',
      required: true,
      default: 1000,
    },
    {
      name: 'protocol',
      kind: 'protocol',
      description: 'Only this protocol (default: every packet to the target).',
      required: false,
    },
    destinationParam,
  ],
  risk: 'high',
  riskNote:
    'Legitimate and attack packets share the rate: while the flood lasts most legitimate packets (of the protocol, or of every protocol without one) are dropped too.',
  commandTemplate: `${APPLY_HEAD} ip|ip6 daddr {destination} [meta l4proto {protocol}] limit rate over {rate}/second burst {burst} packets counter drop'`,
  undoTemplate: UNDO,
  broad: () => true,
  build(v, tag) {
    const protocol = v.has('protocol') ? ` meta l4proto ${nonZeroProtocol(v)}` : '';
    return chainSteps(tag, [
      `${destination(v)}${protocol} limit rate over ${v.num('rate')}/second burst ${v.num('burst')} packets counter drop`,
    ]);
  },
});
