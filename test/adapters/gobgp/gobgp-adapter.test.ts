import { afterAll, describe, expect, it } from 'vitest';
import { routeFor } from '../../../adapters/bgp/intent-routes.js';
import type { AdapterContext, AdapterReceipt } from '../../../adapters/contract.js';
import { type ApiAny, pathFor } from '../../../adapters/gobgp/api-codec.js';
import { gobgpConfigSchema } from '../../../adapters/gobgp/config.js';
import { createGobgpAdapter } from '../../../adapters/gobgp/gobgp-adapter.js';
import { gobgpPlugin } from '../../../adapters/gobgp/plugin.js';
import { createAdapterRegistry } from '../../../adapters/registry.js';
import { isFloodgateError } from '../../../core/errors.js';
import { nullLogger } from '../../../core/logger.js';
import type { BlackholeIntent, FlowSpecIntent, MitigationIntent } from '../../../core/mitigation/intent.js';
import { type IntentContent, intentId } from '../../../core/mitigation/intent-id.js';
import { runAdapterConformance, sampleIntents } from '../../conformance/adapter.js';
import { type FakeGobgpd, startFakeGobgpd } from './fake-gobgpd.js';

const fakes: FakeGobgpd[] = [];
afterAll(async () => {
  for (const f of fakes) await f.close();
});

async function fake(): Promise<FakeGobgpd> {
  const f = await startFakeGobgpd();
  fakes.push(f);
  return f;
}

function ctx(name = 'edge-gobgp'): AdapterContext {
  let clock = 1_763_734_740_000;
  return { name, logger: nullLogger, now: () => clock++ };
}

function make(api: string, extra: Record<string, unknown> = {}, name = 'edge-gobgp') {
  return createGobgpAdapter(gobgpConfigSchema.parse({ api, timeoutMs: 2_000, ...extra }), ctx(name));
}

function withId<T extends IntentContent>(content: T): T & { id: string; incidentId: string } {
  return { ...content, id: intentId(content), incidentId: 'inc-1' };
}

runAdapterConformance('gobgp (fake gobgpd)', async () => make((await fake()).api));

const flow4 = withId<Omit<FlowSpecIntent, 'id' | 'incidentId'>>({
  kind: 'flowspec',
  ipVersion: 4,
  match: { destination: '203.0.113.5/32', protocols: [17], sourcePorts: [53, 123] },
  action: { type: 'discard' },
}) as FlowSpecIntent;

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return isFloodgateError(e) ? e.code : `not a FloodgateError: ${String(e)}`;
  }
  return undefined;
}

describe('GoBGP adapter', () => {
  it('renders the exact AddPath request: RFC operator bytes with the end bit, next hop through MP_REACH', () => {
    const adapter = make('unix:///nowhere.sock');
    const command = adapter.render(flow4);
    expect(command.startsWith('AddPath ')).toBe(true);
    const request = JSON.parse(command.slice('AddPath '.length)) as {
      path: { nlri: ApiAny; pattrs: ApiAny[] };
    };
    expect(request.path.nlri).toEqual({
      '@type': 'type.googleapis.com/apipb.FlowSpecNLRI',
      rules: [
        {
          '@type': 'type.googleapis.com/apipb.FlowSpecIPPrefix',
          type: 1,
          prefix: '203.0.113.5',
          prefix_len: 32,
          offset: 0,
        },
        { '@type': 'type.googleapis.com/apipb.FlowSpecComponent', type: 3, items: [{ op: 0x81, value: 17 }] },
        {
          '@type': 'type.googleapis.com/apipb.FlowSpecComponent',
          type: 6,
          items: [
            { op: 0x01, value: 53 },
            { op: 0x81, value: 123 },
          ],
        },
      ],
    });
    const mpReach = request.path.pattrs.find((a) => a['@type'].endsWith('MpReachNLRIAttribute'));
    expect(mpReach?.next_hops).toEqual(['0.0.0.0']);
    const ext = request.path.pattrs.find((a) => a['@type'].endsWith('ExtendedCommunitiesAttribute'));
    expect(ext?.communities).toEqual([
      { '@type': 'type.googleapis.com/apipb.TrafficRateExtended', asn: 0, rate: 0 },
    ]);
    expect(adapter.renderWithdraw?.(flow4)).toMatch(
      /^DeletePath \{"family":\{"afi":"AFI_IP","safi":"SAFI_FLOW_SPEC_UNICAST"\}/,
    );
  });

  it('refuses RTBH next hops receivers would take as a withdraw, and firewall intents', async () => {
    const adapter = make('unix:///nowhere.sock');
    for (const nextHop of ['127.0.0.1', '0.0.0.0', '224.0.0.1']) {
      const intent = withId({
        kind: 'rtbh',
        ipVersion: 4,
        prefix: '203.0.113.66/32',
        nextHop,
        communities: ['65535:666'],
      });
      expect(await codeOf(() => adapter.render(intent as BlackholeIntent))).toBe('FG_ERR_WIRE_VALUE');
    }
    for (const nextHop of ['::1', '::', 'ff02::1']) {
      const intent = withId({
        kind: 'rtbh',
        ipVersion: 6,
        prefix: '2001:db8::66/128',
        nextHop,
        communities: [],
      });
      expect(await codeOf(() => adapter.render(intent as BlackholeIntent))).toBe('FG_ERR_WIRE_VALUE');
    }
    const firewall = withId({
      kind: 'firewall',
      ipVersion: 4,
      target: '203.0.113.5/32',
      action: { type: 'drop-protocol', protocol: 17 },
    });
    expect(await codeOf(() => adapter.render(firewall as MitigationIntent))).toBe(
      'FG_ERR_ADAPTER_CAPABILITY',
    );
  });

  it('declares only the capabilities configured, and refuses the others', async () => {
    const f = await fake();
    const adapter = make(f.api, { capabilities: ['rtbh4'] });
    await adapter.start();
    expect([...adapter.capabilities]).toEqual(['rtbh4']);
    expect(await codeOf(adapter.apply(flow4))).toBe('FG_ERR_ADAPTER_CAPABILITY');
    await adapter.stop();
  });

  it('withdraws by path, never with the empty DeletePath that clears every local path', async () => {
    const f = await fake();
    const adapter = make(f.api);
    await adapter.start();
    const receipts: AdapterReceipt[] = [];
    for (const intent of sampleIntents()) receipts.push(await adapter.apply(intent));
    for (const r of receipts) expect((await adapter.withdraw(r)).wasPresent).toBe(true);
    expect(f.rib.size).toBe(0);
    expect(f.deleteAllCalls).toBe(0);
    const deletes = f.calls.filter((c) => c.method === 'DeletePath');
    expect(deletes).toHaveLength(4);
    for (const d of deletes) expect((d.request as { path?: { nlri?: unknown } }).path?.nlri).toBeDefined();
    await adapter.stop();
  });

  it('after a restart: lists gobgpd routes as the intents they came from, withdraws from stored receipts', async () => {
    const f = await fake();
    const first = make(f.api);
    await first.start();
    const stored: AdapterReceipt[] = [];
    for (const intent of sampleIntents()) stored.push(JSON.parse(JSON.stringify(await first.apply(intent))));
    await first.stop();

    const second = make(f.api);
    await second.start();
    const listed = await second.list();
    expect(listed.map((r) => r.intentId).sort()).toEqual(
      sampleIntents()
        .map((i) => i.id)
        .sort(),
    );
    for (const r of listed)
      expect(r.command).toBe(second.render(sampleIntents().find((i) => i.id === r.intentId)!));
    expect((await second.withdraw(stored[0]!)).wasPresent).toBe(true);
    expect((await second.withdraw(listed.find((r) => r.intentId === stored[1]!.intentId)!)).wasPresent).toBe(
      true,
    );
    expect((await second.list()).length).toBe(2);
    await second.stop();
  });

  it('leaves alone what it did not write: routes from peers and local routes of other shapes', async () => {
    const f = await fake();
    const adapter = make(f.api);
    await adapter.start();
    f.addFromPeer(pathFor(routeFor(flow4)), '192.0.2.9');
    // A local route with two actions: not a shape Floodgate writes.
    const odd = pathFor({
      ...routeFor(flow4),
      actions: [
        { type: 'traffic-marking', dscp: 1 },
        { type: 'traffic-marking', dscp: 2 },
      ],
    } as never);
    f.rib.set('operator route', { ...odd, neighbor_ip: '<nil>' });
    expect(await adapter.list()).toEqual([]);
    await adapter.stop();
  });

  it('one route per match: a route two intents share stays until the last of them is withdrawn', async () => {
    const f = await fake();
    const adapter = make(f.api);
    await adapter.start();
    const rateLimit = withId({
      ...flow4,
      action: { type: 'rate-limit', bytesPerSecond: 125000 },
    }) as FlowSpecIntent;
    const actionOf = () => {
      const [path] = [...f.rib.values()];
      const ext = path?.pattrs.find((a) => a['@type'].endsWith('ExtendedCommunitiesAttribute'));
      return (ext?.communities as ApiAny[] | undefined)?.[0]?.rate;
    };
    const limited = await adapter.apply(rateLimit);
    const dropped = await adapter.apply(flow4);
    expect(f.rib.size).toBe(1);
    expect(actionOf()).toBe(0);
    expect((await adapter.list()).map((r) => r.intentId).sort()).toEqual([flow4.id, rateLimit.id].sort());
    // Withdrawing the announced one announces the other again.
    const first = await adapter.withdraw(dropped);
    expect(first).toEqual({ command: limited.command, wasPresent: true });
    expect(f.rib.size).toBe(1);
    expect(actionOf()).toBe(125000);
    expect((await adapter.list()).map((r) => r.intentId)).toEqual([rateLimit.id]);
    expect((await adapter.withdraw(limited)).wasPresent).toBe(true);
    expect(f.rib.size).toBe(0);
    await adapter.stop();
  });

  it('reports gobgpd failures as coded errors naming the call and the gRPC status', async () => {
    const f = await fake();
    const adapter = make(f.api);
    await adapter.start();
    f.failNext('AddPath');
    await expect(adapter.apply(flow4)).rejects.toThrow(
      /FG_ERR_ADAPTER_APPLY: gobgpd at unix:.*AddPath failed \(UNAVAILABLE\)/,
    );
    const receipt = await adapter.apply(flow4);
    f.failNext('DeletePath');
    await expect(adapter.withdraw(receipt)).rejects.toThrow(/FG_ERR_ADAPTER_WITHDRAW: .*DeletePath failed/);
    f.failNext('GetBgp');
    expect((await adapter.health()).ok).toBe(false);
    expect((await adapter.health()).detail).toMatch(/AS 65001/);
    await adapter.stop();
    expect((await adapter.health()).ok).toBe(false);
  });

  it('refuses receipts it cannot withdraw: another adapter, no GoBGP details', async () => {
    const f = await fake();
    const adapter = make(f.api);
    await adapter.start();
    const receipt = await adapter.apply(flow4);
    expect(await codeOf(adapter.withdraw({ ...receipt, adapter: 'other' }))).toBe('FG_ERR_ADAPTER_WITHDRAW');
    const { details: _, ...bare } = receipt;
    expect(await codeOf(adapter.withdraw(bare))).toBe('FG_ERR_ADAPTER_WITHDRAW');
    await adapter.stop();
  });
});

describe('GoBGP adapter configuration', () => {
  it('defaults to gobgpd on 127.0.0.1:50051 with every BGP capability', () => {
    expect(gobgpConfigSchema.parse({})).toEqual({
      api: '127.0.0.1:50051',
      capabilities: ['flowspec4', 'flowspec6', 'rtbh4', 'rtbh6'],
      timeoutMs: 5000,
    });
    expect(gobgpConfigSchema.parse({ api: 'unix:///run/gobgpd.sock' }).api).toBe('unix:///run/gobgpd.sock');
    expect(gobgpConfigSchema.parse({ api: '[::1]:50051' }).api).toBe('[::1]:50051');
  });

  it('refuses bad targets, unknown capabilities and unknown keys, with the path', () => {
    const registry = createAdapterRegistry();
    registry.register(gobgpPlugin);
    expect(() =>
      registry.instantiate(
        [{ name: 'g', type: 'gobgp', config: { api: 'gobgpd', capabilities: ['firewall'], extra: 1 } }],
        { logger: nullLogger, now: () => 0 },
      ),
    ).toThrow(/adapters\[0\]\.config\.api: must be host:port.*adapters\[0\]\.config\.capabilities\[0\]/);
    const [adapter] = registry.instantiate([{ name: 'g', type: 'gobgp' }], {
      logger: nullLogger,
      now: () => 0,
    });
    expect(adapter?.name).toBe('g');
  });
});

describe('GoBGP adapter after a restart', () => {
  it('an RTBH intent for one upstream: the read-back copy is re-applied over and its withdrawal skipped', async () => {
    const f = await fake();
    const upstreamIntent = withId({
      kind: 'rtbh',
      ipVersion: 4,
      prefix: '203.0.113.66/32',
      nextHop: '192.0.2.1',
      communities: ['65535:666', '64500:1'],
      upstream: 'transit-a',
    }) as BlackholeIntent;
    const first = make(f.api);
    await first.start();
    await first.apply(upstreamIntent);
    await first.stop();

    const second = make(f.api);
    await second.start();
    const [readBack] = await second.list();
    // gobgpd's path does not carry the upstream: the copy has another id.
    expect(readBack?.intentId).not.toBe(upstreamIntent.id);
    // What reconciliation does: re-apply the wanted intent, then withdraw the unknown copy.
    await second.apply(upstreamIntent);
    expect((await second.withdraw(readBack!)).wasPresent).toBe(false);
    expect(f.rib.size).toBe(1);
    expect((await second.list()).map((r) => r.intentId)).toEqual([upstreamIntent.id]);
    await second.stop();
  });
});
