/**
 * `npm run bench -- fuzz [--count N]`: the decoder table (createDecoderTable, every protocol it
 * has registered) fed real exporter datagrams damaged in many ways, and random bytes, ten
 * million by default. Nothing may escape the table, no decoder may throw anything but a
 * WireError, and the heap must not grow without bound. Inputs that break the contract are
 * written to collectors/testdata/crashers/ and the run fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createDecoderTable, type DecoderTable, type WireProtocol } from '../collectors/registry.js';
import { FlowBatch } from '../core/flow/flow-batch.js';
import { type Breach, ContractWatch } from './fuzz/contract-watch.js';
import { CRASHERS_DIR, crasherName, writeCrasher } from './fuzz/crashers.js';
import { Mutator } from './fuzz/mutate.js';
import { Rng } from './fuzz/rng.js';
import { collectSeeds, type SeedStream } from './fuzz/seeds.js';
import { formatQuantity, parseQuantity, UsageError } from './lib/args.js';
import { describeMachine, machineLine } from './lib/machine.js';

const USAGE = `usage: npm run bench -- fuzz [options]

  --count N              inputs to decode (default 10M)
  --seed N               generator seed, to repeat a run exactly (default: random, printed)
  --max-heap-growth MB   fail when the heap grew more than this over the run (default 64)
  --crashers DIR         where breaking inputs go (default collectors/testdata/crashers)
`;

interface Options {
  count: number;
  seed: number;
  maxHeapGrowthMb: number;
  crashersDir: string;
}

function parseOptions(args: string[]): Options | undefined {
  const { values } = parseArgs({
    args,
    options: {
      count: { type: 'string', default: '10M' },
      seed: { type: 'string' },
      'max-heap-growth': { type: 'string', default: '64' },
      crashers: { type: 'string', default: CRASHERS_DIR },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const seed = values.seed === undefined ? (Math.random() * 2 ** 32) >>> 0 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0)
    throw new UsageError(`--seed: "${values.seed}" is not a whole number`);
  return {
    count: parseQuantity(values.count, '--count'),
    seed,
    maxHeapGrowthMb: parseQuantity(values['max-heap-growth'], '--max-heap-growth'),
    crashersDir: values.crashers,
  };
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A full collection, so heap figures compare live data rather than garbage. */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** Exporter addresses: one per seed stream (so its templates stay its own), a few spare. */
class Exporters {
  readonly addresses: string[];
  private fresh = 0;

  constructor(streams: number) {
    this.addresses = [];
    for (let i = 0; i < streams; i++) this.addresses.push(`10.0.${i}.1`);
    for (let i = 0; i < 4; i++) this.addresses.push(`2001:db8:f::${i + 1}`);
  }

  /** Gives slot `i` an address the table has never seen (after a breach, see ContractWatch). */
  renew(i: number): void {
    this.fresh += 1;
    this.addresses[i] = `10.128.${(this.fresh >>> 8) & 0xff}.${this.fresh & 0xff}`;
  }
}

interface Finding {
  name: string;
  path: string;
  breach: Breach | { kind: 'table-threw'; decoder: string; message: string; stack: string | undefined };
  /** Whether the input alone (after the seeds) breaks a fresh table, or needed earlier state. */
  reproducesAlone: boolean;
}

function warmUp(table: DecoderTable, streams: readonly SeedStream[], exporters: Exporters, atMs: number) {
  const batch = new FlowBatch(4096);
  const clear = (b: FlowBatch): void => b.clear();
  const records = new Map<WireProtocol, number>();
  streams.forEach((s, i) => {
    for (const d of s.datagrams) {
      const n = table.decode(d, exporters.addresses[i]!, atMs, batch, clear);
      batch.clear();
      records.set(s.protocol, (records.get(s.protocol) ?? 0) + n);
    }
  });
  return records;
}

/** Decodes `input` on a fresh table that has only seen the seeds. */
function reproducesAlone(
  streams: readonly SeedStream[],
  slot: number,
  input: Uint8Array,
  atMs: number,
): boolean {
  const watch = new ContractWatch();
  const table = createDecoderTable(
    { defaultSamplingRate: 1, exporters: { allow: [] } },
    { logger: watch.logger },
  );
  const exporters = new Exporters(streams.length);
  warmUp(table, streams, exporters, atMs);
  watch.breach = undefined;
  try {
    table.decode(input, exporters.addresses[slot]!, atMs, new FlowBatch(64), (b) => b.clear());
  } catch {
    return true;
  }
  return watch.breach !== undefined;
}

export async function run(args: string[]): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(args);
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError(`${(e as Error).message}\n\n${USAGE}`);
  }
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { count, seed } = options;
  say(`fuzz benchmark  ${machineLine(describeMachine())}`);

  const watch = new ContractWatch();
  const table = createDecoderTable(
    { defaultSamplingRate: 1, exporters: { allow: [] } },
    { logger: watch.logger },
  );
  const protocols = table.protocols();
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-fuzz-'));
  let streams: SeedStream[];
  try {
    streams = await collectSeeds(dir, protocols);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  say(`decoders registered: ${protocols.join(', ')}`);
  for (const s of streams)
    say(`  seeds: ${s.source.padEnd(28)} ${s.datagrams.length} datagrams (${s.protocol})`);

  const exporters = new Exporters(streams.length);
  const startMs = Date.now();
  const warm = warmUp(table, streams, exporters, startMs);
  for (const p of protocols) {
    if ((warm.get(p) ?? 0) === 0)
      throw new Error(`the ${p} seeds decoded to no records: nothing real to mutate`);
  }
  const byProtocol = new Map<WireProtocol, { streams: number[]; inputs: number }>();
  streams.forEach((s, i) => {
    const entry = byProtocol.get(s.protocol) ?? { streams: [], inputs: 0 };
    entry.streams.push(i);
    byProtocol.set(s.protocol, entry);
  });
  const protocolList = [...byProtocol.values()];
  // The first bytes of each seed stream: random bodies behind a valid version field.
  const prefixes = streams.map((s) => s.datagrams[0]!.subarray(0, 4));

  const gc = collectGarbage();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  say(`seed ${seed}, ${formatQuantity(count)} inputs, heap after warm-up ${mb(heapBefore)}`);

  const rng = new Rng(seed);
  const mutator = new Mutator(rng);
  const batch = new FlowBatch(64);
  const clear = (b: FlowBatch): void => b.clear();
  const findings = new Map<string, Finding>();
  let escaped = 0;
  let randomInputs = 0;
  let records = 0;
  const progressEvery = Math.max(1, Math.floor(count / 10));
  const started = process.hrtime.bigint();

  for (let i = 0; i < count; i++) {
    let input: Uint8Array;
    let slot: number;
    const roll = rng.u32() / 4294967296;
    if (roll < 0.08) {
      input = mutator.random(prefixes);
      slot = rng.below(exporters.addresses.length);
      randomInputs += 1;
    } else {
      const group = rng.pick(protocolList);
      group.inputs += 1;
      const streamIndex = rng.pick(group.streams);
      const stream = streams[streamIndex]!;
      const original = rng.pick(stream.datagrams);
      // Now and then an undamaged datagram, so templates damaged earlier are put right again.
      input = roll < 0.13 ? original : mutator.mutate(original, stream.datagrams);
      slot = rng.chance(0.9) ? streamIndex : rng.below(exporters.addresses.length);
    }
    watch.breach = undefined;
    let breach: Finding['breach'] | undefined;
    try {
      records += table.decode(input, exporters.addresses[slot]!, startMs + i / 100, batch, clear);
    } catch (e) {
      escaped += 1;
      breach = {
        kind: 'table-threw',
        decoder: 'decoder table',
        message: e instanceof Error ? e.message : String(e),
        stack: e instanceof Error ? e.stack : undefined,
      };
    }
    batch.clear();
    breach ??= watch.breach;
    if (breach) {
      const name = crasherName(input);
      if (!findings.has(name) && findings.size < 100) {
        const path = writeCrasher(options.crashersDir, input);
        const alone = reproducesAlone(streams, slot, input, startMs);
        findings.set(name, { name, path, breach, reproducesAlone: alone });
        say(`  BREACH ${breach.kind} in ${breach.decoder}: ${breach.message.split('\n')[0]} -> ${path}`);
      }
      exporters.renew(slot);
    }
    if ((i + 1) % progressEvery === 0) {
      const s = Number(process.hrtime.bigint() - started) / 1e9;
      say(
        `  ${formatQuantity(i + 1).padStart(6)} inputs  ${formatQuantity(Math.round((i + 1) / s))}/s  ` +
          `heap ${mb(process.memoryUsage().heapUsed)}  breaches ${findings.size}`,
      );
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  const growth = heapAfter - heapBefore;
  const totals = table.snapshot().totals;
  const decoderExceptions = totals.errors['decoder-exception'] ?? 0;

  say('');
  say(
    `inputs ${count} in ${seconds.toFixed(1)} s: ${formatQuantity(Math.round(count / seconds))} datagrams/s`,
  );
  const mix = [...byProtocol.entries()].map(([p, g]) => `${p} ${g.inputs}`).join(', ');
  say(`  by protocol: ${mix}, random bytes ${randomInputs}; records decoded ${records}`);
  const reasons = Object.entries(totals.errors)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${r} ${n}`);
  say(`  refused by reason: ${reasons.join(', ')}`);
  say(`  exceptions escaped the decoder table: ${escaped}`);
  say(
    `  decoder exceptions other than WireError: ${decoderExceptions} (+ ${countKind(findings, 'not-a-wire-error')} non-Wire FloodgateErrors)`,
  );
  say(
    `  heap before ${mb(heapBefore)}, after ${mb(heapAfter)} (growth ${mb(growth)}, limit ${options.maxHeapGrowthMb} MB)`,
  );
  for (const f of findings.values()) {
    say(
      `  crasher ${f.path} (${f.breach.kind}, ${f.reproducesAlone ? 'reproduces alone after the seeds' : 'needs the state before it'})`,
    );
    if (f.breach.stack) say(indent(f.breach.stack.split('\n').slice(0, 6).join('\n')));
  }
  const heapOk = growth <= options.maxHeapGrowthMb * 2 ** 20;
  const ok = escaped === 0 && decoderExceptions === 0 && findings.size === 0 && heapOk;
  say(
    ok
      ? 'PASS'
      : `FAIL${heapOk ? '' : ': heap grew beyond the limit'}${findings.size > 0 ? `: ${findings.size} crasher(s) written` : ''}`,
  );
  return ok ? 0 : 1;
}

function countKind(findings: Map<string, Finding>, kind: Finding['breach']['kind']): number {
  let n = 0;
  for (const f of findings.values()) if (f.breach.kind === kind) n += 1;
  return n;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
}
