import { describe, expect, it } from 'vitest';
import { renderAnnounce, renderFlowSpecAction, renderWithdraw } from '../../../adapters/exabgp/text-api.js';
import { isFloodgateError } from '../../../core/errors.js';
import type { BlackholeIntent, FlowSpecIntent, FlowSpecMatch } from '../../../core/mitigation/intent.js';

// Every expected line below was also fed through ExaBGP 4.2.21's own API parser and accepted.

function flow(
  match: FlowSpecMatch,
  action: FlowSpecIntent['action'] = { type: 'discard' },
  ipVersion: 4 | 6 = 4,
) {
  const intent: FlowSpecIntent = {
    kind: 'flowspec',
    id: 'fs-test',
    incidentId: 'inc-test',
    ipVersion,
    match,
    action,
  };
  return intent;
}

function blackhole(
  prefix: string,
  nextHop: string,
  communities: string[],
  ipVersion: 4 | 6 = 4,
): BlackholeIntent {
  return { kind: 'rtbh', id: 'bh-test', incidentId: 'inc-test', ipVersion, prefix, nextHop, communities };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isFloodgateError(e) ? e.code : 'not a FloodgateError';
  }
  return undefined;
}

describe('ExaBGP text API: FlowSpec', () => {
  it('renders an NTP amplification rule and its withdraw', () => {
    const intent = flow({ destination: '203.0.113.5/32', protocols: [17], sourcePorts: [123] });
    expect(renderAnnounce(intent)).toBe(
      'announce flow route { match { destination 203.0.113.5/32; protocol udp; source-port =123; } then { discard; } }',
    );
    expect(renderWithdraw(intent)).toBe(
      'withdraw flow route { match { destination 203.0.113.5/32; protocol udp; source-port =123; } }',
    );
  });

  it('renders every match component in RFC 8955 type order, with OR lists and ranges', () => {
    const intent = flow(
      {
        destination: '203.0.113.5/32',
        source: '198.51.100.0/24',
        protocols: [17, 6],
        sourcePorts: [123, 53],
        destinationPorts: [80],
        packetLength: { min: 512, max: 1500 },
        fragment: 'is-fragment',
      },
      { type: 'rate-limit', bytesPerSecond: 125000 },
    );
    expect(renderAnnounce(intent)).toBe(
      'announce flow route { match { destination 203.0.113.5/32; source 198.51.100.0/24; protocol [ tcp udp ]; ' +
        'destination-port =80; source-port [ =53 =123 ]; packet-length >=512&<=1500; fragment [ is-fragment ]; } ' +
        'then { rate-limit 125000; } }',
    );
  });

  it('renders a SYN flood match as SYN set and ACK clear', () => {
    const intent = flow({
      destination: '203.0.113.7/32',
      protocols: [6],
      tcpFlagsSet: 0x02,
      tcpFlagsClear: 0x10,
    });
    expect(renderAnnounce(intent)).toBe(
      'announce flow route { match { destination 203.0.113.7/32; protocol tcp; tcp-flags [ syn&!ack ]; } then { discard; } }',
    );
  });

  it('requires all of several set flags with the match bit and none of several clear flags', () => {
    const intent = flow(
      { destination: '203.0.113.7/32', protocols: [6], tcpFlagsSet: 0x12, tcpFlagsClear: 0x05 },
      { type: 'mark', dscp: 10 },
    );
    expect(renderAnnounce(intent)).toBe(
      'announce flow route { match { destination 203.0.113.7/32; protocol tcp; tcp-flags [ =syn+ack&!fin+rst ]; } then { mark 10; } }',
    );
  });

  it('names icmp, tcp, udp and gre and writes other protocols as numbers', () => {
    const intent = flow({ destination: '203.0.113.7/32', protocols: [50, 47, 1] });
    expect(renderAnnounce(intent)).toBe(
      'announce flow route { match { destination 203.0.113.7/32; protocol [ icmp gre 50 ]; } then { discard; } }',
    );
  });

  it('writes open-ended and single-value packet-length ranges with one operator', () => {
    const up = flow({ destination: '203.0.113.7/32', packetLength: { min: 0, max: 100 } });
    const down = flow({ destination: '203.0.113.7/32', packetLength: { min: 1000, max: 65535 } });
    const exact = flow({ destination: '203.0.113.7/32', packetLength: { min: 468, max: 468 } });
    expect(renderAnnounce(up)).toContain('packet-length <=100;');
    expect(renderAnnounce(down)).toContain('packet-length >=1000;');
    expect(renderAnnounce(exact)).toContain('packet-length =468;');
  });

  it('renders IPv6 with prefix/length/offset and next-header', () => {
    const intent = flow(
      {
        destination: '2001:db8::5/128',
        source: '2001:db8:1::/48',
        protocols: [17],
        sourcePorts: [11211],
        packetLength: { min: 1000, max: 65535 },
      },
      { type: 'discard' },
      6,
    );
    expect(renderAnnounce(intent)).toBe(
      'announce flow route { match { destination 2001:db8::5/128/0; source 2001:db8:1::/48/0; next-header udp; ' +
        'source-port =11211; packet-length >=1000; } then { discard; } }',
    );
    expect(renderWithdraw(intent)).toBe(
      'withdraw flow route { match { destination 2001:db8::5/128/0; source 2001:db8:1::/48/0; next-header udp; ' +
        'source-port =11211; packet-length >=1000; } }',
    );
  });

  it('writes ICMPv6 as a number and IPv6 text in canonical form', () => {
    const intent = flow(
      { destination: '2001:DB8:0:0::5/128', protocols: [58], fragment: 'first-fragment' },
      undefined,
      6,
    );
    expect(renderAnnounce(intent)).toBe(
      'announce flow route { match { destination 2001:db8::5/128/0; next-header 58; fragment [ first-fragment ]; } then { discard; } }',
    );
  });

  it('renders each action', () => {
    expect(renderFlowSpecAction({ type: 'discard' })).toBe('then { discard; }');
    expect(renderFlowSpecAction({ type: 'rate-limit', bytesPerSecond: 0 })).toBe('then { rate-limit 0; }');
    expect(renderFlowSpecAction({ type: 'redirect', routeTarget: '65000:100' })).toBe(
      'then { redirect 65000:100; }',
    );
    expect(renderFlowSpecAction({ type: 'redirect', routeTarget: '4200000000:100' })).toBe(
      'then { redirect 4200000000:100; }',
    );
    expect(renderFlowSpecAction({ type: 'mark', dscp: 46 })).toBe('then { mark 46; }');
  });

  it('addresses one or several peers with a neighbor selector', () => {
    const intent = flow({ destination: '203.0.113.5/32', protocols: [17], sourcePorts: [123] });
    expect(renderAnnounce(intent, { neighbors: ['127.0.0.2'] })).toBe(
      'neighbor 127.0.0.2 announce flow route { match { destination 203.0.113.5/32; protocol udp; source-port =123; } then { discard; } }',
    );
    expect(renderWithdraw(intent, { neighbors: ['127.0.0.2', '2001:db8::2'] })).toBe(
      'neighbor 127.0.0.2 , neighbor 2001:db8::2 withdraw flow route { match { destination 203.0.113.5/32; protocol udp; source-port =123; } }',
    );
  });
});

describe('ExaBGP text API: RTBH', () => {
  it('renders the BLACKHOLE route and its withdraw', () => {
    const intent = blackhole('203.0.113.66/32', '192.0.2.1', ['65535:666']);
    expect(renderAnnounce(intent)).toBe(
      'announce route 203.0.113.66/32 next-hop 192.0.2.1 community [ 65535:666 ]',
    );
    expect(renderWithdraw(intent)).toBe('withdraw route 203.0.113.66/32 next-hop 192.0.2.1');
  });

  it('renders several communities and IPv6', () => {
    expect(renderAnnounce(blackhole('203.0.113.66/32', '192.0.2.1', ['65535:666', '64500:9999']))).toBe(
      'announce route 203.0.113.66/32 next-hop 192.0.2.1 community [ 65535:666 64500:9999 ]',
    );
    const v6 = blackhole('2001:db8::66/128', '100::1', ['65535:666'], 6);
    expect(renderAnnounce(v6)).toBe(
      'announce route 2001:db8::66/128 next-hop 100::1 community [ 65535:666 ]',
    );
    expect(renderWithdraw(v6, { neighbors: ['127.0.0.2'] })).toBe(
      'neighbor 127.0.0.2 withdraw route 2001:db8::66/128 next-hop 100::1',
    );
  });

  it('leaves the community out when none is configured', () => {
    expect(renderAnnounce(blackhole('203.0.113.66/32', '192.0.2.1', []))).toBe(
      'announce route 203.0.113.66/32 next-hop 192.0.2.1',
    );
  });
});

describe('ExaBGP text API: refuses what it cannot render faithfully', () => {
  it('never passes injected text through to the control channel', () => {
    const injected = flow({ destination: '203.0.113.5/32; } then { accept; } }\nannounce route 0.0.0.0/0' });
    expect(codeOf(() => renderAnnounce(injected))).toBe('FG_ERR_WIRE_VALUE');
    const community = blackhole('203.0.113.66/32', '192.0.2.1', ['65535:666 ] next-hop 10.0.0.1 [']);
    expect(codeOf(() => renderAnnounce(community))).toBe('FG_ERR_WIRE_VALUE');
    expect(
      codeOf(() => renderAnnounce(flow({ destination: '203.0.113.5/32' }), { neighbors: ['peer; x'] })),
    ).toBe('FG_ERR_WIRE_VALUE');
  });

  it('rejects out-of-range and contradictory values', () => {
    const cases: FlowSpecMatch[] = [
      { destination: '203.0.113.5/32', sourcePorts: [70000] },
      { destination: '203.0.113.5/32', protocols: [256] },
      { destination: '203.0.113.5/32', destinationPorts: [1.5] },
      { destination: '203.0.113.5/32', packetLength: { min: 1500, max: 512 } },
      { destination: '203.0.113.5/32', tcpFlagsSet: 0x02, tcpFlagsClear: 0x02 },
      { destination: '203.0.113.5/24' },
      { destination: '2001:db8::5/128' },
    ];
    for (const match of cases) expect(codeOf(() => renderAnnounce(flow(match)))).toBe('FG_ERR_WIRE_VALUE');
    expect(codeOf(() => renderFlowSpecAction({ type: 'mark', dscp: 64 }))).toBe('FG_ERR_WIRE_VALUE');
    expect(codeOf(() => renderFlowSpecAction({ type: 'redirect', routeTarget: '4200000000:70000' }))).toBe(
      'FG_ERR_WIRE_VALUE',
    );
    expect(codeOf(() => renderAnnounce(blackhole('203.0.113.66/32', '100::1', ['65535:666'])))).toBe(
      'FG_ERR_WIRE_VALUE',
    );
  });
});
