/** The daemon's logger: pino JSON lines on stdout, which journald and log shippers take as they are. */
import { pino } from 'pino';
import type { Logger } from '../core/logger.js';

export function createLogger(level: string, destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino(
    { level, base: { service: 'floodgate' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
}
