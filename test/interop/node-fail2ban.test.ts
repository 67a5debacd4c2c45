/**
 * fail2ban.ban-ip driven for real: a fail2ban-server runs inside the attacked namespace with its
 * own configuration directory, socket and pid file (so it never meets a host fail2ban), one jail
 * whose ban action drops with iptables on every port and protocol, and the plan talks to it with
 * fail2ban-client -s SOCKET.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fail2banBan } from '../../adapters/node/actions/fail2ban.js';
import type { NetnsProcess } from './netns.js';
import { createNodeLab, exercise, LAB_ADDRESSES, labIncident, type NodeLab, waitFor } from './node-lab.js';

const JAIL = 'fgtest';
let lab: NodeLab;
let dir: string;
let socket: string;
let server: NetnsProcess | undefined;

function writeConfig(): string {
  const conf = join(dir, 'conf');
  cpSync('/etc/fail2ban', conf, { recursive: true });
  // The distribution's jail.d enables sshd on logs this namespace does not have.
  rmSync(join(conf, 'jail.d'), { recursive: true, force: true });
  mkdirSync(join(conf, 'jail.d'));
  writeFileSync(
    join(conf, 'fail2ban.local'),
    `[Definition]\nlogtarget = ${join(dir, 'fail2ban.log')}\nsocket = ${socket}\npidfile = ${join(dir, 'run', 'fail2ban.pid')}\ndbfile = :memory:\n`,
  );
  writeFileSync(
    join(conf, 'filter.d', `${JAIL}.conf`),
    '[Definition]\nfailregex = ^floodgate-lab-never <HOST>$\n',
  );
  writeFileSync(join(dir, 'empty.log'), '');
  writeFileSync(
    join(conf, 'jail.local'),
    [
      '[DEFAULT]',
      'backend = polling',
      `[${JAIL}]`,
      'enabled = true',
      `filter = ${JAIL}`,
      `logpath = ${join(dir, 'empty.log')}`,
      'bantime = 3600',
      'banaction = iptables-allports',
      // Every protocol, dropped; the chain is set up when the jail starts, not at the first ban.
      `action = iptables-allports[name=${JAIL}, protocol=all, blocktype=DROP, actionstart_on_demand=false]`,
      '',
    ].join('\n'),
  );
  return conf;
}

beforeAll(async () => {
  lab = await createNodeLab('nodef2b');
  dir = mkdtempSync(join(tmpdir(), 'fg-nodef2b-'));
  mkdirSync(join(dir, 'run'));
  socket = join(dir, 'run', 'fail2ban.sock');
  const conf = writeConfig();
  server = lab.rx.start(
    ['fail2ban-server', '-f', '-x', '-c', conf, '-s', socket, '-p', join(dir, 'run', 'fail2ban.pid')],
    {
      name: 'fail2ban-server',
    },
  );
  for (let i = 0; ; i++) {
    const r = await lab.rx.run(['fail2ban-client', '-s', socket, 'status', JAIL]);
    if (r.code === 0) break;
    if (!server.running() || i > 100) {
      throw new Error(`fail2ban-server did not come up: ${server.output()}\n${r.stdout}${r.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // fail2ban starts a family's chain only at that family's first ban (and when an IPv6 ban finds
  // no chain it restores "a sane environment" by re-banning everything, duplicating IPv4 rules).
  // Ban and unban one address of each family so both chains exist before any test looks.
  const warm = ['10.77.0.99', 'fd77::99'];
  await lab.sh(['fail2ban-client', '-s', socket, 'set', JAIL, 'banip', ...warm]);
  await firewallHas(warm, true)();
  await lab.sh(['fail2ban-client', '-s', socket, 'set', JAIL, 'unbanip', ...warm]);
  await firewallHas(warm, false)();
}, 60_000);

afterAll(async () => {
  try {
    if (server?.running()) {
      await lab.rx.run(['fail2ban-client', '-s', socket, 'stop'], { timeoutMs: 10_000 });
      await server.stop(5_000);
    }
  } finally {
    await lab?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

async function banned(): Promise<string> {
  return lab.sh(['fail2ban-client', '-s', socket, 'get', JAIL, 'banip']);
}

/**
 * fail2ban runs the jail's ban action in its own thread after banip/unbanip return: wait until the
 * firewall shows (or no longer shows) a rule for each source.
 */
function firewallHas(sources: string[], present: boolean): () => Promise<void> {
  return () =>
    waitFor(`the jail's rules to ${present ? 'show' : 'drop'} ${sources.join(', ')}`, async () => {
      const rules = `${await lab.sh(['iptables-save'])}${await lab.sh(['ip6tables-save'])}`;
      return sources.every((s) => rules.includes(`-s ${s}/`) === present);
    });
}

describe('fail2ban.ban-ip', () => {
  it('bans IPv4 and IPv6 sources in the jail and the undo unbans them', async () => {
    const sources = [LAB_ADDRESSES[4].sources[0], LAB_ADDRESSES[6].sources[0]];
    const plan = fail2banBan.plan(
      { jail: JAIL, socket, sources: sources.join(',') },
      labIncident(4),
      'f2b-both',
    );
    expect(plan.apply[0]!.argv).toEqual(['fail2ban-client', '-s', socket, 'set', JAIL, 'banip', ...sources]);
    const before = await banned();
    await exercise(lab, plan, {
      applied: firewallHas(sources, true),
      undone: firewallHas(sources, false),
      flows: async () => {
        for (const family of [4, 6] as const) {
          const r = await lab.udp({ family, from: 0 });
          expect(r.received).toBeGreaterThanOrEqual(r.sent * 0.95);
        }
      },
      blocked: async () => {
        expect(await banned()).toContain(LAB_ADDRESSES[4].sources[0]);
        expect((await lab.udp({ family: 4, from: 0 })).received).toBe(0);
        expect((await lab.udp({ family: 6, from: 0 })).received).toBe(0);
        const other = await lab.udp({ family: 4, from: 1 });
        expect(other.received).toBeGreaterThanOrEqual(other.sent * 0.95);
      },
    });
    expect(await banned()).toBe(before);
  });

  it('bans the incident sources when the rule names none', async () => {
    const plan = fail2banBan.plan({ jail: JAIL, socket }, labIncident(4), 'f2b-incident');
    expect(plan.params['sources']).toEqual([LAB_ADDRESSES[4].sources[0]]);
    await exercise(lab, plan, {
      applied: firewallHas([LAB_ADDRESSES[4].sources[0]], true),
      undone: firewallHas([LAB_ADDRESSES[4].sources[0]], false),
      flows: async () => {
        const r = await lab.udp({ family: 4, from: 0 });
        expect(r.received).toBeGreaterThanOrEqual(r.sent * 0.95);
      },
      blocked: async () => {
        expect((await lab.udp({ family: 4, from: 0 })).received).toBe(0);
      },
    });
  });

  it('fails the apply for a jail that does not exist', async () => {
    const plan = fail2banBan.plan({ jail: 'no-such-jail', socket }, labIncident(4), 'f2b-nojail');
    const outcomes = await lab.apply(plan);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]!.ok).toBe(false);
    expect(outcomes[0]!.exitCode).not.toBe(0);
  });
});
