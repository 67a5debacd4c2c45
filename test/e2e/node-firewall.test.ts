/**
 * Tier 1 end to end with a real `floodgate run`: an operator saves a node rule with
 * `floodgate rules add`; an NTP reflection on a host opens an incident; the runbook's firewall
 * tier runs the rule through the node adapter on a node that is a network namespace, where real
 * iptables then holds the DROP rule; when the incident ends the undo removes it and the ruleset is
 * what it was. Every command is in the audit with its exit code. Also records the time from the
 * incident opening to the rule in place (both audit timestamps, same clock).
 *
 * Needs root and iptables (scripts/test.sh installs it).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../core/audit/chain.js';
import { runCli } from '../helpers/cli.js';
import { requireRoot } from '../interop/netns.js';
import { createHarness, type Harness } from './daemon-harness.js';

const NS = `fg-e2e-node-${process.pid}`;
const VICTIM = '203.0.113.10';

/** The namespace's rules as `iptables -S` lists them (policies included, whether or not the table existed). */
function iptablesSave(): string {
  return execFileSync('ip', ['netns', 'exec', NS, 'iptables', '-w', '-S'], { encoding: 'utf8' });
}

let harness: Harness | undefined;
afterAll(async () => {
  await harness?.cleanup();
  try {
    execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  } catch {
    // already gone
  }
});

describe('node firewall rules end to end (floodgate run -> node adapter -> iptables in a namespace)', () => {
  it('runs the saved rule when the incident opens and undoes it when the incident ends', async () => {
    requireRoot();
    execFileSync('ip', ['netns', 'add', NS]);
    const before = iptablesSave();

    const h = await createHarness([
      'mode: automatic',
      'detection:',
      '  networks: [{ prefix: 203.0.113.0/24, thresholds: { pps: 1000, bps: 50000000 } }]',
      '  windowSeconds: 3',
      '  holdDownSeconds: 2',
      'adapters:',
      `  - { name: hosts, type: node, config: { nodes: [{ name: web, netns: ${NS}, serves: [203.0.113.0/24] }] } }`,
      'runbooks:',
      '  - name: hosts-first',
      '    mode: automatic',
      '    ttl: { seconds: 2 }',
      '    tiers: [{ name: host-firewall, intents: [firewall], adapters: [hosts], holdDownSeconds: 1 }]',
    ]);
    harness = h;
    h.start();
    await h.waitHealthy();

    const rulePath = join(h.dir, 'drop-ntp.yaml');
    writeFileSync(
      rulePath,
      [
        'id: drop-ntp-reflection',
        'description: drop NTP answers nobody asked for',
        'trigger: { type: family-in, families: [ntp_amplification] }',
        'action: { type: iptables.drop-udp-source-port, params: {} }',
        'cooldownMinutes: 1',
      ].join('\n'),
    );
    const preview = await runCli(['rules', 'preview', rulePath]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toContain(
      'iptables -w -I INPUT 1 -d 203.0.113.5 -p udp -m udp --sport 123 -m comment --comment floodgate:fg-example -j DROP',
    );
    const saved = await runCli(['rules', 'add', rulePath, '--config', h.configPath, '--operator', 'alice']);
    expect(saved.code, saved.stderr).toBe(0);
    const listed = await runCli(['rules', 'list', '--config', h.configPath]);
    expect(listed.stdout).toContain(
      'on   drop-ntp-reflection  family-in -> iptables.drop-udp-source-port on all nodes',
    );

    await h.attack(VICTIM);
    const rule = await h.waitFor('the DROP rule in the namespace', async () => {
      const line = iptablesSave()
        .split('\n')
        .find((l) => l.includes(`-d ${VICTIM}/32`) && l.includes('--sport 123'));
      return line;
    });
    expect(rule).toMatch(
      /^-A INPUT -d 203\.0\.113\.10\/32 -p udp -m udp --sport 123 -m comment --comment "?floodgate:fg-[0-9a-f]{10}"? -j DROP$/,
    );

    const audit = await h.getJson<{ items: AuditEntry[] }>('/api/v1/audit');
    const opened = audit.items.find((e) => e.action === 'incident-open');
    const applied = audit.items.filter((e) => e.actor === 'adapter:hosts' && e.action === 'apply');
    expect(opened).toBeDefined();
    expect(applied.length).toBeGreaterThan(0);
    const insert = applied.find((e) => e.command?.includes(' -I INPUT'));
    expect(insert).toMatchObject({
      rule: 'node-rule/drop-ntp-reflection',
      result: 'ok',
      incidentId: opened?.incidentId,
      detail: { venue: 'node web', code: 0 },
    });
    const latencyMs = (insert?.atMs ?? 0) - (opened?.atMs ?? 0);
    expect(latencyMs).toBeGreaterThanOrEqual(0);
    expect(latencyMs).toBeLessThan(1000);
    console.log(`incident opened -> iptables rule in place: ${latencyMs} ms (audit timestamps)`);

    // The attack stopped after a few seconds: hold-down, then the undo.
    await h
      .waitFor(
        'the ruleset back to what it was',
        async () => (iptablesSave() === before ? true : undefined),
        30_000,
      )
      .catch(async (e: Error) => {
        const trail = await h.getJson<{ items: AuditEntry[] }>('/api/v1/audit');
        const lines = trail.items.map(
          (a) =>
            `${a.action} ${a.actor} ${a.result} ${a.command ?? ''} ${JSON.stringify(a.detail ?? {}).slice(0, 300)}`,
        );
        throw new Error(
          `${e.message.slice(0, 2000)}\n--- ruleset ---\n${iptablesSave()}\n--- audit ---\n${lines.join('\n')}`,
        );
      });
    const after = await h.getJson<{ items: AuditEntry[] }>('/api/v1/audit');
    expect(
      after.items.some(
        (e) => e.actor === 'adapter:hosts' && e.action === 'withdraw' && e.command?.includes(' -D INPUT'),
      ),
    ).toBe(true);
    const verify = await runCli(['audit', 'verify', '--config', h.configPath]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 90_000);
});
