/**
 * Cloud firewall rules through the node adapter, against the fakes of the three APIs: a rule
 * whose action is a cloud block runs once (not per node), every HTTP exchange is audited with the
 * token masked, the receipt's undo restores the provider's state exactly, and the preview's
 * requests are the requests apply sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterAuditEntry } from '../../../adapters/contract.js';
import { nodeCatalogue } from '../../../adapters/node/builtin-catalogue.js';
import { nodeConfigSchema } from '../../../adapters/node/config.js';
import { createNodeAdapter } from '../../../adapters/node/node-adapter.js';
import { nullLogger } from '../../../core/logger.js';
import type { FirewallIntent } from '../../../core/mitigation/intent.js';
import type { NodeRule } from '../../../core/node-rules/rule.js';
import { makeNodeRule } from '../../core/node-rules/rule-fixture.js';
import { CloudflareFake } from '../../fakes/cloudflare-fake.js';
import { DigitalOceanFake } from '../../fakes/digitalocean-fake.js';
import { VultrFake } from '../../fakes/vultr-fake.js';

const TOKEN = 'node-cloud-SECRET-token-77';
const ZONE = '023e105f4ecef8ad9ca31a8372d0c353';
const cloudflare = new CloudflareFake(TOKEN, [ZONE]);
const digitalocean = new DigitalOceanFake(TOKEN);
const vultr = new VultrFake(TOKEN);
const base = { cloudflare: '', digitalocean: '', vultr: '' };

beforeAll(async () => {
  base.cloudflare = await cloudflare.start();
  base.digitalocean = await digitalocean.start();
  base.vultr = await vultr.start();
});
afterAll(async () => {
  await Promise.all([cloudflare.stop(), digitalocean.stop(), vultr.stop()]);
});

const intent: FirewallIntent = {
  kind: 'firewall',
  id: 'fw4-c10dc10dc10dc10d',
  incidentId: 'inc-cloud',
  ipVersion: 4,
  target: '203.0.113.5/32',
  action: { type: 'drop-source', sources: ['198.51.100.4/32'] },
  facts: {
    family: 'udp_flood',
    severity: 3,
    pps: 50_000,
    bps: 1e8,
    sources: ['198.51.100.4', '198.51.100.5'],
    sourcePorts: [],
    destinationPorts: [53],
    protocols: [17],
  },
};

function rule(type: string): NodeRule {
  return makeNodeRule(`block-${type.split('.')[0]}`, { action: { type, params: {} }, cooldownMinutes: 1 });
}

function adapterWith(cloud: Record<string, unknown>, rules: NodeRule[], audits: AdapterAuditEntry[]) {
  const config = nodeConfigSchema.parse({ nodes: [{ name: 'a' }, { name: 'b' }], cloud });
  return createNodeAdapter(
    config,
    {
      name: 'hosts',
      logger: nullLogger,
      now: () => 1000,
      nodeRules: () => rules,
      audit: (e) => audits.push(e),
    },
    { catalogue: nodeCatalogue(config.cloud) },
  );
}

describe('cloud firewall actions through the node adapter', () => {
  it('Cloudflare: one access rule per source, once whatever the node count, undone by id', async () => {
    const audits: AdapterAuditEntry[] = [];
    const cloud = { cloudflare: { baseUrl: base.cloudflare, token: TOKEN, zoneId: ZONE } };
    const adapter = adapterWith(cloud, [rule('cloudflare.block-source')], audits);
    const preview = adapter.render(intent);
    const receipt = await adapter.apply(intent);
    expect(
      cloudflare
        .rules(ZONE)
        .map((r) => r.configuration.value)
        .sort(),
    ).toEqual(['198.51.100.4', '198.51.100.5']);
    const posts = audits.filter((a) => a.command?.startsWith('POST '));
    expect(posts).toHaveLength(2);
    for (const post of posts) {
      expect(post).toMatchObject({
        action: 'apply',
        result: 'ok',
        detail: { venue: 'cloud cloudflare', code: 200 },
      });
      // The audited request is the previewed one, byte for byte.
      expect(preview.split('\n')).toContain(post.command);
    }
    expect(JSON.stringify(audits)).not.toContain(TOKEN);
    expect(JSON.stringify(receipt)).not.toContain(TOKEN);
    await adapter.withdraw(receipt);
    expect(cloudflare.rules(ZONE)).toEqual([]);
  });

  it('DigitalOcean: narrows the allow rules and restores the firewall exactly', async () => {
    const id = digitalocean.addFirewall({
      name: 'web',
      inbound_rules: [
        { protocol: 'tcp', ports: '443', sources: { addresses: ['0.0.0.0/0', '::/0'] } },
        { protocol: 'udp', ports: '53', sources: { addresses: ['198.51.100.0/24'] } },
      ],
    });
    const original = structuredClone(digitalocean.firewall(id));
    const audits: AdapterAuditEntry[] = [];
    const cloud = { digitalocean: { baseUrl: base.digitalocean, token: TOKEN, firewallId: id } };
    const adapter = adapterWith(cloud, [rule('digitalocean.block-source')], audits);
    const receipt = await adapter.apply(intent);
    const narrowed = digitalocean.firewall(id).inbound_rules.flatMap((r) => r.sources?.addresses ?? []);
    expect(narrowed).not.toContain('0.0.0.0/0');
    expect(narrowed).not.toContain('198.51.100.0/24');
    expect(narrowed).toContain('198.51.100.6/31');
    expect(audits.some((a) => a.command?.startsWith('PUT ') && a.result === 'ok')).toBe(true);
    await adapter.withdraw(receipt);
    expect(digitalocean.firewall(id)).toEqual(original);
  });

  it('Vultr: replaces covering accept rules by the ranges around the sources, and back', async () => {
    const group = vultr.addGroup({ maxRuleCount: 200 });
    vultr.addRule(group, { ip_type: 'v4', protocol: 'tcp', port: '443', subnet: '0.0.0.0', subnet_size: 0 });
    const original = vultr.rules(group).map(({ id: _id, ...r }) => r);
    const audits: AdapterAuditEntry[] = [];
    const cloud = { vultr: { baseUrl: base.vultr, token: TOKEN, firewallGroupId: group } };
    const adapter = adapterWith(cloud, [rule('vultr.block-source')], audits);
    const receipt = await adapter.apply(intent);
    const subnets = vultr.rules(group).map((r) => `${r.subnet}/${r.subnet_size}`);
    expect(subnets).not.toContain('0.0.0.0/0');
    expect(subnets.length).toBeGreaterThan(30);
    await adapter.withdraw(receipt);
    expect(vultr.rules(group).map(({ id: _id, ...r }) => r)).toEqual(original);
  });

  it('a cloud rule whose provider is not configured fails with the reason, nothing sent', async () => {
    const audits: AdapterAuditEntry[] = [];
    const adapter = adapterWith({}, [rule('vultr.block-source')], audits);
    await expect(adapter.apply(intent)).rejects.toThrow(/vultr is not configured in this node adapter/);
    expect(audits).toEqual([expect.objectContaining({ action: 'fail', result: 'error' })]);
  });
});
