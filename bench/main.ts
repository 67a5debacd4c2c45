/**
 * `npm run bench -- <name> [options]`: runs one benchmark; without a name, lists them.
 * Benchmarks are not timed tests: they measure, print their figures next to a reference run on
 * the same machine in the same run, and docs/BENCHMARKS.md records the method and the results.
 * Each benchmark is one file here, loaded only when asked for.
 */
import { UsageError } from './lib/args.js';

export interface Benchmark {
  /** Runs with the arguments after the name; resolves with the process exit code. */
  run(args: string[]): Promise<number>;
}

interface Entry {
  name: string;
  summary: string;
  load: () => Promise<Benchmark>;
}

const BENCHMARKS: readonly Entry[] = [
  {
    name: 'ingest',
    summary:
      'highest NetFlow v9/IPFIX/v5 record rate and sFlow v5 sample rate the UDP collector takes without loss, next to pmacct nfacctd/sfacctd',
    load: () => import('./ingest.js'),
  },
  {
    name: 'fuzz',
    summary:
      'mutated real datagrams and random bytes through the decoder table (default 10M); no exception escapes',
    load: () => import('./fuzz.js'),
  },
  {
    name: 'detect-latency',
    summary: 'first attack datagram to incident event, through the real UDP collector and detector',
    load: () => import('./detect-latency.js'),
  },
  {
    name: 'detect-scale',
    summary: 'the detector with 1,000,000 active destination hosts: resident memory and step time',
    load: () => import('./detect-scale.js'),
  },
  {
    name: 'node-rule',
    summary: 'incident event to host-firewall rule in place (node adapter, real iptables in a namespace)',
    load: () => import('./node-rule.js'),
  },
  {
    name: 'bgp',
    summary: 'how fast a FlowSpec rule reaches a real BGP peer, per speaker (ExaBGP, BIRD)',
    load: () => import('./bgp-speakers.js'),
  },
  {
    name: 'bgp-gobgp',
    summary: 'how fast the GoBGP adapter puts FlowSpec rules into gobgpd and a peer has them',
    load: () => import('./bgp-gobgp.js'),
  },
];

function list(): void {
  process.stdout.write(
    'usage: npm run bench -- <name> [options]   (--help after a name for its options)\n\n',
  );
  const width = Math.max(...BENCHMARKS.map((b) => b.name.length));
  for (const b of BENCHMARKS) process.stdout.write(`  ${b.name.padEnd(width)}  ${b.summary}\n`);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'list') {
    list();
    return 0;
  }
  const entry = BENCHMARKS.find((b) => b.name === name);
  if (!entry) {
    process.stderr.write(`unknown benchmark "${name}"\n\n`);
    list();
    return 2;
  }
  const benchmark = await entry.load();
  return benchmark.run(rest);
}

// Exit explicitly: a socket or timer a benchmark left behind must not keep the run hanging
// (stdout and stderr are synchronous on Linux pipes and files, so nothing printed is lost).
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
