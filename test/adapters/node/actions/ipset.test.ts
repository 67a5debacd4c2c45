import { describe, expect, it } from 'vitest';
import { ipsetAddNetwork, ipsetAddSource } from '../../../../adapters/node/actions/ipset.js';
import { runSteps } from '../../../../adapters/node/actions/run-steps.js';
import { fakeRunner, INCIDENT_V4, INCIDENT_V6 } from './fixtures.js';

function setRule(bin: string, set: string, op: '-I' | '-D' | '-C'): string[] {
  const spec = [
    '-m',
    'set',
    '--match-set',
    set,
    'src',
    '-m',
    'comment',
    '--comment',
    `floodgate:set:${set}`,
    '-j',
    'DROP',
  ];
  return [bin, '-w', op, 'INPUT', ...(op === '-I' ? ['1'] : []), ...spec];
}

describe('ipset.add-source', () => {
  it('creates the set and its drop rule when missing, then adds each source with its TTL', () => {
    const plan = ipsetAddSource.plan({ timeout: 600 }, INCIDENT_V4, 'r1');
    expect(plan.params).toEqual({
      sources: ['198.51.100.7', '198.51.100.23'],
      set: 'floodgate-ip4',
      timeout: 600,
      chain: 'INPUT',
    });
    expect(plan.apply).toEqual([
      {
        argv: ['ipset', 'create', 'floodgate-ip4', 'hash:ip', 'family', 'inet', 'timeout', '600'],
        skipIf: [{ argv: ['ipset', 'list', '-n', 'floodgate-ip4'] }],
      },
      {
        argv: setRule('iptables', 'floodgate-ip4', '-I'),
        skipIf: [{ argv: setRule('iptables', 'floodgate-ip4', '-C') }],
      },
      { argv: ['ipset', 'add', 'floodgate-ip4', '198.51.100.7', 'timeout', '600', '-exist'] },
      { argv: ['ipset', 'add', 'floodgate-ip4', '198.51.100.23', 'timeout', '600', '-exist'] },
    ]);
    const header = ['ipset', 'list', '-t', 'floodgate-ip4'];
    expect(plan.undo).toEqual([
      {
        argv: ['ipset', 'del', 'floodgate-ip4', '198.51.100.7', '-exist'],
        skipIf: [{ argv: ['ipset', 'list', '-n', 'floodgate-ip4'], exitCodes: [1] }],
      },
      {
        argv: ['ipset', 'del', 'floodgate-ip4', '198.51.100.23', '-exist'],
        skipIf: [{ argv: ['ipset', 'list', '-n', 'floodgate-ip4'], exitCodes: [1] }],
      },
      {
        argv: setRule('iptables', 'floodgate-ip4', '-D'),
        skipIf: [
          { argv: setRule('iptables', 'floodgate-ip4', '-C'), exitCodes: [1] },
          { argv: header, exitCodes: [1] },
          { argv: header, stdoutLacks: '^Number of entries: 0$' },
        ],
      },
      {
        argv: ['ipset', 'destroy', 'floodgate-ip4'],
        skipIf: [
          { argv: header, exitCodes: [1] },
          { argv: header, stdoutLacks: '^Number of entries: 0$' },
          { argv: header, stdoutLacks: '^References: 0$' },
        ],
      },
    ]);
  });

  it('uses an inet6 set and ip6tables for IPv6, and a named set', () => {
    const plan = ipsetAddSource.plan({ set: 'blocklist6', sources: '2001:db8:bad::7' }, INCIDENT_V6, 'r1');
    expect(plan.apply[0]!.argv).toEqual([
      'ipset',
      'create',
      'blocklist6',
      'hash:ip',
      'family',
      'inet6',
      'timeout',
      '3600',
    ]);
    expect(plan.apply[1]!.argv).toEqual(setRule('ip6tables', 'blocklist6', '-I'));
    expect(plan.apply[2]!.argv).toEqual([
      'ipset',
      'add',
      'blocklist6',
      '2001:db8:bad::7',
      'timeout',
      '3600',
      '-exist',
    ]);
    expect(ipsetAddSource.plan({}, INCIDENT_V6, 'r1').params['set']).toBe('floodgate-ip6');
  });

  it('takes addresses only', () => {
    expect(() => ipsetAddSource.plan({ sources: '198.51.100.0/24' }, INCIDENT_V4, 'r1')).toThrow(
      /no \/length here/,
    );
  });

  it('keeps the set and its rule while another plan has entries in it', async () => {
    const plan = ipsetAddSource.plan({}, INCIDENT_V4, 'r1');
    const runner = fakeRunner((argv) => {
      if (argv[0] === 'ipset' && argv[1] === 'list')
        return { stdout: 'Name: floodgate-ip4\nReferences: 1\nNumber of entries: 3\n' };
      return {};
    });
    const outcomes = await runSteps(plan.undo, runner, { mode: 'undo' });
    expect(outcomes.map((o) => o.skipped)).toEqual([false, false, true, true]);
  });

  it('removes the rule and the set with the last entry', async () => {
    const plan = ipsetAddSource.plan({}, INCIDENT_V4, 'r1');
    const runner = fakeRunner((argv) => {
      if (argv[0] === 'ipset' && argv[1] === 'list') {
        const refs = runner.calls.some((c) => c.includes('-D')) ? 0 : 1;
        return { stdout: `Name: floodgate-ip4\nReferences: ${refs}\nNumber of entries: 0\n` };
      }
      return {};
    });
    const outcomes = await runSteps(plan.undo, runner, { mode: 'undo' });
    expect(outcomes.map((o) => o.skipped)).toEqual([false, false, false, false]);
  });

  it('succeeds without touching anything when the set is gone', async () => {
    const plan = ipsetAddSource.plan({}, INCIDENT_V4, 'r1');
    const runner = fakeRunner((argv) => (argv[0] === 'ipset' || argv.includes('-C') ? { exitCode: 1 } : {}));
    const outcomes = await runSteps(plan.undo, runner, { mode: 'undo' });
    expect(outcomes.every((o) => o.ok && o.skipped)).toBe(true);
  });
});

describe('ipset.add-network', () => {
  it('widens each source to its network and drops duplicates', () => {
    const plan = ipsetAddNetwork.plan(
      { prefixLength: 24 },
      { ...INCIDENT_V4, sources: ['198.51.100.7', '198.51.100.23', '192.0.2.1'] },
      'r1',
    );
    expect(plan.apply.map((s) => s.argv)).toEqual([
      ['ipset', 'create', 'floodgate-net4', 'hash:net', 'family', 'inet', 'timeout', '3600'],
      setRule('iptables', 'floodgate-net4', '-I'),
      ['ipset', 'add', 'floodgate-net4', '198.51.100.0/24', 'timeout', '3600', '-exist'],
      ['ipset', 'add', 'floodgate-net4', '192.0.2.0/24', 'timeout', '3600', '-exist'],
    ]);
    expect(plan.undo.slice(0, 2).map((s) => s.argv)).toEqual([
      ['ipset', 'del', 'floodgate-net4', '198.51.100.0/24', '-exist'],
      ['ipset', 'del', 'floodgate-net4', '192.0.2.0/24', '-exist'],
    ]);
  });

  it('uses prefixLength6 for IPv6 and refuses an IPv4 length above 32', () => {
    const plan = ipsetAddNetwork.plan({}, INCIDENT_V6, 'r1');
    expect(plan.apply[2]!.argv).toEqual([
      'ipset',
      'add',
      'floodgate-net6',
      '2001:db8:bad::/64',
      'timeout',
      '3600',
      '-exist',
    ]);
    expect(plan.apply[0]!.argv).toContain('inet6');
    expect(() => ipsetAddNetwork.plan({ prefixLength: 48 }, INCIDENT_V4, 'r1')).toThrow(/above 32/);
  });
});
