import { describe, expect, it } from 'vitest';
import { ufwDenyPort, ufwDenySource } from '../../../../adapters/node/actions/ufw.js';
import { INCIDENT_V4, INCIDENT_V6 } from './fixtures.js';

const ACTIVE = { argv: ['ufw', 'status'], expect: { stdoutMatches: '^Status: active' } };

describe('ufw actions', () => {
  it('deny-port checks ufw is active, prepends a commented rule per port, deletes it by the same words', () => {
    const plan = ufwDenyPort.plan({ ports: [53, 123] }, INCIDENT_V4, 'r1');
    expect(plan.apply).toEqual([
      ACTIVE,
      {
        argv: [
          'ufw',
          'prepend',
          'deny',
          'proto',
          'udp',
          'to',
          '203.0.113.5',
          'port',
          '53',
          'comment',
          'floodgate:r1',
        ],
      },
      {
        argv: [
          'ufw',
          'prepend',
          'deny',
          'proto',
          'udp',
          'to',
          '203.0.113.5',
          'port',
          '123',
          'comment',
          'floodgate:r1',
        ],
      },
    ]);
    expect(plan.undo).toEqual([
      {
        argv: [
          'ufw',
          'delete',
          'deny',
          'proto',
          'udp',
          'to',
          '203.0.113.5',
          'port',
          '123',
          'comment',
          'floodgate:r1',
        ],
      },
      {
        argv: [
          'ufw',
          'delete',
          'deny',
          'proto',
          'udp',
          'to',
          '203.0.113.5',
          'port',
          '53',
          'comment',
          'floodgate:r1',
        ],
      },
    ]);
  });

  it('deny-port with "any" denies the whole protocol, also gre, esp and ah', () => {
    expect(ufwDenyPort.plan({ ports: 'any', protocol: 'gre' }, INCIDENT_V6, 'r1').apply[1]!.argv).toEqual([
      'ufw',
      'prepend',
      'deny',
      'proto',
      'gre',
      'to',
      '2001:db8::5',
      'comment',
      'floodgate:r1',
    ]);
    expect(() => ufwDenyPort.plan({ protocol: 'esp' }, INCIDENT_V4, 'r1')).toThrow(/use "any"/);
    expect(() => ufwDenyPort.plan({ protocol: 'icmp', ports: 'any' }, INCIDENT_V4, 'r1')).toThrow(
      /not one of the protocols/,
    );
    expect(() => ufwDenyPort.plan({ ports: 0 }, INCIDENT_V4, 'r1')).toThrow(/below 1/);
  });

  it('deny-source: one rule per source to the target', () => {
    const plan = ufwDenySource.plan({}, INCIDENT_V6, 'r1');
    expect(plan.apply.map((s) => s.argv)).toEqual([
      ACTIVE.argv,
      ['ufw', 'prepend', 'deny', 'from', '2001:db8:bad::7', 'to', '2001:db8::5', 'comment', 'floodgate:r1'],
      ['ufw', 'prepend', 'deny', 'from', '2001:db8:bad::23', 'to', '2001:db8::5', 'comment', 'floodgate:r1'],
    ]);
    expect(plan.undo.map((s) => s.argv[1])).toEqual(['delete', 'delete']);
  });
});
