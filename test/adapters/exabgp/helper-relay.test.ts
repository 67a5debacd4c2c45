/**
 * The helper's relay without processes: commands written to ExaBGP in order, answers matched by
 * order, other lines ignored, the table following only `done`, reconnection with the table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AdapterReceipt } from '../../../adapters/contract.js';
import { createRelay, type Relay } from '../../../adapters/exabgp/helper-relay.js';
import { type HelperMessage, lineSplitter, parseHelperMessage } from '../../../adapters/exabgp/protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-relay-'));
let n = 0;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function receipt(intentId: string): AdapterReceipt {
  return { adapter: 'exabgp', intentId, kind: 'rtbh', command: `announce ${intentId}`, appliedAtMs: 1 };
}

/** A socket server playing the adapter: collects messages, lets the test send. */
async function adapterSide() {
  const path = join(dir, `r${n++}.sock`);
  const messages: HelperMessage[] = [];
  let client: Socket | undefined;
  const server: Server = createServer((s) => {
    client = s;
    s.on(
      'data',
      lineSplitter(
        (line) => {
          const m = parseHelperMessage(line);
          if (m) messages.push(m);
        },
        () => {},
      ),
    );
  });
  await new Promise<void>((r) => server.listen(path, r));
  cleanups.push(() => server.close());
  return {
    path,
    messages,
    send: (o: unknown) => client?.write(`${JSON.stringify(o)}\n`),
    drop: () => client?.destroy(),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function relayTo(path: string, written: string[]): Relay {
  const relay = createRelay({
    socketPath: path,
    retryMs: 20,
    writeToExabgp: (line) => written.push(line),
    exabgpPid: 4242,
    exabgpStart: '777',
    helperPid: 99,
    log: () => {},
  });
  relay.start();
  cleanups.push(() => relay.stop());
  return relay;
}

describe('exabgp helper relay', () => {
  it('says hello, writes commands in order and matches answers by order, ignoring other lines', async () => {
    const adapter = await adapterSide();
    const written: string[] = [];
    const relay = relayTo(adapter.path, written);
    await expect.poll(() => adapter.messages.length).toBe(1);
    expect(adapter.messages[0]).toEqual({
      t: 'hello',
      v: 1,
      helperPid: 99,
      exabgpPid: 4242,
      exabgpStart: '777',
      table: [],
      sessions: {},
    });
    adapter.send({
      t: 'send',
      id: 'a',
      line: 'announce a',
      effect: { op: 'put', entry: { intentId: 'a', receipt: receipt('a') } },
    });
    adapter.send({
      t: 'send',
      id: 'b',
      line: 'announce b',
      effect: { op: 'put', entry: { intentId: 'b', receipt: receipt('b') } },
    });
    await expect.poll(() => written).toEqual(['announce a\n', 'announce b\n']);
    relay.fromExabgp('neighbor 127.0.0.3 connected');
    relay.fromExabgp('');
    relay.fromExabgp('done');
    relay.fromExabgp('shutdown 1 2 something');
    relay.fromExabgp('error');
    await expect.poll(() => adapter.messages.filter((m) => m.t === 'reply').length).toBe(2);
    const replies = adapter.messages.filter((m) => m.t === 'reply');
    expect(replies.map((m) => m.t === 'reply' && [m.id, m.answer])).toEqual([
      ['a', 'done'],
      ['b', 'error'],
    ]);
    expect(relay.table().map((e) => e.intentId)).toEqual(['a']);
    expect(adapter.messages.find((m) => m.t === 'session')).toEqual({
      t: 'session',
      peer: '127.0.0.3',
      state: 'connected',
      detail: '',
    });
  });

  it('refuses a command spanning lines without writing anything', async () => {
    const adapter = await adapterSide();
    const written: string[] = [];
    relayTo(adapter.path, written);
    await expect.poll(() => adapter.messages.length).toBe(1);
    adapter.send({
      t: 'send',
      id: 'x',
      line: 'announce a\nwithdraw b',
      effect: { op: 'delete', intentId: 'a' },
    });
    await expect.poll(() => adapter.messages.length).toBe(2);
    expect(adapter.messages[1]).toMatchObject({ t: 'reply', id: 'x', answer: 'error' });
    expect(written).toEqual([]);
  });

  it('reconnects with its table and sessions, and takes back adopted entries', async () => {
    const adapter = await adapterSide();
    const written: string[] = [];
    const relay = relayTo(adapter.path, written);
    await expect.poll(() => adapter.messages.length).toBe(1);
    adapter.send({
      t: 'send',
      id: 'a',
      line: 'announce a',
      effect: { op: 'put', entry: { intentId: 'a', receipt: receipt('a') } },
    });
    await expect.poll(() => written.length).toBe(1);
    relay.fromExabgp('neighbor 127.0.0.3 up');
    // The answer arrives while the adapter is away: the table still follows it.
    adapter.drop();
    relay.fromExabgp('done');
    await expect
      .poll(() => adapter.messages.filter((m) => m.t === 'hello').length, { timeout: 2_000 })
      .toBe(2);
    const hello = adapter.messages.filter((m) => m.t === 'hello')[1]!;
    expect(hello.t === 'hello' && hello.table.map((e) => e.intentId)).toEqual(['a']);
    expect(hello.t === 'hello' && hello.sessions).toEqual({ '127.0.0.3': { state: 'up', detail: '' } });
    adapter.send({ t: 'adopt', table: [{ intentId: 'b', receipt: receipt('b') }] });
    await expect.poll(() => relay.table().map((e) => e.intentId)).toEqual(['a', 'b']);
  });

  it('ignores an answer to nothing it sent', async () => {
    const adapter = await adapterSide();
    const relay = relayTo(adapter.path, []);
    await expect.poll(() => adapter.messages.length).toBe(1);
    relay.fromExabgp('done');
    await new Promise((r) => setTimeout(r, 30));
    expect(adapter.messages.length).toBe(1);
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));
