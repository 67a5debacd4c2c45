/**
 * The program ExaBGP runs as its `process` for Floodgate (see `floodgate exabgp-config`):
 *
 *   node dist/adapters/exabgp/helper.js --socket /var/lib/floodgate/exabgp-edge.sock
 *
 * It relays command lines from the ExaBGP adapter to ExaBGP (its stdout) and ExaBGP's done/error
 * answers back, and keeps the table of what ExaBGP holds. It exits when ExaBGP closes its stdin
 * (ExaBGP stopped) or says `shutdown`; ExaBGP starts a new one when it restarts.
 * Diagnostics go to stderr, which ExaBGP passes through to its own.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createRelay } from './helper-relay.js';
import { lineSplitter } from './protocol.js';

const USAGE = 'usage: helper.js --socket PATH [--retry-ms MS]';

function log(message: string): void {
  process.stderr.write(`floodgate-exabgp-helper[${process.pid}]: ${message}\n`);
}

/** The parent's start time (field 22 of /proc/PID/stat): with the pid, it names one ExaBGP run. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function main(): void {
  let socketPath: string;
  let retryMs: number;
  try {
    const { values } = parseArgs({
      options: { socket: { type: 'string' }, 'retry-ms': { type: 'string', default: '1000' } },
      strict: true,
    });
    if (values.socket === undefined) throw new Error('--socket is required');
    socketPath = values.socket;
    retryMs = Number(values['retry-ms']);
    if (!Number.isInteger(retryMs) || retryMs < 10) throw new Error('--retry-ms takes a whole number >= 10');
  } catch (e) {
    log(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }

  const relay = createRelay({
    socketPath,
    retryMs,
    // stdout to a pipe is synchronous on Linux: each command reaches ExaBGP whole and in order.
    writeToExabgp: (line) => process.stdout.write(line),
    exabgpPid: process.ppid,
    exabgpStart: processStart(process.ppid),
    helperPid: process.pid,
    log,
  });

  const quit = (why: string): void => {
    log(`${why}; exiting`);
    relay.stop();
    process.exit(0);
  };
  process.stdin.on(
    'data',
    lineSplitter(
      (line) => {
        if (line.startsWith('shutdown')) quit('ExaBGP is shutting down');
        else relay.fromExabgp(line);
      },
      () => log('ExaBGP sent an over-long line; ignored'),
    ),
  );
  process.stdin.on('end', () => quit('ExaBGP closed our stdin'));
  process.on('SIGTERM', () => quit('SIGTERM'));
  process.on('SIGINT', () => quit('SIGINT'));
  // A closed stdout means ExaBGP is gone; writing to it must not crash us with EPIPE first.
  process.stdout.on('error', () => quit('ExaBGP closed our stdout'));
  relay.start();
}

main();
