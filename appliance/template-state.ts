/**
 * Keeps NetFlow v9 / IPFIX templates on disk so a restart is not blind until every exporter's
 * next template refresh (which can be minutes away). Loaded at start, written every
 * `intervalMs` and at stop, atomically (write a temp file, then rename).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { FlowTemplates } from '../collectors/template/flow-templates.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';

export interface TemplateStateDeps {
  templates: FlowTemplates;
  path: string;
  logger: Logger;
  intervalMs?: number;
}

export function createTemplateState(deps: TemplateStateDeps): Component & { save(): void } {
  const { templates, path, logger } = deps;
  let timer: NodeJS.Timeout | undefined;

  function save(): void {
    try {
      const tmp = `${path}.tmp`;
      writeFileSync(tmp, JSON.stringify(templates.exportTemplates()));
      renameSync(tmp, path);
    } catch (e) {
      logger.error(
        { err: e, path },
        'could not save flow templates; a restart will wait for template refreshes',
      );
    }
  }

  function load(): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        logger.warn({ err: e, path }, 'could not read saved flow templates');
      return;
    }
    const result = templates.importTemplates(text);
    if (result.problems.length > 0) {
      logger.warn(
        { path, problems: result.problems.slice(0, 10), skipped: result.skipped },
        'some saved flow templates were not restored',
      );
    }
    logger.info({ path, templates: result.templates }, 'flow templates restored');
  }

  return {
    name: 'template-state',
    save,
    async start() {
      load();
      timer = setInterval(save, deps.intervalMs ?? 30_000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      save();
    },
  };
}
