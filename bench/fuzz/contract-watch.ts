/**
 * Notices, through the decoder table's own logger, when a decoder breaks its contract: it must
 * throw only WireError on bad input. The table catches anything else and logs it (at error
 * level, reason "decoder-exception", with the stack); a FloodgateError that is not a WireError
 * arrives as a warning without the byte offset every WireError carries. Logging happens inside
 * `decode`, so whatever input is being decoded when the watch fires is the culprit.
 *
 * The table logs each reason once per exporter; the fuzzer moves to a fresh exporter address
 * after every breach so the next one is seen too.
 */
import type { LogFn, Logger } from '../../core/logger.js';

export interface Breach {
  kind: 'decoder-exception' | 'not-a-wire-error';
  decoder: string;
  message: string;
  stack: string | undefined;
}

export class ContractWatch {
  /** Set while the decode that caused it is still on the stack; the fuzzer clears it. */
  breach: Breach | undefined;
  readonly logger: Logger;

  constructor() {
    const ignore: LogFn = () => {};
    const error: LogFn = (a: object | string, msg?: string) => {
      if (typeof a === 'string') return;
      const o = a as Record<string, unknown>;
      if (o['reason'] !== 'decoder-exception') return;
      this.breach = {
        kind: 'decoder-exception',
        decoder: String(o['decoder'] ?? '?'),
        message: msg ?? '',
        stack: typeof o['stack'] === 'string' ? o['stack'] : undefined,
      };
    };
    const warn: LogFn = (a: object | string, msg?: string) => {
      if (typeof a === 'string') return;
      const o = a as Record<string, unknown>;
      const reason = o['reason'];
      const fromDecoder = typeof o['decoder'] === 'string';
      if (!fromDecoder || typeof reason !== 'string' || !reason.startsWith('FG_ERR_')) return;
      if (typeof o['offset'] === 'number') return; // a WireError: the contract holds
      this.breach = {
        kind: 'not-a-wire-error',
        decoder: String(o['decoder']),
        message: msg ?? '',
        stack: undefined,
      };
    };
    this.logger = { info: ignore, debug: ignore, warn, error };
  }
}
