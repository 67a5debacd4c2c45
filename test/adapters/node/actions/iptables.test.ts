import { describe, expect, it } from 'vitest';
import {
  iptablesDropDestinationPort,
  iptablesDropProtocol,
  iptablesDropSource,
  iptablesDropUdpSourcePort,
  iptablesRateLimitSource,
  iptablesSynLimit,
} from '../../../../adapters/node/actions/iptables.js';
import { INCIDENT_V4, INCIDENT_V6 } from './fixtures.js';

const COMMENT = ['-m', 'comment', '--comment', 'floodgate:r1'];

/** The apply and undo steps iptables actions render for one rule specification. */
function guarded(bin: string, spec: string[], chain = 'INPUT') {
  const check = [bin, '-w', '-C', chain, ...spec];
  return {
    apply: { argv: [bin, '-w', '-I', chain, '1', ...spec], skipIf: [{ argv: check }] },
    undo: { argv: [bin, '-w', '-D', chain, ...spec], skipIf: [{ argv: check, exitCodes: [1] }] },
  };
}

describe('iptables actions', () => {
  it('drop-protocol: iptables for IPv4, ip6tables for IPv6', () => {
    const v4 = guarded('iptables', ['-d', '203.0.113.5', '-p', '17', ...COMMENT, '-j', 'DROP']);
    expect(iptablesDropProtocol.plan({}, INCIDENT_V4, 'r1')).toEqual({
      actionType: 'iptables.drop-protocol',
      tag: 'r1',
      params: { protocol: 'udp', destination: '203.0.113.5', chain: 'INPUT' },
      apply: [v4.apply],
      undo: [v4.undo],
    });
    const v6 = guarded('ip6tables', ['-d', '2001:db8::5', '-p', '58', ...COMMENT, '-j', 'DROP'], 'FORWARD');
    const plan6 = iptablesDropProtocol.plan({ protocol: 'icmpv6', chain: 'FORWARD' }, INCIDENT_V6, 'r1');
    expect(plan6.apply).toEqual([v6.apply]);
    expect(plan6.undo).toEqual([v6.undo]);
  });

  it('drop-source: one rule per source, undone in reverse order', () => {
    const plan = iptablesDropSource.plan({}, INCIDENT_V4, 'r1');
    const a = guarded('iptables', ['-s', '198.51.100.7', '-d', '203.0.113.5', ...COMMENT, '-j', 'DROP']);
    const b = guarded('iptables', ['-s', '198.51.100.23', '-d', '203.0.113.5', ...COMMENT, '-j', 'DROP']);
    expect(plan.apply).toEqual([a.apply, b.apply]);
    expect(plan.undo).toEqual([b.undo, a.undo]);

    const v6 = iptablesDropSource.plan({ sources: '2001:DB8:BAD::/48' }, INCIDENT_V6, 'r1');
    expect(v6.apply).toEqual([
      guarded('ip6tables', ['-s', '2001:db8:bad::/48', '-d', '2001:db8::5', ...COMMENT, '-j', 'DROP']).apply,
    ]);
  });

  it('drop-destination-port: udp by default, tcp on request, duplicates once', () => {
    const plan = iptablesDropDestinationPort.plan(
      { ports: [443, '443', 80], protocol: 'tcp' },
      INCIDENT_V4,
      'r1',
    );
    expect(plan.apply.map((s) => s.argv)).toEqual([
      [
        'iptables',
        '-w',
        '-I',
        'INPUT',
        '1',
        '-d',
        '203.0.113.5',
        '-p',
        'tcp',
        '-m',
        'tcp',
        '--dport',
        '443',
        ...COMMENT,
        '-j',
        'DROP',
      ],
      [
        'iptables',
        '-w',
        '-I',
        'INPUT',
        '1',
        '-d',
        '203.0.113.5',
        '-p',
        'tcp',
        '-m',
        'tcp',
        '--dport',
        '80',
        ...COMMENT,
        '-j',
        'DROP',
      ],
    ]);
    const v6 = iptablesDropDestinationPort.plan({}, INCIDENT_V6, 'r1');
    expect(v6.undo.map((s) => s.argv)).toEqual([
      [
        'ip6tables',
        '-w',
        '-D',
        'INPUT',
        '-d',
        '2001:db8::5',
        '-p',
        'udp',
        '-m',
        'udp',
        '--dport',
        '80',
        ...COMMENT,
        '-j',
        'DROP',
      ],
    ]);
    expect(() => iptablesDropDestinationPort.plan({ protocol: 'icmp' }, INCIDENT_V4, 'r1')).toThrow(
      /not one of the protocols this takes \(tcp, udp\)/,
    );
  });

  it('drop-udp-source-port: the reflector ports of the incident', () => {
    const plan = iptablesDropUdpSourcePort.plan({}, { ...INCIDENT_V4, sourcePorts: [123, 11211] }, 'r1');
    expect(plan.apply.map((s) => s.argv)).toEqual([
      [
        'iptables',
        '-w',
        '-I',
        'INPUT',
        '1',
        '-d',
        '203.0.113.5',
        '-p',
        'udp',
        '-m',
        'udp',
        '--sport',
        '123',
        ...COMMENT,
        '-j',
        'DROP',
      ],
      [
        'iptables',
        '-w',
        '-I',
        'INPUT',
        '1',
        '-d',
        '203.0.113.5',
        '-p',
        'udp',
        '-m',
        'udp',
        '--sport',
        '11211',
        ...COMMENT,
        '-j',
        'DROP',
      ],
    ]);
    expect(iptablesDropUdpSourcePort.plan({}, INCIDENT_V6, 'r1').apply[0]!.argv[0]).toBe('ip6tables');
  });

  it('rate-limit-source: hashlimit per source with a table name of its own', () => {
    const plan = iptablesRateLimitSource.plan({ rate: 500, burst: 50, protocol: 'udp' }, INCIDENT_V4, 'r1');
    const spec = [
      '-d',
      '203.0.113.5',
      '-p',
      '17',
      '-m',
      'hashlimit',
      '--hashlimit-above',
      '500/second',
      '--hashlimit-burst',
      '50',
      '--hashlimit-mode',
      'srcip',
      '--hashlimit-name',
      'fg-de423902',
      ...COMMENT,
      '-j',
      'DROP',
    ];
    expect(plan).toMatchObject({
      apply: [guarded('iptables', spec).apply],
      undo: [guarded('iptables', spec).undo],
    });
    const name = spec[spec.indexOf('--hashlimit-name') + 1]!;
    expect(name.length).toBeLessThanOrEqual(15);
    // Defaults, no protocol: every packet of the source counts.
    const v6 = iptablesRateLimitSource.plan({}, INCIDENT_V6, 'other-tag');
    expect(v6.apply[0]!.argv.slice(0, 12)).toEqual([
      'ip6tables',
      '-w',
      '-I',
      'INPUT',
      '1',
      '-d',
      '2001:db8::5',
      '-m',
      'hashlimit',
      '--hashlimit-above',
      '1000/second',
      '--hashlimit-burst',
    ]);
    expect(v6.apply[0]!.argv).not.toContain(name);
  });

  it('syn-limit: one bucket for every SYN to the target', () => {
    const plan = iptablesSynLimit.plan({ rate: 200, burst: 20 }, INCIDENT_V6, 'r1');
    const spec = [
      '-d',
      '2001:db8::5',
      '-p',
      'tcp',
      '-m',
      'tcp',
      '--syn',
      '-m',
      'hashlimit',
      '--hashlimit-above',
      '200/second',
      '--hashlimit-burst',
      '20',
      '--hashlimit-name',
      plan.apply[0]!.argv[plan.apply[0]!.argv.indexOf('--hashlimit-name') + 1]!,
      ...COMMENT,
      '-j',
      'DROP',
    ];
    expect(plan.apply).toEqual([guarded('ip6tables', spec).apply]);
    expect(plan.undo).toEqual([guarded('ip6tables', spec).undo]);
    expect(plan.apply[0]!.argv).not.toContain('--hashlimit-mode');
  });

  it('keeps a carpet-bombing prefix target', () => {
    const plan = iptablesDropProtocol.plan({}, { ...INCIDENT_V4, target: '203.0.113.0/24' }, 'r1');
    expect(plan.apply[0]!.argv).toContain('203.0.113.0/24');
  });
});
