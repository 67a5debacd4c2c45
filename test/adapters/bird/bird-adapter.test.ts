/**
 * The BIRD adapter against an in-memory BIRD (fake-birdc.ts): the include file, check before
 * reload, rollback, list() from what BIRD shows, restart. The real BIRD is in test/interop.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBirdAdapter } from '../../../adapters/bird/bird-adapter.js';
import { birdConfigSchema } from '../../../adapters/bird/config.js';
import { INCLUDE_MARKER } from '../../../adapters/bird/include-file.js';
import type { MitigationAdapter } from '../../../adapters/contract.js';
import { isFloodgateError } from '../../../core/errors.js';
import { nullLogger } from '../../../core/logger.js';
import type { MitigationIntent } from '../../../core/mitigation/intent.js';
import { type IntentContent, intentId } from '../../../core/mitigation/intent-id.js';
import { runAdapterConformance } from '../../conformance/adapter.js';
import { createFakeBird } from './fake-birdc.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-bird-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function setup(extra: Record<string, unknown> = {}, file = join(dir, `bird-${files++}.conf`)) {
  const bird = createFakeBird(file);
  const make = (): MitigationAdapter =>
    createBirdAdapter(
      birdConfigSchema.parse({ includeFile: file, configFile: '/etc/bird/bird.conf', ...extra }),
      { name: 'bird', logger: nullLogger, now: () => 5_000 },
      { birdc: bird.runner },
    );
  return { bird, make, file };
}

function withId(content: IntentContent): MitigationIntent {
  return { ...content, id: intentId(content), incidentId: 'inc-1' } as MitigationIntent;
}

const flow = withId({
  kind: 'flowspec',
  ipVersion: 4,
  match: { destination: '203.0.113.5/32', protocols: [17], sourcePorts: [123] },
  action: { type: 'rate-limit', bytesPerSecond: 125_000 },
});
const rtbhA = withId({
  kind: 'rtbh',
  ipVersion: 4,
  prefix: '203.0.113.66/32',
  nextHop: '192.0.2.1',
  communities: ['65535:666'],
});
const rtbhB = withId({
  kind: 'rtbh',
  ipVersion: 4,
  prefix: '203.0.113.66/32',
  nextHop: '192.0.2.1',
  communities: ['65535:666', '64500:1'],
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

runAdapterConformance('bird (in-memory BIRD)', () => setup().make());

describe('bird adapter', () => {
  it('writes the route into its include file, checks, then reloads BIRD', async () => {
    const { bird, make, file } = setup();
    const adapter = make();
    await adapter.start();
    const receipt = await adapter.apply(flow);
    expect(receipt.command).toBe(
      'route flow4 { dst 203.0.113.5/32; proto 17; sport 123; } { bgp_ext_community.add((generic, 0x80060000, 0x47f42400)); };',
    );
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe(INCLUDE_MARKER);
    expect(text).toContain(
      `protocol static floodgate_bird_flow4 {\n  flow4 { table ft4; };\n  ${receipt.command}\n}`,
    );
    expect(text).toContain('protocol static floodgate_bird_rtbh6 {\n  ipv6 { table master6; };\n}');
    expect(bird.calls).toEqual([
      ['-v', 'configure', 'check', '"/etc/bird/bird.conf"'],
      ['-v', 'configure', '"/etc/bird/bird.conf"'],
    ]);
    expect(bird.loaded.get('floodgate_bird_flow4')?.size).toBe(1);
    expect((await adapter.list()).map((r) => r.intentId)).toEqual([flow.id]);
    const result = await adapter.withdraw(receipt);
    expect(result).toEqual({ command: `remove from ${file}: ${receipt.command}`, wasPresent: true });
    expect(bird.loaded.get('floodgate_bird_flow4')?.size).toBe(0);
  });

  it('rolls the file back when BIRD refuses the check, and BIRD keeps running the old one', async () => {
    const { bird, make, file } = setup();
    const adapter = make();
    await adapter.start();
    await adapter.apply(rtbhA);
    const before = readFileSync(file, 'utf8');
    bird.failNextCheck('/etc/bird/floodgate.conf:9:3 syntax error, unexpected CF_SYM_UNDEFINED');
    const err = await adapter.apply(flow).catch((e: unknown) => e);
    expect(isFloodgateError(err) && err.code).toBe('FG_ERR_ADAPTER_APPLY');
    expect((err as Error).message).toMatch(
      /BIRD refused the configuration .* rolled back: configure check: .*syntax error/,
    );
    expect(readFileSync(file, 'utf8')).toBe(before);
    // No reload was attempted after the failed check.
    expect(bird.calls.at(-1)).toEqual(['-v', 'configure', 'check', '"/etc/bird/bird.conf"']);
    expect((await adapter.list()).map((r) => r.intentId)).toEqual([rtbhA.id]);
  });

  it('rolls back and reloads the previous file when the reload itself fails', async () => {
    const { bird, make, file } = setup();
    const adapter = make();
    await adapter.start();
    const before = readFileSync(file, 'utf8');
    bird.failNextConfigure('Reload failed');
    expect(await codeOf(adapter.apply(flow))).toBe('FG_ERR_ADAPTER_APPLY');
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(bird.calls.slice(-2)).toEqual([
      ['-v', 'configure', '"/etc/bird/bird.conf"'],
      ['-v', 'configure', '"/etc/bird/bird.conf"'],
    ]);
    expect(await adapter.list()).toEqual([]);
  });

  it('fails a withdraw BIRD refuses and keeps the route', async () => {
    const { bird, make } = setup();
    const adapter = make();
    await adapter.start();
    const receipt = await adapter.apply(flow);
    bird.failNextCheck('something is wrong');
    expect(await codeOf(adapter.withdraw(receipt))).toBe('FG_ERR_ADAPTER_WITHDRAW');
    expect((await adapter.list()).map((r) => r.intentId)).toEqual([flow.id]);
  });

  it('a restarted Floodgate reads its receipts back from the include file', async () => {
    const { make } = setup();
    const first = make();
    await first.start();
    const a = await first.apply(flow);
    const b = await first.apply(rtbhA);
    await first.stop();
    const second = make();
    await second.start();
    expect(await second.list()).toEqual([a, b]);
    expect((await second.withdraw(a)).wasPresent).toBe(true);
  });

  it('lists only what BIRD really has, and applying again puts it back', async () => {
    const { bird, make } = setup();
    const adapter = make();
    await adapter.start();
    await adapter.apply(flow);
    bird.forget();
    expect(await adapter.list()).toEqual([]);
    await adapter.apply(flow);
    expect((await adapter.list()).map((r) => r.intentId)).toEqual([flow.id]);
  });

  it('writes one route per network, the last applied, until it is withdrawn', async () => {
    const { make, file } = setup();
    const adapter = make();
    await adapter.start();
    const a = await adapter.apply(rtbhA);
    const b = await adapter.apply(rtbhB);
    const routes = () =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('  route '));
    expect(routes()).toEqual([`  ${b.command}`]);
    expect((await adapter.list()).map((r) => r.intentId).sort()).toEqual([a.intentId, b.intentId].sort());
    await adapter.withdraw(b);
    expect(routes()).toEqual([`  ${a.command}`]);
    await adapter.withdraw(a);
    expect(routes()).toEqual([]);
  });

  it('refuses an include file it did not write', async () => {
    const file = join(dir, 'hand-written.conf');
    writeFileSync(file, 'protocol static mine { ipv4; }\n');
    const { make } = setup({}, file);
    expect(await codeOf(make().start())).toBe('FG_ERR_CONFIG_INVALID');
  });

  it('reports BIRD down in health and list, and missing protocols in health', async () => {
    const { bird, make } = setup({ capabilities: ['rtbh4'] });
    const adapter = make();
    await adapter.start();
    expect((await adapter.health()).ok).toBe(true);
    bird.setDown(true);
    const down = await adapter.health();
    expect(down.ok).toBe(false);
    expect(down.detail).toMatch(/Unable to connect/);
    expect(await codeOf(adapter.list())).toBe('FG_ERR_ADAPTER_UNREACHABLE');
    bird.setDown(false);
    bird.unload();
    const missing = await adapter.health();
    expect(missing.ok).toBe(false);
    expect(missing.detail).toMatch(/without protocols floodgate_bird_rtbh4: add include/);
  });

  it('declares only the protocols of its capabilities', async () => {
    const { make, file } = setup({ capabilities: ['flowspec6', 'rtbh6'], protocolPrefix: 'edge' });
    const adapter = make();
    await adapter.start();
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('protocol static edge_flow6 {');
    expect(text).toContain('protocol static edge_rtbh6 {');
    expect(text).not.toContain('edge_flow4');
    expect(await codeOf(adapter.apply(flow))).toBe('FG_ERR_ADAPTER_CAPABILITY');
  });
});
