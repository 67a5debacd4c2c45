import { describe, expect, it } from 'vitest';
import { appliedSteps, runSteps } from '../../../../adapters/node/actions/run-steps.js';
import { tcPoliceIngress, tcPoliceProtocol, tcPreference } from '../../../../adapters/node/actions/tc.js';
import { fakeRunner, INCIDENT_V4, INCIDENT_V6 } from './fixtures.js';

describe('tc.police-ingress', () => {
  const plan = tcPoliceIngress.plan({ interface: 'eth0', rate: 100_000 }, INCIDENT_V4, 'r1');
  const ifb = plan.apply[0]!.argv[4]!;
  const pref = String(tcPreference('tc.police-ingress', 'r1', 'eth0'));

  it('redirects all ingress to an ifb device shaped by tbf', () => {
    expect(ifb).toMatch(/^fg-[0-9a-f]{8}$/);
    expect(Number(pref)).toBeGreaterThanOrEqual(20_000);
    expect(Number(pref)).toBeLessThan(30_000);
    expect(plan.apply).toEqual([
      {
        argv: ['ip', 'link', 'add', 'name', ifb, 'type', 'ifb'],
        skipIf: [{ argv: ['ip', 'link', 'show', 'dev', ifb] }],
      },
      { argv: ['ip', 'link', 'set', 'dev', ifb, 'up'] },
      // 100 Mbit/s: the default burst is 10 ms of it.
      {
        argv: [
          'tc',
          'qdisc',
          'replace',
          'dev',
          ifb,
          'root',
          'tbf',
          'rate',
          '100000kbit',
          'burst',
          '125000',
          'latency',
          '50ms',
        ],
      },
      {
        argv: ['tc', 'qdisc', 'add', 'dev', 'eth0', 'ingress'],
        skipIf: [
          {
            argv: ['tc', 'qdisc', 'show', 'dev', 'eth0', 'ingress'],
            stdoutMatches: '^qdisc (ingress|clsact) ffff:',
          },
        ],
      },
      {
        argv: [
          'tc',
          'filter',
          'add',
          'dev',
          'eth0',
          'ingress',
          'pref',
          pref,
          'protocol',
          'all',
          'u32',
          'match',
          'u32',
          '0',
          '0',
          'action',
          'mirred',
          'egress',
          'redirect',
          'dev',
          ifb,
        ],
        skipIf: [
          {
            argv: ['tc', 'filter', 'show', 'dev', 'eth0', 'ingress', 'pref', pref],
            stdoutMatches: `Redirect to device ${ifb}\\)`,
          },
        ],
      },
    ]);
  });

  it('undoes the filter, the ingress qdisc only when it added it and no filter is left, then the ifb', () => {
    const devMissing = { argv: ['ip', 'link', 'show', 'dev', 'eth0'], exitCodes: [1] };
    expect(plan.undo).toEqual([
      {
        argv: ['tc', 'filter', 'del', 'dev', 'eth0', 'ingress', 'pref', pref],
        skipIf: [
          {
            argv: ['tc', 'filter', 'show', 'dev', 'eth0', 'ingress', 'pref', pref],
            stdoutLacks: `Redirect to device ${ifb}\\)`,
          },
          devMissing,
        ],
      },
      {
        argv: ['tc', 'qdisc', 'del', 'dev', 'eth0', 'ingress'],
        onlyIfApplied: 3,
        skipIf: [
          { argv: ['tc', 'qdisc', 'show', 'dev', 'eth0', 'ingress'], stdoutLacks: '^qdisc ingress ffff:' },
          { argv: ['tc', 'filter', 'show', 'dev', 'eth0', 'ingress'], stdoutMatches: '\\S' },
          devMissing,
        ],
      },
      {
        argv: ['ip', 'link', 'del', 'dev', ifb],
        skipIf: [{ argv: ['ip', 'link', 'show', 'dev', ifb], exitCodes: [1] }],
      },
    ]);
  });

  it("keeps an operator's qdisc that still has filters", async () => {
    const runner = fakeRunner((argv) => {
      if (argv.join(' ') === 'tc qdisc show dev eth0 ingress')
        return { stdout: 'qdisc ingress ffff: parent ffff:fff1 ----------------\n' };
      if (argv.join(' ') === 'tc filter show dev eth0 ingress')
        return { stdout: 'filter protocol ip pref 100 u32 chain 0\n' };
      if (argv[1] === 'filter' && argv[2] === 'show')
        return { stdout: `action order 1: mirred (Egress Redirect to device ${ifb}) stolen\n` };
      return {};
    });
    const outcomes = await runSteps(plan.undo, runner, { mode: 'undo' });
    expect(outcomes.map((o) => [o.argv[1], o.skipped])).toEqual([
      ['filter', false],
      ['qdisc', true],
      ['link', false],
    ]);
  });

  it('leaves an ingress qdisc the apply found in place, even with no filter left', async () => {
    expect(plan.apply[3]!.argv).toEqual(['tc', 'qdisc', 'add', 'dev', 'eth0', 'ingress']);
    const runner = fakeRunner((argv) => {
      if (argv.join(' ') === 'tc qdisc show dev eth0 ingress')
        return { stdout: 'qdisc ingress ffff: parent ffff:fff1 ----------------\n' };
      if (argv[1] === 'filter' && argv[2] === 'show' && argv.includes('pref'))
        return { stdout: `action order 1: mirred (Egress Redirect to device ${ifb}) stolen\n` };
      return {};
    });
    const applied = await runSteps(plan.apply, runner, { mode: 'apply' });
    expect(applied.map((o) => o.skipped)).toEqual([true, false, false, true, true]);
    const found = await runSteps(plan.undo, runner, {
      mode: 'undo',
      appliedSteps: appliedSteps(plan.apply, applied),
    });
    expect(found.map((o) => [o.argv[1], o.skipped])).toEqual([
      ['filter', false],
      ['qdisc', true],
      ['link', false],
    ]);
    expect(found[1]!.error).toBe('left alone: apply step 4 found it in place');
    expect(runner.calls.some((c) => c.join(' ') === 'tc qdisc del dev eth0 ingress')).toBe(false);
    // The same undo after an apply that added the qdisc removes it.
    const added = appliedSteps(plan.apply, applied).map((ran, i) => ran || i === 3);
    const ours = await runSteps(plan.undo, runner, { mode: 'undo', appliedSteps: added });
    expect(ours[1]).toMatchObject({
      skipped: false,
      ok: true,
      argv: ['tc', 'qdisc', 'del', 'dev', 'eth0', 'ingress'],
    });
  });

  it('takes a burst and refuses what is not a bandwidth', () => {
    const withBurst = tcPoliceIngress.plan(
      { interface: 'eth0', rate: 1000, burst: 32000 },
      INCIDENT_V4,
      'r1',
    );
    expect(withBurst.apply[2]!.argv).toContain('32000');
    expect(
      tcPoliceIngress.plan({ interface: 'eth0', rate: 1000 }, INCIDENT_V4, 'r1').apply[2]!.argv,
    ).toContain('16000');
    expect(() => tcPoliceIngress.plan({ interface: 'eth0', rate: '10mbit' }, INCIDENT_V4, 'r1')).toThrow(
      /kbit\/s/,
    );
  });
});

describe('tc.police-protocol', () => {
  it('matches the protocol to the target with u32, per family', () => {
    const v4 = tcPoliceProtocol.plan({ interface: 'eth0', rate: 1000 }, INCIDENT_V4, 'r1');
    const filter4 = v4.apply[4]!.argv;
    expect(filter4.slice(0, 8)).toEqual([
      'tc',
      'filter',
      'add',
      'dev',
      'eth0',
      'ingress',
      'pref',
      filter4[7],
    ]);
    expect(filter4.slice(8)).toEqual([
      'protocol',
      'ip',
      'u32',
      'match',
      'ip',
      'dst',
      '203.0.113.5/32',
      'match',
      'ip',
      'protocol',
      '17',
      '0xff',
      'action',
      'mirred',
      'egress',
      'redirect',
      'dev',
      v4.apply[0]!.argv[4],
    ]);
    const v6 = tcPoliceProtocol.plan({ interface: 'eth0', rate: 1000, protocol: 'tcp' }, INCIDENT_V6, 'r1');
    expect(v6.apply[4]!.argv.slice(8, 20)).toEqual([
      'protocol',
      'ipv6',
      'u32',
      'match',
      'ip6',
      'dst',
      '2001:db8::5/128',
      'match',
      'ip6',
      'protocol',
      '6',
      '0xff',
    ]);
    // Another action or tag gets another device and preference.
    expect(v4.apply[0]!.argv[4]).not.toBe(
      tcPoliceIngress.plan({ interface: 'eth0', rate: 1000 }, INCIDENT_V4, 'r1').apply[0]!.argv[4],
    );
  });
});
