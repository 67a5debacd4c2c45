/**
 * iptables / ip6tables (the binary follows the family of the destination). Every rule carries
 * the comment "floodgate:<tag>" and is inserted at the top of its chain so an operator's ACCEPT
 * rules cannot shadow it. Apply is skipped when `-C` finds the rule; undo deletes it only when
 * `-C` finds it, so both are idempotent.
 */
import type { CommandStep, IpVersion } from './action-type.js';
import { broadPrefix, chainParam, destinationParam, sourcesParam } from './common-params.js';
import { defineAction } from './define.js';
import { shortName, tagComment } from './naming.js';
import { paramError, type ResolvedParams } from './resolve.js';

export function iptablesBinary(version: IpVersion): string {
  return version === 4 ? 'iptables' : 'ip6tables';
}

/** Insert-unless-present and delete-if-present for one rule specification. */
export function iptablesRule(
  version: IpVersion,
  chain: string,
  spec: readonly string[],
): { apply: CommandStep; undo: CommandStep } {
  const bin = iptablesBinary(version);
  const check = [bin, '-w', '-C', chain, ...spec];
  return {
    // -C exits 0 when the rule is there, 1 when it (or its chain) is absent, 2 for a problem,
    // which -I or -D then reports.
    apply: { argv: [bin, '-w', '-I', chain, '1', ...spec], skipIf: [{ argv: check }] },
    undo: { argv: [bin, '-w', '-D', chain, ...spec], skipIf: [{ argv: check, exitCodes: [1] }] },
  };
}

/** Plans of several rules: applied in order, undone in reverse. */
function rules(version: IpVersion, chain: string, specs: readonly (readonly string[])[]) {
  const pairs = specs.map((s) => iptablesRule(version, chain, s));
  return { apply: pairs.map((p) => p.apply), undo: pairs.map((p) => p.undo).reverse() };
}

const comment = (tag: string): string[] => ['-m', 'comment', '--comment', tagComment(tag)];

function nonZeroProtocol(v: ResolvedParams): number {
  const protocol = v.num('protocol');
  if (protocol === 0) {
    throw paramError(v.actionId, 'protocol', protocol, 'is 0, which iptables reads as every protocol');
  }
  return protocol;
}

const RULE_HEAD = 'ip(6)tables -w -I {chain} 1 -d {destination}';
const UNDO_HEAD = 'ip(6)tables -w -D {chain} -d {destination}';
const TAIL = '-m comment --comment floodgate:{tag} -j DROP';

export const iptablesDropProtocol = defineAction({
  id: 'iptables.drop-protocol',
  group: 'iptables',
  title: 'Drop a protocol to the target (iptables)',
  description:
    'Drops every packet of one IP protocol (udp, icmp, gre, a number) addressed to the target, with iptables or ip6tables by family.',
  params: [
    {
      name: 'protocol',
      kind: 'protocol',
      description: 'The IP protocol to drop (name or number 1-255).',
      required: true,
      fromIncident: 'protocols',
    },
    destinationParam,
    chainParam,
  ],
  risk: 'high',
  riskNote:
    'Drops the whole protocol to the target, legitimate traffic included (all UDP also stops DNS replies to it).',
  commandTemplate: `${RULE_HEAD} -p {protocol} ${TAIL}`,
  undoTemplate: `${UNDO_HEAD} -p {protocol} ${TAIL}`,
  broad: () => true,
  build(v, tag) {
    const spec = [
      '-d',
      v.ip('destination').text,
      '-p',
      String(nonZeroProtocol(v)),
      ...comment(tag),
      '-j',
      'DROP',
    ];
    return rules(v.version(), v.str('chain'), [spec]);
  },
});

export const iptablesDropSource = defineAction({
  id: 'iptables.drop-source',
  group: 'iptables',
  title: 'Drop sources to the target (iptables)',
  description: 'Drops every packet from each source address or prefix to the target: one rule per source.',
  params: [
    sourcesParam("The source addresses or CIDR prefixes to drop (default: the incident's top sources)."),
    destinationParam,
    chainParam,
  ],
  risk: 'low',
  riskNote:
    'Only the listed sources are dropped; a short prefix (shorter than /24 or /48) catches legitimate neighbours.',
  commandTemplate: `ip(6)tables -w -I {chain} 1 -s {sources} -d {destination} ${TAIL}`,
  undoTemplate: `ip(6)tables -w -D {chain} -s {sources} -d {destination} ${TAIL}`,
  broad: (v) => v.ips('sources').some((s) => broadPrefix(s.version, s.length)),
  build(v, tag) {
    const destination = v.ip('destination').text;
    const specs = v
      .ips('sources')
      .map((s) => ['-s', s.text, '-d', destination, ...comment(tag), '-j', 'DROP']);
    return rules(v.version(), v.str('chain'), specs);
  },
});

const portProtocolParam = {
  name: 'protocol',
  kind: 'protocol' as const,
  description: 'tcp or udp.',
  required: true,
  default: 'udp',
  protocols: [6, 17],
};

export const iptablesDropDestinationPort = defineAction({
  id: 'iptables.drop-destination-port',
  group: 'iptables',
  title: 'Drop a destination port on the target (iptables)',
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
    portProtocolParam,
    destinationParam,
    chainParam,
  ],
  risk: 'medium',
  riskNote: 'Every client of the service on that port is cut off while the rule is in place.',
  commandTemplate: `${RULE_HEAD} -p {protocol} -m {protocol} --dport {ports} ${TAIL}`,
  undoTemplate: `${UNDO_HEAD} -p {protocol} -m {protocol} --dport {ports} ${TAIL}`,
  broad: () => false,
  build(v, tag) {
    const destination = v.ip('destination').text;
    const proto = v.num('protocol') === 6 ? 'tcp' : 'udp';
    const specs = v
      .nums('ports')
      .map((p) => [
        '-d',
        destination,
        '-p',
        proto,
        '-m',
        proto,
        '--dport',
        String(p),
        ...comment(tag),
        '-j',
        'DROP',
      ]);
    return rules(v.version(), v.str('chain'), specs);
  },
});

export const iptablesDropUdpSourcePort = defineAction({
  id: 'iptables.drop-udp-source-port',
  group: 'iptables',
  title: 'Drop a UDP source port to the target (reflection, iptables)',
  description:
    'Drops UDP packets to the target whose source port is a reflector port (123 NTP, 11211 memcached, 1900 SSDP...): one rule per port.',
  params: [
    {
      name: 'ports',
      kind: 'port',
      description: "The UDP source ports to drop (default: the incident's top source ports).",
      required: true,
      multiple: true,
      fromIncident: 'sourcePorts',
    },
    destinationParam,
    chainParam,
  ],
  risk: 'medium',
  riskNote:
    'Answers the target asked for from that port are dropped too (source port 53 stops its DNS lookups, 123 its NTP).',
  commandTemplate: `${RULE_HEAD} -p udp -m udp --sport {ports} ${TAIL}`,
  undoTemplate: `${UNDO_HEAD} -p udp -m udp --sport {ports} ${TAIL}`,
  broad: () => false,
  build(v, tag) {
    const destination = v.ip('destination').text;
    const specs = v
      .nums('ports')
      .map((p) => [
        '-d',
        destination,
        '-p',
        'udp',
        '-m',
        'udp',
        '--sport',
        String(p),
        ...comment(tag),
        '-j',
        'DROP',
      ]);
    return rules(v.version(), v.str('chain'), specs);
  },
});

export const iptablesRateLimitSource = defineAction({
  id: 'iptables.rate-limit-source',
  group: 'iptables',
  title: 'Rate-limit each source to the target (iptables hashlimit)',
  description:
    'Drops what each source address sends to the target above a packet rate (hashlimit per source), optionally for one protocol only.',
  params: [
    {
      name: 'rate',
      kind: 'rate',
      description: 'Packets per second each source may send.',
      required: true,
      default: 1000,
    },
    {
      name: 'burst',
      kind: 'burst',
      description: 'Packets a source may send at once above the rate.',
      required: true,
      default: 100,
    },
    {
      name: 'protocol',
      kind: 'protocol',
      description: 'Only this protocol (default: every protocol).',
      required: false,
    },
    destinationParam,
    chainParam,
  ],
  risk: 'medium',
  riskNote: 'A legitimate client sending faster than the rate (a proxy, a NAT gateway) is limited too.',
  commandTemplate: `${RULE_HEAD} [-p {protocol}] -m hashlimit --hashlimit-above {rate}/second --hashlimit-burst {burst} --hashlimit-mode srcip --hashlimit-name fg-<hash of tag> ${TAIL}`,
  undoTemplate: `${UNDO_HEAD} [-p {protocol}] -m hashlimit --hashlimit-above {rate}/second --hashlimit-burst {burst} --hashlimit-mode srcip --hashlimit-name fg-<hash of tag> ${TAIL}`,
  broad: () => false,
  build(v, tag) {
    const spec = [
      '-d',
      v.ip('destination').text,
      ...(v.has('protocol') ? ['-p', String(nonZeroProtocol(v))] : []),
      '-m',
      'hashlimit',
      '--hashlimit-above',
      `${v.num('rate')}/second`,
      '--hashlimit-burst',
      String(v.num('burst')),
      '--hashlimit-mode',
      'srcip',
      '--hashlimit-name',
      shortName('iptables.rate-limit-source', tag),
      ...comment(tag),
      '-j',
      'DROP',
    ];
    return rules(v.version(), v.str('chain'), [spec]);
  },
});

export const iptablesSynLimit = defineAction({
  id: 'iptables.syn-limit',
  group: 'iptables',
  title: 'Limit the TCP SYN rate to the target (iptables)',
  description:
    'Drops TCP SYN packets (new connections) to the target above a total rate, whoever sends them (one hashlimit bucket for all).',
  params: [
    {
      name: 'rate',
      kind: 'rate',
      description: 'SYN packets per second accepted in total.',
      required: true,
      default: 1000,
    },
    {
      name: 'burst',
      kind: 'burst',
      description: 'SYN packets accepted at once above the rate.',
      required: true,
      default: 200,
    },
    destinationParam,
    chainParam,
  ],
  risk: 'medium',
  riskNote:
    'During a SYN flood legitimate clients compete with the flood for the allowed rate; some new connections fail.',
  commandTemplate: `${RULE_HEAD} -p tcp -m tcp --syn -m hashlimit --hashlimit-above {rate}/second --hashlimit-burst {burst} --hashlimit-name fg-<hash of tag> ${TAIL}`,
  undoTemplate: `${UNDO_HEAD} -p tcp -m tcp --syn -m hashlimit --hashlimit-above {rate}/second --hashlimit-burst {burst} --hashlimit-name fg-<hash of tag> ${TAIL}`,
  broad: () => false,
  build(v, tag) {
    const spec = [
      '-d',
      v.ip('destination').text,
      '-p',
      'tcp',
      '-m',
      'tcp',
      '--syn',
      '-m',
      'hashlimit',
      '--hashlimit-above',
      `${v.num('rate')}/second`,
      '--hashlimit-burst',
      String(v.num('burst')),
      '--hashlimit-name',
      shortName('iptables.syn-limit', tag),
      ...comment(tag),
      '-j',
      'DROP',
    ];
    return rules(v.version(), v.str('chain'), [spec]);
  },
});
