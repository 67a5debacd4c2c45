/**
 * `npm run bench -- bgp-gobgp [--samples N] [--rules N]`: how fast the GoBGP adapter puts
 * FlowSpec rules into a real gobgpd and how soon a BGP peer has them. Two gobgpd run in a
 * network namespace of their own (needs root), "edge" fed by the adapter over gRPC and "peer"
 * receiving over iBGP; presence is read from the peer's Adj-RIB-In.
 *
 * - latency: apply() of one rule until the peer holds it, `--samples` times (default 50); the
 *   reference is gobgp's own CLI adding the same rule, measured the same way in the same run;
 * - bulk: `--rules` FlowSpec rules (default 1000) applied one after another until the peer holds
 *   them all, then withdrawn until it holds none; the reference is the same paths sent with bare
 *   AddPath/DeletePath calls (the adapter's overhead is the difference).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toHex } from '../adapters/bgp/bytes.js';
import { encodeFlowSpecNlri } from '../adapters/bgp/flowspec-nlri.js';
import { routeFor } from '../adapters/bgp/intent-routes.js';
import type { AdapterReceipt, MitigationAdapter } from '../adapters/contract.js';
import type { GobgpClient } from '../adapters/gobgp/api-client.js';
import { FAMILIES, pathFor, withdrawPathFor } from '../adapters/gobgp/api-codec.js';
import { gobgpConfigSchema } from '../adapters/gobgp/config.js';
import { createGobgpAdapter } from '../adapters/gobgp/gobgp-adapter.js';
import { nullLogger } from '../core/logger.js';
import type { FlowSpecIntent } from '../core/mitigation/intent.js';
import { type FlowSpecContent, intentId } from '../core/mitigation/intent-id.js';
import { GOBGP_CLI, type RunningGobgp, startGobgp, waitEstablished } from '../test/interop/gobgp-lab.js';
import { createNetns, type Netns } from '../test/interop/netns.js';
import { parseQuantity, UsageError } from './lib/args.js';
import { describeMachine, machineLine } from './lib/machine.js';

const USAGE = `usage: npm run bench -- bgp-gobgp [options]   (as root: it creates a network namespace)

  --samples N   single-rule latency samples (default 50)
  --rules N     rules in the bulk announce/withdraw (default 1000)
`;

const EDGE = '127.0.0.2';
const PEER = '127.0.0.3';

function rule(i: number): FlowSpecIntent {
  const content: FlowSpecContent = {
    kind: 'flowspec',
    ipVersion: 4,
    match: { destination: `198.18.${(i >> 8) & 255}.${i & 255}/32`, protocols: [17], sourcePorts: [123] },
    action: { type: 'discard' },
  };
  return { ...content, id: intentId(content), incidentId: 'bench' };
}

function nlriHex(intent: FlowSpecIntent): string {
  const route = routeFor(intent);
  if (route.kind !== 'flowspec') throw new Error('not a FlowSpec route');
  return toHex(encodeFlowSpecNlri(route.nlri));
}

/** NLRIs (hex, length byte included) the peer holds from the edge. */
async function atPeer(peer: GobgpClient): Promise<Set<string>> {
  const paths = await peer.listPath(FAMILIES['ipv4-flowspec'], {
    table: 'ADJ_IN',
    neighbor: EDGE,
    binary: true,
  });
  return new Set(paths.map((p) => Buffer.from(p.nlri_binary ?? []).toString('hex')));
}

async function until(
  peer: GobgpClient,
  done: (held: Set<string>) => boolean,
  intervalMs: number,
): Promise<number> {
  const deadline = performance.now() + 120_000;
  for (;;) {
    if (done(await atPeer(peer))) return performance.now();
    if (performance.now() > deadline) throw new Error('the peer did not converge within 120 s');
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(label: string, values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(1).padStart(7);
  return `  ${label.padEnd(36)} median ${f(percentile(s, 50))} ms   p95 ${f(percentile(s, 95))} ms   max ${f(s.at(-1)!)} ms`;
}

function cli(api: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(GOBGP_CLI, ['--target', api, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`gobgp ${args.join(' ')}: ${err}`)),
    );
  });
}

async function latency(adapter: MitigationAdapter, edge: RunningGobgp, peer: GobgpClient, samples: number) {
  const adapterMs: number[] = [];
  const applyMs: number[] = [];
  const cliMs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const intent = rule(60_000 + i);
    const key = nlriHex(intent);
    const t0 = performance.now();
    const receipt = await adapter.apply(intent);
    applyMs.push(performance.now() - t0);
    adapterMs.push((await until(peer, (h) => h.has(key), 1)) - t0);
    await adapter.withdraw(receipt);
    await until(peer, (h) => !h.has(key), 1);

    // Reference: gobgp's CLI adding the same rule (a process per call, as operators script it).
    const c0 = performance.now();
    await cli(edge.api, [
      'global',
      'rib',
      '-a',
      'ipv4-flowspec',
      'add',
      'match',
      'destination',
      intent.match.destination,
      'protocol',
      '==udp',
      'source-port',
      '==123',
      'then',
      'discard',
    ]);
    cliMs.push((await until(peer, (h) => h.size > 0, 1)) - c0);
    await cli(edge.api, ['global', 'rib', '-a', 'ipv4-flowspec', 'del', 'all']);
    await until(peer, (h) => h.size === 0, 1);
  }
  return { adapterMs, applyMs, cliMs };
}

async function bulk(adapter: MitigationAdapter, edge: RunningGobgp, peer: GobgpClient, count: number) {
  const intents = Array.from({ length: count }, (_, i) => rule(i));
  const keys = new Set(intents.map(nlriHex));
  const all = (h: Set<string>) => h.size === keys.size;
  const none = (h: Set<string>) => h.size === 0;

  const a0 = performance.now();
  const receipts: AdapterReceipt[] = [];
  for (const intent of intents) receipts.push(await adapter.apply(intent));
  const applied = performance.now() - a0;
  const announced = (await until(peer, all, 10)) - a0;
  const w0 = performance.now();
  for (const r of receipts) await adapter.withdraw(r);
  const withdrawCalls = performance.now() - w0;
  const withdrawn = (await until(peer, none, 10)) - w0;

  // Reference: the same paths through bare gRPC calls.
  const paths = intents.map((i) => routeFor(i));
  const r0 = performance.now();
  for (const route of paths) await edge.client.addPath(pathFor(route));
  const rawAnnounced = (await until(peer, all, 10)) - r0;
  const d0 = performance.now();
  for (const route of paths) await edge.client.deletePath(FAMILIES['ipv4-flowspec'], withdrawPathFor(route));
  const rawWithdrawn = (await until(peer, none, 10)) - d0;
  return { applied, announced, withdrawCalls, withdrawn, rawAnnounced, rawWithdrawn };
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      samples: { type: 'string', default: '50' },
      rules: { type: 'string', default: '1000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const samples = parseQuantity(values.samples, '--samples');
  const rules = parseQuantity(values.rules, '--rules');
  if (rules > 65_000) throw new UsageError('--rules: at most 65000 (one /32 in 198.18.0.0/16 each)');
  if (process.getuid?.() !== 0)
    throw new UsageError('bgp-gobgp needs root: it runs gobgpd in a network namespace');

  let ns: Netns | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-gobgp-'));
  try {
    ns = await createNetns('benchgobgp');
    await ns.addAddress(`${EDGE}/8`);
    await ns.addAddress(`${PEER}/8`);
    const families = ['ipv4-flowspec'];
    const peer = await startGobgp(ns, dir, {
      name: 'peer',
      asn: 65001,
      routerId: '10.0.0.3',
      listen: [PEER],
      neighbors: [{ address: EDGE, peerAs: 65001, localAddress: PEER, passive: true, families }],
    });
    const edge = await startGobgp(ns, dir, {
      name: 'edge',
      asn: 65001,
      routerId: '10.0.0.2',
      listen: [EDGE],
      neighbors: [{ address: PEER, peerAs: 65001, localAddress: EDGE, families }],
    });
    await waitEstablished(ns, edge, PEER);
    const adapter = createGobgpAdapter(
      gobgpConfigSchema.parse({ api: edge.api, capabilities: ['flowspec4'], timeoutMs: 30_000 }),
      { name: 'bench-gobgp', logger: nullLogger, now: () => Date.now() },
    );
    await adapter.start();

    process.stdout.write(`${machineLine(describeMachine())}\n`);
    process.stdout.write(`gobgpd edge -> iBGP -> gobgpd peer, presence polled in the peer's Adj-RIB-In\n\n`);
    const l = await latency(adapter, edge, peer.client, samples);
    process.stdout.write(`single FlowSpec rule, ${samples} samples:\n`);
    process.stdout.write(`${summary('adapter apply() returns', l.applyMs)}\n`);
    process.stdout.write(`${summary('adapter apply() -> at the peer', l.adapterMs)}\n`);
    process.stdout.write(`${summary('reference: gobgp CLI -> at the peer', l.cliMs)}\n\n`);

    const b = await bulk(adapter, edge, peer.client, rules);
    const s = (ms: number) => `${(ms / 1000).toFixed(2).padStart(6)} s`;
    const rate = (ms: number) =>
      `${Math.round(rules / (ms / 1000))
        .toLocaleString('en-US')
        .padStart(7)} rules/s`;
    process.stdout.write(`${rules} FlowSpec rules, one after another:\n`);
    process.stdout.write(`  adapter apply() x${rules}          ${s(b.applied)}  ${rate(b.applied)}\n`);
    process.stdout.write(`  ... all at the peer               ${s(b.announced)}  ${rate(b.announced)}\n`);
    process.stdout.write(
      `  adapter withdraw() x${rules}       ${s(b.withdrawCalls)}  ${rate(b.withdrawCalls)}\n`,
    );
    process.stdout.write(`  ... all gone from the peer        ${s(b.withdrawn)}  ${rate(b.withdrawn)}\n`);
    process.stdout.write(
      `  reference: bare AddPath, at peer  ${s(b.rawAnnounced)}  ${rate(b.rawAnnounced)}\n`,
    );
    process.stdout.write(
      `  reference: bare DeletePath, gone  ${s(b.rawWithdrawn)}  ${rate(b.rawWithdrawn)}\n`,
    );
    process.stdout.write(
      `  adapter / reference               announce ${(b.announced / b.rawAnnounced).toFixed(2)}x, withdraw ${(b.withdrawn / b.rawWithdrawn).toFixed(2)}x\n`,
    );
    await adapter.stop();
    edge.client.close();
    peer.client.close();
    return 0;
  } finally {
    await ns?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}
