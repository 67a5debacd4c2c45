/**
 * ufw, for hosts whose firewall the operator manages with it. Rules are prepended (so they come
 * before the operator's allow rules) with the comment "floodgate:<tag>". ufw itself makes both
 * directions idempotent: it skips inserting a rule that exists and answers "Could not delete
 * non-existent rule" with exit 0; and because the comment is part of the match, the undo never
 * deletes an equal rule the operator wrote. Apply first checks that ufw is active: on an
 * inactive ufw the rule would be saved but enforce nothing.
 */
import type { CommandStep } from './action-type.js';
import { broadPrefix, destinationParam, sourcesParam } from './common-params.js';
import { defineAction } from './define.js';
import { tagComment } from './naming.js';
import { paramError, type ResolvedParams } from './resolve.js';

const UFW_PROTOCOLS: Readonly<Record<number, string>> = {
  6: 'tcp',
  17: 'udp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
};

const ACTIVE: CommandStep = { argv: ['ufw', 'status'], expect: { stdoutMatches: '^Status: active' } };

function steps(tag: string, rules: readonly string[][]): { apply: CommandStep[]; undo: CommandStep[] } {
  const comment = ['comment', tagComment(tag)];
  return {
    apply: [ACTIVE, ...rules.map((r) => ({ argv: ['ufw', 'prepend', 'deny', ...r, ...comment] }))],
    undo: rules.map((r) => ({ argv: ['ufw', 'delete', 'deny', ...r, ...comment] })).reverse(),
  };
}

function ports(v: ResolvedParams): (number | 'any')[] {
  return v.list('ports').filter((p): p is number | 'any' => typeof p === 'number' || p === 'any');
}

export const ufwDenyPort = defineAction({
  id: 'ufw.deny-port',
  group: 'ufw',
  title: 'Deny a protocol or port on the target (ufw)',
  description:
    'Prepends a ufw deny rule for each destination port of the target (tcp or udp), or for the whole protocol with port "any" (also gre, esp, ah).',
  params: [
    {
      name: 'ports',
      kind: 'port-or-any',
      description:
        'Destination ports to deny, or "any" for the whole protocol (default: the incident\'s top destination ports).',
      required: true,
      multiple: true,
      fromIncident: 'destinationPorts',
      min: 1,
    },
    {
      name: 'protocol',
      kind: 'protocol',
      description: 'tcp or udp; gre, esp or ah with port "any".',
      required: true,
      default: 'udp',
      protocols: [6, 17, 47, 50, 51],
    },
    destinationParam,
  ],
  risk: 'medium',
  riskNote:
    'Every client of the port (or, with "any", of the whole protocol) is cut off while the rule is in place.',
  commandTemplate: [
    'ufw status    (must show "Status: active")',
    'ufw prepend deny proto {protocol} to {destination} [port {ports}] comment floodgate:{tag}',
  ].join('\n'),
  undoTemplate: 'ufw delete deny proto {protocol} to {destination} [port {ports}] comment floodgate:{tag}',
  broad: (v) => ports(v).includes('any'),
  check(v) {
    const protocol = v.optNum('protocol');
    if (protocol === undefined || protocol === 6 || protocol === 17) return;
    const numbered = ports(v).find((p) => p !== 'any');
    if (numbered !== undefined) {
      throw paramError(
        v.actionId,
        'ports',
        numbered,
        `cannot go with protocol ${UFW_PROTOCOLS[protocol]}: ufw takes ports for tcp and udp only; use "any"`,
      );
    }
  },
  build(v, tag) {
    const proto = UFW_PROTOCOLS[v.num('protocol')]!;
    const destination = v.ip('destination').text;
    return steps(
      tag,
      ports(v).map((p) => ['proto', proto, 'to', destination, ...(p === 'any' ? [] : ['port', String(p)])]),
    );
  },
});

export const ufwDenySource = defineAction({
  id: 'ufw.deny-source',
  group: 'ufw',
  title: 'Deny sources to the target (ufw)',
  description: 'Prepends a ufw deny rule for each source address or prefix to the target.',
  params: [
    sourcesParam("The source addresses or CIDR prefixes to deny (default: the incident's top sources)."),
    destinationParam,
  ],
  risk: 'low',
  riskNote:
    'Only the listed sources are denied; a short prefix (shorter than /24 or /48) catches legitimate neighbours.',
  commandTemplate: [
    'ufw status    (must show "Status: active")',
    'ufw prepend deny from {sources} to {destination} comment floodgate:{tag}',
  ].join('\n'),
  undoTemplate: 'ufw delete deny from {sources} to {destination} comment floodgate:{tag}',
  broad: (v) => v.ips('sources').some((s) => broadPrefix(s.version, s.length)),
  build(v, tag) {
    const destination = v.ip('destination').text;
    return steps(
      tag,
      v.ips('sources').map((s) => ['from', s.text, 'to', destination]),
    );
  },
});
