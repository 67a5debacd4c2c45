import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cloudflareConfigSchema } from '../../../../adapters/node/cloud/cloudflare.js';
import { resolveToken } from '../../../../adapters/node/cloud/credentials.js';
import { digitalOceanConfigSchema } from '../../../../adapters/node/cloud/digitalocean.js';
import { cloudProviders } from '../../../../adapters/node/cloud/index.js';
import { vultrConfigSchema } from '../../../../adapters/node/cloud/vultr.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-cloud-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cloud provider configuration', () => {
  it('defaults each base URL to the vendor API', () => {
    const zoneId = '023e105f4ecef8ad9ca31a8372d0c353';
    const id = '3afda9e2-8b4f-4c2a-9f55-1c0c0a0b0c0d';
    expect(cloudflareConfigSchema.parse({ token: 't', zoneId }).baseUrl).toBe(
      'https://api.cloudflare.com/client/v4',
    );
    expect(digitalOceanConfigSchema.parse({ token: 't', firewallId: id }).baseUrl).toBe(
      'https://api.digitalocean.com/v2',
    );
    expect(vultrConfigSchema.parse({ token: 't', firewallGroupId: id })).toMatchObject({
      baseUrl: 'https://api.vultr.com/v2',
      timeoutMs: 10_000,
      maxAttempts: 4,
    });
    expect(Object.keys(cloudProviders)).toEqual(['cloudflare', 'digitalocean', 'vultr']);
  });

  it('wants exactly one of token and tokenFile, and one way to name the object', () => {
    const zoneId = '023e105f4ecef8ad9ca31a8372d0c353';
    expect(cloudflareConfigSchema.safeParse({ zoneId }).success).toBe(false);
    expect(cloudflareConfigSchema.safeParse({ zoneId, token: 't', tokenFile: '/x' }).success).toBe(false);
    expect(cloudflareConfigSchema.safeParse({ zoneId: 'not-a-zone', token: 't' }).success).toBe(false);
    expect(digitalOceanConfigSchema.safeParse({ token: 't' }).success).toBe(false);
    expect(digitalOceanConfigSchema.safeParse({ token: 't', firewallName: 'web' }).success).toBe(true);
    expect(vultrConfigSchema.safeParse({ token: 't', firewallGroupId: 'x', extra: 1 }).success).toBe(false);
  });

  it('reads the token from tokenFile; a bad file is named, its content never', () => {
    const file = join(dir, 'token');
    writeFileSync(file, '  abc-123-secret \n');
    expect(resolveToken('vultr', { tokenFile: file })).toBe('abc-123-secret');
    writeFileSync(file, 'two words-secret\n');
    expect(() => resolveToken('vultr', { tokenFile: file })).toThrow(/must hold the token alone/);
    try {
      resolveToken('vultr', { tokenFile: file });
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('words-secret');
    }
    expect(() => resolveToken('vultr', { tokenFile: join(dir, 'missing') })).toThrow(/ENOENT/);
  });
});
