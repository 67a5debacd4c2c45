/** `floodgate check-config [FILE]`: validate, then print the effective configuration as YAML. */
import { stringify } from 'yaml';
import { ConfigError, defaultConfig, formatProblem, loadConfigFile } from '../config/load.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Returns the process exit code: 0 valid, 1 invalid. */
export function checkConfig(file: string | undefined, io: CliIo): number {
  try {
    const loaded = file === undefined ? defaultConfig() : loadConfigFile(file);
    io.out(`# ${loaded.source}: valid. Effective configuration (defaults filled in):\n`);
    io.out(stringify(loaded.config));
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`${String(e.details['source'])}: invalid configuration (${e.code})\n`);
      for (const p of e.problems) io.err(`  ${formatProblem(p)}\n`);
      return 1;
    }
    throw e;
  }
}
