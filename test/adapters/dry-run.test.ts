import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AdapterContext } from '../../adapters/contract.js';
import { dryRunConfigSchema } from '../../adapters/dry-run/config.js';
import { createDryRunAdapter } from '../../adapters/dry-run/dry-run-adapter.js';
import { isFloodgateError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { defaultMitigationConfig } from '../../core/mitigation/config.js';
import { planMitigation } from '../../core/mitigation/planner.js';
import { runAdapterConformance, sampleIntents } from '../conformance/adapter.js';
import { makeIncident } from '../core/mitigation/incident-fixture.js';

interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function recordingContext(
  name = 'dry-run',
  startMs = 1_763_734_740_000,
): { ctx: AdapterContext; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (objOrMsg: object | string, msg?: string): void => {
      if (typeof objOrMsg === 'string') lines.push({ level, obj: {}, msg: objOrMsg });
      else lines.push({ level, obj: objOrMsg as Record<string, unknown>, msg });
    };
  const logger: Logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
  let clock = startMs;
  return { ctx: { name, logger, now: () => clock++ }, lines };
}

function make(config: unknown = {}, name = 'dry-run') {
  return createDryRunAdapter(dryRunConfigSchema.parse(config), recordingContext(name).ctx);
}

runAdapterConformance('dry-run', () => make());
runAdapterConformance('dry-run (IPv4-only, as a router without IPv6 FlowSpec)', () =>
  make({ capabilities: ['flowspec4', 'rtbh4'] }),
);

describe('dry-run adapter', () => {
  const [fs4, , bh4] = sampleIntents();

  it('records the exact ExaBGP announce text and keeps the withdraw text for undo', async () => {
    const { ctx, lines } = recordingContext();
    const adapter = createDryRunAdapter(dryRunConfigSchema.parse({}), ctx);
    await adapter.start();
    const receipt = await adapter.apply(bh4!);
    expect(receipt).toEqual({
      adapter: 'dry-run',
      intentId: bh4!.id,
      kind: 'rtbh',
      command: 'announce route 203.0.113.66/32 next-hop 192.0.2.1 community [ 65535:666 ]',
      appliedAtMs: 1_763_734_740_000,
      details: { render: 'exabgp', withdrawCommand: 'withdraw route 203.0.113.66/32 next-hop 192.0.2.1' },
    });
    expect(lines).toContainEqual({
      level: 'info',
      obj: { intentId: bh4!.id, incidentId: 'inc-conformance', command: receipt.command },
      msg: 'dry run: would announce',
    });
    expect(await adapter.withdraw(receipt)).toEqual({
      command: 'withdraw route 203.0.113.66/32 next-hop 192.0.2.1',
      wasPresent: true,
    });
  });

  it('keeps the first receipt when the same intent is applied again', async () => {
    const adapter = make();
    await adapter.start();
    const first = await adapter.apply(fs4!);
    const second = await adapter.apply(fs4!);
    expect(second).toEqual(first);
  });

  it('logs a withdraw of something not in place as a warning', async () => {
    const { ctx, lines } = recordingContext();
    const adapter = createDryRunAdapter(dryRunConfigSchema.parse({}), ctx);
    await adapter.start();
    const receipt = await adapter.apply(fs4!);
    await adapter.withdraw(receipt);
    await adapter.withdraw(receipt);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      'dry run: withdraw of an intent that is not in place',
    ]);
  });

  it('addresses the configured ExaBGP neighbors', async () => {
    const adapter = make({ neighbors: ['127.0.0.2'] });
    expect(adapter.render(bh4!)).toBe(
      'neighbor 127.0.0.2 announce route 203.0.113.66/32 next-hop 192.0.2.1 community [ 65535:666 ]',
    );
  });

  it('refuses receipts of another adapter and operations before start', async () => {
    const adapter = make();
    const code = async (p: Promise<unknown>) =>
      p.then(() => undefined).catch((e) => (isFloodgateError(e) ? e.code : e));
    expect(await code(adapter.apply(fs4!))).toBe('FG_ERR_ADAPTER_APPLY');
    await adapter.start();
    const other = make({}, 'lab-exabgp');
    await other.start();
    const foreign = await other.apply(fs4!);
    expect(await code(adapter.withdraw(foreign))).toBe('FG_ERR_ADAPTER_WITHDRAW');
    expect(await code(adapter.withdraw({ ...foreign, adapter: 'dry-run', details: {} }))).toBe(
      'FG_ERR_ADAPTER_WITHDRAW',
    );
  });

  it('is unhealthy until started', async () => {
    const adapter = make();
    expect((await adapter.health()).ok).toBe(false);
    await adapter.start();
    expect(await adapter.health()).toMatchObject({
      ok: true,
      detail: 'dry run: records what it would announce, sends nothing',
    });
  });

  it('validates its config slice', () => {
    expect(dryRunConfigSchema.parse({})).toEqual({
      render: 'exabgp',
      capabilities: ['flowspec4', 'flowspec6', 'rtbh4', 'rtbh6', 'firewall', 'scrubbing'],
      neighbors: [],
      persist: false,
    });
    expect(dryRunConfigSchema.safeParse({ render: 'gobgp' }).success).toBe(false);
    expect(dryRunConfigSchema.safeParse({ capabilities: ['notify'] }).success).toBe(false);
    expect(dryRunConfigSchema.safeParse({ capabilities: ['rtbh4', 'rtbh4'] }).success).toBe(false);
    expect(dryRunConfigSchema.safeParse({ neighbors: ['peer1'] }).success).toBe(false);
  });
});

describe('dry-run adapter: the other tiers', () => {
  it('records a firewall rule in plain words and a scrubbing diversion as an ExaBGP route', async () => {
    const adapter = make();
    await adapter.start();
    const plan = planMitigation(
      makeIncident({ family: 'ntp_amplification', fingerprint: { sourcePorts: [123] } }),
      defaultMitigationConfig(),
      ['firewall', 'scrubbing'],
    );
    const [firewall, scrubbing] = plan.intents;
    const fw = await adapter.apply(firewall!);
    expect(fw.command).toBe('firewall on 203.0.113.5/32: drop udp source-port 123');
    expect(fw.details?.['withdrawCommand']).toBe('undo firewall on 203.0.113.5/32: drop udp source-port 123');
    expect((await adapter.apply(scrubbing!)).command).toBe('announce route 203.0.113.0/24 next-hop self');
    expect(adapter.renderWithdraw?.(scrubbing!)).toBe('withdraw route 203.0.113.0/24 next-hop self');
  });
});

describe('dry-run adapter with persist', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'fg-dry-run-'));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
  const [fs4, , bh4] = sampleIntents();
  const persisting = (name = 'edge') =>
    createDryRunAdapter(dryRunConfigSchema.parse({ persist: true }), {
      ...recordingContext(name).ctx,
      stateDir,
    });

  it('keeps its table in the state directory across processes, like a router across our restart', async () => {
    const first = persisting();
    await first.start();
    await first.apply(fs4!);
    await first.apply(bh4!);
    const file = join(stateDir, 'dry-run-edge.json');
    expect(
      JSON.parse(readFileSync(file, 'utf8')).receipts.map((r: { intentId: string }) => r.intentId),
    ).toEqual([fs4!.id, bh4!.id]);
    // A new process: a new instance reads the table back.
    const second = persisting();
    await second.start();
    expect((await second.list()).map((r) => r.intentId)).toEqual([fs4!.id, bh4!.id]);
    const receipt = (await second.list())[0]!;
    expect((await second.withdraw(receipt)).wasPresent).toBe(true);
    const third = persisting();
    await third.start();
    expect((await third.list()).map((r) => r.intentId)).toEqual([bh4!.id]);
  });

  it('refuses a table it did not write, and persist without a state directory', async () => {
    writeFileSync(join(stateDir, 'dry-run-broken.json'), '{ "nope": 1 }');
    const broken = persisting('broken');
    await expect(broken.start()).rejects.toThrow(/is not a table this adapter wrote/);
    expect(() =>
      createDryRunAdapter(dryRunConfigSchema.parse({ persist: true }), recordingContext().ctx),
    ).toThrow(/FG_ERR_CONFIG_INVALID: .*persist needs the appliance's state directory/);
  });
});
