/**
 * A persistent connection to BIRD's control socket, for polling a table's route count without
 * starting birdc each time (a poll then costs a socket round trip, not a process). BIRD answers
 * each command with lines `CODE-text` and ends it with a line `CODE text` (code and a space).
 */
import { createConnection, type Socket } from 'node:net';

export interface BirdControl {
  /** Sends one command; resolves with its reply lines (codes stripped). */
  command(line: string): Promise<string[]>;
  /** Routes in a table, from `show route table T count`. */
  count(table: string): Promise<number>;
  close(): void;
}

export function connectBirdControl(socketPath: string): Promise<BirdControl> {
  return new Promise((resolve, reject) => {
    const socket: Socket = createConnection(socketPath);
    let buffer = '';
    let lines: string[] = [];
    let waiting: ((lines: string[]) => void) | undefined;
    let greeted = false;
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
        const final = /^\d{4} /.test(line);
        lines.push(/^\d{4}[ -]/.test(line) ? line.slice(5) : line.replace(/^ /, ''));
        if (!final) continue;
        const reply = lines;
        lines = [];
        if (!greeted) {
          greeted = true;
          resolve(control);
        } else {
          const w = waiting;
          waiting = undefined;
          w?.(reply);
        }
      }
    });
    socket.once('error', reject);
    const control: BirdControl = {
      command(line) {
        return new Promise((res) => {
          waiting = res;
          socket.write(`${line}\n`);
        });
      },
      async count(table) {
        const reply = await control.command(`show route table ${table} count`);
        const m = /(\d+) of \d+ routes/.exec(reply.join('\n'));
        if (!m)
          throw new Error(`unexpected answer to "show route table ${table} count": ${reply.join(' / ')}`);
        return Number(m[1]);
      },
      close: () => socket.destroy(),
    };
  });
}
