/**
 * The Floodgate side of the ingest benchmark, run as its own process: the UDP collector the
 * daemon uses (createUdpCollector, with every decoder the registry ships), on one loopback
 * port, feeding a sink that only counts records. Driven over the IPC channel by floodgate.ts.
 *
 * Usage (by floodgate.ts): node --import tsx floodgate-receiver.ts PORT RECEIVE_BUFFER_BYTES
 */
import { collectorsConfigSchema } from '../../collectors/config.js';
import { createUdpCollector } from '../../collectors/udp-listener.js';
import type { FlowBatch } from '../../core/flow/flow-batch.js';
import type { LogFn, Logger } from '../../core/logger.js';

export type ReceiverRequest = { type: 'count'; id: number } | { type: 'stop' };

export type ReceiverMessage =
  | { type: 'ready'; port: number; receiveBufferBytes: number }
  | {
      type: 'count';
      id: number;
      /** Records the sink received. */
      records: number;
      datagrams: number;
      errors: Record<string, number>;
      sinkErrors: number;
    };

function send(message: ReceiverMessage): void {
  process.send?.(message);
}

const toStderr =
  (level: string): LogFn =>
  (a: object | string, msg?: string) => {
    const line = typeof a === 'string' ? { level, msg: a } : { level, ...a, msg };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  };
const ignore: LogFn = () => {};
const logger: Logger = { info: ignore, debug: ignore, warn: toStderr('warn'), error: toStderr('error') };

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const receiveBufferBytes = Number(process.argv[3]);
  const config = collectorsConfigSchema.parse({
    netflow: { listen: [`127.0.0.1:${port}`] },
    sflow: { listen: [] },
    receiveBufferBytes,
  });
  let records = 0;
  const collector = createUdpCollector(config, {
    logger,
    onBatch: (batch: FlowBatch) => {
      records += batch.length;
    },
  });
  await collector.start();
  const stop = async (): Promise<void> => {
    await collector.stop();
    process.exit(0);
  };
  process.on('message', (m: ReceiverRequest) => {
    if (m.type === 'stop') {
      void stop();
      return;
    }
    const s = collector.stats();
    send({
      type: 'count',
      id: m.id,
      records,
      datagrams: s.totals.datagrams,
      errors: s.totals.errors,
      sinkErrors: s.sinkErrors,
    });
  });
  // The benchmark process is gone: nobody will ever read the figures.
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  const listener = collector.boundAddresses()[0]!;
  send({ type: 'ready', port: listener.port, receiveBufferBytes: listener.receiveBufferBytes });
}

main().catch((err: unknown) => {
  process.stderr.write(`floodgate receiver failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
