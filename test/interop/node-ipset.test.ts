/**
 * The two ipset actions against the real ipset and iptables, over IPv4 and IPv6: the set and
 * its drop rule appear with the first plan and leave with the last undo; a set the operator
 * already had (with their own rule) stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipsetAddNetwork, ipsetAddSource } from '../../adapters/node/actions/ipset.js';
import {
  createNodeLab,
  exercise,
  expectAllOk,
  type Family,
  LAB_ADDRESSES,
  labIncident,
  type NodeLab,
} from './node-lab.js';

let lab: NodeLab;

beforeAll(async () => {
  lab = await createNodeLab('nodeipset');
  await lab.sh(['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT']);
  await lab.sh(['ip6tables', '-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT']);
}, 60_000);

afterAll(async () => {
  await lab?.cleanup();
});

async function flowsFrom(family: Family, from: number): Promise<void> {
  const r = await lab.udp({ family, from });
  expect(
    r.received,
    `source ${LAB_ADDRESSES[family].sources[from]} should get through`,
  ).toBeGreaterThanOrEqual(r.sent * 0.95);
}

async function droppedFrom(family: Family, from: number): Promise<void> {
  expect(
    (await lab.udp({ family, from })).received,
    `source ${LAB_ADDRESSES[family].sources[from]} should be dropped`,
  ).toBe(0);
}

describe.each([4, 6] as const)('ipset actions over IPv%i', (family) => {
  const setName = family === 4 ? 'floodgate-ip4' : 'floodgate-ip6';

  it('add-source drops the incident source through the set, with a TTL', async () => {
    const plan = ipsetAddSource.plan({ timeout: 600 }, labIncident(family), `ipset${family}-src`);
    await exercise(lab, plan, {
      flows: async () => {
        await flowsFrom(family, 0);
      },
      blocked: async () => {
        await droppedFrom(family, 0);
        await flowsFrom(family, 1);
        const members = await lab.sh(['ipset', 'list', setName]);
        expect(members).toMatch(new RegExp(`^${LAB_ADDRESSES[family].sources[0]} timeout \\d+$`, 'm'));
        expect(members).toMatch(family === 4 ? /family inet / : /family inet6 /);
      },
    });
  });

  it('add-network drops the widened network and not the next one', async () => {
    const plan = ipsetAddNetwork.plan(
      family === 4 ? { prefixLength: 31 } : { prefixLength6: 127 },
      labIncident(family),
      `ipset${family}-net`,
    );
    expect(plan.params['sources']).toEqual([LAB_ADDRESSES[family].sources[0]]);
    await exercise(lab, plan, {
      flows: async () => {
        await flowsFrom(family, 0);
      },
      blocked: async () => {
        await droppedFrom(family, 0);
        await droppedFrom(family, 1);
        await flowsFrom(family, 2);
        expect(
          await lab.sh(['ipset', 'list', '-t', family === 4 ? 'floodgate-net4' : 'floodgate-net6']),
        ).toMatch(/Type: hash:net/);
      },
    });
  });

  it('two plans share the set: it stays until the last undo', async () => {
    const before = await lab.snapshot();
    const a = ipsetAddSource.plan(
      {},
      labIncident(family, { sources: [LAB_ADDRESSES[family].sources[0]] }),
      'share-a',
    );
    const b = ipsetAddSource.plan(
      {},
      labIncident(family, { sources: [LAB_ADDRESSES[family].sources[1]] }),
      'share-b',
    );
    expectAllOk(await lab.apply(a), 'apply a');
    expectAllOk(await lab.apply(b), 'apply b');
    await droppedFrom(family, 0);
    await droppedFrom(family, 1);

    expectAllOk(await lab.undo(a), 'undo a');
    await flowsFrom(family, 0);
    await droppedFrom(family, 1);
    expect(await lab.sh(['ipset', 'list', '-n'])).toContain(setName);

    expectAllOk(await lab.undo(b), 'undo b');
    await flowsFrom(family, 1);
    expect(await lab.snapshot()).toEqual(before);
  });

  it("an operator's set and drop rule stay after the undo", async () => {
    const set = `operator${family}`;
    await lab.sh([
      'ipset',
      'create',
      set,
      'hash:ip',
      'family',
      family === 4 ? 'inet' : 'inet6',
      'timeout',
      '0',
    ]);
    const bin = family === 4 ? 'iptables' : 'ip6tables';
    await lab.sh([bin, '-A', 'INPUT', '-m', 'set', '--match-set', set, 'src', '-j', 'DROP']);
    const plan = ipsetAddSource.plan({ set }, labIncident(family), `ipset${family}-op`);
    await exercise(lab, plan, {
      flows: async () => {
        await flowsFrom(family, 0);
      },
      blocked: async () => {
        await droppedFrom(family, 0);
      },
    });
    expect(await lab.sh(['ipset', 'list', '-t', set])).toMatch(/^References: 1$/m);
  });
});
