/**
 * State that must survive a restart but is rebuilt too slowly to wait for (flow templates: until
 * every exporter's next refresh; traffic baselines: days). Loaded at start, written every
 * `intervalMs` and at stop, atomically (write a temp file, then rename), so a crash mid-write
 * leaves the previous file whole.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';

export interface StateFileDeps {
  /** What the file holds, for logs ("flow templates", "traffic baselines"). */
  what: string;
  path: string;
  logger: Logger;
  /** Restores from the file's bytes; returns what to log about it. Throwing refuses the file. */
  restore(bytes: Uint8Array): Record<string, unknown>;
  snapshot(): Uint8Array | string;
  intervalMs: number;
}

export function createStateFile(deps: StateFileDeps): Component & { save(): void } {
  const { what, path, logger } = deps;
  let timer: NodeJS.Timeout | undefined;

  function save(): void {
    try {
      const tmp = `${path}.tmp`;
      writeFileSync(tmp, deps.snapshot());
      renameSync(tmp, path);
    } catch (e) {
      logger.error({ err: e, path }, `could not save ${what}; a restart would start without them`);
    }
  }

  function load(): void {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        logger.warn({ err: e, path }, `could not read saved ${what}`);
      return;
    }
    try {
      logger.info({ path, ...deps.restore(bytes) }, `${what} restored`);
    } catch (e) {
      // A damaged file must not stop the daemon: it starts as if there were none, and says so.
      logger.warn({ err: e, path }, `saved ${what} refused; starting without them`);
    }
  }

  return {
    name: `state:${what}`,
    save,
    async start() {
      load();
      timer = setInterval(save, deps.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      save();
    },
  };
}
