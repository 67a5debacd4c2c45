/**
 * The ExaBGP adapter against a fake ExaBGP that runs Floodgate's real helper: commands, answers,
 * the helper's table across Floodgate restarts, ExaBGP restarts and helper respawns, shared
 * routes, timeouts and health. The real ExaBGP is in test/interop.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { MitigationAdapter } from '../../../adapters/contract.js';
import { type ExabgpConfig, exabgpConfigSchema } from '../../../adapters/exabgp/config.js';
import { createExabgpAdapter } from '../../../adapters/exabgp/exabgp-adapter.js';
import { isFloodgateError } from '../../../core/errors.js';
import { nullLogger } from '../../../core/logger.js';
import type { MitigationIntent } from '../../../core/mitigation/intent.js';
import { type IntentContent, intentId } from '../../../core/mitigation/intent-id.js';
import { runAdapterConformance } from '../../conformance/adapter.js';
import { type FakeExabgp, startFakeExabgp } from './fake-exabgp-driver.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-exabgp-'));
let sockets = 0;
const fakes: FakeExabgp[] = [];
const adapters: MitigationAdapter[] = [];

afterAll(async () => {
  for (const a of adapters) await a.stop();
  for (const f of fakes) await f.stop();
  rmSync(dir, { recursive: true, force: true });
});

function newSocket(): string {
  return join(dir, `s${sockets++}.sock`);
}

function config(socket: string, extra: Record<string, unknown> = {}): ExabgpConfig {
  return exabgpConfigSchema.parse({ socket, timeouts: { connectMs: 5_000, commandMs: 3_000 }, ...extra });
}

function make(socket: string, extra: Record<string, unknown> = {}, name = 'exabgp'): MitigationAdapter {
  const adapter = createExabgpAdapter(config(socket, extra), { name, logger: nullLogger, now: () => 1_000 });
  adapters.push(adapter);
  return adapter;
}

function fake(socket: string): FakeExabgp {
  const f = startFakeExabgp(socket);
  fakes.push(f);
  return f;
}

function withId(content: IntentContent): MitigationIntent {
  return { ...content, id: intentId(content), incidentId: 'inc-1' } as MitigationIntent;
}

const flow = withId({
  kind: 'flowspec',
  ipVersion: 4,
  match: { destination: '203.0.113.5/32', protocols: [17], sourcePorts: [123] },
  action: { type: 'discard' },
});
const rtbhA = withId({
  kind: 'rtbh',
  ipVersion: 4,
  prefix: '203.0.113.66/32',
  nextHop: '192.0.2.1',
  communities: ['65535:666'],
  upstream: 'a',
});
const rtbhB = withId({
  kind: 'rtbh',
  ipVersion: 4,
  prefix: '203.0.113.66/32',
  nextHop: '192.0.2.1',
  communities: ['65535:666', '64500:9999'],
  upstream: 'b',
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isFloodgateError(e) ? e.code : String(e);
  }
  return undefined;
}

runAdapterConformance('exabgp (fake ExaBGP, real helper)', () => {
  const socket = newSocket();
  fake(socket);
  return make(socket);
});

describe('exabgp adapter', () => {
  afterEach(async () => {
    for (const a of adapters.splice(0)) await a.stop();
  });

  it('sends the rendered line through the helper and the withdraw line on withdraw', async () => {
    const socket = newSocket();
    const exabgp = fake(socket);
    const adapter = make(socket, { neighbors: [{ address: '127.0.0.2' }] });
    await adapter.start();
    const receipt = await adapter.apply(flow);
    expect(receipt.command).toBe(
      'neighbor 127.0.0.2 announce flow route { match { destination 203.0.113.5/32; protocol udp; source-port =123; } then { discard; } }',
    );
    // The fake reports commands on its own pipe, which may reach us after the helper's answer.
    await exabgp.waitCommands(1);
    expect(exabgp.commands).toEqual([receipt.command]);
    expect((await adapter.list()).map((r) => r.intentId)).toEqual([flow.id]);
    const result = await adapter.withdraw(receipt);
    expect(result).toEqual({
      command:
        'neighbor 127.0.0.2 withdraw flow route { match { destination 203.0.113.5/32; protocol udp; source-port =123; } }',
      wasPresent: true,
    });
    await exabgp.waitCommands(2);
    expect(exabgp.commands[1]).toBe(result.command);
    expect(await adapter.list()).toEqual([]);
  });

  it('fails an apply that ExaBGP answers with error, and holds nothing for it', async () => {
    const socket = newSocket();
    const exabgp = fake(socket);
    const adapter = make(socket);
    await adapter.start();
    exabgp.control('fail 1');
    await exabgp.waitHelpers(1);
    // The control line and the command travel separately: make sure the fake read it first.
    await new Promise((r) => setTimeout(r, 100));
    await expect(adapter.apply(flow)).rejects.toThrow(/ExaBGP answered error/);
    expect(await adapter.list()).toEqual([]);
    await adapter.apply(flow);
    expect((await adapter.list()).length).toBe(1);
  });

  it('times out a command ExaBGP never answers', async () => {
    const socket = newSocket();
    const exabgp = fake(socket);
    const adapter = createExabgpAdapter(
      exabgpConfigSchema.parse({ socket, timeouts: { connectMs: 5_000, commandMs: 300 } }),
      { name: 'exabgp', logger: nullLogger, now: () => 0 },
    );
    adapters.push(adapter);
    await adapter.start();
    exabgp.control('mute');
    await new Promise((r) => setTimeout(r, 100));
    const err = await adapter.apply(flow).catch((e: unknown) => e);
    expect(isFloodgateError(err) && err.code).toBe('FG_ERR_ADAPTER_APPLY');
    expect((err as Error).message).toMatch(/did not answer within 300 ms/);
  });

  it('without a helper: apply fails naming the socket, health is not ok', async () => {
    const socket = newSocket();
    const adapter = createExabgpAdapter(
      exabgpConfigSchema.parse({ socket, timeouts: { connectMs: 200, commandMs: 1_000 } }),
      { name: 'exabgp', logger: nullLogger, now: () => 0 },
    );
    adapters.push(adapter);
    await adapter.start();
    const err = await adapter.apply(flow).catch((e: unknown) => e);
    expect(isFloodgateError(err) && err.code).toBe('FG_ERR_ADAPTER_APPLY');
    expect((err as Error).message).toContain(socket);
    expect(await codeOf(adapter.list())).toBe('FG_ERR_ADAPTER_UNREACHABLE');
    const health = await adapter.health();
    expect(health.ok).toBe(false);
    expect(health.detail).toContain('floodgate exabgp-config');
  });

  it('a restarted Floodgate learns what ExaBGP holds from the helper', async () => {
    const socket = newSocket();
    fake(socket);
    const first = make(socket);
    await first.start();
    const receipt = await first.apply(flow);
    await first.stop();
    const second = make(socket);
    await second.start();
    expect(await second.list()).toEqual([receipt]);
    // Idempotent across the restart: nothing is sent again, the first receipt comes back.
    expect(await second.apply(flow)).toEqual(receipt);
  });

  it('an ExaBGP restart empties the table and calls the reconnect listener', async () => {
    const socket = newSocket();
    const first = fake(socket);
    const adapter = make(socket);
    let reconnects = 0;
    adapter.onReconnect?.(() => reconnects++);
    await adapter.start();
    await adapter.apply(flow);
    expect(reconnects).toBe(1);
    await first.stop();
    const second = fake(socket);
    await second.waitHelpers(1);
    await expect.poll(() => reconnects, { timeout: 10_000 }).toBe(2);
    expect(await adapter.list()).toEqual([]);
    await adapter.apply(flow);
    await second.waitCommands(1);
    expect(second.commands.length).toBe(1);
  });

  it('hands a respawned helper the routes its ExaBGP still holds', async () => {
    const socket = newSocket();
    const exabgp = fake(socket);
    const adapter = make(socket);
    let reconnects = 0;
    adapter.onReconnect?.(() => reconnects++);
    await adapter.start();
    const receipt = await adapter.apply(flow);
    exabgp.control('respawn');
    await exabgp.waitHelpers(2);
    await expect.poll(() => reconnects, { timeout: 10_000 }).toBe(2);
    expect(await adapter.list()).toEqual([receipt]);
    // The new helper got the table: a Floodgate restart now still sees the route.
    await adapter.stop();
    const again = make(socket);
    await again.start();
    expect(await again.list()).toEqual([receipt]);
    await exabgp.waitCommands(1);
    expect(exabgp.commands.length).toBe(1);
  });

  it('calls a listener registered after the helper said hello, once', async () => {
    const socket = newSocket();
    fake(socket);
    const adapter = make(socket);
    await adapter.start();
    await adapter.health();
    await expect.poll(async () => (await adapter.health()).ok, { timeout: 10_000 }).toBe(true);
    let calls = 0;
    adapter.onReconnect?.(() => calls++);
    await expect.poll(() => calls).toBe(1);
    // A list() has now seen the table: a later registration has nothing to catch up on.
    await adapter.list();
    let later = 0;
    adapter.onReconnect?.(() => later++);
    await new Promise((r) => setTimeout(r, 50));
    expect(later).toBe(0);
  });

  it('keeps a route two intents share until the last of them is withdrawn', async () => {
    const socket = newSocket();
    const exabgp = fake(socket);
    const adapter = make(socket);
    await adapter.start();
    const a = await adapter.apply(rtbhA);
    const b = await adapter.apply(rtbhB);
    const first = await adapter.withdraw(a);
    // The route stays, with B's communities.
    expect(first).toEqual({ command: b.command, wasPresent: true });
    await exabgp.waitCommands(3);
    expect(exabgp.commands.at(-1)).toBe(b.command);
    const second = await adapter.withdraw(b);
    expect(second).toEqual({
      command: 'withdraw route 203.0.113.66/32 next-hop 192.0.2.1',
      wasPresent: true,
    });
    await exabgp.waitCommands(4);
    expect(exabgp.commands).toEqual([a.command, b.command, b.command, second.command]);
  });

  it('reports BGP sessions in health: not ok when every known session is down', async () => {
    const socket = newSocket();
    const exabgp = fake(socket);
    const adapter = make(socket);
    await adapter.start();
    await adapter.list();
    exabgp.control('session 127.0.0.2 up');
    await expect
      .poll(async () => (await adapter.health()).detail, { timeout: 5_000 })
      .toContain('127.0.0.2 up');
    expect((await adapter.health()).ok).toBe(true);
    exabgp.control('session 127.0.0.2 down');
    await expect.poll(async () => (await adapter.health()).ok, { timeout: 5_000 }).toBe(false);
    expect((await adapter.health()).detail).toMatch(/no BGP session is up: 127\.0\.0\.2 down \(peer reset\)/);
  });

  it('refuses a socket path that is a regular file, and a socket another process listens on', async () => {
    const file = join(dir, 'not-a-socket');
    writeFileSync(file, 'x');
    const quick = { timeouts: { connectMs: 50, commandMs: 1_000 } };
    expect(await codeOf(make(file, quick).start())).toBe('FG_ERR_LISTEN');
    const socket = newSocket();
    const owner = make(socket, quick);
    await owner.start();
    expect(await codeOf(make(socket, quick, 'second').start())).toBe('FG_ERR_LISTEN');
  });

  it('refuses a receipt of another adapter', async () => {
    const socket = newSocket();
    fake(socket);
    const adapter = make(socket);
    await adapter.start();
    const receipt = await adapter.apply(flow);
    expect(await codeOf(adapter.withdraw({ ...receipt, adapter: 'other' }))).toBe('FG_ERR_ADAPTER_WITHDRAW');
  });
});
