/**
 * The HTTP API as a lifecycle component: binds on start, closes (and drops idle keep-alive
 * connections) on stop.
 */
import type { FastifyInstance } from 'fastify';
import { parseListen } from '../../core/config/formats.js';
import { FloodgateError } from '../../core/errors.js';
import type { Component } from '../../core/lifecycle.js';
import type { HttpConfig } from './config.js';
import { buildHttpApi, type HttpApiDeps } from './server.js';

export interface HttpComponent extends Component {
  /** Where it is listening once started (the real port when started on port 0), else undefined. */
  address(): { host: string; port: number } | undefined;
}

export interface HttpOverrides {
  /** Tests only: port 0 lets the kernel pick a free port, which the config schema does not allow. */
  port?: number;
}

const BIND_HINTS: Record<string, string> = {
  EADDRINUSE: 'another process already listens there (see `ss -ltnp`)',
  EACCES: 'ports below 1024 need root or CAP_NET_BIND_SERVICE',
  EADDRNOTAVAIL: 'no interface of this machine has that address',
};

export function createHttpComponent(
  config: HttpConfig,
  deps: HttpApiDeps,
  overrides: HttpOverrides = {},
): HttpComponent {
  const parsed = parseListen(config.listen);
  if (parsed === undefined) {
    throw new FloodgateError('FG_ERR_LISTEN', `http.listen "${config.listen}" is not HOST:PORT`, {
      component: 'http',
      address: config.listen,
    });
  }
  const host = parsed.host;
  const port = overrides.port ?? parsed.port;
  const address = hostPort(host, port);
  let app: FastifyInstance | undefined;

  const boundAddress = (): { host: string; port: number } | undefined => {
    const info = app?.server.address();
    if (info === undefined || info === null || typeof info === 'string') return undefined;
    return { host: info.address, port: info.port };
  };

  return {
    name: 'http',

    async start() {
      if (app !== undefined) return;
      const instance = buildHttpApi(deps);
      try {
        await instance.listen({ host, port });
      } catch (e) {
        await instance.close().catch(() => {});
        const errno = (e as NodeJS.ErrnoException).code;
        const hint = errno === undefined ? undefined : BIND_HINTS[errno];
        const reason = e instanceof Error ? e.message : String(e);
        throw new FloodgateError(
          'FG_ERR_LISTEN',
          `HTTP API could not listen on ${address}: ${reason}${hint === undefined ? '' : ` (${hint})`}`,
          { component: 'http', address, host, port, errno },
          { cause: e },
        );
      }
      app = instance;
      const bound = boundAddress();
      const where = bound === undefined ? address : hostPort(bound.host, bound.port);
      deps.logger.info({ component: 'http', address: where }, `HTTP API listening on ${where}`);
    },

    async stop() {
      const instance = app;
      app = undefined;
      if (instance !== undefined) await instance.close();
    },

    address: boundAddress,
  };
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
