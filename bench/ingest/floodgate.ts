/**
 * Starts floodgate-receiver.ts in its own process and drives it: the benchmark asks it for its
 * record count over IPC between steps, never while a step is sending.
 */
import { fileURLToPath } from 'node:url';
import { readSocketQueue } from '../lib/kernel-udp.js';
import { type StartedProcess, startNode } from '../lib/processes.js';
import type { ReceiverMessage, ReceiverRequest } from './floodgate-receiver.js';
import type { Receiver, Settled } from './receiver.js';

const ENTRY = fileURLToPath(new URL('./floodgate-receiver.ts', import.meta.url));

type CountReply = Extract<ReceiverMessage, { type: 'count' }>;

export interface FloodgateReceiver extends Receiver {
  /** The collector's own figures: datagrams seen and datagrams refused by reason. */
  count(): Promise<CountReply>;
}

function waitFor<T>(
  proc: StartedProcess,
  match: (m: ReceiverMessage) => T | undefined,
  ms: number,
  what: string,
) {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (m: ReceiverMessage) => {
      const v = match(m);
      if (v === undefined) return;
      done();
      resolve(v);
    };
    const onExit = () => {
      done();
      reject(new Error(`Floodgate receiver exited while waiting for ${what}: ${proc.stderr().trim()}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(
        new Error(`Floodgate receiver did not answer (${what}) within ${ms} ms: ${proc.stderr().trim()}`),
      );
    }, ms);
    const done = () => {
      clearTimeout(timer);
      proc.child.off('message', onMessage);
      proc.child.off('exit', onExit);
    };
    proc.child.on('message', onMessage);
    proc.child.once('exit', onExit);
  });
}

export async function startFloodgate(port: number, receiveBufferBytes: number): Promise<FloodgateReceiver> {
  const proc = startNode(ENTRY, [String(port), String(receiveBufferBytes)]);
  const ready = await waitFor(proc, (m) => (m.type === 'ready' ? m : undefined), 30_000, 'start-up');
  let nextId = 1;

  const count = (): Promise<CountReply> => {
    const id = nextId++;
    const request: ReceiverRequest = { type: 'count', id };
    proc.child.send(request);
    return waitFor(proc, (m) => (m.type === 'count' && m.id === id ? m : undefined), 10_000, 'a count');
  };

  const settle = async (timeoutMs: number): Promise<Settled> => {
    const deadline = Date.now() + timeoutMs;
    let last = await count();
    let stableSince = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await count();
      const queue = readSocketQueue(ready.port);
      if (now.records !== last.records || now.datagrams !== last.datagrams || (queue?.rxQueue ?? 0) > 0) {
        stableSince = Date.now();
      } else if (Date.now() - stableSince >= 300) {
        return { records: now.records, settled: true };
      }
      last = now;
      if (Date.now() > deadline) return { records: now.records, settled: false };
    }
  };

  return {
    name: 'floodgate',
    label: 'Floodgate',
    port: ready.port,
    receiveBufferBytes: ready.receiveBufferBytes,
    processes: () => [{ role: 'collector', pid: proc.pid }],
    count,
    settle,
    async stop() {
      if (proc.child.connected) proc.child.send({ type: 'stop' } satisfies ReceiverRequest);
      const timer = setTimeout(() => void proc.stop(), 3000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}
