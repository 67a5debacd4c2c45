/**
 * The detection configuration the scenario tests run with: what an operator protecting a
 * server /24, a customer /24 and their IPv6 counterparts would set. Whole-traffic thresholds
 * sit above the busiest benign host; per-class rules are tight, on the metric that tells each
 * attack from everyday traffic:
 * - SYN, ICMP, fragments, GRE: packets per second (everyday traffic has few of them);
 * - ACK/RST-only: flows per second (a download's acknowledgements are ACK-only packets too,
 *   but in a handful of long flows; a flood's come from random sources and ports);
 * - amplification: bits per second (a resolver's answers come from port 53 as well, small);
 * - UDP: packets per second above the busiest game server.
 * The customer networks watch their totals: that is what catches carpet bombing.
 */
export const SERVERS_V4 = '203.0.113.0/24';
export const CUSTOMERS_V4 = '198.51.100.0/24';
export const SERVERS_V6 = '2001:db8:feed::/48';
export const CUSTOMERS_V6 = '2001:db8:c0::/120';

export const SCENARIO_CONFIG = {
  networks: [
    { prefix: SERVERS_V4, name: 'servers' },
    { prefix: CUSTOMERS_V4, name: 'customers', totals: { pps: 4000 } },
    { prefix: SERVERS_V6, name: 'servers6' },
    { prefix: CUSTOMERS_V6, name: 'customers6', totals: { pps: 4000 } },
  ],
  thresholds: {
    pps: 20_000,
    bps: 500_000_000,
    udp: { pps: 3000 },
    syn: { pps: 1000 },
    ackRst: { flows: 500 },
    icmp: { pps: 1000 },
    fragment: { pps: 1000 },
    gre: { pps: 1000 },
    amplification: { bps: 5_000_000 },
  },
  holdDownSeconds: 10,
};

/** Start of every scenario capture: a fixed instant, the detector runs on the capture's clock. */
export const SCENARIO_EPOCH = 1_795_270_740;
