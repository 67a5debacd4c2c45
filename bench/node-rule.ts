/**
 * `npm run bench -- node-rule`: from the incident event to the host-firewall rule in place.
 *
 * The daemon's own path, in process: an "incident opened" event goes to the escalation driver,
 * the runbook's firewall tier plans the intent, the dispatcher hands it to the node adapter, the
 * adapter picks the operator's rule and runs its plan through the local runner, and real iptables
 * inserts the rule, in a network namespace made for the run. The clock stops when the driver's
 * handling of the event resolved, which is after the adapter's commands exited; `iptables -S`
 * then confirms the rule is there (not counted). Between samples the incident closes and the rule is undone.
 *
 * Reference, same run, same machine: the same iptables insert spawned directly from Node with
 * `ip netns exec` (the floor any implementation pays), and its delete.
 */
import { execFile, execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import { builtinNodeCatalogue } from '../adapters/node/builtin-catalogue.js';
import { nodeConfigSchema } from '../adapters/node/config.js';
import { createNodeAdapter } from '../adapters/node/node-adapter.js';
import { createDispatcher } from '../appliance/dispatcher.js';
import { dispatchConfigSchema } from '../appliance/dispatcher-config.js';
import { createEscalationDriver } from '../appliance/escalation-driver.js';
import { openSqliteStore } from '../appliance/store/sqlite-store.js';
import { runbookSchema } from '../core/escalation/config.js';
import { EscalationEngine } from '../core/escalation/engine.js';
import type { Incident } from '../core/incident/incident.js';
import { nullLogger } from '../core/logger.js';
import { defaultMitigationConfig } from '../core/mitigation/config.js';
import type { NodeRule } from '../core/node-rules/rule.js';
import { makeIncident } from '../test/core/mitigation/incident-fixture.js';
import { parseCount, UsageError } from './lib/args.js';
import { describeMachine, machineLine } from './lib/machine.js';

const run = promisify(execFile);

function quantile(sorted: readonly number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

function summary(values: number[]): { median: number; p90: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p90: quantile(s, 0.9), max: s[s.length - 1] ?? Number.NaN };
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

export async function run_(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { samples: { type: 'string', default: '50' } } });
  const samples = parseCount(values.samples ?? '50', '--samples');
  if (process.getuid?.() !== 0) throw new UsageError('node-rule needs root (it makes a network namespace)');
  const ns = `fg-bench-node-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const T0 = Date.now();
  const store = openSqliteStore(':memory:');
  try {
    const rule: NodeRule = {
      id: 'drop-reflection',
      description: '',
      trigger: { type: 'any-incident' },
      action: { type: 'iptables.drop-udp-source-port', params: {} },
      nodes: 'all',
      cooldownMinutes: 1,
      enabled: true,
      riskAcknowledged: false,
      createdAtMs: T0,
      updatedAtMs: T0,
      updatedBy: 'operator:bench',
    };
    store.saveNodeRule(rule);
    // Each sample is a new incident on a new host: no cooldown, no hold-down, no TTL backoff between them.
    const adapter = createNodeAdapter(
      nodeConfigSchema.parse({ nodes: [{ name: 'bench', netns: ns }] }),
      { name: 'hosts', logger: nullLogger, now: Date.now, nodeRules: () => store.listNodeRules() },
      { catalogue: builtinNodeCatalogue() },
    );
    await adapter.start();
    const engine = new EscalationEngine({
      runbooks: [
        runbookSchema.parse({
          name: 'hosts',
          mode: 'automatic',
          tiers: [{ name: 'host-firewall', intents: ['firewall'], adapters: ['hosts'] }],
        }),
      ],
      mitigation: defaultMitigationConfig(),
      hostGroups: [],
      severityLevels: { medium: 2, high: 5, critical: 10 },
    });
    const dispatcher = createDispatcher({
      store,
      adapters: [adapter],
      caps: defaultMitigationConfig().caps,
      retry: dispatchConfigSchema.parse({}).retry,
      logger: nullLogger,
      now: Date.now,
    });
    const driver = createEscalationDriver({ engine, dispatcher, store, logger: nullLogger });

    const floodgate: number[] = [];
    const reference: number[] = [];
    const iptables = (verb: string, host: string) =>
      run('ip', [
        'netns',
        'exec',
        ns,
        'iptables',
        '-w',
        verb,
        'INPUT',
        ...(verb === '-I' ? ['1'] : []),
        '-d',
        host,
        '-p',
        'udp',
        '-m',
        'udp',
        '--sport',
        '123',
        '-j',
        'DROP',
      ]);
    for (let i = 0; i < samples; i++) {
      const host = `203.0.113.${(i % 250) + 1}`;
      // Reference: the bare insert and delete, spawned as the adapter spawns them.
      const r0 = performance.now();
      await iptables('-I', host);
      reference.push(performance.now() - r0);
      await iptables('-D', host);

      const nowMs = Date.now();
      const incident: Incident = makeIncident({
        id: `inc-bench-${i}`,
        target: host,
        family: 'ntp_amplification',
        openedAtMs: nowMs,
        lastOverAtMs: nowMs,
        fingerprint: { sourcePorts: [123], protocols: [17] },
      });
      const t0 = performance.now();
      await driver.handleEvents([{ type: 'opened', atMs: nowMs, incident }]);
      const elapsed = performance.now() - t0;
      const listed = execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-w', '-S', 'INPUT'], {
        encoding: 'utf8',
      });
      if (!listed.includes(`-d ${host}/32 -p udp -m udp --sport 123`)) {
        throw new Error(`sample ${i}: the rule for ${host} is not in place after apply:\n${listed}`);
      }
      floodgate.push(elapsed);
      const closedAt = Date.now();
      await driver.handleEvents([
        { type: 'closed', atMs: closedAt, incident: { ...incident, state: 'closed', closedAtMs: closedAt } },
      ]);
      await driver.tick(closedAt + 3_600_000);
    }
    await adapter.stop();
    const left = execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-w', '-S', 'INPUT'], {
      encoding: 'utf8',
    });
    const f = summary(floodgate);
    const r = summary(reference);
    console.log(machineLine(describeMachine()));
    console.log(`samples: ${samples}`);
    console.log(
      `incident event -> iptables rule in place (Floodgate): median ${fmt(f.median)}, p90 ${fmt(f.p90)}, max ${fmt(f.max)}`,
    );
    console.log(
      `reference (one bare iptables -I via ip netns exec): median ${fmt(r.median)}, p90 ${fmt(r.p90)}, max ${fmt(r.max)}`,
    );
    console.log(
      `ratio Floodgate / reference (medians): ${(f.median / r.median).toFixed(2)}; goal: median under 300 ms: ${f.median < 300 ? 'met' : 'NOT met'}`,
    );
    console.log(
      `rules left in the namespace after the last undo: ${left.split('\n').filter((l) => l.startsWith('-A')).length}`,
    );
    return 0;
  } finally {
    store.close();
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

export { run_ as run };
