/**
 * Manual approval with a real `floodgate run`: a manual runbook's mitigations wait as pending
 * until `floodgate approve` (through the daemon's API) lets them through; `floodgate withdraw`
 * takes one away by hand. Each step is audited with the operator's name.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createHarness, type Harness } from './daemon-harness.js';

interface MitigationJson {
  id: string;
  state: string;
  intent: { kind: string };
}

let harness: Harness | undefined;
afterAll(async () => harness?.cleanup());

describe('manual approval through the CLI', () => {
  it('keeps mitigations pending until approved, then applies them; withdraw takes one away', async () => {
    const h = await createHarness([
      'detection:',
      '  networks: [{ prefix: 203.0.113.0/24, thresholds: { pps: 1000, bps: 50000000 } }]',
      '  windowSeconds: 3',
      '  holdDownSeconds: 60',
      'runbooks:',
      '  - name: ask-first',
      '    mode: manual',
      '    tiers: [{ intents: [flowspec, rtbh] }]',
    ]);
    harness = h;
    h.start();
    await h.waitHealthy();
    await h.attack('203.0.113.10');
    const pending = await h.waitFor('two pending mitigations', async () => {
      const { items } = await h.getJson<{ items: MitigationJson[] }>('/api/v1/mitigations?state=pending');
      return items.length === 2 ? items : undefined;
    });
    const flowspec = pending.find((m) => m.intent.kind === 'flowspec')!;
    const rtbh = pending.find((m) => m.intent.kind === 'rtbh')!;

    const approved = await runCli(['approve', flowspec.id, '--config', h.configPath, '--operator', 'alice']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`${flowspec.id}: active`);
    expect(approved.stdout).toContain(
      'announce flow route { match { destination 203.0.113.10/32; protocol udp; source-port =123; } then { discard; } }',
    );

    const again = await runCli(['approve', flowspec.id, '--config', h.configPath]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('refused (HTTP 409)');

    const byIncident = await h.getJson<MitigationJson & { incidentId: string }>(
      `/api/v1/mitigations/${encodeURIComponent(rtbh.id)}`,
    );
    const all = await runCli([
      'approve',
      byIncident.incidentId,
      '--config',
      h.configPath,
      '--operator',
      'bob',
    ]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain(`${rtbh.id}: active`);

    const withdrawn = await runCli(['withdraw', flowspec.id, '--api', h.api, '--operator', 'carol']);
    expect(withdrawn.code, withdrawn.stderr).toBe(0);
    expect(withdrawn.stdout).toContain(`${flowspec.id}: withdrawn`);

    const { items: audit } = await h.getJson<{
      items: { action: string; actor: string; mitigationId?: string }[];
    }>('/api/v1/audit?limit=1000');
    const operatorActions = audit
      .filter((e) => e.actor.startsWith('operator:'))
      .map((e) => `${e.actor} ${e.action} ${e.mitigationId}`);
    expect(operatorActions).toEqual([
      `operator:alice approve ${flowspec.id}`,
      `operator:bob approve ${rtbh.id}`,
      `operator:carol withdraw ${flowspec.id}`,
    ]);
  }, 90_000);
});
