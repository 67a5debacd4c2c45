/** The 19 local host-firewall action types of the node adapter, in documentation order. */
import type { ActionType } from './action-type.js';
import { fail2banBan } from './fail2ban.js';
import { ipsetAddNetwork, ipsetAddSource } from './ipset.js';
import {
  iptablesDropDestinationPort,
  iptablesDropProtocol,
  iptablesDropSource,
  iptablesDropUdpSourcePort,
  iptablesRateLimitSource,
  iptablesSynLimit,
} from './iptables.js';
import {
  nftablesDropDestinationPort,
  nftablesDropProtocol,
  nftablesDropSource,
  nftablesRateLimit,
} from './nftables.js';
import { nullRouteV4, nullRouteV6 } from './null-route.js';
import { tcPoliceIngress, tcPoliceProtocol } from './tc.js';
import { ufwDenyPort, ufwDenySource } from './ufw.js';

export const LOCAL_ACTION_TYPES: readonly ActionType[] = Object.freeze([
  iptablesDropProtocol,
  iptablesDropSource,
  iptablesDropDestinationPort,
  iptablesDropUdpSourcePort,
  iptablesRateLimitSource,
  iptablesSynLimit,
  ipsetAddSource,
  ipsetAddNetwork,
  nftablesDropProtocol,
  nftablesDropSource,
  nftablesDropDestinationPort,
  nftablesRateLimit,
  ufwDenyPort,
  ufwDenySource,
  tcPoliceIngress,
  tcPoliceProtocol,
  nullRouteV4,
  nullRouteV6,
  fail2banBan,
]);

const BY_ID = new Map(LOCAL_ACTION_TYPES.map((t) => [t.id, t]));

/** The action type with this id, or undefined (the caller says which rule named it). */
export function localActionType(id: string): ActionType | undefined {
  return BY_ID.get(id);
}
