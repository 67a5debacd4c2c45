/**
 * fail2ban: ban the sources in one of the operator's jails, through fail2ban-client, so the jail's
 * own ban action (iptables, nftables, ...) does the blocking and `fail2ban-client status` shows
 * them. banip of a banned address and unbanip of an unbanned one both succeed without change.
 */
import { defineAction } from './define.js';

export const fail2banBan = defineAction({
  id: 'fail2ban.ban-ip',
  group: 'fail2ban',
  title: 'Ban sources in a fail2ban jail',
  description:
    "Bans each source address in a named jail with fail2ban-client; the jail's banaction blocks them until the undo (or the jail's bantime) lifts the ban.",
  params: [
    {
      name: 'jail',
      kind: 'jail',
      description: 'The jail to ban in (it must exist and be running).',
      required: true,
    },
    {
      name: 'sources',
      kind: 'address',
      description: "Source addresses to ban, IPv4 or IPv6 (default: the incident's top sources).",
      required: true,
      multiple: true,
      fromIncident: 'sources',
    },
    {
      name: 'socket',
      kind: 'path',
      description: "fail2ban-server's socket when it is not the default (fail2ban-client -s).",
      required: false,
    },
  ],
  mixedFamilies: true,
  risk: 'low',
  riskNote:
    'Only the listed addresses are banned; an address fail2ban had banned by itself before is unbanned by the undo too.',
  commandTemplate: 'fail2ban-client [-s {socket}] set {jail} banip {sources}',
  undoTemplate: 'fail2ban-client [-s {socket}] set {jail} unbanip {sources}',
  broad: () => false,
  build(v) {
    const socket = v.optStr('socket');
    const base = ['fail2ban-client', ...(socket === undefined ? [] : ['-s', socket]), 'set', v.str('jail')];
    const sources = v.ips('sources').map((s) => s.text);
    return {
      apply: [{ argv: [...base, 'banip', ...sources] }],
      undo: [{ argv: [...base, 'unbanip', ...sources] }],
    };
  },
});
