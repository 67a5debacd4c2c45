/**
 * The four nftables actions against the real nft, over IPv4 and IPv6. An operator's own nft
 * table is in place throughout and must come out unchanged; our "inet floodgate" table appears
 * with the first plan and goes with the last undo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  nftablesDropDestinationPort,
  nftablesDropProtocol,
  nftablesDropSource,
  nftablesRateLimit,
} from '../../adapters/node/actions/nftables.js';
import {
  createNodeLab,
  exercise,
  expectAllOk,
  type Family,
  labIncident,
  limitAllows,
  type NodeLab,
  UDP_PORTS,
} from './node-lab.js';

let lab: NodeLab;

beforeAll(async () => {
  lab = await createNodeLab('nodenft');
  await lab.sh([
    'nft',
    'add table inet operator; add chain inet operator input { type filter hook input priority 0; policy accept; }; add rule inet operator input tcp dport 22 counter accept',
  ]);
}, 60_000);

afterAll(async () => {
  await lab?.cleanup();
});

async function matched(tag: string): Promise<number> {
  const chain = await lab.sh(['nft', 'list', 'chain', 'inet', 'floodgate', `fg-${tag}`]);
  return [...chain.matchAll(/packets (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function flows(family: Family, probe: { from?: number; port?: number } = {}): Promise<void> {
  const r = await lab.udp({ family, ...probe });
  expect(r.received).toBeGreaterThanOrEqual(r.sent * 0.95);
}

describe.each([4, 6] as const)('nftables actions over IPv%i', (family) => {
  it('drop-protocol drops UDP to the target and not TCP', async () => {
    const tag = `nft${family}-proto`;
    const plan = nftablesDropProtocol.plan({}, labIncident(family), tag);
    await exercise(lab, plan, {
      flows: () => flows(family),
      blocked: async () => {
        expect((await lab.udp({ family })).received).toBe(0);
        expect(await lab.tcp({ family })).toBe(20);
        expect(await matched(tag)).toBeGreaterThanOrEqual(200);
      },
    });
  });

  it('drop-source drops the incident sources and lets another through', async () => {
    const tag = `nft${family}-src`;
    const plan = nftablesDropSource.plan({}, labIncident(family), tag);
    await exercise(lab, plan, {
      flows: () => flows(family, { from: 0 }),
      blocked: async () => {
        expect((await lab.udp({ family, from: 0 })).received).toBe(0);
        await flows(family, { from: 1 });
        expect(await matched(tag)).toBeGreaterThanOrEqual(200);
      },
    });
  });

  it('drop-destination-port drops the incident port and not the next one', async () => {
    const tag = `nft${family}-dport`;
    const plan = nftablesDropDestinationPort.plan({}, labIncident(family), tag);
    await exercise(lab, plan, {
      flows: () => flows(family, { port: UDP_PORTS[0] }),
      blocked: async () => {
        expect((await lab.udp({ family, port: UDP_PORTS[0] })).received).toBe(0);
        await flows(family, { port: UDP_PORTS[1] });
      },
    });
  });

  it('rate-limit lets the rate through and drops the rest', async () => {
    const tag = `nft${family}-limit`;
    const plan = nftablesRateLimit.plan({ rate: 50, burst: 10, protocol: 'udp' }, labIncident(family), tag);
    await exercise(lab, plan, {
      flows: () => flows(family),
      blocked: async () => {
        const r = await lab.udp({ family, count: 1000 });
        expect(r.received).toBeGreaterThan(0);
        expect(r.received).toBeLessThanOrEqual(Math.min(limitAllows(50, 10, r.seconds), 500));
        expect(await matched(tag)).toBeGreaterThanOrEqual(850);
      },
    });
  });

  it('keeps our table while another plan still has a chain in it', async () => {
    const before = await lab.snapshot();
    const a = nftablesDropSource.plan({}, labIncident(family), `nft${family}-a`);
    const b = nftablesDropDestinationPort.plan({}, labIncident(family), `nft${family}-b`);
    expectAllOk(await lab.apply(a), 'apply a');
    expectAllOk(await lab.apply(b), 'apply b');
    expectAllOk(await lab.undo(a), 'undo a');
    expect(await lab.sh(['nft', 'list', 'table', 'inet', 'floodgate'])).toContain(`chain fg-nft${family}-b`);
    expect((await lab.udp({ family, port: UDP_PORTS[0], from: 1 })).received).toBe(0);
    expectAllOk(await lab.undo(b), 'undo b');
    expect(await lab.snapshot()).toEqual(before);
    expect(before['nft']).toContain('table inet operator');
  });
});
