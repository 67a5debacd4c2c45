import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-cli-'));
const broken = join(dir, 'broken.yaml');
writeFileSync(
  broken,
  ['mode: detect-only', 'detection:', '  holdDownSeconds: soon', 'http:', '  listen: nowhere'].join('\n'),
);
const valid = join(dir, 'valid.yaml');
writeFileSync(valid, 'detection:\n  networks: [{ prefix: 198.51.100.0/24 }]\n');

describe('floodgate CLI', () => {
  it('check-config names the line of each problem and exits 1', async () => {
    const r = await runCli(['check-config', broken]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('invalid configuration (FG_ERR_CONFIG_INVALID)');
    expect(r.stderr).toMatch(/detection\.holdDownSeconds: .*\(line 3\)/);
    expect(r.stderr).toMatch(/http\.listen: .*\(line 5\)/);
  });

  it('check-config prints the effective configuration of a valid file', async () => {
    const r = await runCli(['check-config', valid]);
    expect(r.code).toBe(0);
    const effective = parse(r.stdout) as { detection: { networks: { prefix: string }[] }; mode: string };
    expect(effective.detection.networks[0]!.prefix).toBe('198.51.100.0/24');
    expect(effective.mode).toBe('detect-only');
  });

  it('check-config with no file checks the embedded defaults', async () => {
    const r = await runCli(['check-config']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(embedded defaults): valid');
  });

  it('check-config refuses a runbook tier that none of its adapters can deliver', async () => {
    const file = join(dir, 'undeliverable.yaml');
    writeFileSync(
      file,
      [
        'adapters: [{ name: v4-edge, type: dry-run, config: { capabilities: [rtbh4] } }]',
        'runbooks: [{ name: edge, tiers: [{ name: fs, intents: [flowspec], adapters: [v4-edge] }] }]',
      ].join('\n'),
    );
    const r = await runCli(['check-config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('invalid configuration (FG_ERR_CONFIG_INVALID)');
    expect(r.stderr).toContain(
      'runbooks[0].tiers[0] (runbook edge, fs): asks for flowspec, but none of its adapters (v4-edge) can deliver flowspec4 or flowspec6',
    );
  });

  it('run refuses an invalid file and does not start', async () => {
    const r = await runCli(['run', '--config', broken]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not starting');
    expect(r.stderr).toMatch(/\(line 3\)/);
  });

  it('prints its version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
