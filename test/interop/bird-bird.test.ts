/**
 * The BIRD adapter driving a real BIRD 2 (its include file, `configure check`, `configure`) that
 * announces to a second, receiving BIRD, in one network namespace: IPv4 and IPv6 FlowSpec with
 * each action and RTBH with communities arrive and leave; a configuration BIRD refuses is rolled
 * back; a restarted Floodgate reconciles through list() with BIRD holding its routes.
 * Needs root (network namespaces).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBirdAdapter } from '../../adapters/bird/bird-adapter.js';
import { type BirdConfig, birdConfigSchema } from '../../adapters/bird/config.js';
import { parseIncludeFile, renderIncludeFile } from '../../adapters/bird/include-file.js';
import { renderFlowNetwork } from '../../adapters/bird/render.js';
import { type BirdRoute, routeCommunities, routeExtCommunities } from '../../adapters/bird/show-route.js';
import type { AdapterReceipt, MitigationAdapter } from '../../adapters/contract.js';
import { isFloodgateError } from '../../core/errors.js';
import { nullLogger } from '../../core/logger.js';
import type { FlowSpecIntent, MitigationIntent } from '../../core/mitigation/intent.js';
import { type BirdDaemon, requireDaemon, startBird } from './lab/daemons.js';
import { activation, type LabDispatch, labDispatch, release } from './lab/dispatch.js';
import { ACTION_COMMUNITY, FLOW4, FLOW6, RTBH4, RTBH6 } from './lab/intents.js';
import { BIRD_LAB, birdReceiverConf, birdSenderConf } from './lab/topologies.js';
import { createNetns, type Netns, requireRoot } from './netns.js';
import { waitFor } from './wait.js';

const PREFIX = BIRD_LAB.protocolPrefix;

const COMMUNITY: Record<string, readonly number[]> = {
  [FLOW4.discard.id]: ACTION_COMMUNITY.discard,
  [FLOW4.rateLimit.id]: ACTION_COMMUNITY.rateLimit125k,
  [FLOW4.redirect.id]: ACTION_COMMUNITY.redirect65000_100,
  [FLOW4.mark.id]: ACTION_COMMUNITY.mark10,
  [FLOW6.discard.id]: ACTION_COMMUNITY.discard,
  [FLOW6.rateLimit.id]: ACTION_COMMUNITY.rateLimit1k,
  [FLOW6.redirect.id]: ACTION_COMMUNITY.redirect65000_200,
  [FLOW6.mark.id]: ACTION_COMMUNITY.mark46,
};

function shown(intent: MitigationIntent): { table: string; network: string } {
  if (intent.kind === 'flowspec') {
    const flow = intent as FlowSpecIntent;
    return { table: `ft${flow.ipVersion}`, network: renderFlowNetwork(flow.match, flow.ipVersion) };
  }
  if (intent.kind === 'rtbh') return { table: `master${intent.ipVersion}`, network: intent.prefix };
  throw new Error(`no BIRD route for ${intent.kind}`);
}

describe('BIRD adapter -> BIRD 2 -> BIRD 2 (network namespace)', () => {
  let ns: Netns | undefined;
  let dir = '';
  let sender: BirdDaemon;
  let receiver: BirdDaemon;
  let config: BirdConfig;
  const adapters: MitigationAdapter[] = [];
  const labs: LabDispatch[] = [];

  const newAdapter = (): MitigationAdapter => {
    const adapter = createBirdAdapter(config, { name: 'lab', logger: nullLogger, now: Date.now });
    adapters.push(adapter);
    return adapter;
  };

  async function describeTables(): Promise<string> {
    const tables = await Promise.all(
      ['ft4', 'ft6', 'master4', 'master6'].map((t) => receiver.birdc(['show', 'route', 'table', t, 'all'])),
    );
    return `receiver:\n${tables.map((t) => t.stdout).join('\n')}\nsender output:\n${sender.process.output().slice(-2000)}`;
  }

  async function routeAtReceiver(intent: MitigationIntent): Promise<BirdRoute | undefined> {
    const { table, network } = shown(intent);
    return (await receiver.routes(table)).find(
      (r) => r.network === network && r.protocol.startsWith('sender'),
    );
  }

  const arrives = (intent: MitigationIntent) =>
    waitFor(`${shown(intent).network} at the receiving BIRD`, () => routeAtReceiver(intent), {
      describe: describeTables,
    });
  const leaves = (intent: MitigationIntent) =>
    waitFor(
      `${shown(intent).network} to leave the receiving BIRD`,
      async () => (await routeAtReceiver(intent)) === undefined,
      {
        describe: describeTables,
      },
    );

  beforeAll(async () => {
    requireRoot();
    requireDaemon('bird');
    dir = mkdtempSync(join(tmpdir(), 'fg-interop-bird-'));
    ns = await createNetns('bird');
    for (const a of [
      `${BIRD_LAB.sender4}/8`,
      `${BIRD_LAB.receiver4}/8`,
      `${BIRD_LAB.sender6}/128`,
      `${BIRD_LAB.receiver6}/128`,
    ])
      await ns.addAddress(a);
    receiver = await startBird(ns, dir, 'receiver', birdReceiverConf());
    const includeFile = join(dir, 'floodgate-lab.conf');
    config = birdConfigSchema.parse({
      socket: join(dir, 'sender.ctl'),
      configFile: join(dir, 'sender.conf'),
      includeFile,
      protocolPrefix: PREFIX,
    });
    // The adapter creates its (empty) include file, which BIRD needs before it can start.
    await newAdapter().start();
    sender = await startBird(ns, dir, 'sender', birdSenderConf(includeFile));
    await receiver.waitEstablished('sender4');
    await receiver.waitEstablished('sender6');
  }, 90_000);

  afterAll(async () => {
    for (const lab of labs) lab.close();
    for (const adapter of adapters) await adapter.stop().catch(() => undefined);
    await ns?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is healthy: BIRD runs the include file with the four protocols', async () => {
    const health = await adapters[0]!.health();
    expect(health.detail).toContain(`${PREFIX}_flow4 up`);
    expect(health.ok).toBe(true);
  });

  it('IPv4 and IPv6 FlowSpec with discard, rate-limit, redirect and mark reach the peer and leave on withdraw', async () => {
    const adapter = adapters[0]!;
    const intents = [...Object.values(FLOW4), ...Object.values(FLOW6)];
    const receipts: AdapterReceipt[] = [];
    for (const intent of intents) receipts.push(await adapter.apply(intent));
    for (const intent of intents) {
      const route = await arrives(intent);
      expect(routeExtCommunities(route)).toEqual([COMMUNITY[intent.id]]);
    }
    expect((await adapter.list()).map((r) => r.intentId).sort()).toEqual(intents.map((i) => i.id).sort());
    for (const receipt of receipts) expect((await adapter.withdraw(receipt)).wasPresent).toBe(true);
    for (const intent of intents) await leaves(intent);
    expect(await adapter.list()).toEqual([]);
  });

  it('RTBH for IPv4 and IPv6 reaches the peer with communities and next hop, and leaves on withdraw', async () => {
    const adapter = adapters[0]!;
    const r4 = await adapter.apply(RTBH4);
    const r6 = await adapter.apply(RTBH6);
    const v4 = await arrives(RTBH4);
    expect(routeCommunities(v4).sort()).toEqual(['65000:1', '65535:666']);
    expect(v4.attributes['BGP.next_hop']).toBe('192.0.2.1');
    const v6 = await arrives(RTBH6);
    expect(routeCommunities(v6)).toEqual(['65535:666']);
    expect(v6.attributes['BGP.next_hop']).toBe('100::1');
    await adapter.withdraw(r4);
    await adapter.withdraw(r6);
    await leaves(RTBH4);
    await leaves(RTBH6);
  });

  it('rolls back when BIRD refuses the configuration, and BIRD keeps its routes', async () => {
    const adapter = adapters[0]!;
    const kept = await adapter.apply(RTBH4);
    await arrives(RTBH4);
    const include = readFileSync(config.includeFile!, 'utf8');
    // An operator's mistake elsewhere in bird.conf: BIRD refuses the whole configuration.
    const good = readFileSync(config.configFile!, 'utf8');
    writeFileSync(
      config.configFile!,
      `${good}\nprotocol static broken { ipv4; route 198.51.100.0/24 via "nonsense" }\n`,
    );
    try {
      const err = await adapter.apply(FLOW4.discard).catch((e: unknown) => e);
      expect(isFloodgateError(err) && err.code).toBe('FG_ERR_ADAPTER_APPLY');
      expect((err as Error).message).toMatch(
        /BIRD refused the configuration .* rolled back: configure check: .*sender\.conf/,
      );
      expect(readFileSync(config.includeFile!, 'utf8')).toBe(include);
    } finally {
      writeFileSync(config.configFile!, good);
    }
    expect((await adapter.list()).map((r) => r.intentId)).toEqual([kept.intentId]);
    expect(await routeAtReceiver(RTBH4)).toBeDefined();
    await adapter.withdraw(kept);
    await leaves(RTBH4);
  });

  it('Floodgate restarted with BIRD holding routes: reconciled through list()', async () => {
    const storeFile = join(dir, 'restart.db');
    const first = adapters[0]!;
    const lab1 = labDispatch(storeFile, [first]);
    labs.push(lab1);
    const wanted = [FLOW4.rateLimit, FLOW6.redirect, RTBH6];
    await lab1.dispatcher.activate(activation(wanted));
    const orphan = await first.apply(FLOW4.mark);
    for (const i of [...wanted, FLOW4.mark]) await arrives(i);
    const unchanged = (await routeAtReceiver(FLOW6.redirect))!.summary;
    await lab1.dispatcher.idle();
    lab1.close();
    await first.stop();

    // While Floodgate is down, BIRD is reloaded with a file that lost one wanted route.
    const lost = FLOW4.rateLimit;
    const survivors = parseIncludeFile(readFileSync(config.includeFile!, 'utf8'), config.includeFile!);
    expect(survivors.map((r) => r.intentId).sort()).toEqual(
      [...wanted.map((i) => i.id), orphan.intentId].sort(),
    );
    writeFileSync(
      config.includeFile!,
      renderIncludeFile(
        {
          adapterName: 'lab',
          protocolPrefix: PREFIX,
          tables: config.tables,
          capabilities: new Set(config.capabilities),
        },
        survivors.filter((r) => r.intentId !== lost.id),
      ),
    );
    expect((await sender.birdc(['configure'])).code).toBe(0);
    await leaves(lost);

    const second = newAdapter();
    await second.start();
    const lab2 = labDispatch(storeFile, [second]);
    labs.push(lab2);
    const [report] = await lab2.dispatcher.reconcile('start');
    expect(report).toMatchObject({ adapter: 'lab', reapplied: 1, orphansWithdrawn: 1, error: null });
    await arrives(lost);
    await leaves(FLOW4.mark);
    // What BIRD kept was not touched.
    expect((await routeAtReceiver(FLOW6.redirect))?.summary).toBe(unchanged);

    await lab2.dispatcher.release(release(wanted));
    for (const i of wanted) await leaves(i);
    expect(await second.list()).toEqual([]);
  });
});
