/**
 * The two ufw actions driven for real: the attacked namespace gets its own /etc/ufw and
 * /etc/default (ip netns exec mounts /etc/netns/NS/<name> over /etc/<name>), so ufw is enabled
 * there, with incoming traffic allowed by default and an operator rule of its own, without
 * touching the host's ufw.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ufwDenyPort, ufwDenySource } from '../../adapters/node/actions/ufw.js';
import { createNodeLab, exercise, type Family, labIncident, type NodeLab, UDP_PORTS } from './node-lab.js';

let lab: NodeLab;
let ufwDir: string;

beforeAll(async () => {
  lab = await createNodeLab('nodeufw');
  ufwDir = lab.privateEtc('ufw');
  lab.privateEtc('default');
  await lab.sh(['ufw', 'default', 'allow', 'incoming']);
  await lab.sh(['ufw', '--force', 'enable']);
  await lab.sh(['ufw', 'allow', '22/tcp']);
  // Adding a rule updates the live chains piecemeal; a reload writes them the way every later
  // rule change (ours included) does, so the baseline is ufw's own steady state.
  await lab.sh(['ufw', 'reload']);
  expect(await lab.sh(['ufw', 'status'])).toMatch(/^Status: active/m);
}, 60_000);

afterAll(async () => {
  await lab?.cleanup();
});

function userRules(): string {
  return ['user.rules', 'user6.rules'].map((f) => readFileSync(join(ufwDir, f), 'utf8')).join('\n');
}

async function flows(family: Family, probe: { from?: number; port?: number } = {}): Promise<void> {
  const r = await lab.udp({ family, ...probe });
  expect(r.received).toBeGreaterThanOrEqual(r.sent * 0.95);
}

describe.each([4, 6] as const)('ufw actions over IPv%i', (family) => {
  it('deny-port denies the incident port and not the next one', async () => {
    const rules = userRules();
    const plan = ufwDenyPort.plan({}, labIncident(family), `ufw${family}-port`);
    await exercise(lab, plan, {
      flows: () => flows(family, { port: UDP_PORTS[0] }),
      blocked: async () => {
        expect((await lab.udp({ family, port: UDP_PORTS[0] })).received).toBe(0);
        await flows(family, { port: UDP_PORTS[1] });
        expect(await lab.sh(['ufw', 'status'])).toContain(`floodgate:ufw${family}-port`);
      },
    });
    expect(userRules()).toBe(rules);
  });

  it('deny-source denies the incident source and lets another through', async () => {
    const rules = userRules();
    const plan = ufwDenySource.plan({}, labIncident(family), `ufw${family}-src`);
    await exercise(lab, plan, {
      flows: () => flows(family, { from: 0 }),
      blocked: async () => {
        expect((await lab.udp({ family, from: 0 })).received).toBe(0);
        await flows(family, { from: 1 });
      },
    });
    expect(userRules()).toBe(rules);
  });
});

describe('ufw.deny-port with port "any"', () => {
  it('denies the whole protocol to the target and not TCP', async () => {
    const plan = ufwDenyPort.plan({ ports: 'any', protocol: 'udp' }, labIncident(4), 'ufw-any');
    expect(ufwDenyPort.isBroad({ ports: 'any', protocol: 'udp' })).toBe(true);
    await exercise(lab, plan, {
      flows: () => flows(4, { port: UDP_PORTS[1] }),
      blocked: async () => {
        expect((await lab.udp({ family: 4, port: UDP_PORTS[1] })).received).toBe(0);
        expect(await lab.tcp({ family: 4 })).toBe(20);
      },
    });
  });
});

describe('an inactive ufw', () => {
  it('fails the apply at its status check and adds no rule', async () => {
    await lab.sh(['ufw', 'disable']);
    try {
      const rules = userRules();
      const plan = ufwDenySource.plan({}, labIncident(4), 'ufw-inactive');
      const outcomes = await lab.apply(plan);
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]).toMatchObject({ ok: false, argv: ['ufw', 'status'] });
      expect(outcomes[0]!.error).toMatch(/Status: active/);
      expect(userRules()).toBe(rules);
    } finally {
      await lab.sh(['ufw', '--force', 'enable']);
    }
  });
});
