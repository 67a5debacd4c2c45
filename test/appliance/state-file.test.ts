import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStateFile } from '../../appliance/state-file.js';
import type { Logger } from '../../core/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recordingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const at =
    (level: string) =>
    (a: object | string, b?: string): void => {
      lines.push({ level, msg: typeof a === 'string' ? a : (b ?? '') });
    };
  const logger: Logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
  return { logger, lines };
}

describe('state files', () => {
  it('restores what it saved at stop', async () => {
    const path = join(dir, 'a.bin');
    let value = 'first';
    const restored: string[] = [];
    const make = () =>
      createStateFile({
        what: 'things',
        path,
        logger: recordingLogger().logger,
        intervalMs: 60_000,
        snapshot: () => value,
        restore: (bytes) => {
          restored.push(Buffer.from(bytes).toString());
          return {};
        },
      });
    const a = make();
    await a.start();
    value = 'second';
    await a.stop();
    expect(readFileSync(path, 'utf8')).toBe('second');
    const b = make();
    await b.start();
    await b.stop();
    expect(restored).toEqual(['second']);
  });

  it('starts without a damaged file, saying so, and replaces it at the next save', async () => {
    const path = join(dir, 'b.bin');
    writeFileSync(path, 'garbage');
    const { logger, lines } = recordingLogger();
    const s = createStateFile({
      what: 'baselines',
      path,
      logger,
      intervalMs: 60_000,
      snapshot: () => 'good',
      restore: () => {
        throw new Error('bad magic');
      },
    });
    await s.start();
    expect(lines).toContainEqual({ level: 'warn', msg: 'saved baselines refused; starting without them' });
    await s.stop();
    expect(readFileSync(path, 'utf8')).toBe('good');
  });

  it('a missing file is a first start, not a warning', async () => {
    const { logger, lines } = recordingLogger();
    const s = createStateFile({
      what: 'x',
      path: join(dir, 'none.bin'),
      logger,
      intervalMs: 60_000,
      snapshot: () => '',
      restore: () => ({}),
    });
    await s.start();
    await s.stop();
    expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
  });
});
