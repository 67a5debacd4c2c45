/**
 * `floodgate check-config [FILE]`: validate, build the adapters (which does no I/O) and check that
 * every runbook tier can be delivered, then print the effective configuration as YAML.
 */
import { stringify } from 'yaml';
import { redactSecretFields } from '../../core/audit/redact.js';
import { isFloodgateError } from '../../core/errors.js';
import { nullLogger } from '../../core/logger.js';
import { ConfigError, defaultConfig, formatProblem, loadConfigFile } from '../config/load.js';
import { buildAdapters } from '../pipeline.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Returns the process exit code: 0 valid, 1 invalid. */
export function checkConfig(file: string | undefined, io: CliIo): number {
  try {
    const loaded = file === undefined ? defaultConfig() : loadConfigFile(file);
    buildAdapters(loaded.config, { logger: nullLogger, now: Date.now, preview: 'by-mode' });
    io.out(`# ${loaded.source}: valid. Effective configuration (defaults filled in):\n`);
    io.out(stringify(redactSecretFields(loaded.config)));
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`${String(e.details['source'])}: invalid configuration (${e.code})\n`);
      for (const p of e.problems) io.err(`  ${formatProblem(p)}\n`);
      return 1;
    }
    if (isFloodgateError(e)) {
      io.err(`${file ?? '(embedded defaults)'}: invalid configuration (${e.code})\n`);
      const issues = e.details['issues'];
      if (Array.isArray(issues)) {
        for (const issue of issues)
          io.err(`  ${typeof issue === 'string' ? issue : `${issue.path}: ${issue.message}`}\n`);
      } else {
        io.err(`  ${e.message}\n`);
      }
      return 1;
    }
    throw e;
  }
}
