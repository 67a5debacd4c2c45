/**
 * The runbook engine against a synthetic clock: each tier path up and down, the hold-downs, the
 * TTL and its backoff, the cooldown that lets a returning attack resume its run, and selection.
 */
import { describe, expect, it } from 'vitest';
import { type Runbook, runbookSchema, runbooksConfigSchema } from '../../../core/escalation/config.js';
import { type EngineSettings, EscalationEngine } from '../../../core/escalation/engine.js';
import type {
  ActivateAction,
  EscalationAction,
  NotifyAction,
  ReleaseAction,
} from '../../../core/escalation/run.js';
import type { Incident, IncidentEvent } from '../../../core/incident/incident.js';
import { defaultMitigationConfig, mitigationConfigSchema } from '../../../core/mitigation/config.js';
import { makeIncident } from '../mitigation/incident-fixture.js';

const T0 = 1_763_734_800_000;
const s = (seconds: number) => T0 + seconds * 1000;

function engine(runbooks: unknown[], overrides: Partial<EngineSettings> = {}): EscalationEngine {
  return new EscalationEngine({
    runbooks: runbooks.map((r) => runbookSchema.parse(r)),
    mitigation: defaultMitigationConfig(),
    hostGroups: [],
    severityLevels: { medium: 2, high: 5, critical: 10 },
    ...overrides,
  });
}

/** An incident (on 203.0.113.5, opened at T0 unless said); over threshold at second `at` unless `over` is false. */
function incident(overrides: Partial<Incident> & { at?: number; over?: boolean } = {}): Incident {
  const { at = 0, over = true, ...rest } = overrides;
  return makeIncident({
    id: `inc-${rest.target ?? '203.0.113.5'}-${rest.openedAtMs ?? T0}`,
    family: 'ntp_amplification',
    fingerprint: { protocols: [17], sourcePorts: [123] },
    openedAtMs: T0,
    lastOverAtMs: over ? s(at) : (rest.lastOverAtMs ?? T0),
    ...rest,
  });
}

const opened = (i: Incident, atMs = i.openedAtMs): IncidentEvent => ({ type: 'opened', atMs, incident: i });
const updated = (i: Incident, atMs: number): IncidentEvent => ({ type: 'updated', atMs, incident: i });
const closed = (i: Incident, atMs: number): IncidentEvent => ({
  type: 'closed',
  atMs,
  incident: { ...i, state: 'closed', closedAtMs: atMs },
});

const activations = (actions: EscalationAction[]) =>
  actions.filter((a): a is ActivateAction => a.type === 'activate');
const releases = (actions: EscalationAction[]) =>
  actions.filter((a): a is ReleaseAction => a.type === 'release');
const notifications = (actions: EscalationAction[]) =>
  actions.filter((a): a is NotifyAction => a.type === 'notify');

/** Runs the engine second by second from `from` to `to`, the incident over threshold throughout. */
function sustain(
  e: EscalationEngine,
  base: Incident,
  from: number,
  to: number,
  extra: Partial<Incident> = {},
) {
  const out: EscalationAction[] = [];
  for (let t = from; t <= to; t++) {
    out.push(...e.handle(updated({ ...base, lastOverAtMs: s(t), ...extra }, s(t))), ...e.tick(s(t)));
  }
  return out;
}

const fourTiers = {
  name: 'four-tiers',
  notify: ['noc'],
  tiers: [
    {
      name: 'firewall',
      intents: ['firewall'],
      escalate: { afterSeconds: 10 },
      holdDownSeconds: 300,
      notify: ['ops'],
    },
    { name: 'flowspec', intents: ['flowspec'], escalate: { afterSeconds: 20 }, holdDownSeconds: 120 },
    { name: 'rtbh', intents: ['rtbh'], escalate: { bpsAbove: 5_000_000_000 }, holdDownSeconds: 60 },
    { name: 'scrubbing', intents: ['scrubbing'] },
  ],
};

describe('escalation engine', () => {
  it('reproduces the skeleton with the default runbook: FlowSpec and RTBH at once, withdrawn at close', () => {
    const e = new EscalationEngine({
      runbooks: runbooksConfigSchema.parse(undefined) as Runbook[],
      mitigation: defaultMitigationConfig(),
      hostGroups: [],
      severityLevels: { medium: 2, high: 5, critical: 10 },
    });
    const inc = incident();
    const start = activations(e.handle(opened(inc)));
    expect(start).toHaveLength(1);
    expect(start[0]).toMatchObject({
      tier: 0,
      tierName: 'flowspec-and-rtbh',
      mode: 'automatic',
      cause: 'detected',
    });
    expect(start[0]!.deliveries.map((d) => [d.intent.kind, d.adapters])).toEqual([
      ['flowspec', null],
      ['rtbh', null],
    ]);
    expect(activations(sustain(e, inc, 1, 120))).toEqual([]);
    const end = e.handle(closed(inc, s(125)));
    expect(releases(end).map((r) => [r.tier, r.reason, r.intents.length])).toEqual([
      [0, 'the incident closed', 2],
    ]);
    expect(e.run(`run-${inc.id}`)?.state).toBe('ended');
  });

  it('climbs firewall -> FlowSpec -> RTBH -> scrubbing and comes down tier by tier on the hold-downs', () => {
    const e = engine([fourTiers]);
    const inc = incident({ current: { pps: 400_000, bps: 3_000_000_000 } });
    const timeline: [number, string][] = [];
    const record = (actions: EscalationAction[], t: number) => {
      for (const a of activations(actions)) timeline.push([t, `+${a.tierName} (${a.reason})`]);
      for (const a of releases(actions)) timeline.push([t, `-${a.tierName}`]);
    };
    record(e.handle(opened(inc)), 0);
    for (let t = 1; t <= 40; t++) record(sustain(e, inc, t, t), t);
    // The attack grows past 5 Gbit/s: the RTBH tier's condition holds, scrubbing fires.
    record(sustain(e, inc, 41, 41, { current: { pps: 900_000, bps: 6_000_000_000 } }), 41);
    expect(timeline).toEqual([
      [0, '+firewall (incident opened)'],
      [10, '+flowspec (firewall: still over threshold 10 s after the tier became active)'],
      [30, '+rtbh (flowspec: still over threshold 20 s after the tier became active)'],
      [41, '+scrubbing (rtbh: rate 6.0Gbit/s is above 5.0Gbit/s)'],
    ]);
    const run = e.run(`run-${inc.id}`)!;
    expect(run.tiers.map((t) => t.intents.map((i) => i.kind))).toEqual([
      ['firewall'],
      ['flowspec'],
      ['rtbh'],
      ['scrubbing'],
    ]);
    expect(run.tiers[3]!.intents[0]).toMatchObject({ prefix: '203.0.113.0/24' });

    // The attack stops at 45; the detector closes the incident at 50.
    sustain(e, inc, 46, 49, { lastOverAtMs: s(45) });
    timeline.length = 0;
    record(e.handle(closed(inc, s(50))), 50);
    for (let t = 51; t <= 400; t++) record(e.tick(s(t)), t);
    expect(timeline).toEqual([
      [50, '-scrubbing'],
      [110, '-rtbh'],
      [170, '-flowspec'],
      [350, '-firewall'],
    ]);
    expect(e.run(`run-${inc.id}`)?.state).toBe('ended');
  });

  it('does not escalate on time while the target is below threshold in its hold-down', () => {
    const e = engine([fourTiers]);
    const inc = incident();
    e.handle(opened(inc));
    // Over for 5 s, then below: lastOverAtMs stays at 5 while the detector keeps the incident open.
    sustain(e, inc, 1, 5);
    const quiet = sustain(e, inc, 6, 60, { lastOverAtMs: s(5) });
    expect(activations(quiet)).toEqual([]);
    expect(e.run(`run-${inc.id}`)?.level).toBe(0);
  });

  it('fires several tiers at once when their conditions already hold at opening', () => {
    const e = engine([
      {
        name: 'big',
        tiers: [
          { intents: ['flowspec'], escalate: { severityAtLeast: 'high' } },
          { intents: ['rtbh'], escalate: { severityAbove: 50 } },
          { intents: ['scrubbing'] },
        ],
      },
    ]);
    const actions = e.handle(opened(incident({ severity: 12, severityLevel: 'critical' })));
    expect(activations(actions).map((a) => [a.tierName, a.reason])).toEqual([
      ['tier 1', 'incident opened'],
      ['tier 2', 'tier 1: severity is critical (at least high)'],
    ]);
  });

  it('tells the channels of the runbook and of each tier at every stage', () => {
    const e = engine([fourTiers]);
    const inc = incident();
    const all = [...e.handle(opened(inc)), ...sustain(e, inc, 1, 12)];
    all.push(...e.handle(closed(inc, s(13))));
    for (let t = 14; t <= 400; t++) all.push(...e.tick(s(t)));
    expect(notifications(all).map((n) => [n.stage, n.channels.join(',')])).toEqual([
      ['detected', 'noc'],
      ['detected', 'ops'],
      ['de-escalated', 'ops'],
      ['resolved', 'noc'],
    ]);
  });

  it('keeps every tier for its TTL after the incident closes, then re-checks and lets go', () => {
    const e = engine([{ name: 'ttl', ttl: { seconds: 600 }, tiers: [{ intents: ['rtbh'] }] }]);
    const inc = incident();
    e.handle(opened(inc));
    const atClose = e.handle(closed(inc, s(20)));
    expect(releases(atClose)).toEqual([]);
    expect(atClose.find((a) => a.type === 'note')).toMatchObject({
      message: expect.stringContaining('TTL of 600 s runs until then'),
    });
    expect(releases(e.tick(s(599)))).toEqual([]);
    const gone = releases(e.tick(s(600)));
    expect(gone).toHaveLength(1);
    expect(gone[0]!.reason).toMatch(
      /^TTL of 600 s expired; re-checked: no open incident on 203\.0\.113\.5 since /,
    );
  });

  it('doubles the TTL for each repeat attack on the same target, up to the cap, and forgets a quiet target', () => {
    const runbook = {
      name: 'backoff',
      cooldownSeconds: 0,
      ttl: { seconds: 60, maxSeconds: 200, forgetAfterSeconds: 3600 },
      tiers: [{ intents: ['rtbh'] }],
    };
    const e = engine([runbook]);
    const ttls: number[] = [];
    let at = 0;
    const attack = () => {
      const inc = incident({ openedAtMs: s(at), at });
      e.handle(opened(inc));
      ttls.push(e.run(`run-${inc.id}`)!.ttlMs / 1000);
      e.handle(closed(inc, s(at + 1)));
      e.tick(s(at + 300));
      expect(e.run(`run-${inc.id}`)?.state ?? 'ended').toBe('ended');
      at += 301;
    };
    attack();
    attack();
    attack();
    attack();
    at += 4000;
    attack();
    expect(ttls).toEqual([60, 120, 200, 200, 60]);
    expect(e.takeChangedHistory().map((h) => [h.target, h.repeat])).toEqual([['203.0.113.5', 0]]);
  });

  it('lets a returning attack join the run while tiers are held: nothing refires', () => {
    const e = engine([fourTiers]);
    const first = incident();
    e.handle(opened(first));
    sustain(e, first, 1, 15);
    expect(e.run(`run-${first.id}`)?.level).toBe(1);
    e.handle(closed(first, s(20)));
    e.tick(s(21));
    const second = incident({ openedAtMs: s(100), at: 100 });
    const back = e.handle(opened(second));
    expect(back[0]).toMatchObject({
      type: 'note',
      message: expect.stringContaining(`continues run run-${first.id}`),
    });
    // Tiers 1 and 2 are still in place and do not fire again; FlowSpec fired at 10 s and the attack
    // is over threshold at 100 s, so escalation carries on from there to RTBH.
    expect(activations(back).map((a) => [a.tierName, a.cause, a.reason])).toEqual([
      ['rtbh', 'escalated', 'flowspec: still over threshold 20 s after the tier became active'],
    ]);
    const run = e.run(`run-${first.id}`)!;
    expect(run.incidentIds).toEqual([first.id, second.id]);
    expect(run.state).toBe('open');
    expect(run.tiers.map((t) => [t.state, t.activatedAtMs, t.releaseAtMs])).toEqual([
      ['active', s(0), null],
      ['active', s(10), null],
      ['active', s(100), null],
      ['idle', null, null],
    ]);
  });

  it('resumes at the tier reached when the attack returns within the cooldown after everything was withdrawn', () => {
    const runbook = {
      name: 'cool',
      cooldownSeconds: 300,
      tiers: [{ intents: ['flowspec'], escalate: { afterSeconds: 5 } }, { intents: ['rtbh'] }],
    };
    const e = engine([runbook]);
    const first = incident();
    e.handle(opened(first));
    sustain(e, first, 1, 6);
    expect(releases(e.handle(closed(first, s(10))))).toHaveLength(2);
    const second = incident({ openedAtMs: s(200), at: 200 });
    const resumed = activations(e.handle(opened(second)));
    expect(resumed.map((a) => [a.tier, a.cause])).toEqual([
      [0, 'resumed'],
      [1, 'resumed'],
    ]);
    e.handle(closed(second, s(210)));
    // After the cooldown a new attack starts a new run from tier 1.
    const third = incident({ openedAtMs: s(600), at: 600 });
    e.tick(s(600));
    const fresh = activations(e.handle(opened(third)));
    expect(fresh.map((a) => [a.runId, a.tier, a.cause])).toEqual([[`run-${third.id}`, 0, 'detected']]);
  });

  it('selects the first runbook whose criteria all hold, and picks up an incident that grows into one', () => {
    const e = engine(
      [
        {
          name: 'dns',
          match: { hostGroups: ['resolvers'], families: ['dns_amplification'] },
          tiers: [{ intents: ['flowspec'] }],
        },
        {
          name: 'critical',
          match: { networks: ['203.0.113.0/24'], minSeverity: 'critical' },
          tiers: [{ intents: ['rtbh'] }],
        },
      ],
      {
        hostGroups: [{ name: 'resolvers', prefixes: ['203.0.113.53/32'] }],
      },
    );
    const dns = incident({ target: '203.0.113.53', family: 'dns_amplification' });
    expect(activations(e.handle(opened(dns)))[0]?.runbook).toBe('dns');

    const small = incident({ target: '203.0.113.7', severity: 3 });
    const none = e.handle(opened(small));
    expect(none).toEqual([
      expect.objectContaining({
        type: 'note',
        runId: null,
        message: expect.stringMatching(/^no runbook takes/),
      }),
    ]);
    const grown = e.handle(updated({ ...small, severity: 11, lastOverAtMs: s(5) }, s(5)));
    expect(activations(grown).map((a) => [a.runbook, a.incidentId])).toEqual([['critical', small.id]]);

    const elsewhere = incident({ target: '198.51.100.9', severity: 20 });
    expect(activations(e.handle(opened(elsewhere)))).toEqual([]);
  });

  it('sends each upstream RTBH route only through the adapters that speak to that upstream', () => {
    const mitigation = mitigationConfigSchema.parse({
      rtbh: {
        upstreams: [
          { name: 'transit-a', communities: ['64500:666'], adapters: ['edge-a'] },
          { name: 'transit-b', communities: ['64501:9999'], nextHopV4: '192.0.2.66' },
        ],
      },
    });
    const e = engine([{ name: 'rtbh', tiers: [{ intents: ['rtbh'], adapters: ['edge-a', 'edge-b'] }] }], {
      mitigation,
    });
    const [act] = activations(e.handle(opened(incident())));
    expect(
      act!.deliveries.map((d) => [
        d.intent.kind === 'rtbh' && d.intent.upstream,
        d.adapters,
        d.intent.kind === 'rtbh' && d.intent.nextHop,
      ]),
    ).toEqual([
      ['transit-a', ['edge-a'], '192.0.2.1'],
      ['transit-b', ['edge-a', 'edge-b'], '192.0.2.66'],
    ]);
  });

  it('records what a detect-only or manual runbook asks for with its mode', () => {
    const e = engine([
      {
        name: 'watch',
        match: { networks: ['203.0.113.0/25'] },
        mode: 'detect-only',
        tiers: [{ intents: ['rtbh'] }],
      },
      { name: 'ask', mode: 'manual', tiers: [{ intents: ['flowspec'] }] },
    ]);
    expect(activations(e.handle(opened(incident({ target: '203.0.113.5' }))))[0]?.mode).toBe('detect-only');
    expect(activations(e.handle(opened(incident({ target: '203.0.113.200' }))))[0]?.mode).toBe('manual');
  });

  it('survives a restart: stored runs restore, unobserved incidents close and de-escalate on schedule', () => {
    const runbook = { name: 'hold', ttl: { seconds: 120 }, tiers: [{ intents: ['flowspec', 'rtbh'] }] };
    const before = engine([runbook]);
    const inc = incident();
    before.handle(opened(inc));
    const stored = before.takeChangedRuns();
    expect(stored.map((r) => [r.id, r.state])).toEqual([[`run-${inc.id}`, 'open']]);
    expect(before.takeChangedRuns()).toEqual([]);

    const after = engine([runbook]);
    after.restore(stored, before.takeChangedHistory());
    const closing = after.closeUnobserved(s(30), 'daemon restarted: the detector lost sight of the incident');
    expect(closing[0]).toMatchObject({
      type: 'note',
      message: 'daemon restarted: the detector lost sight of the incident',
    });
    expect(releases(closing)).toEqual([]);
    expect(releases(after.tick(s(119)))).toEqual([]);
    expect(releases(after.tick(s(120))).map((r) => r.holder)).toEqual([`run-${inc.id}/0`]);
  });

  it('plans escalations with the protected prefixes of the latest settings, refusing with reasons', () => {
    const e = engine([{ name: 'r', tiers: [{ intents: ['flowspec', 'scrubbing'] }] }], {
      mitigation: mitigationConfigSchema.parse({ protectedPrefixes: ['203.0.113.53/32'] }),
    });
    const [act] = activations(e.handle(opened(incident())));
    expect(act!.deliveries.map((d) => d.intent.kind)).toEqual(['flowspec']);
    expect(act!.refused.map((r) => [r.intent.kind, r.code])).toEqual([
      ['scrubbing', 'FG_ERR_SAFETY_PROTECTED'],
    ]);
    expect(act!.refused[0]!.reason).toBe(
      '203.0.113.0/24 covers protected prefix 203.0.113.53/32 (mitigation.protectedPrefixes[0])',
    );
  });
});
