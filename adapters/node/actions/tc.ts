/**
 * tc: limiting what an interface receives. The interface's ingress traffic (all of it, or one
 * protocol to the target) is redirected by a u32 filter with the mirred action to an ifb device
 * of the plan's own, whose tbf qdisc lets the rate through and drops the excess; the packets then
 * continue up the stack as if received on the interface. This needs only the ingress qdisc, u32,
 * mirred, ifb and tbf, which every distribution kernel has (the police action is missing from
 * some minimal kernels).
 *
 * The filter sits at a preference derived from the tag, and every check looks for our ifb by
 * name, so the operator's filters are never matched. The ingress qdisc is added only when the
 * interface has none (nor clsact), and removed on undo only when this run added it (the run
 * record keeps which apply steps ran) and no filter is left on it: an operator's ingress qdisc
 * stays, with or without filters.
 */
import type { CommandStep, ParamSpec } from './action-type.js';
import { destinationParam } from './common-params.js';
import { defineAction } from './define.js';
import { shortHash, shortName } from './naming.js';
import type { ResolvedParams } from './resolve.js';
import { paramError } from './resolve.js';

const interfaceParam: ParamSpec = {
  name: 'interface',
  kind: 'interface',
  description: 'The interface whose received traffic is limited.',
  required: true,
};
const rateParam: ParamSpec = {
  name: 'rate',
  kind: 'bandwidth',
  description: 'The rate let through, in kbit/s.',
  required: true,
};
const burstParam: ParamSpec = {
  name: 'burst',
  kind: 'bytes',
  description: 'Bytes let through at once above the rate (default: 10 ms at the rate, at least 16000).',
  required: false,
};

/** The filter preference of one plan: 20000-29999, clear of the kernel's automatic 49152 and down. */
export function tcPreference(actionId: string, tag: string, device: string): number {
  return 20_000 + (Number.parseInt(shortHash(actionId, tag, device, 'pref'), 16) % 10_000);
}

function burstBytes(v: ResolvedParams): number {
  return v.optNum('burst') ?? Math.max(16_000, Math.ceil((v.num('rate') * 1000) / 8 / 100));
}

function redirectSteps(
  v: ResolvedParams,
  tag: string,
  match: readonly string[],
): { apply: CommandStep[]; undo: CommandStep[] } {
  const dev = v.str('interface');
  const ifb = shortName(v.actionId, tag, dev);
  const pref = String(tcPreference(v.actionId, tag, dev));
  const ifbShow = ['ip', 'link', 'show', 'dev', ifb];
  const devMissing = { argv: ['ip', 'link', 'show', 'dev', dev], exitCodes: [1] };
  const qdiscShow = ['tc', 'qdisc', 'show', 'dev', dev, 'ingress'];
  const ourFilter = ['tc', 'filter', 'show', 'dev', dev, 'ingress', 'pref', pref];
  const redirectsToIfb = `Redirect to device ${ifb}\\)`;
  // An ingress or clsact qdisc the interface already has takes our filter as well.
  const addIngress: CommandStep = {
    argv: ['tc', 'qdisc', 'add', 'dev', dev, 'ingress'],
    skipIf: [{ argv: qdiscShow, stdoutMatches: '^qdisc (ingress|clsact) ffff:' }],
  };
  const apply: CommandStep[] = [
    { argv: ['ip', 'link', 'add', 'name', ifb, 'type', 'ifb'], skipIf: [{ argv: ifbShow }] },
    { argv: ['ip', 'link', 'set', 'dev', ifb, 'up'] },
    {
      argv: [
        'tc',
        'qdisc',
        'replace',
        'dev',
        ifb,
        'root',
        'tbf',
        'rate',
        `${v.num('rate')}kbit`,
        'burst',
        String(burstBytes(v)),
        'latency',
        '50ms',
      ],
    },
    addIngress,
    {
      argv: [
        'tc',
        'filter',
        'add',
        'dev',
        dev,
        'ingress',
        'pref',
        pref,
        ...match,
        'action',
        'mirred',
        'egress',
        'redirect',
        'dev',
        ifb,
      ],
      skipIf: [{ argv: ourFilter, stdoutMatches: redirectsToIfb }],
    },
  ];
  return {
    apply,
    undo: [
      {
        argv: ['tc', 'filter', 'del', 'dev', dev, 'ingress', 'pref', pref],
        skipIf: [{ argv: ourFilter, stdoutLacks: redirectsToIfb }, devMissing],
      },
      {
        argv: ['tc', 'qdisc', 'del', 'dev', dev, 'ingress'],
        // Only the ingress qdisc this run added (never clsact), with no filter left on it.
        onlyIfApplied: apply.indexOf(addIngress),
        skipIf: [
          { argv: qdiscShow, stdoutLacks: '^qdisc ingress ffff:' },
          { argv: ['tc', 'filter', 'show', 'dev', dev, 'ingress'], stdoutMatches: '\\S' },
          devMissing,
        ],
      },
      { argv: ['ip', 'link', 'del', 'dev', ifb], skipIf: [{ argv: ifbShow, exitCodes: [1] }] },
    ],
  };
}

const APPLY = [
  'ip link add name fg-<hash> type ifb    (when missing)',
  'ip link set dev fg-<hash> up',
  'tc qdisc replace dev fg-<hash> root tbf rate {rate}kbit burst {burst} latency 50ms',
  'tc qdisc add dev {interface} ingress    (when it has no ingress or clsact qdisc)',
];
const UNDO = [
  'tc filter del dev {interface} ingress pref <20000-29999>    (when our filter is there)',
  'tc qdisc del dev {interface} ingress    (when this run added it and no filter is left on it)',
  'ip link del dev fg-<hash>',
].join('\n');

export const tcPoliceIngress = defineAction({
  id: 'tc.police-ingress',
  group: 'tc',
  title: 'Limit everything an interface receives to a rate (tc)',
  description:
    'Redirects all ingress traffic of the interface to an ifb device whose tbf qdisc passes the rate and drops the excess.',
  params: [interfaceParam, rateParam, burstParam],
  risk: 'high',
  riskNote:
    'Every packet the interface receives shares the rate, management and legitimate traffic included; a rate set too low cuts the host off.',
  commandTemplate: [
    ...APPLY,
    'tc filter add dev {interface} ingress pref <20000-29999> protocol all u32 match u32 0 0 action mirred egress redirect dev fg-<hash>',
  ].join('\n'),
  undoTemplate: UNDO,
  broad: () => true,
  build: (v, tag) => redirectSteps(v, tag, ['protocol', 'all', 'u32', 'match', 'u32', '0', '0']),
});

export const tcPoliceProtocol = defineAction({
  id: 'tc.police-protocol',
  group: 'tc',
  title: 'Limit one protocol to the target on an interface (tc u32)',
  description:
    'Redirects the packets of one IP protocol to the target, as the interface receives them, to an ifb device whose tbf qdisc passes the rate and drops the excess.',
  params: [
    interfaceParam,
    {
      name: 'protocol',
      kind: 'protocol',
      description: 'The IP protocol to limit (IPv6: the first next header).',
      required: true,
      fromIncident: 'protocols',
    },
    destinationParam,
    rateParam,
    burstParam,
  ],
  risk: 'high',
  riskNote: 'All of the protocol to the target shares the rate, legitimate traffic included.',
  commandTemplate: [
    ...APPLY,
    'tc filter add dev {interface} ingress pref <20000-29999> protocol ip|ipv6 u32 match ip|ip6 dst {destination} match ip|ip6 protocol {protocol} 0xff action mirred egress redirect dev fg-<hash>',
  ].join('\n'),
  undoTemplate: UNDO,
  broad: () => true,
  build(v, tag) {
    const protocol = v.num('protocol');
    if (protocol === 0) throw paramError(v.actionId, 'protocol', 0, 'is 0, which is no transport protocol');
    const dst = v.ip('destination');
    const cidr = dst.text.includes('/') ? dst.text : `${dst.text}/${dst.version === 4 ? 32 : 128}`;
    const [ethertype, field] = dst.version === 4 ? ['ip', 'ip'] : ['ipv6', 'ip6'];
    return redirectSteps(v, tag, [
      'protocol',
      ethertype,
      'u32',
      'match',
      field,
      'dst',
      cidr,
      'match',
      field,
      'protocol',
      String(protocol),
      '0xff',
    ]);
  },
});
