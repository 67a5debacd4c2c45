/** `floodgate run`: start the daemon and keep it until SIGINT/SIGTERM. */
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
  const daemon = await createDaemon({ config: loaded.config, configSource: loaded.source, logger });
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
  });
}
