/**
 * Runs a benchmark in a network namespace of its own. The kernel's UDP counters
 * (/proc/net/snmp) are per namespace: inside a fresh one, every RcvbufErrors the benchmark
 * reads was caused by the benchmark, not by a test suite or another collector on the same
 * machine. The namespace has only a loopback interface, which is all the benchmark uses, and
 * it disappears with the last process in it.
 */
import { spawn } from 'node:child_process';
import { runProcess } from '../../test/lab/run-process.js';
import { findExecutable } from '../../test/lab/tools.js';

const MARK = 'FLOODGATE_BENCH_NETNS';

export function insideBenchNamespace(): boolean {
  return process.env[MARK] === '1';
}

/**
 * Starts this same benchmark command again inside `unshare --net` and resolves with its exit
 * code. Needs root (CAP_SYS_ADMIN); the caller offers --no-netns otherwise.
 */
export function rerunInNewNamespace(): Promise<number> {
  const unshare = findExecutable('unshare');
  if (!unshare) {
    return Promise.reject(new Error('unshare (util-linux) is not installed; run with --no-netns instead'));
  }
  const argv = [unshare, '--net', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env: { ...process.env, [MARK]: '1' } });
    // Ctrl-C reaches the child through the terminal's process group; the parent only waits.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    child.once('error', (e) => reject(new Error(`could not start ${unshare}: ${e.message}`)));
    child.once('close', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

/** A new namespace's loopback starts down. */
export async function bringUpLoopback(): Promise<void> {
  const ip = findExecutable('ip');
  if (!ip) throw new Error('the "ip" command (iproute2) is needed to bring up loopback in the namespace');
  const r = await runProcess([ip, 'link', 'set', 'lo', 'up'], { timeoutMs: 10_000 });
  if (r.exitCode !== 0) throw new Error(`ip link set lo up failed: ${r.stderr.trim()}`);
}
