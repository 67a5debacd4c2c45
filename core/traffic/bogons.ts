/**
 * Source addresses that never appear on the Internet: reserved, private, documentation,
 * benchmarking, multicast. Traffic arriving from them was forged (or leaked from a network that
 * does not filter its egress), which is one of the two signs the fingerprint uses to say
 * "spoofed". The counter asks once per record, so the list is compiled into a prefix trie.
 *
 * Sources inside a monitored network are never counted as bogons, whatever their address:
 * an operator who monitors 10.0.0.0/8 sees its own hosts, not forgeries.
 */
import { parsePrefix } from '../net/address.js';
import { PrefixMatcher } from './prefix-matcher.js';

export const BOGON_PREFIXES: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/3',
  '::/8',
  '100::/64',
  '2001:db8::/32',
  '3fff::/20',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
];

export const bogonMatcher = new PrefixMatcher(
  BOGON_PREFIXES.map((text) => {
    const prefix = parsePrefix(text);
    if (!prefix) throw new RangeError(`bogon list holds a bad prefix: ${text}`);
    return prefix;
  }),
);
