/**
 * `floodgate simulate` on the walking skeleton's scenario: real softflowd exports the generated
 * attack as NetFlow v5, the datagrams are captured into a pcap with their arrival times, and the
 * simulation replays them through detection and the runbooks, printing the timeline.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../core/audit/chain.js';
import { runCli } from '../helpers/cli.js';
import { frame, ipv4Udp, writePcap } from '../helpers/pcap-writer.js';
import { collectDatagrams, makeScenario, requireTool, runSoftflowd } from '../lab/scenario.js';

const NTP_TARGET = '203.0.113.10';
const SYN_TARGET = '203.0.113.20';
const dir = mkdtempSync(join(tmpdir(), 'fg-simulate-'));
const capture = join(dir, 'skeleton.pcap');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const detection = [
  'detection:',
  '  networks:',
  '    - prefix: 203.0.113.0/24',
  '      thresholds: { pps: 1000, bps: 50000000 }',
  '  windowSeconds: 3',
  '  holdDownSeconds: 4',
];

function config(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, [...detection, ...lines].join('\n'));
  return path;
}

beforeAll(async () => {
  requireTool('softflowd');
  requireTool('python3-scapy');
  const durationSeconds = 6;
  const { pcapPath } = await makeScenario(
    {
      seed: 7,
      startEpoch: Date.now() / 1000 - durationSeconds,
      durationSeconds,
      streams: [
        {
          kind: 'udp-reflection',
          dst: NTP_TARGET,
          srcPort: 123,
          sources: 1500,
          srcPrefix: '198.18.0.0/15',
          pps: 2500,
          size: 468,
        },
        { kind: 'syn-flood', dst: SYN_TARGET, dstPort: 443, sources: 3000, pps: 2500 },
        { kind: 'tcp-session', client: '198.51.100.7', server: '203.0.113.30', port: 443, packets: 300 },
        { kind: 'dns', client: '203.0.113.40', resolver: '198.51.100.53', queries: 60 },
        { kind: 'udp-stream', src: '198.51.100.9', dst: '203.0.113.50', pps: 50, size: 200 },
      ],
    },
    dir,
  );
  const sink = await collectDatagrams(0);
  try {
    const run = await runSoftflowd({ pcapPath, version: 5, port: sink.port });
    expect(run.exitCode).toBe(0);
    const datagrams = await sink.settle({ atLeast: run.exported?.datagrams ?? 1 });
    writeFileSync(
      capture,
      writePcap(
        datagrams.map((d) => ({
          tsMs: d.arrivalMs,
          frame: frame(
            1,
            ipv4Udp({ src: '192.0.2.7', dst: '192.0.2.8', srcPort: 40000, dstPort: 2055, payload: d.data }),
          ),
        })),
      ),
    );
  } finally {
    await sink.close();
  }
}, 120_000);

describe('floodgate simulate', () => {
  it('prints the skeleton timeline with the default runbook: detected, applied, closed, withdrawn', async () => {
    const r = await runCli(['simulate', capture, '--config', config('default.yaml', []), '--port', '2055']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain('every adapter is previewed: nothing is sent');
    expect(out).toMatch(new RegExp(`DETECTED ntp_amplification on ${NTP_TARGET.replaceAll('.', '\\.')}: `));
    expect(out).toMatch(new RegExp(`DETECTED tcp_syn_flood on ${SYN_TARGET.replaceAll('.', '\\.')}: `));
    expect(out).toContain('FIRED default/1 flowspec-and-rtbh [automatic]: incident opened');
    for (const line of [
      `applied via dry-run: announce flow route { match { destination ${NTP_TARGET}/32; protocol udp; source-port =123; } then { discard; } }`,
      `applied via dry-run: announce route ${NTP_TARGET}/32 next-hop 192.0.2.1 community [ 65535:666 ]`,
      `applied via dry-run: announce flow route { match { destination ${SYN_TARGET}/32; protocol tcp; tcp-flags [ syn&!ack ]; } then { discard; } }`,
      `withdrawn via dry-run: withdraw route ${SYN_TARGET}/32 next-hop 192.0.2.1`,
      `withdrawn via dry-run: withdraw flow route { match { destination ${NTP_TARGET}/32; protocol udp; source-port =123; } }`,
    ]) {
      expect(out).toContain(line);
    }
    for (const benign of ['203.0.113.30', '203.0.113.40', '203.0.113.50'])
      expect(out).not.toContain(`on ${benign}:`);
    expect(out).toMatch(/2 incident\(s\); 4 mitigation\(s\), 0 still in place/);
    // The order of one incident's life.
    const ntp = out
      .split('\n')
      .filter((l) => l.includes(NTP_TARGET) || l.includes('FIRED') || l.includes('WITHDRAWING'));
    const at = (needle: string) => ntp.findIndex((l) => l.includes(needle));
    expect(at('DETECTED ntp')).toBeLessThan(at(`announce route ${NTP_TARGET}`));
    expect(at(`announce route ${NTP_TARGET}`)).toBeLessThan(at(`withdraw route ${NTP_TARGET}`));
  }, 60_000);

  it('walks an escalating runbook up its tiers and down again on the simulated clock', async () => {
    const path = config('tiers.yaml', [
      'mitigation:',
      '  protectedPrefixes: [203.0.113.53/32]',
      'runbooks:',
      '  - name: escalate',
      '    notify: [noc]',
      '    ttl: { seconds: 30 }',
      '    tiers:',
      '      - { name: firewall, intents: [firewall], escalate: { afterSeconds: 1 }, holdDownSeconds: 60 }',
      '      - { name: flowspec, intents: [flowspec], escalate: { afterSeconds: 1 } }',
      '      - { name: rtbh, intents: [rtbh], escalate: { severityAbove: 1 } }',
      '      - { name: scrubbing, intents: [scrubbing] }',
    ]);
    const r = await runCli(['simulate', capture, '--config', path, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const items = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry | { type: 'note'; message: string });
    const audit = items.filter((i): i is AuditEntry => !('type' in i));
    const forNtp = (e: AuditEntry) => e.incidentId?.endsWith(NTP_TARGET) === true;
    const steps = audit.filter((e) => forNtp(e) && (e.action === 'escalate' || e.action === 'de-escalate'));
    const fired = steps.filter((e) => e.action === 'escalate');
    const withdrawn = steps.filter((e) => e.action === 'de-escalate');
    expect(fired.map((e) => e.rule)).toEqual([
      'escalate/1 firewall',
      'escalate/2 flowspec',
      'escalate/3 rtbh',
      'escalate/4 scrubbing',
    ]);
    expect(withdrawn.map((e) => e.rule).sort()).toEqual(fired.map((e) => e.rule).sort());
    const opened = audit.find((e) => forNtp(e) && e.action === 'incident-open')!;
    const closed = audit.find((e) => forNtp(e) && e.action === 'incident-close')!;
    expect(fired[0]!.atMs).toBe(opened.atMs);
    expect(fired[1]!.atMs - fired[0]!.atMs).toBeGreaterThanOrEqual(1_000);
    // Each tier stays for its hold-down after the close, and at least the 30 s TTL after it fired.
    const holdDown: Record<string, number> = { 'escalate/1 firewall': 60_000 };
    for (const tier of fired) {
      const release = withdrawn.find((e) => e.rule === tier.rule)!;
      expect(release.atMs, tier.rule).toBe(
        Math.max(closed.atMs + (holdDown[tier.rule!] ?? 0), tier.atMs + 30_000),
      );
    }

    const commands = audit.filter((e) => forNtp(e) && e.action === 'apply').map((e) => e.command);
    expect(commands).toEqual([
      `firewall on ${NTP_TARGET}/32: drop udp source-port 123`,
      `announce flow route { match { destination ${NTP_TARGET}/32; protocol udp; source-port =123; } then { discard; } }`,
      `announce route ${NTP_TARGET}/32 next-hop 192.0.2.1 community [ 65535:666 ]`,
    ]);
    const refused = audit.find((e) => forNtp(e) && e.action === 'refuse')!;
    expect(refused.detail).toMatchObject({
      code: 'FG_ERR_SAFETY_PROTECTED',
      reason: '203.0.113.0/24 covers protected prefix 203.0.113.53/32 (mitigation.protectedPrefixes[0])',
    });
    expect(
      audit
        .filter((e) => forNtp(e) && e.action === 'notify')
        .map((e) => (e.detail as { stage: string }).stage),
    ).toEqual(['detected', 'resolved']);
  }, 60_000);

  it('generates and exports a scenario itself with --scenario, placed to end now', async () => {
    const spec = join(dir, 'scenario.json');
    writeFileSync(
      spec,
      JSON.stringify({
        seed: 3,
        durationSeconds: 4,
        streams: [{ kind: 'syn-flood', dst: SYN_TARGET, dstPort: 22, sources: 300, pps: 3000 }],
      }),
    );
    const r = await runCli(['simulate', '--scenario', spec, '--config', config('scenario.yaml', [])]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`scenario ${spec} exported by softflowd as NetFlow v5`);
    expect(r.stdout).toMatch(/DETECTED tcp_syn_flood on 203\.0\.113\.20: /);
    expect(r.stdout).toContain(
      `withdrawn via dry-run: withdraw flow route { match { destination ${SYN_TARGET}/32; protocol tcp; tcp-flags [ syn&!ack ]; } }`,
    );
  }, 60_000);

  it('refuses what it cannot replay, saying why', async () => {
    const notPcap = join(dir, 'not.pcap');
    writeFileSync(notPcap, 'hello');
    const bad = await runCli(['simulate', notPcap]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('cannot read the capture');
    const none = await runCli(['simulate', capture, '--port', '9999']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no flow datagrams to replay on port 9999');
    const noInput = await runCli(['simulate']);
    expect(noInput.code).toBe(2);
  }, 60_000);
});
