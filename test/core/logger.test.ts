import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type Logger, nullLogger } from '../../core/logger.js';

describe('Logger', () => {
  it('is satisfied by a pino logger', () => {
    const lines: string[] = [];
    const logger: Logger = pino(
      { base: undefined, timestamp: false },
      { write: (s: string) => lines.push(s) },
    );
    logger.info({ exporter: '192.0.2.1' }, 'hello');
    logger.warn('plain');
    logger.debug('hidden at the default level');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { level: 30, exporter: '192.0.2.1', msg: 'hello' },
      { level: 40, msg: 'plain' },
    ]);
  });

  it('nullLogger accepts both call shapes and drops them', () => {
    expect(() => {
      nullLogger.error({ a: 1 }, 'x');
      nullLogger.info('y');
    }).not.toThrow();
  });
});
