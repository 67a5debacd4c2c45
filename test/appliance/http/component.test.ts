import { createServer, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpComponent } from '../../../appliance/http/component.js';
import { httpConfigSchema } from '../../../appliance/http/config.js';
import type { HttpApiDeps } from '../../../appliance/http/server.js';
import { openSqliteStore } from '../../../appliance/store/sqlite-store.js';
import type { Store } from '../../../appliance/store/store.js';
import { FloodgateError } from '../../../core/errors.js';
import { nullLogger } from '../../../core/logger.js';

describe('HTTP component', () => {
  let store: Store;
  let deps: HttpApiDeps;
  let blocker: Server | undefined;

  beforeEach(() => {
    store = openSqliteStore(':memory:');
    deps = {
      store,
      logger: nullLogger,
      stats: () => ({ flowsDecoded: 7 }),
      health: async () => ({ ok: true, components: {} }),
    };
  });

  afterEach(async () => {
    store.close();
    if (blocker) await new Promise((resolve) => blocker!.close(resolve));
    blocker = undefined;
  });

  it('serves on an ephemeral loopback port and closes on stop', async () => {
    const http = createHttpComponent(httpConfigSchema.parse({}), deps, { port: 0 });
    expect(http.name).toBe('http');
    expect(http.address()).toBeUndefined();
    await http.start();
    const bound = http.address();
    expect(bound?.host).toBe('127.0.0.1');
    expect(bound?.port).toBeGreaterThan(0);

    const response = await fetch(`http://127.0.0.1:${bound!.port}/api/v1/stats`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ flowsDecoded: 7 });
    const health = await fetch(`http://127.0.0.1:${bound!.port}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', components: {} });

    await http.stop();
    expect(http.address()).toBeUndefined();
    await expect(fetch(`http://127.0.0.1:${bound!.port}/healthz`)).rejects.toThrow();
    await http.stop();
  });

  it('can start again after a stop', async () => {
    const http = createHttpComponent({ listen: '127.0.0.1:8080' }, deps, { port: 0 });
    await http.start();
    await http.stop();
    await http.start();
    const response = await fetch(`http://127.0.0.1:${http.address()!.port}/healthz`);
    expect(response.status).toBe(200);
    await http.stop();
  });

  it('fails with FG_ERR_LISTEN naming the address when the port is taken', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;

    const http = createHttpComponent({ listen: `127.0.0.1:${port}` }, deps);
    let caught: unknown;
    try {
      await http.start();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FloodgateError);
    const err = caught as FloodgateError;
    expect(err.code).toBe('FG_ERR_LISTEN');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toContain('another process already listens there');
    expect(err.details).toMatchObject({
      component: 'http',
      address: `127.0.0.1:${port}`,
      errno: 'EADDRINUSE',
    });
    expect(http.address()).toBeUndefined();
    await http.stop();
  });

  it('fails with FG_ERR_LISTEN when the address is not on this machine', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a local interface.
    const http = createHttpComponent({ listen: '192.0.2.1:8080' }, deps, { port: 0 });
    await expect(http.start()).rejects.toMatchObject({
      code: 'FG_ERR_LISTEN',
      details: { address: '192.0.2.1:0', errno: 'EADDRNOTAVAIL' },
    });
  });

  it('refuses a listen value that is not HOST:PORT', () => {
    expect(() => createHttpComponent({ listen: 'localhost' }, deps)).toThrow(/FG_ERR_LISTEN.*not HOST:PORT/);
  });
});
