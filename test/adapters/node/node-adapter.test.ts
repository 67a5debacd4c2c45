/**
 * The node adapter's own logic with a recording catalogue and runner: which rules run where,
 * audit entries per command, cooldown, the enabled switch, receipts that undo after a restart.
 * The real firewall tools are proven in test/interop/node-*.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdapterAuditEntry, AdapterContext } from '../../../adapters/contract.js';
import type { CommandRunner } from '../../../adapters/exec/command-runner.js';
import { nodeConfigSchema } from '../../../adapters/node/config.js';
import { createNodeAdapter } from '../../../adapters/node/node-adapter.js';
import { nullLogger } from '../../../core/logger.js';
import type { FirewallIntent } from '../../../core/mitigation/intent.js';
import type { NodeRule } from '../../../core/node-rules/rule.js';
import { makeNodeRule } from '../../core/node-rules/rule-fixture.js';
import { fakeCatalogue as catalogue } from './fake-catalogue.js';

const intent: FirewallIntent = {
  kind: 'firewall',
  id: 'fw4-0123456789abcdef',
  incidentId: 'inc-1',
  ipVersion: 4,
  target: '203.0.113.5/32',
  action: { type: 'drop-protocol', protocol: 17, sourcePorts: [123] },
  facts: {
    family: 'ntp_amplification',
    severity: 3,
    severityLevel: 'high',
    pps: 90_000,
    bps: 8e8,
    sources: ['198.51.100.7'],
    sourcePorts: [123],
    destinationPorts: [],
    protocols: [17],
  },
};

function rule(id: string, over: Partial<NodeRule> = {}): NodeRule {
  return makeNodeRule(id, {
    trigger: { type: 'family-in', families: ['ntp_amplification'] },
    action: { type: 'test.drop-port', params: {} },
    ...over,
  });
}

interface Harness {
  ran: { node: string; argv: string[] }[];
  audits: AdapterAuditEntry[];
  rules: NodeRule[];
  clock: { t: number };
  failOn?: string;
  /** Every command throws as an unreachable node would. */
  unreachable?: boolean;
  /** Called as each command runs (to change the rules mid-apply). */
  onRun?: (argv: readonly string[]) => void;
}

function build(h: Harness, stateDir?: string, nodes?: unknown) {
  const config = nodeConfigSchema.parse({
    nodes: nodes ?? [
      { name: 'web1', serves: ['203.0.113.0/25'] },
      { name: 'web2', serves: ['203.0.113.128/25'] },
      { name: 'all-of-it' },
    ],
  });
  const ctx: AdapterContext = {
    name: 'hosts',
    logger: nullLogger,
    now: () => h.clock.t,
    audit: (e) => h.audits.push(e),
    nodeRules: () => h.rules,
    ...(stateDir === undefined ? {} : { stateDir }),
  };
  return createNodeAdapter(config, ctx, {
    catalogue,
    runnerFor: (node): CommandRunner => ({
      where: `fake ${node.name}`,
      async run(argv) {
        if (h.unreachable) throw new Error(`${node.name} unreachable`);
        h.onRun?.(argv);
        h.ran.push({ node: node.name, argv: [...argv] });
        const failing = h.failOn !== undefined && node.name === h.failOn;
        return {
          exitCode: failing ? 4 : 0,
          stdout: failing ? 'no such table' : 'ok',
          stderr: '',
          durationMs: 1,
        };
      },
      async close() {},
    }),
  });
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('node adapter', () => {
  it('runs each matching rule on the nodes that serve the target and audits every command', async () => {
    const h: Harness = {
      ran: [],
      audits: [],
      rules: [rule('ntp'), rule('syn', { trigger: { type: 'family-in', families: ['tcp_syn_flood'] } })],
      clock: { t: 1000 },
    };
    const adapter = build(h);
    await adapter.start();
    const receipt = await adapter.apply(intent);
    expect(h.ran).toEqual([
      { node: 'web1', argv: ['fw', 'add', '123', '203.0.113.5', expect.stringMatching(/^fg-[0-9a-f]{10}$/)] },
      { node: 'all-of-it', argv: ['fw', 'add', '123', '203.0.113.5', expect.stringMatching(/^fg-/)] },
    ]);
    expect(receipt.command).toContain('# rule ntp on node web1\nfw add 123 203.0.113.5 fg-');
    expect(h.audits).toHaveLength(2);
    expect(h.audits[0]).toMatchObject({
      action: 'apply',
      incidentId: 'inc-1',
      mitigationId: 'fw4-0123456789abcdef@hosts',
      rule: 'node-rule/ntp',
      result: 'ok',
      detail: { venue: 'node web1', actionType: 'test.drop-port', code: 0, output: 'ok' },
    });
    // Idempotent: the same intent again changes nothing.
    expect(await adapter.apply(intent)).toEqual(receipt);
    expect(h.ran).toHaveLength(2);

    const result = await adapter.withdraw(receipt);
    expect(result.wasPresent).toBe(true);
    expect(h.ran.slice(2).map((r) => r.argv.slice(0, 3))).toEqual([
      ['fw', 'del', '123'],
      ['fw', 'del', '123'],
    ]);
    expect(h.audits.slice(2).map((a) => a.action)).toEqual(['withdraw', 'withdraw']);
    expect(await adapter.list()).toEqual([]);
  });

  it('render shows the exact commands of the rules that would run, or says none would', async () => {
    const h: Harness = {
      ran: [],
      audits: [],
      rules: [rule('ntp', { nodes: ['web2', 'web1'] })],
      clock: { t: 0 },
    };
    const adapter = build(h);
    expect(adapter.render(intent)).toMatch(
      /^# rule ntp \(family ntp_amplification\) on node web1\nfw add 123 203\.0\.113\.5 fg-[0-9a-f]{10}$/,
    );
    expect(adapter.renderWithdraw?.(intent)).toMatch(
      /^# rule ntp on node web1\nfw del 123 203\.0\.113\.5 fg-/,
    );
    h.rules = [];
    expect(adapter.render(intent)).toMatch(/^# no enabled node rule matches .*; nothing runs$/);
    expect(h.ran).toEqual([]);
  });

  it('the enabled switch and the cooldown take effect at the next apply', async () => {
    const h: Harness = { ran: [], audits: [], rules: [rule('ntp', { enabled: false })], clock: { t: 0 } };
    const adapter = build(h, undefined, [{ name: 'solo' }]);
    const first = await adapter.apply(intent);
    expect(h.ran).toEqual([]);
    expect(first.command).toContain('no node rule ran');
    await adapter.withdraw(first);

    h.rules = [rule('ntp', { cooldownMinutes: 1 })];
    const second = await adapter.apply(intent);
    expect(h.ran).toHaveLength(1);
    await adapter.withdraw(second);
    h.clock.t = 30_000;
    const third = await adapter.apply(intent);
    expect(h.ran).toHaveLength(2); // the undo only
    expect(third.details?.['skipped']).toEqual([
      { ruleId: 'ntp', reason: 'in cooldown for 203.0.113.5: 30 s left of 1 min' },
    ]);
    await adapter.withdraw(third);
    h.clock.t = 61_000;
    await adapter.apply(intent);
    expect(h.ran.map((r) => r.argv[1])).toEqual(['add', 'del', 'add']);
  });

  it('fails the apply when every run failed, with the command output in the error and the audit', async () => {
    const h: Harness = { ran: [], audits: [], rules: [rule('ntp')], clock: { t: 0 }, failOn: 'solo' };
    const adapter = build(h, undefined, [{ name: 'solo' }]);
    await expect(adapter.apply(intent)).rejects.toMatchObject({ code: 'FG_ERR_ADAPTER_APPLY' });
    expect(h.audits).toEqual([
      expect.objectContaining({
        action: 'fail',
        result: 'error',
        detail: expect.objectContaining({ code: 4, output: 'no such table' }),
      }),
    ]);
    expect(await adapter.list()).toEqual([]);
  });

  it('keeps what is in place in its state file, so a new process can undo it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-node-'));
    dirs.push(dir);
    const h: Harness = { ran: [], audits: [], rules: [rule('ntp')], clock: { t: 0 } };
    const before = build(h, dir, [{ name: 'solo' }]);
    await before.start();
    const receipt = await before.apply(intent);
    await before.stop();

    const after = build(h, dir, [{ name: 'solo' }]);
    await after.start();
    expect(await after.list()).toEqual([receipt]);
    await after.withdraw(receipt);
    expect(h.ran.map((r) => r.argv[1])).toEqual(['add', 'del']);
    const again = build(h, dir, [{ name: 'solo' }]);
    await again.start();
    expect(await again.list()).toEqual([]);
  });

  it('remembers cooldowns across a restart in its state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-node-'));
    dirs.push(dir);
    const h: Harness = {
      ran: [],
      audits: [],
      rules: [rule('ntp', { cooldownMinutes: 10 })],
      clock: { t: 0 },
    };
    const before = build(h, dir, [{ name: 'solo' }]);
    await before.start();
    await before.withdraw(await before.apply(intent));
    await before.stop();

    h.clock.t = 5 * 60_000;
    const after = build(h, dir, [{ name: 'solo' }]);
    await after.start();
    const again = await after.apply(intent);
    expect(again.details?.['skipped']).toEqual([
      { ruleId: 'ntp', reason: 'in cooldown for 203.0.113.5: 300 s left of 10 min' },
    ]);
    await after.withdraw(again);
    h.clock.t = 10 * 60_000;
    await after.apply(intent);
    expect(h.ran.map((r) => r.argv[1])).toEqual(['add', 'del', 'add']);
  });

  it("retireRule undoes one rule's runs at once and leaves the others to withdraw", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-node-'));
    dirs.push(dir);
    const h: Harness = {
      ran: [],
      audits: [],
      rules: [rule('ntp'), rule('ntp-too', { action: { type: 'test.drop-port', params: { port: 9 } } })],
      clock: { t: 0 },
    };
    const adapter = build(h, dir, [{ name: 'solo' }]);
    await adapter.start();
    const receipt = await adapter.apply(intent);
    expect(h.ran.map((r) => r.argv.slice(1, 3).join(' '))).toEqual(['add 123', 'add 9']);

    const retired = await adapter.retireRule!('ntp-too');
    expect(retired.failures).toEqual([]);
    expect(retired.undone).toEqual([
      {
        intentId: intent.id,
        venue: 'node solo',
        commands: [expect.stringMatching(/^fw del 9 203\.0\.113\.5 fg-/)],
      },
    ]);
    expect((await adapter.retireRule!('ntp-too')).undone).toEqual([]);
    // The undo is audited against the incident, like a withdraw.
    expect(h.audits.at(-1)).toMatchObject({
      action: 'withdraw',
      incidentId: 'inc-1',
      rule: 'node-rule/ntp-too',
      command: expect.stringMatching(/^fw del 9 /),
    });

    // A new process reads the smaller receipt; withdrawing the caller's older copy undoes only what is left.
    const after = build(h, dir, [{ name: 'solo' }]);
    await after.start();
    const result = await after.withdraw(receipt);
    expect(result.wasPresent).toBe(true);
    expect(h.ran.map((r) => r.argv.slice(1, 3).join(' '))).toEqual(['add 123', 'add 9', 'del 9', 'del 123']);
    expect(await after.list()).toEqual([]);
  });

  it('retireRule racing a withdraw of the same intent leaves nothing held', async () => {
    const h: Harness = {
      ran: [],
      audits: [],
      rules: [rule('ntp'), rule('ntp-too', { action: { type: 'test.drop-port', params: { port: 9 } } })],
      clock: { t: 0 },
    };
    const adapter = build(h, undefined, [{ name: 'solo' }]);
    const receipt = await adapter.apply(intent);
    for (const order of [0, 1]) {
      const again = order === 0 ? receipt : await adapter.apply(intent);
      const [withdrawn, retired] =
        order === 0
          ? await Promise.all([adapter.withdraw(again), adapter.retireRule!('ntp')])
          : await Promise.all([adapter.retireRule!('ntp'), adapter.withdraw(again)]).then(
              ([r, w]) => [w, r] as const,
            );
      expect(withdrawn.wasPresent).toBe(true);
      expect(retired.failures).toEqual([]);
      expect(await adapter.list()).toEqual([]);
      h.clock.t += 10 * 60_000; // past the cooldown, so the next apply runs both rules again
    }
  });

  it('a rule disabled while its commands run is undone as soon as the apply ends', async () => {
    const h: Harness = {
      ran: [],
      audits: [],
      rules: [rule('ntp'), rule('ntp-too', { action: { type: 'test.drop-port', params: { port: 9 } } })],
      clock: { t: 0 },
    };
    h.onRun = (argv) => {
      if (argv[2] === '9') h.rules = [rule('ntp'), rule('ntp-too', { enabled: false })];
    };
    const adapter = build(h, undefined, [{ name: 'solo' }]);
    const receipt = await adapter.apply(intent);
    expect(h.ran.map((r) => r.argv.slice(1, 3).join(' '))).toEqual(['add 123', 'add 9', 'del 9']);
    const runs = receipt.details?.['runs'] as { ruleId: string }[] | undefined;
    expect(runs?.map((r) => r.ruleId)).toEqual(['ntp']);
    expect(await adapter.list()).toEqual([receipt]);
  });

  it('retireRule keeps a run whose undo failed, and withdraw tries it again', async () => {
    const h: Harness = { ran: [], audits: [], rules: [rule('ntp')], clock: { t: 0 } };
    const adapter = build(h, undefined, [{ name: 'solo' }]);
    const receipt = await adapter.apply(intent);
    h.unreachable = true;
    const retired = await adapter.retireRule!('ntp');
    expect(retired.undone).toEqual([]);
    expect(retired.failures).toEqual(['ntp on node solo: solo unreachable']);
    h.unreachable = false;
    await adapter.withdraw(receipt);
    expect(h.ran.map((r) => r.argv[1])).toEqual(['add', 'del']);
  });

  it('caps the runs one intent may start', async () => {
    const h: Harness = { ran: [], audits: [], rules: [rule('ntp')], clock: { t: 0 } };
    const config = nodeConfigSchema.parse({
      nodes: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
      maxRunsPerIntent: 2,
    });
    const adapter = createNodeAdapter(
      config,
      { name: 'hosts', logger: nullLogger, now: () => 0, nodeRules: () => h.rules },
      {
        catalogue,
        runnerFor: (node) => ({
          where: node.name,
          run: async (argv) => {
            h.ran.push({ node: node.name, argv: [...argv] });
            return { exitCode: 0, stdout: '', stderr: '', durationMs: 0 };
          },
          close: async () => {},
        }),
      },
    );
    const receipt = await adapter.apply(intent);
    expect(h.ran.map((r) => r.node)).toEqual(['a', 'b']);
    expect(receipt.details?.['skipped']).toEqual([
      { ruleId: 'ntp', reason: 'refused on node c: this intent already started 2 runs (maxRunsPerIntent)' },
    ]);
  });

  it('refuses intents other than firewall ones', async () => {
    const h: Harness = { ran: [], audits: [], rules: [], clock: { t: 0 } };
    const adapter = build(h);
    await expect(
      adapter.apply({
        kind: 'rtbh',
        id: 'bh4-x',
        incidentId: 'i',
        ipVersion: 4,
        prefix: '203.0.113.5/32',
        nextHop: '192.0.2.1',
        communities: [],
      }),
    ).rejects.toMatchObject({ code: 'FG_ERR_ADAPTER_CAPABILITY' });
  });
});
