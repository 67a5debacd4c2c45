/**
 * The UDP side of the collectors: one socket per configured listen address, each datagram
 * timestamped, decoded through the decoder table into one reused FlowBatch and handed to the
 * sink synchronously. Any port takes any protocol: the table tells them apart by their bytes.
 */
import dgram from 'node:dgram';
import { parseListen } from '../core/config/formats.js';
import { FloodgateError } from '../core/errors.js';
import { FlowBatch } from '../core/flow/flow-batch.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { parseAddress } from '../core/net/address.js';
import type { CollectorsConfig } from './config.js';
import { type CollectorStatsSnapshot, createDecoderTable, type DecoderTable } from './registry.js';

export interface UdpCollectorDeps {
  /** Receives the batch synchronously; it must not keep a reference, the batch is cleared after. */
  onBatch(batch: FlowBatch): void;
  logger: Logger;
  /** Arrival clock, Unix ms (tests pin it). */
  now?: () => number;
  /** Rows per batch; a datagram with more records is delivered in several batches. */
  batchCapacity?: number;
  /** Use this table instead of the default one (tests, or extra decoders). */
  decoderTable?: DecoderTable;
}

export interface ListenerInfo {
  /** The listen address as configured. */
  listen: string;
  /** What the socket is bound to (the real port when 0 was asked for). */
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  /** SO_RCVBUF as the kernel reports it (Linux reports twice what it grants to the payload). */
  receiveBufferBytes: number;
  datagrams: number;
}

export interface UdpCollectorStats extends CollectorStatsSnapshot {
  listeners: ListenerInfo[];
  /** Times the sink threw while consuming a batch (a bug downstream; those records are lost). */
  sinkErrors: number;
}

export interface UdpCollector extends Component {
  /** The sockets bound by start(), in configuration order. Empty before start and after stop. */
  boundAddresses(): ListenerInfo[];
  stats(): UdpCollectorStats;
}

const MIN_RECEIVE_BUFFER = 65_536;

interface BindTarget {
  listen: string;
  host: string;
  port: number;
  type: 'udp4' | 'udp6';
}

/** Like the config format's parser, but also accepts port 0 (an ephemeral port, for tests). */
export function parseBindTarget(text: string): { host: string; port: number } | undefined {
  if (text.endsWith(':0')) {
    const p = parseListen(`${text.slice(0, -1)}1`);
    return p ? { host: p.host, port: 0 } : undefined;
  }
  return parseListen(text);
}

function bindTargets(config: CollectorsConfig): BindTarget[] {
  const seen = new Set<string>();
  const targets: BindTarget[] = [];
  for (const listen of [...config.netflow.listen, ...config.sflow.listen]) {
    if (seen.has(listen)) continue;
    seen.add(listen);
    const parsed = parseBindTarget(listen);
    if (!parsed) {
      throw new FloodgateError('FG_ERR_LISTEN', `cannot listen on "${listen}": not HOST:PORT`, {
        address: listen,
      });
    }
    const type = parseAddress(parsed.host)?.version === 6 ? 'udp6' : 'udp4';
    targets.push({ listen, host: parsed.host, port: parsed.port, type });
  }
  return targets;
}

/**
 * An IPv6 wildcard socket also takes IPv4 (dual stack) unless the same port is bound on IPv4
 * too; then it must be IPv6-only or the second bind fails with EADDRINUSE.
 */
function needsIpv6Only(target: BindTarget, all: readonly BindTarget[]): boolean {
  return (
    target.type === 'udp6' && all.some((t) => t.type === 'udp4' && t.port === target.port && t.port !== 0)
  );
}

function bindSocket(target: BindTarget, ipv6Only: boolean): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: target.type, ipv6Only });
    const onError = (err: Error) => {
      try {
        socket.close();
      } catch {
        // Already closed by the failed bind.
      }
      reject(
        new FloodgateError(
          'FG_ERR_LISTEN',
          `cannot bind UDP ${target.listen}: ${err.message}`,
          { address: target.listen, host: target.host, port: target.port },
          { cause: err },
        ),
      );
    };
    socket.once('error', onError);
    socket.bind(target.port, target.host, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Asks for `wanted` bytes, halving on refusal; returns what the kernel reports. */
function growReceiveBuffer(socket: dgram.Socket, wanted: number): number {
  for (let size = wanted; size >= MIN_RECEIVE_BUFFER; size = Math.floor(size / 2)) {
    try {
      socket.setRecvBufferSize(size);
      break;
    } catch {
      // Refused (some kernels, or no privilege for this size): try smaller.
    }
  }
  try {
    return socket.getRecvBufferSize();
  } catch {
    return 0;
  }
}

export function createUdpCollector(config: CollectorsConfig, deps: UdpCollectorDeps): UdpCollector {
  const { logger } = deps;
  const now = deps.now ?? Date.now;
  const table = deps.decoderTable ?? createDecoderTable(config, { logger });
  const batch = new FlowBatch(deps.batchCapacity);
  const targets = bindTargets(config);
  let sockets: { socket: dgram.Socket; info: ListenerInfo }[] = [];
  let sinkErrors = 0;
  let starting = false;

  const deliver = (out: FlowBatch): void => {
    try {
      deps.onBatch(out);
    } catch (err) {
      sinkErrors += 1;
      // Powers of two: the first failure and then ever rarer reminders, never a log flood.
      if ((sinkErrors & (sinkErrors - 1)) === 0) {
        logger.error({ err, sinkErrors }, 'flow batch sink threw; the batch is dropped');
      }
    } finally {
      out.clear();
    }
  };

  const attach = (socket: dgram.Socket, info: ListenerInfo): void => {
    socket.on('message', (msg, rinfo) => {
      info.datagrams += 1;
      table.decode(msg, rinfo.address, now(), batch, deliver);
      if (batch.length > 0) deliver(batch);
    });
    socket.on('error', (err) => {
      logger.error({ err, listen: info.listen }, `UDP socket ${info.listen} error`);
    });
  };

  const boundAddresses = (): ListenerInfo[] => sockets.map(({ info }) => ({ ...info }));

  const closeAll = async (): Promise<void> => {
    const open = sockets;
    sockets = [];
    await Promise.all(
      open.map(({ socket }) => new Promise<void>((resolve) => socket.close(() => resolve()))),
    );
  };

  return {
    name: 'collectors',

    async start() {
      if (starting || sockets.length > 0) {
        throw new FloodgateError('FG_ERR_COMPONENT_START', 'UDP collector already started', {});
      }
      starting = true;
      try {
        for (const target of targets) {
          const socket = await bindSocket(target, needsIpv6Only(target, targets));
          const obtained = growReceiveBuffer(socket, config.receiveBufferBytes);
          const bound = socket.address();
          const info: ListenerInfo = {
            listen: target.listen,
            address: bound.address,
            port: bound.port,
            family: bound.family === 'IPv6' ? 'IPv6' : 'IPv4',
            receiveBufferBytes: obtained,
            datagrams: 0,
          };
          sockets.push({ socket, info });
          attach(socket, info);
          const fields = {
            listen: target.listen,
            port: bound.port,
            requested: config.receiveBufferBytes,
            obtained,
          };
          if (obtained < config.receiveBufferBytes) {
            logger.warn(
              fields,
              `UDP ${target.listen}: receive buffer is ${obtained} bytes, less than the ${config.receiveBufferBytes} asked for; raise net.core.rmem_max so bursts are not dropped`,
            );
          } else {
            logger.info(fields, `collecting flows on UDP ${bound.address}:${bound.port}`);
          }
        }
      } catch (err) {
        await closeAll();
        throw err;
      } finally {
        starting = false;
      }
      logger.info({ protocols: table.protocols() }, 'flow decoders ready');
    },

    async stop() {
      await closeAll();
    },

    boundAddresses,

    stats() {
      return { ...table.snapshot(), listeners: boundAddresses(), sinkErrors };
    },
  };
}
