/**
 * The six iptables / ip6tables actions against the real tools, over IPv4 and IPv6: traffic
 * between two namespaces is counted before, while and after each plan is in place, and the
 * ruleset (with an operator's own rule in it) is compared before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  iptablesDropDestinationPort,
  iptablesDropProtocol,
  iptablesDropSource,
  iptablesDropUdpSourcePort,
  iptablesRateLimitSource,
  iptablesSynLimit,
} from '../../adapters/node/actions/iptables.js';
import {
  createNodeLab,
  exercise,
  type Family,
  labIncident,
  limitAllows,
  type NodeLab,
  UDP_PORTS,
} from './node-lab.js';

let lab: NodeLab;

beforeAll(async () => {
  lab = await createNodeLab('nodeipt');
  // An operator's ruleset the actions must leave as it was.
  await lab.sh(['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT']);
  await lab.sh(['ip6tables', '-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT']);
}, 60_000);

afterAll(async () => {
  await lab?.cleanup();
});

/** Packets our rules of one tag matched, from the kernel's counters. */
async function matched(family: Family, tag: string): Promise<number> {
  const save = await lab.sh([family === 4 ? 'iptables-save' : 'ip6tables-save', '-c']);
  return save
    .split('\n')
    .filter((l) => l.includes(`floodgate:${tag}`))
    .reduce((sum, l) => sum + Number(/^\[(\d+):/.exec(l)?.[1] ?? 0), 0);
}

describe.each([4, 6] as const)('iptables actions over IPv%i', (family) => {
  const bin = family === 4 ? 'iptables' : 'ip6tables';

  it('drop-protocol drops UDP to the target and nothing else', async () => {
    const tag = `ipt${family}-proto`;
    const plan = iptablesDropProtocol.plan({ protocol: 'udp' }, labIncident(family), tag);
    expect(plan.apply[0]!.argv[0]).toBe(bin);
    await exercise(lab, plan, {
      flows: async () => {
        const r = await lab.udp({ family });
        expect(r.received).toBeGreaterThanOrEqual(r.sent * 0.95);
      },
      blocked: async () => {
        expect((await lab.udp({ family })).received).toBe(0);
        expect(await lab.tcp({ family })).toBe(20);
        expect(await matched(family, tag)).toBeGreaterThanOrEqual(200);
      },
    });
  });

  it('drop-source drops the incident source and lets another through', async () => {
    const tag = `ipt${family}-src`;
    const plan = iptablesDropSource.plan({}, labIncident(family), tag);
    await exercise(lab, plan, {
      flows: async () => {
        const r = await lab.udp({ family, from: 0 });
        expect(r.received).toBeGreaterThanOrEqual(r.sent * 0.95);
      },
      blocked: async () => {
        expect((await lab.udp({ family, from: 0 })).received).toBe(0);
        const other = await lab.udp({ family, from: 1 });
        expect(other.received).toBeGreaterThanOrEqual(other.sent * 0.95);
        expect(await matched(family, tag)).toBeGreaterThanOrEqual(200);
      },
    });
  });

  it('drop-destination-port drops the incident port and not the next one', async () => {
    const tag = `ipt${family}-dport`;
    const plan = iptablesDropDestinationPort.plan({}, labIncident(family), tag);
    await exercise(lab, plan, {
      flows: async () => {
        const r = await lab.udp({ family, port: UDP_PORTS[0] });
        expect(r.received).toBeGreaterThanOrEqual(r.sent * 0.95);
      },
      blocked: async () => {
        expect((await lab.udp({ family, port: UDP_PORTS[0] })).received).toBe(0);
        const other = await lab.udp({ family, port: UDP_PORTS[1] });
        expect(other.received).toBeGreaterThanOrEqual(other.sent * 0.95);
      },
    });
  });

  it('drop-udp-source-port drops a reflector port and not another source port', async () => {
    const tag = `ipt${family}-sport`;
    const plan = iptablesDropUdpSourcePort.plan({}, labIncident(family, { sourcePorts: [1123] }), tag);
    await exercise(lab, plan, {
      flows: async () => {
        const r = await lab.udp({ family, sport: 1123 });
        expect(r.received).toBeGreaterThanOrEqual(r.sent * 0.95);
      },
      blocked: async () => {
        expect((await lab.udp({ family, sport: 1123 })).received).toBe(0);
        const other = await lab.udp({ family, sport: 1124 });
        expect(other.received).toBeGreaterThanOrEqual(other.sent * 0.95);
      },
    });
  });

  it('rate-limit-source limits a fast source and leaves a slow one alone', async () => {
    const tag = `ipt${family}-hashlimit`;
    const plan = iptablesRateLimitSource.plan(
      { rate: 50, burst: 10, protocol: 'udp' },
      labIncident(family),
      tag,
    );
    await exercise(lab, plan, {
      flows: async () => {
        const r = await lab.udp({ family, from: 0, count: 1000 });
        expect(r.received).toBeGreaterThanOrEqual(r.sent * 0.95);
      },
      blocked: async () => {
        const fast = await lab.udp({ family, from: 0, count: 1000 });
        expect(fast.received).toBeGreaterThan(0);
        expect(fast.received).toBeLessThanOrEqual(Math.min(limitAllows(50, 10, fast.seconds), 500));
        // Another source has its own bucket: a few packets all pass.
        expect((await lab.udp({ family, from: 1, count: 8 })).received).toBe(8);
        expect(await matched(family, tag)).toBeGreaterThanOrEqual(850);
      },
    });
  });

  it('syn-limit lets only the allowed rate of new connections through', async () => {
    const tag = `ipt${family}-syn`;
    const plan = iptablesSynLimit.plan({ rate: 5, burst: 5 }, labIncident(family), tag);
    await exercise(lab, plan, {
      flows: async () => {
        expect(await lab.tcp({ family, count: 60, waitMs: 400 })).toBeGreaterThanOrEqual(57);
      },
      blocked: async () => {
        const connected = await lab.tcp({ family, count: 60, waitMs: 400 });
        expect(connected).toBeGreaterThan(0);
        expect(connected).toBeLessThanOrEqual(20);
        // UDP is not affected by a SYN limit.
        const r = await lab.udp({ family });
        expect(r.received).toBeGreaterThanOrEqual(r.sent * 0.95);
      },
    });
  });
});
