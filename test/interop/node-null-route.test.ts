/**
 * The two null-route actions against the real kernel routing table. A blackholed source gets no
 * answers (ping, TCP handshakes fail) while its neighbour still does; with rp_filter on, its IPv4
 * packets are dropped on input too. A blackhole route the operator already had stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nullRouteV4, nullRouteV6 } from '../../adapters/node/actions/null-route.js';
import { createNodeLab, exercise, LAB_ADDRESSES, labIncident, type NodeLab, RX_IF } from './node-lab.js';

let lab: NodeLab;

beforeAll(async () => {
  lab = await createNodeLab('nodenull');
  // Strict reverse-path filtering, as many hosts run it: the blackhole then drops on input too.
  await lab.sh(['sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=1']);
  await lab.sh(['sysctl', '-q', '-w', `net.ipv4.conf.${RX_IF}.rp_filter=1`]);
  // An operator's own blackhole route, which the plans below must not take over or remove.
  await lab.sh(['ip', 'route', 'add', 'blackhole', LAB_ADDRESSES[4].sources[2]]);
  await lab.sh(['ip', '-6', 'route', 'add', 'blackhole', LAB_ADDRESSES[6].sources[2]]);
}, 60_000);

afterAll(async () => {
  await lab?.cleanup();
});

describe('null-route.blackhole-v4', () => {
  it('cuts the source off (no replies, and with rp_filter no packets) and leaves its neighbour', async () => {
    const sources = [LAB_ADDRESSES[4].sources[0], LAB_ADDRESSES[4].sources[2]];
    const plan = nullRouteV4.plan({}, labIncident(4, { sources }), 'null4');
    expect(plan.params['sources']).toEqual(sources);
    await exercise(lab, plan, {
      flows: async () => {
        expect(await lab.ping(4, 0)).toBe(true);
        const r = await lab.udp({ family: 4, from: 0 });
        expect(r.received).toBeGreaterThanOrEqual(r.sent * 0.95);
      },
      blocked: async () => {
        expect(await lab.ping(4, 0)).toBe(false);
        expect((await lab.udp({ family: 4, from: 0 })).received).toBe(0);
        expect(await lab.ping(4, 1)).toBe(true);
        expect(await lab.sh(['ip', '-4', 'route', 'show', 'type', 'blackhole', 'proto', '70'])).not.toContain(
          LAB_ADDRESSES[4].sources[2],
        );
      },
    });
    expect(await lab.sh(['ip', '-4', 'route', 'show', 'type', 'blackhole'])).toContain(
      LAB_ADDRESSES[4].sources[2],
    );
  });
});

describe('null-route.blackhole-v6', () => {
  it('cuts the source off (no replies: ping and TCP fail) and leaves its neighbour', async () => {
    const sources = [LAB_ADDRESSES[6].sources[0], LAB_ADDRESSES[6].sources[2]];
    const plan = nullRouteV6.plan({}, labIncident(6, { sources }), 'null6');
    await exercise(lab, plan, {
      flows: async () => {
        expect(await lab.ping(6, 0)).toBe(true);
        expect(await lab.tcp({ family: 6, from: 0, count: 10, waitMs: 400 })).toBe(10);
      },
      blocked: async () => {
        expect(await lab.ping(6, 0)).toBe(false);
        expect(await lab.tcp({ family: 6, from: 0, count: 10, waitMs: 400 })).toBe(0);
        expect(await lab.ping(6, 1)).toBe(true);
        expect(await lab.tcp({ family: 6, from: 1, count: 10, waitMs: 400 })).toBe(10);
      },
    });
    expect(await lab.sh(['ip', '-6', 'route', 'show', 'type', 'blackhole'])).toContain(
      LAB_ADDRESSES[6].sources[2],
    );
  });
});
