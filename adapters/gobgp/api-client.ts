/**
 * A small typed client of gobgpd's gRPC API (the four calls in proto/gobgp.proto), on
 * @grpc/grpc-js with @grpc/proto-loader. Every call has a deadline; failures become
 * FG_ERR_ADAPTER_* errors naming the call and the gRPC status, so a log line says what gobgpd
 * answered.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { type ErrorCode, FloodgateError } from '../../core/errors.js';
import type { ApiFamily, ApiPath } from './api-codec.js';

const PROTO_NAME = 'gobgp.proto';

/**
 * The .proto ships as a source file: beside this module when run from source, and in the
 * source tree when run from the compiled `dist/` (dist/adapters/gobgp -> adapters/gobgp/proto).
 */
export function protoPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, 'proto', PROTO_NAME),
    join(here, '../../../adapters/gobgp/proto', PROTO_NAME),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new FloodgateError(
      'FG_ERR_ADAPTER_CONTRACT',
      `GoBGP API definition ${PROTO_NAME} not found (looked in ${candidates.join(', ')}); reinstall Floodgate`,
      { candidates },
    );
  }
  return found;
}

export type TableType = 'GLOBAL' | 'ADJ_IN' | 'ADJ_OUT';

export interface ListPathOptions {
  table?: TableType;
  /** The neighbor address, for ADJ_IN / ADJ_OUT. */
  neighbor?: string;
  /** Ask for the NLRI and attributes in BGP wire form too (nlri_binary, pattrs_binary). */
  binary?: boolean;
  /** Exact prefixes to look up ("203.0.113.66/32"); gobgpd honours this for unicast families only. */
  prefixes?: string[];
}

export interface ListedPath extends ApiPath {
  nlri_binary?: Buffer;
  pattrs_binary?: Buffer[];
}

export interface GobgpClient {
  readonly target: string;
  getBgp(): Promise<{ asn: number; routerId: string; listenPort: number }>;
  /** Returns gobgpd's uuid of the path. */
  addPath(path: ApiPath): Promise<Buffer>;
  deletePath(family: ApiFamily, path: ApiPath): Promise<void>;
  listPath(family: ApiFamily, options?: ListPathOptions): Promise<ListedPath[]>;
  /**
   * Calls `fn` each time the connection to gobgpd is READY again after it was lost (gobgpd
   * restarted, or the socket came back), until close().
   */
  onReconnected(fn: () => void): void;
  close(): void;
}

interface RawClient extends grpc.Client {
  GetBgp(
    req: object,
    opts: grpc.CallOptions,
    cb: grpc.requestCallback<{ global?: Record<string, unknown> }>,
  ): void;
  AddPath(req: object, opts: grpc.CallOptions, cb: grpc.requestCallback<{ uuid?: Buffer }>): void;
  DeletePath(req: object, opts: grpc.CallOptions, cb: grpc.requestCallback<object>): void;
  ListPath(
    req: object,
    opts: grpc.CallOptions,
  ): grpc.ClientReadableStream<{ destination?: { paths?: ListedPath[] } }>;
}

let cachedConstructor: grpc.ServiceClientConstructor | undefined;

/** The GobgpApi service definition, for clients and for test fakes. */
export function gobgpService(): grpc.ServiceClientConstructor {
  if (cachedConstructor) return cachedConstructor;
  const definition = protoLoader.loadSync(protoPath(), {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
    // Decodes google.protobuf.Any into `{ '@type', ...fields }` and back.
    json: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    apipb: { GobgpApi: grpc.ServiceClientConstructor };
  };
  cachedConstructor = loaded.apipb.GobgpApi;
  return cachedConstructor;
}

function callError(code: ErrorCode, call: string, target: string, e: unknown): FloodgateError {
  const status = (e as grpc.ServiceError)?.code;
  const name = status === undefined ? '' : ` (${grpc.status[status] ?? status})`;
  const detail = (e as grpc.ServiceError)?.details || (e as Error)?.message || String(e);
  return new FloodgateError(code, `gobgpd at ${target}: ${call} failed${name}: ${detail}`, {
    target,
    call,
    grpcStatus: status,
  });
}

/** `target`: "host:port" (gobgpd --api-hosts) or "unix:///path/to/socket". */
export function createGobgpClient(target: string, timeoutMs: number): GobgpClient {
  const Client = gobgpService();
  const client = new Client(target, grpc.credentials.createInsecure(), {
    // Keep the connection: a reconnect is how we notice gobgpd restarted.
    'grpc.client_idle_timeout_ms': 24 * 3600 * 1000,
    'grpc.keepalive_time_ms': 30_000,
  }) as unknown as RawClient;
  const deadline = () => ({ deadline: Date.now() + timeoutMs });
  let closed = false;

  function unary<T>(call: 'GetBgp' | 'AddPath' | 'DeletePath', request: object, code: ErrorCode): Promise<T> {
    return new Promise((resolve, reject) => {
      (client[call] as (r: object, o: grpc.CallOptions, cb: grpc.requestCallback<T>) => void).call(
        client,
        request,
        deadline(),
        (err, response) => {
          if (err) reject(callError(code, call, target, err));
          else resolve(response as T);
        },
      );
    });
  }

  return {
    target,
    async getBgp() {
      const r = await unary<{ global?: Record<string, unknown> }>('GetBgp', {}, 'FG_ERR_ADAPTER_APPLY');
      return {
        asn: Number(r.global?.asn ?? 0),
        routerId: String(r.global?.router_id ?? ''),
        listenPort: Number(r.global?.listen_port ?? 0),
      };
    },
    async addPath(path) {
      const r = await unary<{ uuid?: Buffer }>(
        'AddPath',
        { table_type: 'GLOBAL', path },
        'FG_ERR_ADAPTER_APPLY',
      );
      return r.uuid ?? Buffer.alloc(0);
    },
    async deletePath(family, path) {
      await unary('DeletePath', { table_type: 'GLOBAL', family, path }, 'FG_ERR_ADAPTER_WITHDRAW');
    },
    listPath(family, options = {}) {
      return new Promise((resolve, reject) => {
        const paths: ListedPath[] = [];
        const stream = client.ListPath(
          {
            table_type: options.table ?? 'GLOBAL',
            name: options.neighbor ?? '',
            family,
            enable_nlri_binary: options.binary === true,
            enable_attribute_binary: options.binary === true,
            prefixes: (options.prefixes ?? []).map((prefix) => ({ prefix, type: 'EXACT' })),
          },
          deadline(),
        );
        stream.on('data', (r: { destination?: { paths?: ListedPath[] } }) => {
          for (const p of r.destination?.paths ?? []) paths.push(p);
        });
        stream.on('error', (e) => reject(callError('FG_ERR_ADAPTER_APPLY', 'ListPath', target, e)));
        stream.on('end', () => resolve(paths));
      });
    },
    onReconnected(fn) {
      const channel = client.getChannel();
      let wasReady = false;
      let lost = false;
      const loop = (current: grpc.connectivityState) => {
        if (closed) return;
        // Wakes at least every 10 s: asking for the state with tryToConnect=true is what makes an
        // idle channel (gobgpd went away) dial again, so a restarted gobgpd is noticed.
        channel.watchConnectivityState(current, Date.now() + 10_000, () => {
          if (closed) return;
          const next = channel.getConnectivityState(true);
          if (next === grpc.connectivityState.READY) {
            if (wasReady && lost) fn();
            wasReady = true;
            lost = false;
          } else if (wasReady) {
            lost = true;
          }
          loop(next);
        });
      };
      const first = channel.getConnectivityState(true);
      wasReady = first === grpc.connectivityState.READY;
      loop(first);
    },
    close() {
      closed = true;
      client.close();
    },
  };
}
