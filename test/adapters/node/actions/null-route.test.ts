import { describe, expect, it } from 'vitest';
import { nullRouteV4, nullRouteV6 } from '../../../../adapters/node/actions/null-route.js';
import { INCIDENT_V4, INCIDENT_V6 } from './fixtures.js';

describe('null routes', () => {
  it('blackholes each IPv4 source with our route protocol, unless a blackhole is there', () => {
    const plan = nullRouteV4.plan({}, INCIDENT_V4, 'r1');
    expect(plan.apply).toEqual([
      {
        argv: ['ip', '-4', 'route', 'add', 'blackhole', '198.51.100.7', 'proto', '70'],
        skipIf: [
          {
            argv: ['ip', '-4', 'route', 'show', 'exact', '198.51.100.7', 'type', 'blackhole'],
            stdoutMatches: '\\S',
          },
        ],
      },
      {
        argv: ['ip', '-4', 'route', 'add', 'blackhole', '198.51.100.23', 'proto', '70'],
        skipIf: [
          {
            argv: ['ip', '-4', 'route', 'show', 'exact', '198.51.100.23', 'type', 'blackhole'],
            stdoutMatches: '\\S',
          },
        ],
      },
    ]);
    expect(plan.undo).toEqual([
      {
        argv: ['ip', '-4', 'route', 'del', 'blackhole', '198.51.100.23', 'proto', '70'],
        skipIf: [
          {
            argv: ['ip', '-4', 'route', 'show', 'exact', '198.51.100.23', 'type', 'blackhole', 'proto', '70'],
            stdoutLacks: '\\S',
          },
        ],
      },
      {
        argv: ['ip', '-4', 'route', 'del', 'blackhole', '198.51.100.7', 'proto', '70'],
        skipIf: [
          {
            argv: ['ip', '-4', 'route', 'show', 'exact', '198.51.100.7', 'type', 'blackhole', 'proto', '70'],
            stdoutLacks: '\\S',
          },
        ],
      },
    ]);
  });

  it('uses ip -6 for IPv6 and takes prefixes', () => {
    const plan = nullRouteV6.plan({ sources: '2001:db8:bad::/48' }, INCIDENT_V6, 'r1');
    expect(plan.apply.map((s) => s.argv)).toEqual([
      ['ip', '-6', 'route', 'add', 'blackhole', '2001:db8:bad::/48', 'proto', '70'],
    ]);
    expect(plan.undo.map((s) => s.argv)).toEqual([
      ['ip', '-6', 'route', 'del', 'blackhole', '2001:db8:bad::/48', 'proto', '70'],
    ]);
  });

  it('keeps to its family whatever the incident', () => {
    expect(() => nullRouteV4.plan({ sources: '2001:db8::7' }, INCIDENT_V4, 'r1')).toThrow(
      /is IPv6 but this action works on IPv4/,
    );
    expect(nullRouteV6.plan({ sources: '2001:db8::7' }, INCIDENT_V4, 'r1').apply).toHaveLength(1);
  });
});
