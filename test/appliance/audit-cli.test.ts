/**
 * `floodgate audit verify` and `floodgate audit export` on the store of a configuration: an intact
 * chain verifies, an entry edited behind the store's back (the append-only triggers dropped, as
 * someone with the file could) is found, and exports carry every field.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../appliance/store/sqlite-store.js';
import { type AuditEntry, verifyChain } from '../../core/audit/chain.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-audit-cli-'));
const stateDir = join(dir, 'state');
const configPath = join(dir, 'floodgate.yaml');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  writeFileSync(configPath, `store: { stateDir: ${JSON.stringify(stateDir)} }\n`);
  const store = openSqliteStore(join(stateDir, 'floodgate.db'), () => 1_763_734_800_000);
  store.appendAudit({
    atMs: 1_763_734_800_000,
    actor: 'system',
    action: 'incident-open',
    incidentId: 'inc-1',
    result: 'ok',
  });
  store.appendAudit({
    atMs: 1_763_734_801_000,
    actor: 'adapter:edge',
    action: 'apply',
    incidentId: 'inc-1',
    mitigationId: 'bh4-1@edge',
    adapter: 'edge',
    rule: 'default/1 flowspec-and-rtbh',
    command: 'announce route 203.0.113.5/32 next-hop 192.0.2.1 community [ 65535:666 ]',
    result: 'ok',
  });
  store.appendAudit({
    atMs: 1_763_734_802_000,
    actor: 'operator:alice',
    action: 'withdraw',
    mitigationId: 'bh4-1@edge',
    command: 'withdraw route 203.0.113.5/32 next-hop 192.0.2.1',
    result: 'ok',
    detail: { reason: 'said "enough", by hand' },
  });
  store.close();
});

describe('floodgate audit', () => {
  it('exports JSON that re-verifies, and CSV with a header and quoted fields', async () => {
    const json = await runCli(['audit', 'export', '--config', configPath, '--format', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const entries = JSON.parse(json.stdout) as AuditEntry[];
    expect(entries.map((e) => e.action)).toEqual(['incident-open', 'apply', 'withdraw']);
    expect(entries[1]!.rule).toBe('default/1 flowspec-and-rtbh');
    expect(verifyChain(entries)).toEqual({ ok: true, count: 3 });
    expect(json.stderr).toContain('audit chain intact: 3 entries exported');

    const out = join(dir, 'audit.csv');
    const csv = await runCli(['audit', 'export', '--config', configPath, '--format', 'csv', '--out', out]);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(
      'seq,time,atMs,actor,action,result,rule,incidentId,mitigationId,adapter,command,detail,prevHash,hash',
    );
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain(
      '2,2025-11-21T14:20:01.000Z,1763734801000,adapter:edge,apply,ok,default/1 flowspec-and-rtbh,inc-1,bh4-1@edge,edge,announce route 203.0.113.5/32 next-hop 192.0.2.1 community [ 65535:666 ],,',
    );
    expect(lines[3]).toContain('"{""reason"":""said \\""enough\\"", by hand""}"');
    expect((await runCli(['audit', 'export', '--config', configPath, '--format', 'xml'])).code).toBe(2);
  });

  it('verifies an intact chain, then finds the entry edited behind the store’s back', async () => {
    const ok = await runCli(['audit', 'verify', '--config', configPath]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('audit chain intact: 3 entries\n');

    // Someone with the file drops the append-only trigger and rewrites what was withdrawn.
    const db = new Database(join(stateDir, 'floodgate.db'));
    db.exec('DROP TRIGGER audit_no_update');
    const row = db.prepare('SELECT json FROM audit WHERE seq = 2').get() as { json: string };
    const edited = JSON.parse(row.json) as AuditEntry;
    edited.command = 'announce route 198.51.100.0/24 next-hop 192.0.2.1';
    db.prepare('UPDATE audit SET json = ? WHERE seq = 2').run(JSON.stringify(edited));
    db.close();

    const broken = await runCli(['audit', 'verify', '--config', configPath]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(
      'audit chain BROKEN at seq 2: hash does not match the entry content (entry was altered)',
    );
    const exported = await runCli(['audit', 'export', '--config', configPath]);
    expect(exported.stderr).toContain('warning: audit chain BROKEN at seq 2');
  });

  it('says where it looked when there is no store', async () => {
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, `store: { stateDir: ${JSON.stringify(join(dir, 'nowhere'))} }\n`);
    const r = await runCli(['audit', 'verify', '--config', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no store at ${join(dir, 'nowhere', 'floodgate.db')}`);
  });
});
