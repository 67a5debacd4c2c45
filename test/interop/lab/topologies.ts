/**
 * The lab's two topologies, shared by the interop tests and the BGP benchmark, all on loopback
 * addresses inside one network namespace:
 * - ExaBGP (127.0.0.2, AS 65000) -> BIRD receiver (127.0.0.3, AS 65001), every family over one
 *   IPv4 session;
 * - BIRD sender (127.0.0.4 / fd00:99::4, AS 65004, Floodgate's include file) -> BIRD receiver
 *   (127.0.0.3 / fd00:99::3), IPv4 families over an IPv4 session, IPv6 families over an IPv6 one.
 * The receivers import everything into ft4/ft6 (flow) and master4/master6 (RTBH).
 */
import { join } from 'node:path';

export const EXABGP_LAB = { exabgp: '127.0.0.2', receiver: '127.0.0.3' } as const;

export const BIRD_LAB = {
  sender4: '127.0.0.4',
  receiver4: '127.0.0.3',
  sender6: 'fd00:99::4',
  receiver6: 'fd00:99::3',
  protocolPrefix: 'floodgate_lab',
} as const;

/** The BIRD that receives from ExaBGP (protocol `exabgp`). */
export function exabgpReceiverConf(): string {
  return `router id 10.0.0.3;
log stderr all;
flow4 table ft4;
flow6 table ft6;
protocol device {}
protocol bgp exabgp {
  local ${EXABGP_LAB.receiver} as 65001;
  neighbor ${EXABGP_LAB.exabgp} as 65000;
  multihop;
  strict bind on;
  passive on;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
  flow4 { table ft4; import all; export none; };
  flow6 { table ft6; import all; export none; };
}
`;
}

/** The exabgp adapter's config slice for the lab (also what floodgate.yaml carries). */
export function exabgpAdapterConfig(dir: string) {
  return {
    socket: join(dir, 'edge.sock'),
    routerId: '10.0.0.2',
    localAs: 65000,
    neighbors: [
      {
        address: EXABGP_LAB.receiver,
        peerAs: 65001,
        localAddress: EXABGP_LAB.exabgp,
        description: 'BIRD receiver',
      },
    ],
    helperRetryMs: 100,
    timeouts: { connectMs: 10_000, commandMs: 10_000 },
  };
}

/** The BIRD the BIRD adapter drives: includes the adapter's file and exports only its protocols. */
export function birdSenderConf(include: string): string {
  const p = BIRD_LAB.protocolPrefix;
  return `router id 10.0.0.4;
log stderr all;
flow4 table ft4;
flow6 table ft6;
protocol device {}
include "${include}";
protocol bgp receiver4 {
  local ${BIRD_LAB.sender4} as 65004;
  neighbor ${BIRD_LAB.receiver4} as 65001;
  multihop;
  strict bind on;
  connect delay time 1;
  ipv4 { import none; export where proto = "${p}_rtbh4"; next hop keep; };
  flow4 { table ft4; import none; export where proto = "${p}_flow4"; };
}
protocol bgp receiver6 {
  local ${BIRD_LAB.sender6} as 65004;
  neighbor ${BIRD_LAB.receiver6} as 65001;
  multihop;
  strict bind on;
  connect delay time 1;
  ipv6 { import none; export where proto = "${p}_rtbh6"; next hop keep; };
  flow6 { table ft6; import none; export where proto = "${p}_flow6"; };
}
`;
}

/** The BIRD that receives from the BIRD sender (protocols `sender4`, `sender6`). */
export function birdReceiverConf(): string {
  return `router id 10.0.0.3;
log stderr all;
flow4 table ft4;
flow6 table ft6;
protocol device {}
protocol bgp sender4 {
  local ${BIRD_LAB.receiver4} as 65001;
  neighbor ${BIRD_LAB.sender4} as 65004;
  multihop;
  strict bind on;
  passive on;
  ipv4 { import all; export none; };
  flow4 { table ft4; import all; export none; };
}
protocol bgp sender6 {
  local ${BIRD_LAB.receiver6} as 65001;
  neighbor ${BIRD_LAB.sender6} as 65004;
  multihop;
  strict bind on;
  passive on;
  ipv6 { import all; export none; };
  flow6 { table ft6; import all; export none; };
}
`;
}
