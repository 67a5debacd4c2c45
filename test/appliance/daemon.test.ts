/** The daemon in-process: wiring that only shows when the parts run together. */
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ADAPTER_CONTRACT_VERSION,
  type AdapterPlugin,
  type MitigationAdapter,
} from '../../adapters/contract.js';
import { renderAnnounce, renderWithdraw } from '../../adapters/exabgp/text-api.js';
import { createRecordingAdapter } from '../../adapters/recording-adapter.js';
import { parseConfigText } from '../../appliance/config/load.js';
import { createDaemon } from '../../appliance/daemon.js';
import { IE } from '../../collectors/template/information-elements.js';
import { nullLogger } from '../../core/logger.js';
import { sampleIntents } from '../conformance/adapter.js';
import { freeTcpPort, freeUdpPort } from '../helpers/ports.js';
import { encodeIpfix, type TemplateSpec } from '../helpers/template-flows.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-daemon-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const template: TemplateSpec = {
  id: 1024,
  fields: [
    { id: IE.sourceIPv4Address, length: 4 },
    { id: IE.destinationIPv4Address, length: 4 },
    { id: IE.packetDeltaCount, length: 8 },
    { id: IE.octetDeltaCount, length: 8 },
    { id: IE.protocolIdentifier, length: 1 },
  ],
};
const record = {
  [IE.sourceIPv4Address]: '198.51.100.1',
  [IE.destinationIPv4Address]: '203.0.113.9',
  [IE.packetDeltaCount]: 10,
  [IE.octetDeltaCount]: 1000,
  [IE.protocolIdentifier]: 17,
};

function send(port: number, datagram: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.send(datagram, port, '127.0.0.1', (err) => {
      s.close();
      if (err) reject(err);
      else resolve();
    });
  });
}

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startDaemon(netflowPort: number) {
  const httpPort = await freeTcpPort();
  const sflowPort = await freeUdpPort();
  const config = parseConfigText(
    [
      `collectors: { netflow: { listen: ["127.0.0.1:${netflowPort}"] }, sflow: { listen: ["127.0.0.1:${sflowPort}"] } }`,
      `http: { listen: "127.0.0.1:${httpPort}" }`,
      `store: { stateDir: ${JSON.stringify(join(dir, 'state'))} }`,
    ].join('\n'),
    'test',
  );
  const daemon = await createDaemon({ config, configSource: 'test', logger: nullLogger });
  await daemon.start();
  const stats = async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/stats`);
    return (await res.json()) as {
      collectors: { totals: { records: number; notices: Record<string, number> } };
      templates: unknown[];
    };
  };
  return { daemon, stats };
}

describe('daemon', () => {
  it('keeps IPFIX templates across a restart, so data decodes before the next template refresh', async () => {
    const port = await freeUdpPort();
    const first = await startDaemon(port);
    await send(
      port,
      encodeIpfix({ domain: 5 }, [{ templates: [template] }, { template, records: [record] }]),
    );
    await poll(first.stats, (v) => v.collectors.totals.records === 1, 'the first record');
    await first.daemon.stop();
    expect(existsSync(join(dir, 'state', 'flow-templates.json'))).toBe(true);
    expect(existsSync(join(dir, 'state', 'baselines.bin'))).toBe(true);

    const second = await startDaemon(port);
    try {
      await send(port, encodeIpfix({ domain: 5, sequence: 2 }, [{ template, records: [record, record] }]));
      const s = await poll(
        second.stats,
        (v) => v.collectors.totals.records >= 2,
        'the records after restart',
      );
      expect(s.collectors.totals.records).toBe(2);
      expect(s.collectors.totals.notices['unknown-template'] ?? 0).toBe(0);
      expect(s.templates.length).toBeGreaterThan(0);
    } finally {
      await second.daemon.stop();
    }
  });
});

/** A BGP-speaker stand-in that can say its session came back. */
function reconnectingPlugin(): {
  plugin: AdapterPlugin<never>;
  adapters: (MitigationAdapter & { reconnected(): void })[];
} {
  const adapters: (MitigationAdapter & { reconnected(): void })[] = [];
  const plugin: AdapterPlugin<Record<string, never>> = {
    name: 'speaker',
    contractVersion: ADAPTER_CONTRACT_VERSION,
    capabilities: ['flowspec4', 'rtbh4'],
    configSchema: z.object({}).strict(),
    create: (_config, ctx) => {
      const listeners: (() => void)[] = [];
      const inner = createRecordingAdapter({
        name: ctx.name,
        capabilities: new Set(['flowspec4', 'rtbh4'] as const),
        logger: ctx.logger,
        now: ctx.now,
        render: (intent) => renderAnnounce(intent),
        renderWithdraw: (intent) => renderWithdraw(intent),
        label: 'speaker',
        healthDetail: 'up',
      });
      const adapter = {
        ...inner,
        onReconnect: (listener: () => void) => listeners.push(listener),
        reconnected: () => {
          for (const l of listeners) l();
        },
      };
      adapters.push(adapter);
      return adapter;
    },
  };
  return { plugin: plugin as unknown as AdapterPlugin<never>, adapters };
}

describe('daemon and adapters', () => {
  it('reconciles an adapter that reports it reconnected: what it holds unasked is withdrawn', async () => {
    const { plugin, adapters } = reconnectingPlugin();
    const httpPort = await freeTcpPort();
    const config = parseConfigText(
      [
        'mode: automatic',
        'detection: { networks: [{ prefix: 203.0.113.0/24 }] }',
        'adapters: [{ name: edge, type: speaker }]',
        `collectors: { netflow: { listen: ["127.0.0.1:${await freeUdpPort()}"] }, sflow: { listen: ["127.0.0.1:${await freeUdpPort()}"] } }`,
        `http: { listen: "127.0.0.1:${httpPort}" }`,
        `store: { stateDir: ${JSON.stringify(join(dir, 'reconnect'))} }`,
      ].join('\n'),
      'test',
    );
    const daemon = await createDaemon({
      config,
      configSource: 'test',
      logger: nullLogger,
      plugins: [plugin],
    });
    await daemon.start();
    try {
      const [edge] = adapters;
      // The speaker came back from a restart of its own holding a route Floodgate never asked for.
      await edge!.apply(sampleIntents()[2]!);
      edge!.reconnected();
      const audit = await poll(
        async () => daemon.store.listAudit().filter((e) => e.action === 'reconcile'),
        (entries) => entries.length > 0,
        'the reconciliation',
      );
      expect(audit[0]).toMatchObject({
        adapter: 'edge',
        command: 'withdraw route 203.0.113.66/32 next-hop 192.0.2.1',
        detail: { trigger: 'reconnect', correction: 'in place but wanted by nothing: withdrawn (orphan)' },
      });
      expect(await edge!.list()).toEqual([]);
    } finally {
      await daemon.stop();
    }
  });

  it('checks every adapter on a timer and logs a change of health once, not at every check', async () => {
    let calls = 0;
    const plugin: AdapterPlugin<Record<string, never>> = {
      name: 'probe',
      contractVersion: ADAPTER_CONTRACT_VERSION,
      capabilities: ['flowspec4', 'rtbh4'],
      configSchema: z.object({}).strict(),
      create: (_config, ctx) => ({
        ...createRecordingAdapter({
          name: ctx.name,
          capabilities: new Set(['flowspec4', 'rtbh4'] as const),
          logger: ctx.logger,
          now: ctx.now,
          render: (intent) => renderAnnounce(intent),
          renderWithdraw: (intent) => renderWithdraw(intent),
          label: 'probe',
          healthDetail: 'up',
        }),
        // Down for the first two checks, then up: an SSH node rebooting, say.
        health: async () => {
          calls++;
          return calls <= 2
            ? { ok: false, detail: 'no route to host', checkedAtMs: ctx.now() }
            : { ok: true, detail: 'up', checkedAtMs: ctx.now() };
        },
      }),
    };
    const lines: { level: string; msg: string }[] = [];
    const at =
      (level: string) =>
      (a: object | string, b?: string): void => {
        lines.push({ level, msg: typeof a === 'string' ? a : (b ?? '') });
      };
    const config = parseConfigText(
      [
        'mode: automatic',
        'detection: { networks: [{ prefix: 203.0.113.0/24 }] }',
        'adapters: [{ name: edge, type: probe }]',
        'dispatch: { healthCheckSeconds: 1 }',
        `collectors: { netflow: { listen: ["127.0.0.1:${await freeUdpPort()}"] }, sflow: { listen: ["127.0.0.1:${await freeUdpPort()}"] } }`,
        `http: { listen: "127.0.0.1:${await freeTcpPort()}" }`,
        `store: { stateDir: ${JSON.stringify(join(dir, 'health'))} }`,
      ].join('\n'),
      'test',
    );
    const daemon = await createDaemon({
      config,
      configSource: 'test',
      logger: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') },
      plugins: [plugin as unknown as AdapterPlugin<never>],
    });
    await daemon.start();
    try {
      const deadline = Date.now() + 15_000;
      while (calls < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await daemon.stop();
    }
    const seen = calls;
    expect(seen).toBeGreaterThanOrEqual(3);
    expect(lines.filter((l) => l.msg === 'adapter unhealthy')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'adapter healthy again')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(calls).toBe(seen);
  });

  it('reloads runbooks and mitigation settings in place, and refuses a reload it could not deliver', async () => {
    const base = [
      'detection: { networks: [{ prefix: 203.0.113.0/24 }] }',
      `collectors: { netflow: { listen: ["127.0.0.1:${await freeUdpPort()}"] }, sflow: { listen: ["127.0.0.1:${await freeUdpPort()}"] } }`,
      `http: { listen: "127.0.0.1:${await freeTcpPort()}" }`,
      `store: { stateDir: ${JSON.stringify(join(dir, 'reload'))} }`,
    ];
    const daemon = await createDaemon({
      config: parseConfigText(base.join('\n'), 'a'),
      configSource: 'a',
      logger: nullLogger,
    });
    await daemon.start();
    try {
      const next = parseConfigText(
        [
          ...base,
          'log: { level: debug }',
          'mitigation: { protectedPrefixes: [203.0.113.53/32] }',
          'runbooks: [{ name: fs, tiers: [{ intents: [flowspec] }] }]',
        ].join('\n'),
        'b',
      );
      daemon.reload(next, 'b');
      expect(daemon.store.listAudit().at(-1)).toMatchObject({
        action: 'config-load',
        detail: { source: 'b', reloaded: ['runbooks', 'mitigation'], needsRestart: ['log'] },
      });
      const undeliverable = parseConfigText(
        [
          ...base,
          'adapters: [{ name: dry-run, type: dry-run }, { name: added, type: dry-run }]',
          'runbooks: [{ name: fs, tiers: [{ intents: [flowspec], adapters: [added] }] }]',
        ].join('\n'),
        'c',
      );
      // A new adapter needs a restart: a runbook using it cannot be taken on by a reload.
      expect(() => daemon.reload(undeliverable, 'c')).toThrow(
        /asks for flowspec, but none of its adapters \(added\) can deliver/,
      );
    } finally {
      await daemon.stop();
    }
  });

  it('refuses to start when a runbook tier asks an adapter for what it cannot deliver', async () => {
    const { plugin } = reconnectingPlugin();
    const config = parseConfigText(
      [
        'mode: automatic',
        'detection: { networks: [{ prefix: 203.0.113.0/24 }] }',
        'adapters: [{ name: edge, type: speaker }]',
        'runbooks: [{ name: scrub, tiers: [{ name: divert, intents: [scrubbing], adapters: [edge] }] }]',
        `store: { stateDir: ${JSON.stringify(join(dir, 'refused'))} }`,
      ].join('\n'),
      'test',
    );
    await expect(
      createDaemon({ config, configSource: 'test', logger: nullLogger, plugins: [plugin] }),
    ).rejects.toThrow(
      'runbooks[0].tiers[0] (runbook scrub, divert): asks for scrubbing, but none of its adapters (edge) can deliver scrubbing',
    );
  });
});
