/**
 * The two tc actions against the real kernel: what the attacked namespace receives on its veth
 * is limited (counted by the receiver), and the interface's qdiscs, filters and links come back
 * exactly, including an ingress or clsact qdisc (with a filter) the operator already had.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tcPoliceIngress, tcPoliceProtocol } from '../../adapters/node/actions/tc.js';
import {
  createNodeLab,
  exercise,
  type Family,
  labIncident,
  limitAllows,
  type NodeLab,
  RX_IF,
} from './node-lab.js';

let lab: NodeLab;

beforeAll(async () => {
  lab = await createNodeLab('nodetc');
}, 60_000);

afterAll(async () => {
  await lab?.cleanup();
});

/** 2000 datagrams of 1000 bytes sent at once: 16 Mbit in well under a second. */
const BULK = { count: 2000, size: 1000 };
/** 1000 kbit/s and the default burst let through about 60 of them in the ~0.3 s a probe lasts. */
const RATE = 1000;

async function flows(family: Family): Promise<void> {
  const r = await lab.udp({ family, ...BULK });
  expect(r.received).toBeGreaterThanOrEqual(r.sent * 0.95);
}

async function limited(family: Family): Promise<void> {
  const r = await lab.udp({ family, ...BULK });
  expect(r.received).toBeGreaterThan(0);
  // tbf passes RATE kbit/s plus its burst (16000 bytes) and queue (50 ms at the rate).
  const packetsPerSecond = (RATE * 1000) / 8 / (BULK.size + 28);
  expect(r.received).toBeLessThanOrEqual(
    Math.min(limitAllows(packetsPerSecond, 16 + 7, r.seconds), r.sent * 0.25),
  );
}

describe('tc.police-ingress', () => {
  it('limits everything the interface receives, both families', async () => {
    const plan = tcPoliceIngress.plan({ interface: RX_IF, rate: RATE }, labIncident(4), 'tc-all');
    await exercise(lab, plan, {
      flows: async () => {
        await flows(4);
        await flows(6);
      },
      blocked: async () => {
        await limited(4);
        await limited(6);
      },
    });
  });

  it("leaves an operator's ingress qdisc and filter in place", async () => {
    await lab.sh(['tc', 'qdisc', 'add', 'dev', RX_IF, 'ingress']);
    await lab.sh([
      'tc',
      'filter',
      'add',
      'dev',
      RX_IF,
      'ingress',
      'pref',
      '100',
      'protocol',
      'ip',
      'u32',
      'match',
      'ip',
      'protocol',
      '1',
      '0xff',
      'classid',
      ':1',
    ]);
    try {
      const plan = tcPoliceIngress.plan({ interface: RX_IF, rate: RATE }, labIncident(4), 'tc-operator');
      await exercise(lab, plan, { flows: () => flows(4), blocked: () => limited(4) });
      expect(await lab.sh(['tc', 'filter', 'show', 'dev', RX_IF, 'ingress'])).toMatch(/pref 100 u32/);
    } finally {
      await lab.sh(['tc', 'qdisc', 'del', 'dev', RX_IF, 'ingress']);
    }
  });

  it("leaves an operator's empty ingress qdisc in place", async () => {
    await lab.sh(['tc', 'qdisc', 'add', 'dev', RX_IF, 'ingress']);
    try {
      const plan = tcPoliceIngress.plan({ interface: RX_IF, rate: RATE }, labIncident(4), 'tc-empty');
      await exercise(lab, plan, { flows: () => flows(4), blocked: () => limited(4) });
      expect(await lab.sh(['tc', 'qdisc', 'show', 'dev', RX_IF, 'ingress'])).toMatch(/^qdisc ingress ffff:/m);
    } finally {
      await lab.sh(['tc', 'qdisc', 'del', 'dev', RX_IF, 'ingress']);
    }
  });

  it("uses an operator's clsact qdisc and leaves it", async () => {
    await lab.sh(['tc', 'qdisc', 'add', 'dev', RX_IF, 'clsact']);
    try {
      const plan = tcPoliceIngress.plan({ interface: RX_IF, rate: RATE }, labIncident(4), 'tc-clsact');
      await exercise(lab, plan, { flows: () => flows(4), blocked: () => limited(4) });
      expect(await lab.sh(['tc', 'qdisc', 'show', 'dev', RX_IF])).toMatch(/qdisc clsact ffff:/);
    } finally {
      await lab.sh(['tc', 'qdisc', 'del', 'dev', RX_IF, 'clsact']);
    }
  });
});

describe.each([4, 6] as const)('tc.police-protocol over IPv%i', (family) => {
  it('limits UDP to the target and not TCP', async () => {
    const plan = tcPoliceProtocol.plan(
      { interface: RX_IF, rate: RATE },
      labIncident(family),
      `tc${family}-udp`,
    );
    await exercise(lab, plan, {
      flows: () => flows(family),
      blocked: async () => {
        await limited(family);
        expect(await lab.tcp({ family, count: 20 })).toBe(20);
        // The other family is not matched by this filter.
        await flows(family === 4 ? 6 : 4);
      },
    });
  });
});
