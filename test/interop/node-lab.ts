/**
 * The node-firewall lab: two network namespaces joined by a veth pair. The "rx" namespace plays
 * the attacked node (10.77.0.1, fd77::1) whose firewall the action changes; the "tx" namespace
 * sends traffic from three sources per family (10.77.0.2-4, fd77::2-4). A traffic agent in each
 * (node-lab-agent.ts) sends and counts packets, so a test can show what gets through before,
 * during and after an action.
 *
 * Commands of the plan run through `labRunner`: `ip netns exec RX argv...` from an argv array,
 * recording every argv so a test can check that exactly the previewed commands ran.
 *
 * Cleanup kills both agents by PID, deletes both namespaces (netns.ts kills anything left inside)
 * and removes the /etc/netns/RX directory a test populated; it runs from afterAll and again from
 * the process exit hook.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CommandResult, CommandRunner, RunOptions } from '../../adapters/exec/command-runner.js';
import type { ActionIncident, ActionPlan, StepOutcome } from '../../adapters/node/actions/action-type.js';
import { appliedSteps, runSteps } from '../../adapters/node/actions/run-steps.js';
import { FloodgateError } from '../../core/errors.js';
import { createNetns, type Netns, requireRoot } from './netns.js';
import { AGENT_SOURCE } from './node-lab-agent.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export type Family = 4 | 6;

export const LAB_ADDRESSES: Record<Family, { target: string; sources: [string, string, string] }> = {
  4: { target: '10.77.0.1', sources: ['10.77.0.2', '10.77.0.3', '10.77.0.4'] },
  6: { target: 'fd77::1', sources: ['fd77::2', 'fd77::3', 'fd77::4'] },
};

/** The receiving side's interface (inside the rx namespace). */
export const RX_IF = 'fgrx';
const TX_IF = 'fgtx';
export const UDP_PORTS = [5301, 5302] as const;
export const TCP_PORT = 5401;

/** A CommandRunner that runs argv inside a namespace, as the local runner would on a node. */
export interface LabRunner extends CommandRunner {
  /** Every argv run, checks included, in order. */
  readonly calls: string[][];
}

export function labRunner(namespace: string): LabRunner {
  const calls: string[][] = [];
  return {
    where: `netns ${namespace}`,
    calls,
    run(argv: readonly string[], options?: RunOptions): Promise<CommandResult> {
      calls.push([...argv]);
      const started = performance.now();
      return new Promise((resolve, reject) => {
        execFile(
          'ip',
          ['netns', 'exec', namespace, ...argv],
          { timeout: options?.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
          (err, stdout, stderr) => {
            const durationMs = performance.now() - started;
            const code = (err as { code?: unknown } | null)?.code;
            if (err && typeof code !== 'number') {
              const timedOut = (err as { killed?: boolean }).killed === true;
              reject(
                new FloodgateError(
                  timedOut ? 'FG_ERR_EXEC_TIMEOUT' : 'FG_ERR_EXEC_START',
                  `${argv.join(' ')} in ${namespace}: ${err.message}`,
                ),
              );
              return;
            }
            resolve({ exitCode: typeof code === 'number' ? code : 0, stdout, stderr, durationMs });
          },
        );
      });
    },
    close: async () => {},
  };
}

/** One agent process; requests and answers are JSON lines matched by id. */
class Agent {
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<
    number,
    { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  private stderr = '';

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    child.stdout?.on('data', (d: Buffer) => {
      this.buffer += d.toString('utf8');
      let nl = this.buffer.indexOf('\n');
      while (nl >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        nl = this.buffer.indexOf('\n');
        const answer = JSON.parse(line) as Record<string, unknown>;
        const waiter = this.pending.get(answer['id'] as number);
        this.pending.delete(answer['id'] as number);
        if (answer['ok'] === true) waiter?.resolve(answer);
        else waiter?.reject(new Error(`${this.name} agent: ${String(answer['error'])}`));
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-4096);
    });
    child.once('exit', (code) => {
      for (const w of this.pending.values())
        w.reject(new Error(`${this.name} agent exited (${code}): ${this.stderr}`));
      this.pending.clear();
    });
  }

  request(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin?.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }

  stop(): void {
    if (this.child.pid !== undefined && this.child.exitCode === null) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

function startAgent(ns: Netns): Agent {
  const child = spawn('ip', ['netns', 'exec', ns.name, PYTHON, '-u', '-c', AGENT_SOURCE], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start the traffic agent in ${ns.name}`);
  return new Agent(child, ns.name);
}

async function must(ns: Netns, argv: string[]): Promise<string> {
  const r = await ns.run(argv);
  if (r.code !== 0)
    throw new Error(`${argv.join(' ')} in ${ns.name} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface UdpProbe {
  family: Family;
  /** Which sender address (0-2). */
  from?: number;
  port?: number;
  sport?: number;
  count?: number;
  size?: number;
  pps?: number;
}

export interface NodeLab {
  rx: Netns;
  tx: Netns;
  runner: LabRunner;
  /** UDP datagrams the receiver got from the probe's source (sends `count`, waits for the tail). */
  udp(probe: UdpProbe): Promise<{ sent: number; received: number; seconds: number }>;
  /** TCP connections the sender completed within `waitMs`. */
  tcp(probe: { family: Family; from?: number; count?: number; waitMs?: number }): Promise<number>;
  /** Whether one ping from the source gets its reply. */
  ping(family: Family, from?: number): Promise<boolean>;
  /** Runs in rx and returns stdout (must exit 0). */
  sh(argv: string[]): Promise<string>;
  /** The rulesets and kernel state an action may change, normalised (counters out). */
  snapshot(): Promise<Record<string, string>>;
  /** Copies /etc/NAME to /etc/netns/RX/NAME, which `ip netns exec RX` mounts over /etc/NAME. */
  privateEtc(name: string): string;
  apply(plan: ActionPlan): Promise<StepOutcome[]>;
  /** `applied`: the outcomes of the plan's first apply, as the node adapter keeps them in the run record. */
  undo(plan: ActionPlan, applied?: readonly StepOutcome[]): Promise<StepOutcome[]>;
  cleanup(): Promise<void>;
}

export function labIncident(family: Family, overrides: Partial<ActionIncident> = {}): ActionIncident {
  return {
    incidentId: `inc-lab-v${family}`,
    target: LAB_ADDRESSES[family].target,
    ipVersion: family,
    family: 'udp_flood',
    severity: 3,
    pps: 100_000,
    bps: 800_000_000,
    sources: [LAB_ADDRESSES[family].sources[0]],
    sourcePorts: [],
    destinationPorts: [UDP_PORTS[0]],
    protocols: [17],
    ...overrides,
  };
}

/**
 * The most a limit of `rate` per second with `burst` lets through while a probe sends for
 * `seconds`, with room for the probe's tail and a loaded machine.
 */
export function limitAllows(rate: number, burst: number, seconds: number): number {
  return Math.ceil(burst + rate * (seconds + 0.5)) + 10;
}

/** Throws with the failing step's command and output unless every outcome is ok. */
export function expectAllOk(outcomes: StepOutcome[], what: string): void {
  const bad = outcomes.find((o) => !o.ok);
  if (bad) {
    throw new Error(
      `${what}: step failed: ${bad.command}\n  error: ${bad.error}\n  stderr: ${bad.stderr}\n  stdout: ${bad.stdout}`,
    );
  }
}

function normaliseSave(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n')
    .replace(/\[\d+:\d+\]/g, '[_]');
}

export async function createNodeLab(label: string): Promise<NodeLab> {
  requireRoot();
  const rx = await createNetns(`${label}rx`);
  const tx = await createNetns(`${label}tx`).catch(async (e) => {
    await rx.cleanup();
    throw e;
  });
  const agents: Agent[] = [];
  const etcDir = join('/etc/netns', rx.name);
  let etcCreated = false;
  const removeEtc = (): void => {
    if (etcCreated && rx.name.startsWith('fg-')) rmSync(etcDir, { recursive: true, force: true });
  };
  process.once('exit', removeEtc);
  const cleanup = async (): Promise<void> => {
    for (const a of agents) a.stop();
    await Promise.allSettled([rx.cleanup(), tx.cleanup()]);
    removeEtc();
  };
  try {
    await must(rx, ['ip', 'link', 'add', RX_IF, 'type', 'veth', 'peer', 'name', TX_IF, 'netns', tx.name]);
    await must(rx, ['ip', 'addr', 'add', `${LAB_ADDRESSES[4].target}/24`, 'dev', RX_IF]);
    await must(rx, ['ip', 'addr', 'add', `${LAB_ADDRESSES[6].target}/64`, 'dev', RX_IF, 'nodad']);
    for (const a of LAB_ADDRESSES[4].sources) await must(tx, ['ip', 'addr', 'add', `${a}/24`, 'dev', TX_IF]);
    for (const a of LAB_ADDRESSES[6].sources)
      await must(tx, ['ip', 'addr', 'add', `${a}/64`, 'dev', TX_IF, 'nodad']);
    // No duplicate address detection: link-local addresses (and their local routes) appear at
    // once instead of a second later, in the middle of a test's before/after comparison.
    await must(rx, ['sysctl', '-q', '-w', `net.ipv6.conf.${RX_IF}.accept_dad=0`]);
    await must(tx, ['sysctl', '-q', '-w', `net.ipv6.conf.${TX_IF}.accept_dad=0`]);
    await must(rx, ['ip', 'link', 'set', RX_IF, 'up']);
    await must(tx, ['ip', 'link', 'set', TX_IF, 'up']);
    for (const ns of [rx, tx]) {
      for (let i = 0; ; i++) {
        const routes = await must(ns, ['ip', '-6', 'route', 'show', 'table', 'local']);
        if (/^local fe80::/m.test(routes)) break;
        if (i > 50) throw new Error(`no IPv6 link-local address came up in ${ns.name}`);
        await sleep(50);
      }
    }

    const rxAgent = startAgent(rx);
    const txAgent = startAgent(tx);
    agents.push(rxAgent, txAgent);
    for (const port of UDP_PORTS) await rxAgent.request({ op: 'listen', proto: 'udp', port });
    await rxAgent.request({ op: 'listen', proto: 'tcp', port: TCP_PORT });

    const received = async (port: number, source: string): Promise<number> => {
      const r = await rxAgent.request({ op: 'counts', proto: 'udp', port });
      return (r['bySource'] as Record<string, number>)[source] ?? 0;
    };

    const runner = labRunner(rx.name);
    const lab: NodeLab = {
      rx,
      tx,
      runner,
      async udp(probe) {
        const source = LAB_ADDRESSES[probe.family].sources[probe.from ?? 0]!;
        const port = probe.port ?? UDP_PORTS[0];
        const before = await received(port, source);
        const r = await txAgent.request({
          op: 'udp',
          dst: LAB_ADDRESSES[probe.family].target,
          port,
          src: source,
          count: probe.count ?? 200,
          ...(probe.sport !== undefined ? { sport: probe.sport } : {}),
          ...(probe.size !== undefined ? { size: probe.size } : {}),
          ...(probe.pps !== undefined ? { pps: probe.pps } : {}),
        });
        // Wait until the count stops moving (queues, the receiver thread).
        let last = -1;
        let now = await received(port, source);
        for (let i = 0; i < 20 && now !== last; i++) {
          await sleep(60);
          last = now;
          now = await received(port, source);
        }
        return { sent: r['sent'] as number, received: now - before, seconds: r['seconds'] as number };
      },
      async tcp(probe) {
        const r = await txAgent.request({
          op: 'tcp',
          dst: LAB_ADDRESSES[probe.family].target,
          port: TCP_PORT,
          src: LAB_ADDRESSES[probe.family].sources[probe.from ?? 0],
          count: probe.count ?? 20,
          waitMs: probe.waitMs ?? 500,
        });
        return r['connected'] as number;
      },
      async ping(family, from = 0) {
        const r = await txAgent.request({
          op: 'ping',
          dst: LAB_ADDRESSES[family].target,
          src: LAB_ADDRESSES[family].sources[from],
          waitMs: 700,
        });
        return r['replied'] === true;
      },
      sh: (argv) => must(rx, argv),
      async snapshot() {
        const out = async (argv: string[]): Promise<string> => (await rx.run(argv)).stdout;
        const links = (await out(['ip', '-o', 'link', 'show']))
          .split('\n')
          .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
          .filter((n) => n !== undefined)
          .join(' ');
        return {
          iptables: normaliseSave(await out(['iptables-save'])),
          ip6tables: normaliseSave(await out(['ip6tables-save'])),
          nft: (await out(['nft', 'list', 'ruleset'])).replace(/packets \d+ bytes \d+/g, 'packets _ bytes _'),
          ipset: (await out(['ipset', 'list']))
            .replace(/^Size in memory: \d+$/gm, 'Size in memory: _')
            .replace(/^(\S+) timeout \d+/gm, '$1 timeout _'),
          qdiscs: await out(['tc', 'qdisc', 'show']),
          ingressFilters: await out(['tc', 'filter', 'show', 'dev', RX_IF, 'ingress']),
          links,
          routes4: await out(['ip', '-4', 'route', 'show', 'table', 'all']),
          routes6: await out(['ip', '-6', 'route', 'show', 'table', 'all']),
        };
      },
      privateEtc(name) {
        if (!/^[a-z0-9]+$/.test(name)) throw new Error(`not an /etc entry we copy: ${name}`);
        mkdirSync(etcDir, { recursive: true });
        etcCreated = true;
        const target = join(etcDir, name);
        cpSync(join('/etc', name), target, { recursive: true });
        return target;
      },
      apply: (plan) => runSteps(plan.apply, runner, { mode: 'apply' }),
      undo: (plan, applied) =>
        runSteps(plan.undo, runner, {
          mode: 'undo',
          ...(applied === undefined ? {} : { appliedSteps: appliedSteps(plan.apply, applied) }),
        }),
      cleanup,
    };
    return lab;
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** The argv of the steps that really ran (not skipped), in order. */
export function ranArgv(outcomes: StepOutcome[]): string[][] {
  return outcomes.filter((o) => !o.skipped).map((o) => o.argv);
}

export interface Exercise {
  /** Traffic that must flow before the action and again after its undo. */
  flows(): Promise<void>;
  /** Traffic that must be dropped or limited while the action is in place. */
  blocked(): Promise<void>;
  /** For tools that act in the background (fail2ban): resolves once an apply has taken effect. */
  applied?(): Promise<void>;
  /** Resolves once an undo has taken effect. */
  undone?(): Promise<void>;
}

/** Polls `condition` every 50 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * The whole life of one plan against the real tools: traffic flows; apply; apply again changes
 * nothing; traffic is dropped or limited; undo; traffic flows again and the rulesets are back to
 * exactly what they were; undo again succeeds and changes nothing.
 */
export async function exercise(lab: NodeLab, plan: ActionPlan, checks: Exercise): Promise<void> {
  const before = await lab.snapshot();
  await checks.flows();

  const firstCall = lab.runner.calls.length;
  const applied = await lab.apply(plan);
  expectAllOk(applied, `${plan.actionType} apply`);
  await checks.applied?.();
  // What ran is byte for byte the plan's argv (previews format these same arrays).
  const ran = lab.runner.calls.slice(firstCall).map((a) => JSON.stringify(a));
  for (const argv of ranArgv(applied)) {
    if (!ran.includes(JSON.stringify(argv))) throw new Error(`runner never saw ${argv.join(' ')}`);
  }
  if (!plan.apply.some((s) => applied.some((o) => !o.skipped && o.argv.join('\0') === s.argv.join('\0')))) {
    throw new Error(`${plan.actionType}: the first apply ran nothing`);
  }
  const inPlace = await lab.snapshot();
  if (JSON.stringify(inPlace) === JSON.stringify(before)) {
    throw new Error(`${plan.actionType}: apply changed nothing visible`);
  }
  expectAllOk(await lab.apply(plan), `${plan.actionType} apply again`);
  await checks.applied?.();
  expectSame(await lab.snapshot(), inPlace, `${plan.actionType}: applying twice`);

  await checks.blocked();

  expectAllOk(await lab.undo(plan, applied), `${plan.actionType} undo`);
  await checks.undone?.();
  await checks.flows();
  expectSame(await lab.snapshot(), before, `${plan.actionType}: after undo`);
  expectAllOk(await lab.undo(plan, applied), `${plan.actionType} undo again`);
  await checks.undone?.();
  expectSame(await lab.snapshot(), before, `${plan.actionType}: after a second undo`);
}

function expectSame(actual: Record<string, string>, expected: Record<string, string>, what: string): void {
  for (const key of Object.keys(expected)) {
    if (actual[key] !== expected[key]) {
      throw new Error(`${what}: ${key} differs\n--- expected\n${expected[key]}\n--- actual\n${actual[key]}`);
    }
  }
}
