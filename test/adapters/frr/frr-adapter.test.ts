import { describe, expect, it } from 'vitest';
import type { AdapterContext } from '../../../adapters/contract.js';
import { parseDescription, preferredSequence } from '../../../adapters/frr/commands.js';
import { frrConfigSchema } from '../../../adapters/frr/config.js';
import { createFrrAdapter } from '../../../adapters/frr/frr-adapter.js';
import { frrPlugin } from '../../../adapters/frr/plugin.js';
import { parseRunningConfig } from '../../../adapters/frr/running-config.js';
import { createAdapterRegistry } from '../../../adapters/registry.js';
import { checkRunbookAdapters } from '../../../appliance/runbook-adapters.js';
import { isFloodgateError } from '../../../core/errors.js';
import { runbookSchema } from '../../../core/escalation/config.js';
import { nullLogger } from '../../../core/logger.js';
import type { BlackholeIntent } from '../../../core/mitigation/intent.js';
import { type BlackholeContent, intentId } from '../../../core/mitigation/intent-id.js';
import { runAdapterConformance } from '../../conformance/adapter.js';
import { type FakeFrr, fakeFrr } from './fake-frr.js';

function ctx(name = 'edge-frr'): AdapterContext {
  let clock = 1_763_734_740_000;
  return { name, logger: nullLogger, now: () => clock++ };
}

function make(fake: FakeFrr, config: Record<string, unknown> = {}) {
  return createFrrAdapter(frrConfigSchema.parse(config), ctx(), { vtysh: fake.run });
}

function rtbh(content: Partial<BlackholeContent> = {}): BlackholeIntent {
  const c: BlackholeContent = {
    kind: 'rtbh',
    ipVersion: 4,
    prefix: '203.0.113.66/32',
    nextHop: '192.0.2.1',
    communities: ['65535:666', '64500:1'],
    ...content,
  };
  return { ...c, id: intentId(c), incidentId: 'inc-frr' };
}

runAdapterConformance('frr (fake vtysh)', () => make(fakeFrr()));

describe('FRR adapter', () => {
  it('declares RTBH only: a runbook asking it for FlowSpec is a start-up error naming runbook and tier', () => {
    const adapter = make(fakeFrr());
    expect([...adapter.capabilities].sort()).toEqual(['rtbh4', 'rtbh6']);
    const runbook = runbookSchema.parse({
      name: 'edge',
      tiers: [
        { name: 'blackhole', intents: ['rtbh'], adapters: ['edge-frr'] },
        { name: 'filter', intents: ['flowspec'], adapters: ['edge-frr'] },
      ],
    });
    let message = '';
    try {
      checkRunbookAdapters([runbook], [adapter]);
    } catch (e) {
      expect(isFloodgateError(e) && e.code).toBe('FG_ERR_CONFIG_INVALID');
      message = (e as Error).message;
    }
    expect(message).toMatch(
      /runbooks\[0\]\.tiers\[1\] \(runbook edge, .*filter.*\): asks for flowspec, but none of its adapters \(edge-frr\)/,
    );
  });

  it('renders a tagged blackhole route and the route-map entry that sets communities and next hop', () => {
    const adapter = make(fakeFrr());
    const intent = rtbh();
    const seq = preferredSequence(
      { version: 4, nextHop: '192.0.2.1', communities: [0xfbf40001, 0xffff029a] },
      frrConfigSchema.parse({}),
    );
    const tag = 2_700_000_000 + seq;
    expect(adapter.render(intent)).toBe(
      [
        'vtysh',
        `-c 'configure terminal'`,
        `-c 'route-map FLOODGATE-RTBH permit ${seq}'`,
        `-c 'description floodgate rtbh ipv4 next-hop 192.0.2.1 communities 64500:1,65535:666'`,
        `-c 'match tag ${tag}'`,
        `-c 'set community 64500:1 65535:666'`,
        `-c 'set ip next-hop 192.0.2.1'`,
        `-c 'exit'`,
        `-c 'ip route 203.0.113.66/32 blackhole tag ${tag}'`,
        `-c 'end'`,
      ].join(' '),
    );
    expect(adapter.render(rtbh({ ipVersion: 6, prefix: '2001:db8::66/128', nextHop: '100::1' }))).toMatch(
      /-c 'set ipv6 next-hop global 100::1' -c 'exit' -c 'ipv6 route 2001:db8::66\/128 blackhole tag \d+'/,
    );
  });

  it('reads its routes back from the running configuration, upstream included', async () => {
    const fake = fakeFrr();
    const adapter = make(fake);
    await adapter.start();
    const a = rtbh({ upstream: 'transit-a', communities: ['65535:666', '64500:100'] });
    const b = rtbh({
      prefix: '203.0.113.67/32',
      upstream: 'transit-a',
      communities: ['65535:666', '64500:100'],
    });
    const c = rtbh({
      ipVersion: 6,
      prefix: '2001:db8::66/128',
      nextHop: '100::1',
      communities: ['65535:666'],
    });
    for (const i of [a, b, c]) await adapter.apply(i);
    // Two routes with the same communities share one route-map entry.
    expect(fake.entries.size).toBe(2);
    fake.extra.push('ip route 198.51.100.0/24 blackhole tag 666', 'ip route 198.51.100.1/32 Null0');
    expect((await adapter.list()).map((r) => r.intentId).sort()).toEqual([a.id, b.id, c.id].sort());

    const fresh = make(fake);
    await fresh.start();
    expect((await fresh.list()).map((r) => r.intentId).sort()).toEqual([a.id, b.id, c.id].sort());
  });

  it("removes a route-map entry with its last route, and leaves the operator's routes alone", async () => {
    const fake = fakeFrr();
    const adapter = make(fake);
    await adapter.start();
    const a = await adapter.apply(rtbh());
    const b = await adapter.apply(rtbh({ prefix: '203.0.113.67/32' }));
    expect((await adapter.withdraw(a)).command).not.toMatch(/no route-map/);
    expect(fake.entries.size).toBe(1);
    expect((await adapter.withdraw(b)).command).toMatch(/no route-map FLOODGATE-RTBH permit \d+/);
    expect(fake.entries.size).toBe(0);
    expect(fake.statics.size).toBe(0);
  });

  it('one route per prefix: a route two intents share stays until the last of them is withdrawn', async () => {
    const fake = fakeFrr();
    const adapter = make(fake);
    await adapter.start();
    const plain = rtbh({ communities: ['65535:666'] });
    const tagged = rtbh({ communities: ['65535:666', '64500:1'] });
    const first = await adapter.apply(plain);
    const second = await adapter.apply(tagged);
    expect(fake.statics.size).toBe(1);
    expect(fake.statics.get('ip 203.0.113.66/32')).toBe((second.details as { tag: number }).tag);
    expect((await adapter.list()).map((r) => r.intentId).sort()).toEqual([plain.id, tagged.id].sort());
    // Withdrawing the configured one configures the other again and drops the unused entry.
    const out = await adapter.withdraw(second);
    expect(out.wasPresent).toBe(true);
    expect(out.command).toContain(
      `ip route 203.0.113.66/32 blackhole tag ${(first.details as { tag: number }).tag}`,
    );
    expect(fake.statics.get('ip 203.0.113.66/32')).toBe((first.details as { tag: number }).tag);
    expect(fake.entries.size).toBe(1);
    expect((await adapter.list()).map((r) => r.intentId)).toEqual([plain.id]);
    expect((await adapter.withdraw(first)).wasPresent).toBe(true);
    expect(fake.statics.size).toBe(0);
    expect(fake.entries.size).toBe(0);
  });

  it('after a restart, withdrawing an intent whose prefix another one took leaves the route', async () => {
    const fake = fakeFrr();
    const before = make(fake);
    await before.start();
    const old = await before.apply(rtbh({ communities: ['65535:666'] }));
    await before.apply(rtbh({ communities: ['65535:666', '64500:1'] }));
    const after = make(fake);
    await after.start();
    expect((await after.withdraw(old)).wasPresent).toBe(false);
    expect(fake.statics.size).toBe(1);
    expect(fake.entries.size).toBe(1);
  });

  it('takes the next free sequence when the preferred one is taken by something else', async () => {
    const fake = fakeFrr();
    const adapter = make(fake);
    await adapter.start();
    const intent = rtbh();
    const seq = preferredSequence(
      { version: 4, nextHop: '192.0.2.1', communities: [0xfbf40001, 0xffff029a] },
      frrConfigSchema.parse({}),
    );
    fake.entries.set(seq, { description: 'operator entry', sets: [] });
    const receipt = await adapter.apply(intent);
    expect((receipt.details as { sequence: number }).sequence).toBe(seq === 60000 ? 1000 : seq + 1);
    expect(fake.entries.get(seq)?.description).toBe('operator entry');
    expect((await adapter.list()).map((r) => r.intentId)).toEqual([intent.id]);
  });

  it('reports vtysh failures and a missing redistribution', async () => {
    const fake = fakeFrr();
    const adapter = make(fake);
    await adapter.start();
    fake.failNext = true;
    await expect(adapter.apply(rtbh())).rejects.toThrow(/FG_ERR_ADAPTER_APPLY: vtysh failed/);
    expect((await adapter.health()).ok).toBe(true);
    fake.redistribute = false;
    expect((await adapter.health()).detail).toMatch(
      /does not "redistribute static route-map FLOODGATE-RTBH"/,
    );
    await expect(
      adapter.apply(rtbh({ upstream: 'bad name; end' } as Partial<BlackholeContent>)),
    ).rejects.toThrow(/FG_ERR_WIRE_VALUE/);
  });

  it('parses FRR 8.4 running configuration as printed by the real router', () => {
    const text = [
      'Current configuration:',
      '!',
      'ip route 203.0.113.66/32 blackhole tag 2700004242',
      'ipv6 route 2001:DB8::66/128 blackhole tag 2700004243',
      'ip route 10.0.0.0/8 192.0.2.254',
      '!',
      'route-map FLOODGATE-RTBH permit 4242',
      ' description floodgate rtbh ipv4 next-hop 192.0.2.1 communities 64500:1,65535:666 upstream transit-a',
      ' match tag 2700004242',
      ' set community 64500:1 blackhole',
      ' set ip next-hop 192.0.2.1',
      'exit',
      '!',
      'route-map OTHER permit 10',
      ' match tag 2700004243',
      'exit',
    ].join('\n');
    const state = parseRunningConfig(text, 'FLOODGATE-RTBH');
    expect(state.statics).toEqual([
      { version: 4, prefix: '203.0.113.66/32', tag: 2700004242 },
      { version: 6, prefix: '2001:db8::66/128', tag: 2700004243 },
    ]);
    expect([...state.entries.keys()]).toEqual([4242]);
    expect(parseDescription(state.entries.get(4242)!.description!)).toEqual({
      version: 4,
      nextHop: '192.0.2.1',
      communities: [0xfbf40001, 0xffff029a],
      upstream: 'transit-a',
    });
  });

  it('configuration: defaults, and refusals with their paths', () => {
    expect(frrConfigSchema.parse({})).toMatchObject({
      vtysh: '/usr/bin/vtysh',
      routeMap: 'FLOODGATE-RTBH',
      capabilities: ['rtbh4', 'rtbh6'],
      saveConfig: false,
    });
    const registry = createAdapterRegistry();
    registry.register(frrPlugin);
    expect(() =>
      registry.instantiate(
        [{ name: 'f', type: 'frr', config: { routeMap: 'bad map', capabilities: ['flowspec4'] } }],
        { logger: nullLogger, now: () => 0 },
      ),
    ).toThrow(/adapters\[0\]\.config\.routeMap.*adapters\[0\]\.config\.capabilities\[0\]/);
  });
});
