/**
 * A stand-in for ExaBGP, run as its own process by the adapter tests: it starts Floodgate's real
 * helper as its child (as ExaBGP runs its `process`), answers each command line `done` (or
 * `error` when told to), and reports every command on stdout as a JSON line. Control lines on its
 * stdin: `fail N` (answer the next N commands `error`), `mute` / `unmute` (stop / resume
 * answering), `respawn` (kill the helper and start another, as ExaBGP does when its process
 * dies), `session PEER up|down` (tell the helper about a BGP session).
 *
 *   node --import tsx fake-exabgp.ts SOCKET RETRY_MS
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { helperArgv } from '../../../adapters/exabgp/helper-command.js';
import { lineSplitter } from '../../../adapters/exabgp/protocol.js';

const [socketPath, retry] = process.argv.slice(2);
if (socketPath === undefined) {
  process.stderr.write('usage: fake-exabgp.ts SOCKET [RETRY_MS]\n');
  process.exit(2);
}
const retryMs = Number(retry ?? '50');
let failNext = 0;
let muted = false;
let helper: ChildProcess | undefined;
let respawning = false;

function report(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function startHelper(): void {
  const [node, ...args] = helperArgv({ socketPath: socketPath!, retryMs });
  // The helper's diagnostics only when asked for: FG_FAKE_EXABGP_DEBUG=1.
  const stderr = process.env['FG_FAKE_EXABGP_DEBUG'] === '1' ? 'inherit' : 'ignore';
  const child = spawn(node!, args, { stdio: ['pipe', 'pipe', stderr] });
  helper = child;
  report({ event: 'helper', pid: child.pid });
  child.stdin?.on('error', () => {});
  child.stdout?.on(
    'data',
    lineSplitter(
      (line) => {
        report({ event: 'command', line });
        if (muted) return;
        const answer = failNext > 0 ? 'error' : 'done';
        if (failNext > 0) failNext--;
        child.stdin?.write(`${answer}\n`);
      },
      () => {},
    ),
  );
  child.on('exit', () => {
    if (helper !== child) return;
    helper = undefined;
    // ExaBGP respawns a process that died.
    if (!respawning) startHelper();
  });
}

process.stdin.on(
  'data',
  lineSplitter(
    (line) => {
      const [verb, a, b] = line.trim().split(/\s+/);
      if (verb === 'fail') failNext = Number(a);
      else if (verb === 'mute') muted = true;
      else if (verb === 'unmute') muted = false;
      else if (verb === 'session')
        helper?.stdin?.write(`neighbor ${a} ${b}${b === 'down' ? ' - peer reset' : ''}\n`);
      else if (verb === 'respawn') {
        respawning = true;
        const old = helper;
        helper = undefined;
        old?.once('exit', () => {
          respawning = false;
          startHelper();
        });
        old?.kill('SIGKILL');
      }
    },
    () => {},
  ),
);
process.stdin.on('end', () => {
  helper?.kill('SIGKILL');
  process.exit(0);
});
process.on('SIGTERM', () => {
  helper?.kill('SIGKILL');
  process.exit(0);
});
startHelper();
