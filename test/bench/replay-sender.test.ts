/**
 * The replay sender compiled with gcc, sending to a UDP socket here: every datagram arrives,
 * in order, with the export sequence number rewritten where each protocol keeps it, and the
 * sequence state it reports continues where the next step starts. Needs gcc.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markerDatagram } from '../../bench/ingest/marker.js';
import { buildReplay, encodeReplay, type Replay, writeReplay } from '../../bench/ingest/replay-file.js';
import { buildSender, sendStep } from '../../bench/ingest/sender.js';

async function receive(
  send: (port: number) => Promise<unknown>,
): Promise<{ datagrams: Buffer[]; result: unknown }> {
  const socket = createSocket('udp4');
  const datagrams: Buffer[] = [];
  socket.on('message', (d) => datagrams.push(d));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  try {
    const result = await send(socket.address().port);
    await new Promise((r) => setTimeout(r, 200));
    return { datagrams, result };
  } finally {
    await new Promise<void>((resolve) => socket.close(resolve));
  }
}

/** Datagrams of `size` bytes whose first byte says which one they are. */
function fakeReplay(version: 9 | 10, records: number[]): Replay {
  const datagrams = records.map((_, i) => {
    const d = Buffer.alloc(40);
    d.writeUInt16BE(version, 0);
    d[39] = i;
    return d;
  });
  const total = records.reduce((a, b) => a + b, 0);
  return { version, datagrams, records, totalRecords: total, recordsPerDatagram: total / records.length };
}

describe('replay sender', () => {
  let dir = '';
  let binary = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fg-bench-sender-'));
    binary = await buildSender(dir);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the replay file replay-sender.c reads', () => {
    const bytes = encodeReplay(fakeReplay(9, [0, 5]));
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('FGRPLAY1');
    expect(bytes.readUInt32LE(8)).toBe(9);
    expect(bytes.readUInt32LE(12)).toBe(2);
    expect(bytes.readUInt32LE(16)).toBe(40);
    expect(bytes.readUInt32LE(20)).toBe(0);
    expect(bytes.readUInt32LE(16 + 8 + 40 + 4)).toBe(5);
    expect(bytes.length).toBe(16 + 2 * (8 + 40));
  });

  it('sends NetFlow v5 with flow sequence numbers that count the records before', async () => {
    const replay = buildReplay(5, [markerDatagram(0, 0), markerDatagram(0, 0), markerDatagram(0, 0)]);
    expect(replay.records).toEqual([30, 30, 30]);
    const path = join(dir, 'v5.bin');
    writeReplay(path, replay);
    const { datagrams, result } = await receive((port) =>
      sendStep({
        binary,
        replayPath: path,
        host: '127.0.0.1',
        port,
        datagramsPerSecond: 1000,
        seconds: 0.007,
        sequence: { datagrams: 10, records: 300 },
      }),
    );
    expect(datagrams.map((d) => d.readUInt32BE(16))).toEqual([300, 330, 360, 390, 420, 450, 480]);
    expect(result).toMatchObject({
      datagrams: 7,
      records: 210,
      errors: 0,
      sequence: { datagrams: 17, records: 510 },
    });
  });

  it('numbers NetFlow v9 by datagram and IPFIX by data record, looping over the replay', async () => {
    const v9 = fakeReplay(9, [0, 10, 20]);
    writeReplay(join(dir, 'v9.bin'), v9);
    const got9 = await receive((port) =>
      sendStep({
        binary,
        replayPath: join(dir, 'v9.bin'),
        host: '127.0.0.1',
        port,
        datagramsPerSecond: 2000,
        seconds: 0.0025,
        sequence: { datagrams: 0, records: 0 },
      }),
    );
    expect(got9.datagrams.map((d) => d[39])).toEqual([0, 1, 2, 0, 1]);
    expect(got9.datagrams.map((d) => d.readUInt32BE(12))).toEqual([0, 1, 2, 3, 4]);
    expect(got9.result).toMatchObject({ datagrams: 5, records: 40 });

    const ipfix = fakeReplay(10, [0, 10, 20]);
    writeReplay(join(dir, 'ipfix.bin'), ipfix);
    const got10 = await receive((port) =>
      sendStep({
        binary,
        replayPath: join(dir, 'ipfix.bin'),
        host: '127.0.0.1',
        port,
        datagramsPerSecond: 2000,
        seconds: 0.002,
        sequence: { datagrams: 3, records: 2 ** 32 - 15 },
      }),
    );
    // IPFIX sequence numbers wrap at 2^32.
    expect(got10.datagrams.map((d) => d.readUInt32BE(8))).toEqual([
      2 ** 32 - 15,
      2 ** 32 - 15,
      2 ** 32 - 5,
      15,
    ]);
  });

  it('holds the rate it is given', async () => {
    const replay = buildReplay(5, [markerDatagram(0, 0)]);
    writeReplay(join(dir, 'rate.bin'), replay);
    const { datagrams, result } = await receive((port) =>
      sendStep({
        binary,
        replayPath: join(dir, 'rate.bin'),
        host: '127.0.0.1',
        port,
        datagramsPerSecond: 5000,
        seconds: 0.5,
        sequence: { datagrams: 0, records: 0 },
      }),
    );
    expect(datagrams.length).toBe(2500);
    const r = result as { seconds: number; datagrams: number };
    expect(r.datagrams).toBe(2500);
    expect(r.seconds).toBeGreaterThan(0.45);
    expect(r.seconds).toBeLessThan(1.5);
  });
});
