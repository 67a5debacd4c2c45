/**
 * A UDP sink standing in for a collector: keeps every datagram with its arrival time, so a
 * test can decode exactly what an exporter sent. softflowd sends a whole capture's flows in one
 * burst at end of file, so the receive buffer is asked as large as the kernel allows
 * (net.core.rmem_max caps it); tests compare the count received with what the exporter says
 * it sent, which catches any drop.
 */
import { createSocket } from 'node:dgram';

export interface ReceivedDatagram {
  readonly data: Buffer;
  /** Date.now() when the datagram was read. */
  readonly arrivalMs: number;
  readonly from: string;
  readonly fromPort: number;
}

export interface SettleOptions {
  /** Settled once this long passed without a datagram. Default 250 ms. */
  quietMs?: number;
  /** Keep waiting (up to timeoutMs) until at least this many arrived. Default 1. */
  atLeast?: number;
  /** Default 10 s. */
  timeoutMs?: number;
}

export interface DatagramSink {
  readonly host: string;
  readonly port: number;
  /** Every datagram so far, in arrival order; keeps growing until close(). */
  readonly datagrams: ReceivedDatagram[];
  /** Socket errors after bind (rare on UDP); kept for the test to assert on, never thrown. */
  readonly errors: Error[];
  /**
   * Resolves with the datagrams once the sender has gone quiet; rejects when fewer than
   * `atLeast` arrived before `timeoutMs`.
   */
  settle(options?: SettleOptions): Promise<ReceivedDatagram[]>;
  close(): Promise<void>;
}

const RECEIVE_BUFFER_BYTES = 16 * 1024 * 1024;

export function collectDatagrams(port = 0, host = '127.0.0.1'): Promise<DatagramSink> {
  const socket = createSocket({
    type: host.includes(':') ? 'udp6' : 'udp4',
    recvBufferSize: RECEIVE_BUFFER_BYTES,
  });
  const datagrams: ReceivedDatagram[] = [];
  const errors: Error[] = [];
  let lastArrivalMs = Date.now();
  let closed = false;
  socket.on('message', (data, rinfo) => {
    lastArrivalMs = Date.now();
    datagrams.push({ data, arrivalMs: lastArrivalMs, from: rinfo.address, fromPort: rinfo.port });
  });

  const settle = async (options: SettleOptions = {}): Promise<ReceivedDatagram[]> => {
    const quietMs = options.quietMs ?? 250;
    const atLeast = options.atLeast ?? 1;
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const now = Date.now();
      if (datagrams.length >= atLeast && now - lastArrivalMs >= quietMs) return datagrams;
      if (now >= deadline) {
        throw new Error(
          `UDP sink on ${host}:${boundPort}: ${datagrams.length} datagrams arrived, expected at least ${atLeast}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const close = (): Promise<void> =>
    new Promise((resolve) => {
      if (closed) return resolve();
      closed = true;
      socket.close(() => resolve());
    });

  let boundPort = port;
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      // After bind, a socket error must not crash the test process: keep it for the test.
      socket.on('error', (e) => errors.push(e));
      boundPort = socket.address().port;
      resolve({ host, port: boundPort, datagrams, errors, settle, close });
    });
  });
}
