/**
 * Tier 1 end to end with a real `floodgate run`: an operator saves a node rule with
 * `floodgate rules add`; an NTP reflection on a host opens an incident; the runbook's firewall
 * tier runs the rule through the node adapter on a node that is a network namespace, where real
 * iptables then holds the DROP rule; when the incident ends the undo removes it and the ruleset is
 * what it was. Every command is in the audit with its exit code. Also records the time from the
 * incident opening to the rule in place (both audit timestamps, same clock). A second run shows
 * that `floodgate rules disable` takes the rule out of the firewall at once, mid-incident.
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
const NS_DISABLE = `fg-e2e-nodeoff-${process.pid}`;
const VICTIM = '203.0.113.10';

/** The namespace's rules as `iptables -S` lists them (policies included, whether or not the table existed). */
function iptablesSave(ns = NS): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-w', '-S'], { encoding: 'utf8' });
}

const harnesses: Harness[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.cleanup();
  for (const ns of [NS, NS_DISABLE]) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
});

/** A daemon whose one runbook runs the node adapter on `ns`; `holdSeconds` keeps the incident and its mitigation. */
function daemonConfig(ns: string, holdSeconds: number): string[] {
  return [
    'mode: automatic',
    'detection:',
    '  networks: [{ prefix: 203.0.113.0/24, thresholds: { pps: 1000, bps: 50000000 } }]',
    '  windowSeconds: 3',
    `  holdDownSeconds: ${holdSeconds}`,
    'adapters:',
    `  - { name: hosts, type: node, config: { nodes: [{ name: web, netns: ${ns}, serves: [203.0.113.0/24] }] } }`,
    'runbooks:',
    '  - name: hosts-first',
    '    mode: automatic',
    `    ttl: { seconds: ${holdSeconds} }`,
    '    tiers: [{ name: host-firewall, intents: [firewall], adapters: [hosts], holdDownSeconds: 1 }]',
  ];
}

/** Saves the NTP reflection rule through the CLI. */
async function saveNtpRule(h: Harness): Promise<string> {
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
  const saved = await runCli(['rules', 'add', rulePath, '--config', h.configPath, '--operator', 'alice']);
  expect(saved.code, saved.stderr).toBe(0);
  return rulePath;
}

function dropLine(ns: string): string | undefined {
  return iptablesSave(ns)
    .split('\n')
    .find((l) => l.includes(`-d ${VICTIM}/32`) && l.includes('--sport 123'));
}

describe('node firewall rules end to end (floodgate run -> node adapter -> iptables in a namespace)', () => {
  it('runs the saved rule when the incident opens and undoes it when the incident ends', async () => {
    requireRoot();
    execFileSync('ip', ['netns', 'add', NS]);
    const before = iptablesSave();

    const h = await createHarness(daemonConfig(NS, 2));
    harnesses.push(h);
    h.start();
    await h.waitHealthy();

    const rulePath = await saveNtpRule(h);
    const preview = await runCli(['rules', 'preview', rulePath]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toContain(
      'iptables -w -I INPUT 1 -d 203.0.113.5 -p udp -m udp --sport 123 -m comment --comment floodgate:fg-example -j DROP',
    );
    const listed = await runCli(['rules', 'list', '--config', h.configPath]);
    expect(listed.stdout).toContain(
      'on   drop-ntp-reflection  family-in -> iptables.drop-udp-source-port on all nodes',
    );

    await h.attack(VICTIM);
    const rule = await h.waitFor('the DROP rule in the namespace', async () => dropLine(NS));
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

  it('disabling the rule mid-incident takes the DROP out at once; the mitigation itself stays', async () => {
    requireRoot();
    execFileSync('ip', ['netns', 'add', NS_DISABLE]);
    const before = iptablesSave(NS_DISABLE);
    const h = await createHarness(daemonConfig(NS_DISABLE, 60));
    harnesses.push(h);
    h.start();
    await h.waitHealthy();
    await saveNtpRule(h);
    await h.attack(VICTIM);
    await h.waitFor('the DROP rule in the namespace', async () => dropLine(NS_DISABLE));

    const started = Date.now();
    const off = await runCli(['rules', 'disable', 'drop-ntp-reflection', '--config', h.configPath]);
    expect(off.code, off.stderr).toBe(0);
    expect(iptablesSave(NS_DISABLE)).toBe(before);
    console.log(`rules disable -> DROP rule gone: ${Date.now() - started} ms (CLI process included)`);
    expect(off.stdout).toMatch(
      /undone on node web \(hosts, fw4-[0-9a-f]+\):\n {2}iptables -w -D INPUT -d 203\.0\.113\.10/,
    );

    const mitigations = await h.getJson<{ items: { state: string; adapter: string }[] }>(
      '/api/v1/mitigations',
    );
    expect(mitigations.items.filter((m) => m.adapter === 'hosts').map((m) => m.state)).toContain('active');
    const audit = await h.getJson<{ items: AuditEntry[] }>('/api/v1/audit');
    expect(audit.items.find((e) => e.action === 'rule-disable')?.detail).toMatchObject({
      keepRuns: false,
      undone: [expect.stringMatching(/^hosts fw4-[0-9a-f]+ node web$/)],
    });
    expect(
      audit.items.some(
        (e) =>
          e.actor === 'adapter:hosts' &&
          e.action === 'withdraw' &&
          e.rule === 'node-rule/drop-ntp-reflection' &&
          e.incidentId !== undefined &&
          e.command?.includes(' -D INPUT'),
      ),
    ).toBe(true);
  }, 90_000);
});
