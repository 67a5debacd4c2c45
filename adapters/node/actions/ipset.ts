/**
 * ipset: sources go into a named set with a timeout, and one iptables rule per set drops what
 * the set holds. The set (hash:ip or hash:net, family inet or inet6, timeout support) and its
 * rule are created on first use. Entries expire on their own after the TTL; the undo removes the
 * plan's entries and, once the set is empty, our drop rule (comment "floodgate:set:<name>") and
 * then the set itself if nothing else references it. So the last undo leaves no trace, and a set
 * or rule an operator already had stays.
 */
import type { CommandStep, IpVersion, ParamSpec } from './action-type.js';
import { broadPrefix, chainParam, sourcesParam } from './common-params.js';
import { defineAction } from './define.js';
import { iptablesRule } from './iptables.js';
import type { ResolvedParams } from './resolve.js';
import { type ParsedIp, widenPrefix } from './values.js';

const timeoutParam: ParamSpec = {
  name: 'timeout',
  kind: 'seconds',
  description: 'Seconds each entry stays in the set (its TTL); adding it again restarts the count.',
  required: true,
  default: 3600,
};

function setSteps(
  v: ResolvedParams,
  type: 'hash:ip' | 'hash:net',
  entries: readonly ParsedIp[],
): { apply: CommandStep[]; undo: CommandStep[] } {
  const set = v.str('set');
  const version: IpVersion = v.version();
  const timeout = String(v.num('timeout'));
  const missing = { argv: ['ipset', 'list', '-n', set], exitCodes: [1] };
  const header = ['ipset', 'list', '-t', set];
  const setMissing = { argv: header, exitCodes: [1] };
  const notEmpty = { argv: header, stdoutLacks: '^Number of entries: 0$' };
  const rule = iptablesRule(version, v.str('chain'), [
    '-m',
    'set',
    '--match-set',
    set,
    'src',
    '-m',
    'comment',
    '--comment',
    `floodgate:set:${set}`,
    '-j',
    'DROP',
  ]);
  const apply: CommandStep[] = [
    {
      argv: ['ipset', 'create', set, type, 'family', version === 4 ? 'inet' : 'inet6', 'timeout', timeout],
      skipIf: [{ argv: ['ipset', 'list', '-n', set] }],
    },
    rule.apply,
    // -exist: adding an entry that is there refreshes its timeout instead of failing.
    ...entries.map((e) => ({ argv: ['ipset', 'add', set, e.text, 'timeout', timeout, '-exist'] })),
  ];
  const undo: CommandStep[] = [
    // -exist: deleting an entry that is not there (expired) succeeds; a missing set would not.
    ...entries.map((e) => ({ argv: ['ipset', 'del', set, e.text, '-exist'], skipIf: [missing] })),
    // The drop rule serves every plan using the set: it goes only with the last entry.
    { ...rule.undo, skipIf: [...(rule.undo.skipIf ?? []), setMissing, notEmpty] },
    {
      argv: ['ipset', 'destroy', set],
      skipIf: [setMissing, notEmpty, { argv: header, stdoutLacks: '^References: 0$' }],
    },
  ];
  return { apply, undo };
}

const SET_TEMPLATE = [
  'ipset create {set} {type} family inet|inet6 timeout {timeout}    (when the set is missing)',
  'ip(6)tables -w -I {chain} 1 -m set --match-set {set} src -m comment --comment floodgate:set:{set} -j DROP    (when missing)',
  'ipset add {set} {sources} timeout {timeout} -exist',
].join('\n');
const SET_UNDO = [
  'ipset del {set} {sources} -exist',
  'ip(6)tables -w -D {chain} -m set --match-set {set} src -m comment --comment floodgate:set:{set} -j DROP    (when the set is empty)',
  'ipset destroy {set}    (when the set is empty and unreferenced)',
].join('\n');

export const ipsetAddSource = defineAction({
  id: 'ipset.add-source',
  group: 'ipset',
  title: 'Add sources to a drop set with a TTL (ipset hash:ip)',
  description:
    'Adds each source address to a hash:ip set whose members are dropped by one iptables rule; entries expire after the timeout. The set and its rule are created when missing.',
  params: [
    sourcesParam("The source addresses to add (default: the incident's top sources).", 'address'),
    {
      name: 'set',
      kind: 'set-name',
      description: 'The set (created when missing; use a set only Floodgate fills).',
      required: true,
      default: 'floodgate-ip4',
      default6: 'floodgate-ip6',
    },
    timeoutParam,
    chainParam,
  ],
  risk: 'low',
  riskNote: 'Only the listed addresses are dropped, and only until their timeout.',
  commandTemplate: SET_TEMPLATE.replaceAll('{type}', 'hash:ip'),
  undoTemplate: SET_UNDO,
  broad: () => false,
  build: (v) => setSteps(v, 'hash:ip', v.ips('sources')),
});

export const ipsetAddNetwork = defineAction({
  id: 'ipset.add-network',
  group: 'ipset',
  title: 'Add source networks to a drop set with a TTL (ipset hash:net)',
  description:
    'Adds the network of each source (cut to prefixLength bits, prefixLength6 for IPv6) to a hash:net set whose members are dropped by one iptables rule; entries expire after the timeout.',
  params: [
    sourcesParam("Source addresses or prefixes (default: the incident's top sources)."),
    {
      name: 'prefixLength',
      kind: 'prefix-length',
      description:
        'IPv4 sources are widened to their network of this length (longer prefixes are cut to it).',
      required: true,
      default: 24,
      max: 32,
    },
    {
      name: 'prefixLength6',
      kind: 'prefix-length',
      description: 'IPv6 sources are widened to their network of this length.',
      required: true,
      default: 64,
    },
    {
      name: 'set',
      kind: 'set-name',
      description: 'The set (created when missing; use a set only Floodgate fills).',
      required: true,
      default: 'floodgate-net4',
      default6: 'floodgate-net6',
    },
    timeoutParam,
    chainParam,
  ],
  risk: 'medium',
  riskNote: 'Every address of each network is dropped, legitimate neighbours of an attacker included.',
  commandTemplate: SET_TEMPLATE.replaceAll('{type}', 'hash:net').replace(
    '{sources}',
    '{sources}/{prefixLength} (IPv6: /{prefixLength6})',
  ),
  undoTemplate: SET_UNDO.replace('{sources}', '{sources}/{prefixLength} (IPv6: /{prefixLength6})'),
  broad(v) {
    const length4 = v.optNum('prefixLength');
    const length6 = v.optNum('prefixLength6');
    if (length4 !== undefined && broadPrefix(4, length4)) return true;
    if (length6 !== undefined && broadPrefix(6, length6)) return true;
    return v.ips('sources').some((s) => broadPrefix(s.version, s.length));
  },
  build(v) {
    const length = v.num(v.version() === 4 ? 'prefixLength' : 'prefixLength6');
    const seen = new Set<string>();
    const networks = v
      .ips('sources')
      .map((s) => widenPrefix(s, length))
      .filter((n) => !seen.has(n.text) && seen.add(n.text));
    return setSteps(v, 'hash:net', networks);
  },
});
