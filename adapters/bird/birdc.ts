/**
 * Runs birdc against one BIRD control socket, from argv arrays (never a shell), killed by PID
 * when it overruns. `-v` makes birdc print BIRD's reply codes (0020 Configuration OK, 0003
 * Reconfigured, 8002 configuration file error, 9001 parse error...), which is how a failed
 * command is told from a successful one.
 */
import { spawn } from 'node:child_process';

export interface BirdcResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs `birdc -s SOCKET ...args`. Tests substitute their own. */
export type BirdcRunner = (args: readonly string[]) => Promise<BirdcResult>;

export function createBirdcRunner(birdc: string, socket: string, timeoutMs: number): BirdcRunner {
  return (args) =>
    new Promise((resolve) => {
      const child = spawn(birdc, ['-s', socket, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid !== undefined) {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // Exited meanwhile.
          }
        }
      }, timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        resolve({ code: null, stdout: '', stderr: `cannot run ${birdc}: ${e.message}`, timedOut: false });
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({
          code,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          timedOut,
        });
      });
    });
}

/** BIRD's numeric reply codes in `-v` output, in order. */
export function replyCodes(stdout: string): number[] {
  return [...stdout.matchAll(/^(\d{4})[ -]/gm)].map((m) => Number(m[1]));
}

/** Why a birdc call failed, in BIRD's own words; undefined when it succeeded. */
export function birdcFailure(result: BirdcResult, what: string): string | undefined {
  if (result.timedOut) return `${what}: birdc did not finish in time`;
  const codes = replyCodes(result.stdout);
  // 8xxx and 9xxx are errors; 0006 is "Reconfiguration ignored, shutting down".
  const failed = result.code !== 0 || codes.some((c) => c >= 8000 || c === 6);
  if (!failed) return undefined;
  const lines = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((l) => l.replace(/^\d{4}[ -]/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('BIRD ') && !l.startsWith('Reading configuration'));
  return `${what}: ${lines.join(' / ') || `birdc exited with ${result.code}`}`;
}

/** birdc's quoting of a file name argument: `configure check "FILE"`. */
export function quotedFile(path: string): string {
  return `"${path}"`;
}
