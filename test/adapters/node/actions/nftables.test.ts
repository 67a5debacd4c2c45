import { describe, expect, it } from 'vitest';
import { formatStep } from '../../../../adapters/node/actions/format-step.js';
import {
  nftablesDropDestinationPort,
  nftablesDropProtocol,
  nftablesDropSource,
  nftablesRateLimit,
} from '../../../../adapters/node/actions/nftables.js';
import { INCIDENT_V4, INCIDENT_V6 } from './fixtures.js';

const HEAD =
  'add table inet floodgate; add chain inet floodgate fg-r1 { type filter hook input priority 0; policy accept; }; flush chain inet floodgate fg-r1';

const UNDO = [
  {
    argv: ['nft', 'flush chain inet floodgate fg-r1; delete chain inet floodgate fg-r1'],
    skipIf: [{ argv: ['nft', 'list', 'chain', 'inet', 'floodgate', 'fg-r1'], exitCodes: [1] }],
  },
  {
    argv: ['nft', 'delete', 'table', 'inet', 'floodgate'],
    skipIf: [
      { argv: ['nft', 'list', 'table', 'inet', 'floodgate'], exitCodes: [1] },
      {
        argv: ['nft', 'list', 'table', 'inet', 'floodgate'],
        stdoutLacks: '^table inet floodgate \\{\\s*\\}\\s*$',
      },
    ],
  },
];

describe('nftables actions', () => {
  it('drop-protocol writes the whole chain in one transaction', () => {
    const plan = nftablesDropProtocol.plan({}, INCIDENT_V4, 'r1');
    expect(plan.apply).toEqual([
      {
        argv: [
          'nft',
          `${HEAD}; add rule inet floodgate fg-r1 ip daddr 203.0.113.5 meta l4proto 17 counter drop`,
        ],
      },
    ]);
    expect(plan.undo).toEqual(UNDO);
    expect(nftablesDropProtocol.plan({ protocol: 'icmpv6' }, INCIDENT_V6, 'r1').apply[0]!.argv[1]).toBe(
      `${HEAD}; add rule inet floodgate fg-r1 ip6 daddr 2001:db8::5 meta l4proto 58 counter drop`,
    );
  });

  it('drop-source: one rule per source', () => {
    expect(nftablesDropSource.plan({}, INCIDENT_V6, 'r1').apply[0]!.argv[1]).toBe(
      `${HEAD}; add rule inet floodgate fg-r1 ip6 saddr 2001:db8:bad::7 ip6 daddr 2001:db8::5 counter drop; add rule inet floodgate fg-r1 ip6 saddr 2001:db8:bad::23 ip6 daddr 2001:db8::5 counter drop`,
    );
  });

  it('drop-destination-port: tcp or udp ports', () => {
    const plan = nftablesDropDestinationPort.plan({ ports: '53,123', protocol: 'udp' }, INCIDENT_V4, 'r1');
    expect(plan.apply[0]!.argv[1]).toBe(
      `${HEAD}; add rule inet floodgate fg-r1 ip daddr 203.0.113.5 udp dport 53 counter drop; add rule inet floodgate fg-r1 ip daddr 203.0.113.5 udp dport 123 counter drop`,
    );
    expect(plan.undo).toEqual(UNDO);
  });

  it('rate-limit: limit rate over, with or without a protocol', () => {
    expect(nftablesRateLimit.plan({ rate: 5000, burst: 500 }, INCIDENT_V4, 'r1').apply[0]!.argv[1]).toBe(
      `${HEAD}; add rule inet floodgate fg-r1 ip daddr 203.0.113.5 limit rate over 5000/second burst 500 packets counter drop`,
    );
    expect(nftablesRateLimit.plan({ protocol: 'udp' }, INCIDENT_V6, 'r1').apply[0]!.argv[1]).toBe(
      `${HEAD}; add rule inet floodgate fg-r1 ip6 daddr 2001:db8::5 meta l4proto 17 limit rate over 10000/second burst 1000 packets counter drop`,
    );
  });

  it('previews the script as one quoted word', () => {
    const line = formatStep(nftablesDropProtocol.plan({}, INCIDENT_V4, 'r1').apply[0]!);
    expect(line.startsWith("nft 'add table inet floodgate; ")).toBe(true);
    expect(line.endsWith("counter drop'")).toBe(true);
  });
});
