/**
 * Null routes: a blackhole route to each source. Replies to the source are discarded, so no
 * TCP handshake or request/response with it completes; with reverse-path filtering on
 * (net.ipv4.conf.*.rp_filter = 1), IPv4 packets from it are dropped on input too. Routes carry
 * protocol number 70 so the undo removes only ours: an equal blackhole the operator had is left
 * alone (and makes our add unnecessary).
 */
import type { CommandStep, IpVersion } from './action-type.js';
import { broadPrefix, sourcesParam } from './common-params.js';
import { defineAction } from './define.js';

/** The route protocol number of our routes (add "70 floodgate" to /etc/iproute2/rt_protos to see the name). */
export const ROUTE_PROTOCOL = '70';

function routeSteps(
  version: IpVersion,
  prefixes: readonly string[],
): { apply: CommandStep[]; undo: CommandStep[] } {
  const ip = ['ip', version === 4 ? '-4' : '-6', 'route'];
  return {
    apply: prefixes.map((p) => ({
      argv: [...ip, 'add', 'blackhole', p, 'proto', ROUTE_PROTOCOL],
      skipIf: [{ argv: [...ip, 'show', 'exact', p, 'type', 'blackhole'], stdoutMatches: '\\S' }],
    })),
    undo: prefixes
      .map((p) => ({
        argv: [...ip, 'del', 'blackhole', p, 'proto', ROUTE_PROTOCOL],
        skipIf: [
          {
            argv: [...ip, 'show', 'exact', p, 'type', 'blackhole', 'proto', ROUTE_PROTOCOL],
            stdoutLacks: '\\S',
          },
        ],
      }))
      .reverse(),
  };
}

function nullRoute(version: IpVersion) {
  const v = version === 4 ? '-4' : '-6';
  return defineAction({
    id: `null-route.blackhole-v${version}`,
    group: 'null-route',
    title: `Blackhole IPv${version} sources (null route)`,
    description:
      version === 4
        ? 'Adds a blackhole route to each IPv4 source: replies to it are discarded, and with rp_filter on its packets are dropped on input too.'
        : 'Adds a blackhole route to each IPv6 source: replies to it are discarded, so no connection with it completes.',
    params: [
      sourcesParam(
        `IPv${version} source addresses or prefixes to blackhole (default: the incident's top sources).`,
      ),
    ],
    family: version,
    risk: 'low',
    riskNote:
      'Only the listed sources are affected, but the host cannot reach them either while the route is in place; a short prefix (shorter than /24 or /48) catches legitimate neighbours.',
    commandTemplate: `ip ${v} route add blackhole {sources} proto 70    (when no blackhole route to it exists)`,
    undoTemplate: `ip ${v} route del blackhole {sources} proto 70    (when our route is there)`,
    broad: (values) => values.ips('sources').some((s) => broadPrefix(s.version, s.length)),
    build: (values) =>
      routeSteps(
        version,
        values.ips('sources').map((s) => s.text),
      ),
  });
}

export const nullRouteV4 = nullRoute(4);
export const nullRouteV6 = nullRoute(6);
