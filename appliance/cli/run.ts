/** `floodgate run`: start the daemon and keep it until SIGINT/SIGTERM; SIGHUP reloads runbooks and mitigation settings. */
import { ConfigError, defaultConfig, formatProblem, loadConfigFile } from '../config/load.js';
import { createDaemon } from '../daemon.js';
import { createLogger } from '../logger.js';
import type { CliIo } from './check-config.js';

export async function runDaemon(file: string | undefined, io: CliIo): Promise<number> {
  let loaded: ReturnType<typeof defaultConfig>;
  try {
    loaded = file === undefined ? defaultConfig() : loadConfigFile(file);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`${String(e.details['source'])}: invalid configuration (${e.code}); not starting\n`);
      for (const p of e.problems) io.err(`  ${formatProblem(p)}\n`);
      return 1;
    }
    throw e;
  }
  const logger = createLogger(loaded.config.log.level);
  let daemon: Awaited<ReturnType<typeof createDaemon>>;
  try {
    daemon = await createDaemon({ config: loaded.config, configSource: loaded.source, logger });
  } catch (e) {
    logger.error({ err: e }, 'floodgate cannot be built from this configuration');
    io.err(`${loaded.source}: not starting: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    await daemon.start();
  } catch (e) {
    logger.error({ err: e }, 'floodgate failed to start');
    io.err(`floodgate failed to start: ${(e as Error).message}\n`);
    return 1;
  }
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      daemon.stop().then(
        () => resolve(0),
        (e: unknown) => {
          logger.error({ err: e }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    // SIGHUP re-reads runbooks and mitigation settings (protected prefixes...) without a restart.
    process.on('SIGHUP', () => {
      if (file === undefined) {
        logger.warn('SIGHUP: running on the embedded defaults, there is no file to reload');
        return;
      }
      try {
        const next = loadConfigFile(file);
        daemon.reload(next.config, next.source);
      } catch (e) {
        const problems = e instanceof ConfigError ? e.problems.map(formatProblem) : [(e as Error).message];
        logger.error({ file, problems }, 'SIGHUP: configuration not reloaded; the running one stays');
      }
    });
  });
}
