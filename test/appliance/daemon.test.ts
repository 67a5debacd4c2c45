/** The daemon in-process: wiring that only shows when the parts run together. */
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../appliance/config/load.js';
import { createDaemon } from '../../appliance/daemon.js';
import { IE } from '../../collectors/template/information-elements.js';
import { nullLogger } from '../../core/logger.js';
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
