/**
 * `floodgate exabgp-config`: writes the exabgp.conf that makes ExaBGP run Floodgate's helper and
 * peer with the neighbors an `exabgp` adapter lists, so the two never disagree about the socket,
 * the peers or the families.
 */
import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { exabgpConfigSchema, exabgpSocketPath } from '../../adapters/exabgp/config.js';
import { renderExabgpConf } from '../../adapters/exabgp/exabgp-conf.js';
import { helperArgv } from '../../adapters/exabgp/helper-command.js';
import { EXABGP_TYPE } from '../../adapters/exabgp/plugin.js';
import { formatPath } from '../../adapters/registry.js';
import { isFloodgateError } from '../../core/errors.js';
import { ConfigError, defaultConfig, formatProblem, loadConfigFile } from '../config/load.js';
import type { CliIo } from './check-config.js';

export interface ExabgpConfigOptions {
  config?: string;
  /** Which exabgp adapter, when the configuration has more than one. */
  adapter?: string;
  /** Write here (atomically) instead of stdout. */
  out?: string;
  /** The Node binary ExaBGP should run the helper with (default: this one). */
  node?: string;
}

/** Returns the exit code: 0 written, 1 the configuration does not allow it. */
export function exabgpConfig(options: ExabgpConfigOptions, io: CliIo): number {
  try {
    const loaded = options.config === undefined ? defaultConfig() : loadConfigFile(options.config);
    const config = loaded.config;
    const candidates = config.adapters
      .map((entry, index) => ({ entry, index }))
      .filter(({ entry }) => entry.type === EXABGP_TYPE);
    const chosen =
      options.adapter === undefined
        ? candidates.length === 1
          ? candidates[0]
          : undefined
        : candidates.find(({ entry }) => entry.name === options.adapter);
    if (chosen === undefined) {
      const names = candidates.map(({ entry }) => entry.name);
      io.err(
        `${loaded.source}: ${
          options.adapter !== undefined
            ? `no adapter named "${options.adapter}" of type ${EXABGP_TYPE}`
            : names.length === 0
              ? `no adapter of type ${EXABGP_TYPE} is configured`
              : `several ${EXABGP_TYPE} adapters (${names.join(', ')}): choose one with --adapter`
        }\n`,
      );
      return 1;
    }
    const { entry, index } = chosen;
    const parsed = exabgpConfigSchema.safeParse(entry.config ?? {});
    if (!parsed.success) {
      io.err(`${loaded.source}: invalid configuration of adapter "${entry.name}"\n`);
      for (const issue of parsed.error.issues) {
        io.err(`  ${formatPath(`adapters[${index}].config`, issue.path)}: ${issue.message}\n`);
      }
      return 1;
    }
    const socketPath = exabgpSocketPath(parsed.data, entry.name, config.store.stateDir);
    const text = renderExabgpConf({
      adapterName: entry.name,
      config: parsed.data,
      helperArgv: helperArgv({
        socketPath,
        retryMs: parsed.data.helperRetryMs,
        ...(options.node === undefined ? {} : { node: options.node }),
      }),
    });
    if (options.out === undefined) {
      io.out(text);
      return 0;
    }
    // Written whole and renamed into place: ExaBGP never reads half a file. It may hold an MD5
    // password, so it is not world-readable.
    const tmp = `${options.out}.tmp-${process.pid}`;
    writeFileSync(tmp, text, { mode: 0o640 });
    chmodSync(tmp, 0o640);
    renameSync(tmp, options.out);
    io.err(`wrote ${options.out} for adapter "${entry.name}" (helper socket ${socketPath})\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`${String(e.details['source'])}: invalid configuration (${e.code})\n`);
      for (const p of e.problems) io.err(`  ${formatProblem(p)}\n`);
      return 1;
    }
    if (isFloodgateError(e)) {
      io.err(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
