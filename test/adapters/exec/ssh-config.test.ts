import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostKeyFingerprint, hostKeyType } from '../../../adapters/exec/host-key.js';
import { sshTargetSchema } from '../../../adapters/exec/ssh-config.js';
import { createSshRunner } from '../../../adapters/exec/ssh-runner.js';

const FINGERPRINT = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';

describe('SSH target configuration', () => {
  it('fills defaults: port 22, no sudo, 10 s connect deadline, 15 s keepalive', () => {
    expect(
      sshTargetSchema.parse({
        host: 'edge1.example.net',
        user: 'floodgate',
        privateKeyFile: '/etc/floodgate/id_ed25519',
        hostKey: FINGERPRINT,
      }),
    ).toEqual({
      host: 'edge1.example.net',
      port: 22,
      user: 'floodgate',
      privateKeyFile: '/etc/floodgate/id_ed25519',
      hostKey: FINGERPRINT,
      sudo: false,
      connectTimeoutMs: 10_000,
      keepaliveIntervalMs: 15_000,
    });
    expect(
      sshTargetSchema.parse({ host: '2001:db8::7', user: 'u', privateKeyFile: '/k', hostKey: FINGERPRINT })
        .host,
    ).toBe('2001:db8::7');
  });

  it('refuses what cannot be right, each with its path', () => {
    const r = sshTargetSchema.safeParse({
      host: 'bad host;',
      port: 0,
      user: 'a b',
      privateKeyFile: 'relative/key',
      passphraseFile: 'passphrase.txt',
      hostKey: 'MD5:aa:bb',
      sudo: 'yes',
      password: 'secret',
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.') || i.code).sort();
    expect(paths).toEqual([
      'host',
      'hostKey',
      'passphraseFile',
      'port',
      'privateKeyFile',
      'sudo',
      'unrecognized_keys',
      'user',
    ]);
    // Padding and the "(ED25519)" suffix of ssh-keygen's line are not part of the fingerprint.
    for (const bad of [`${FINGERPRINT}=`, `${FINGERPRINT} (ED25519)`, FINGERPRINT.slice(7)]) {
      expect(sshTargetSchema.shape.hostKey.safeParse(bad).success).toBe(false);
    }
  });
});

describe('host key fingerprints', () => {
  it('equal what ssh-keygen -lf prints for the same key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-hostkey-'));
    try {
      for (const type of ['ed25519', 'ecdsa', 'rsa']) {
        const key = join(dir, type);
        expect(spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', key]).status).toBe(0);
        const printed = spawnSync('ssh-keygen', ['-lf', `${key}.pub`], { encoding: 'utf8' }).stdout.split(
          ' ',
        )[1];
        const blob = Buffer.from(readFileSync(`${key}.pub`, 'utf8').split(' ')[1]!, 'base64');
        expect(hostKeyFingerprint(blob)).toBe(printed);
        expect(sshTargetSchema.shape.hostKey.safeParse(printed).success).toBe(true);
        expect(hostKeyType(blob)).toBe(readFileSync(`${key}.pub`, 'utf8').split(' ')[0]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(hostKeyType(Buffer.alloc(2))).toBe('unknown');
  });
});

describe('SSH runner (no server)', () => {
  it('names where it runs, brackets an IPv6 host, and refuses an empty command', async () => {
    const base = { user: 'deploy', hostKey: FINGERPRINT, privateKeyFile: '/nonexistent' };
    expect(createSshRunner({ ...base, host: '203.0.113.7' }).where).toBe('ssh deploy@203.0.113.7:22');
    expect(createSshRunner({ ...base, host: '2001:db8::7', port: 2222 }).where).toBe(
      'ssh deploy@[2001:db8::7]:2222',
    );
    await expect(createSshRunner({ ...base, host: '203.0.113.7' }).run([])).rejects.toThrow(
      /FG_ERR_EXEC_START/,
    );
  });
});
