/**
 * The logging surface every Floodgate part writes to: the subset of pino's API we use, so that
 * core and components depend on an interface, the appliance passes a pino logger, and tests pass
 * `nullLogger` or a recorder.
 */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  debug: LogFn;
}

const discard: LogFn = () => {};

/** A logger that drops everything (tests, `--check`). */
export const nullLogger: Logger = { info: discard, warn: discard, error: discard, debug: discard };
