import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterAuditEntry, MitigationAdapter } from '../../adapters/contract.js';
import { builtinNodeCatalogue } from '../../adapters/node/builtin-catalogue.js';
import { nodeConfigSchema } from '../../adapters/node/config.js';
import { createNodeAdapter } from '../../adapters/node/node-adapter.js';
import { nullLogger } from '../../core/logger.js';
import type { FirewallIntent } from '../../core/mitigation/intent.js';
import type { NodeRule } from '../../core/node-rules/rule.js';
import { makeNodeRule } from '../core/node-rules/rule-fixture.js';
import { type Netns, requireRoot } from './netns.js';
import {
  fingerprintOf,
  makeKey,
  openSshLab,
  type RunningSshd,
  type SshLab,
  type TestUser,
} from './sshd-lab.js';

const intent: FirewallIntent = {
  kind: 'firewall',
  id: 'fw4-55aa55aa55aa55aa',
  incidentId: 'inc-node-ssh',
  ipVersion: 4,
  target: '203.0.113.77/32',
  action: { type: 'drop-protocol', protocol: 17, sourcePorts: [11211] },
  facts: {
    family: 'memcached_amplification',
    severity: 6,
    severityLevel: 'high',
    pps: 400_000,
    bps: 4e9,
    sources: ['198.51.100.9'],
    sourcePorts: [11211],
    destinationPorts: [],
    protocols: [17],
  },
};

function rule(params: Record<string, string | number>): NodeRule {
  return makeNodeRule('drop-memcached', {
    trigger: { type: 'family-in', families: ['memcached_amplification'] },
    action: { type: 'iptables.drop-udp-source-port', params },
    nodes: ['remote'],
    cooldownMinutes: 1,
  });
}

describe('node adapter over SSH (real sshd in a namespace, pinned host key, sudo)', () => {
  let ns: Netns;
  let sshDir: string;
  let lab: SshLab | undefined;
  let sshd: RunningSshd;
  let user: TestUser | undefined;
  const adapters: MitigationAdapter[] = [];

  function newAdapter(rules: NodeRule[], audits: AdapterAuditEntry[], hostKey = sshd.hostKey) {
    const config = nodeConfigSchema.parse({
      nodes: [
        {
          name: 'remote',
          serves: ['203.0.113.0/24'],
          ssh: {
            host: sshd.address,
            user: user!.name,
            privateKeyFile: sshd.clientKeyFile,
            hostKey,
            sudo: true,
            connectTimeoutMs: 5_000,
          },
        },
      ],
    });
    const adapter = createNodeAdapter(
      config,
      {
        name: 'hosts',
        logger: nullLogger,
        now: Date.now,
        nodeRules: () => rules,
        audit: (e) => audits.push(e),
      },
      { catalogue: builtinNodeCatalogue() },
    );
    adapters.push(adapter);
    return adapter;
  }

  async function rules(): Promise<string[]> {
    const r = await ns.run(['iptables', '-w', '-S', 'INPUT']);
    expect(r.code).toBe(0);
    return r.stdout.split('\n').filter((l) => l.startsWith('-A'));
  }

  beforeAll(async () => {
    requireRoot();
    lab = await openSshLab('nodessh');
    ({ ns, sshd, dir: sshDir } = lab);
    user = lab.addUser({ sudo: true });
  });

  afterAll(async () => {
    for (const a of adapters) await a.stop();
    await lab?.close();
  });

  it('puts the rule in place on the remote node over one connection and undoes it', async () => {
    const audits: AdapterAuditEntry[] = [];
    const adapter = newAdapter([rule({})], audits);
    await adapter.start();
    expect(await rules()).toEqual([]);
    const logins = sshd.acceptedLogins();
    const receipt = await adapter.apply(intent);
    expect(await rules()).toEqual([
      expect.stringMatching(
        /^-A INPUT -d 203\.0\.113\.77\/32 -p udp -m udp --sport 11211 -m comment --comment "?floodgate:fg-[0-9a-f]{10}"? -j DROP$/,
      ),
    ]);
    expect(audits.map((a) => [a.action, a.result])).toEqual([['apply', 'ok']]);
    expect(audits[0]?.detail).toMatchObject({ venue: 'node remote', code: 0 });
    expect((await adapter.health()).ok).toBe(true);

    await adapter.withdraw(receipt);
    expect(await rules()).toEqual([]);
    // Check, insert, health, undo check and delete: all on the one kept connection.
    expect(sshd.acceptedLogins() - logins).toBe(1);
  });

  it('after a reboot (sshd restarted, firewall flushed) the reconnect is noticed and the rule put back', async () => {
    const audits: AdapterAuditEntry[] = [];
    const adapter = newAdapter([rule({})], audits);
    await adapter.start();
    const receipt = await adapter.apply(intent);
    const inPlace = await rules();
    expect(inPlace).toHaveLength(1);
    let reconnects = 0;
    adapter.onReconnect?.(() => reconnects++);

    await ns.run(['iptables', '-w', '-F', 'INPUT']);
    await sshd.restart();
    expect(await rules()).toEqual([]);
    // The daemon's periodic health check is the next command: it reconnects, and the listener (the
    // dispatcher, in the daemon) reconciles, which reasserts.
    const deadline = Date.now() + 10_000;
    while (!(await adapter.health()).ok && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(reconnects).toBe(1);
    const result = await adapter.reassert!([intent.id]);
    expect(result).toEqual({
      restored: [
        {
          intentId: intent.id,
          venue: 'node remote',
          commands: [expect.stringMatching(/iptables -w -I INPUT 1 /)],
        },
      ],
      failures: [],
    });
    expect(await rules()).toEqual(inPlace);
    expect((await adapter.reassert!([intent.id])).restored).toEqual([]);
    await adapter.withdraw(receipt);
    expect(await rules()).toEqual([]);
  });

  it('refuses a hostile rule parameter before anything is sent', async () => {
    const audits: AdapterAuditEntry[] = [];
    const adapter = newAdapter([rule({ ports: '11211;reboot' })], audits);
    await adapter.start();
    const logins = sshd.acceptedLogins();
    await expect(adapter.apply(intent)).rejects.toMatchObject({ code: 'FG_ERR_ADAPTER_APPLY' });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ action: 'fail', result: 'error' });
    const detail = audits[0]?.detail as { output?: string } | undefined;
    expect(detail?.output).toContain('FG_ERR_NODE_PARAM');
    expect(sshd.acceptedLogins()).toBe(logins);
    expect(await rules()).toEqual([]);
  });

  it('a wrong pinned host key fails the apply with FG_ERR_SSH_HOST_KEY and runs nothing', async () => {
    const wrong = fingerprintOf(`${makeKey(join(sshDir, 'not-the-host-key'))}.pub`);
    const audits: AdapterAuditEntry[] = [];
    const adapter = newAdapter([rule({})], audits, wrong);
    await adapter.start();
    const logins = sshd.acceptedLogins();
    const error = await adapter.apply(intent).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'FG_ERR_ADAPTER_APPLY' });
    expect((error as Error).message).toContain('FG_ERR_SSH_HOST_KEY');
    expect(sshd.acceptedLogins()).toBe(logins);
    expect(await rules()).toEqual([]);
    expect((await adapter.health()).detail).toContain('FG_ERR_SSH_HOST_KEY');
  });
});
