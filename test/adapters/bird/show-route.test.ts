/** Parsing `birdc show route ... all`, as BIRD 2.0.12 printed it in the lab, with and without -v. */
import { describe, expect, it } from 'vitest';
import { birdcFailure, replyCodes } from '../../../adapters/bird/birdc.js';
import { parseBirdRoutes, routeCommunities, routeExtCommunities } from '../../../adapters/bird/show-route.js';

const PLAIN = `BIRD 2.0.12 ready.
Table ft4:
flow4 { dst 203.0.113.6/32; proto 17; length 512; }  [fg_flow4 15:48:19.043] * (200)
\tType: static univ
\tBGP.ext_community: (generic, 0x80060000, 0x47f42400)
flow4 { dst 203.0.113.5/32; src 198.51.100.0/24; proto 6,17; dport 53; sport 53,123; tcp flags 0x2/0x2 && 0x0/0x10; length 512..1500; fragment is_fragment; }  [exa 15:47:01.537 from 127.0.0.2] * (100) [AS65000i]
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 65000
\tBGP.local_pref: 100
\tBGP.ext_community: (generic, 0x80060000, 0x0) (generic, 0x80090000, 0xa)

Table master4:
203.0.113.66/32      unreachable [exa 15:47:01.537 from 127.0.0.2] * (100) [AS65000i]
\tType: BGP univ
\tBGP.next_hop: 192.0.2.1
\tBGP.community: (65535,666) (65000,1)
                     blackhole [other4 15:53:43.875] (200)
\tType: static univ
`;

const VERBOSE = `0001 BIRD 2.0.12 ready.
1007-Table master4:
     203.0.113.66/32      blackhole [fg_rtbh4 15:53:43.875] * (200)
1008-\tType: static univ
1012-\tBGP.next_hop: 192.0.2.1
     \tBGP.community: (65535,666)
1007-                     blackhole [other4 15:53:43.875] (200)
1008-\tType: static univ
0000 
`;

describe('parseBirdRoutes', () => {
  it('reads flow and IP routes with their attributes, and further routes of a network', () => {
    const routes = parseBirdRoutes(PLAIN);
    expect(routes.map((r) => [r.table, r.network, r.protocol])).toEqual([
      ['ft4', 'flow4 { dst 203.0.113.6/32; proto 17; length 512; }', 'fg_flow4'],
      [
        'ft4',
        'flow4 { dst 203.0.113.5/32; src 198.51.100.0/24; proto 6,17; dport 53; sport 53,123; tcp flags 0x2/0x2 && 0x0/0x10; length 512..1500; fragment is_fragment; }',
        'exa',
      ],
      ['master4', '203.0.113.66/32', 'exa'],
      ['master4', '203.0.113.66/32', 'other4'],
    ]);
    expect(routeExtCommunities(routes[1]!)).toEqual([
      [0x80060000, 0],
      [0x80090000, 10],
    ]);
    expect(routes[2]!.summary).toBe('unreachable [exa 15:47:01.537 from 127.0.0.2] * (100) [AS65000i]');
    expect(routes[2]!.attributes['BGP.next_hop']).toBe('192.0.2.1');
    expect(routeCommunities(routes[2]!)).toEqual(['65535:666', '65000:1']);
  });

  it('reads the -v form the same way', () => {
    const routes = parseBirdRoutes(VERBOSE);
    expect(routes.map((r) => [r.table, r.network, r.protocol])).toEqual([
      ['master4', '203.0.113.66/32', 'fg_rtbh4'],
      ['master4', '203.0.113.66/32', 'other4'],
    ]);
    expect(routeCommunities(routes[0]!)).toEqual(['65535:666']);
  });
});

describe('birdc results', () => {
  const result = (code: number, stdout: string) => ({ code, stdout, stderr: '', timedOut: false });

  it('tells success from BIRD errors by reply code and exit status', () => {
    const ok =
      '0001 BIRD 2.0.12 ready.\n0002-Reading configuration from /etc/bird/bird.conf\n0020 Configuration OK\n';
    expect(replyCodes(ok)).toEqual([1, 2, 20]);
    expect(birdcFailure(result(0, ok), 'configure check')).toBeUndefined();
    const bad =
      '0001 BIRD 2.0.12 ready.\n0002-Reading configuration from /etc/bird/bird.conf\n8002 /etc/bird/floodgate.conf:7:3 syntax error\n';
    expect(birdcFailure(result(1, bad), 'configure check')).toBe(
      'configure check: /etc/bird/floodgate.conf:7:3 syntax error',
    );
    expect(
      birdcFailure(
        result(0, '0001 BIRD 2.0.12 ready.\n0006 Reconfiguration ignored, shutting down\n'),
        'configure',
      ),
    ).toMatch(/ignored/);
    expect(
      birdcFailure(
        {
          code: 1,
          stdout: '',
          stderr:
            'Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory\n',
          timedOut: false,
        },
        'show protocols',
      ),
    ).toBe(
      'show protocols: Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory',
    );
    expect(birdcFailure({ code: null, stdout: '', stderr: '', timedOut: true }, 'configure')).toBe(
      'configure: birdc did not finish in time',
    );
  });
});
