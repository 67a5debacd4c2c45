/**
 * Where the store keeps its database: one SQLite file in the state directory.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * /var/lib/floodgate for the system daemon (root); otherwise the XDG state directory, so a
 * developer running `floodgate run` as themselves needs no sudo and writes nothing system-wide.
 */
export function defaultStateDir(
  env: NodeJS.ProcessEnv = process.env,
  uid: number | undefined = process.getuid?.(),
  home: string = homedir(),
): string {
  if (uid === 0) return '/var/lib/floodgate';
  // The XDG spec says a relative XDG_STATE_HOME is invalid and must be ignored.
  const xdg = env['XDG_STATE_HOME'];
  const base = xdg?.startsWith('/') ? xdg : join(home, '.local', 'state');
  return join(base, 'floodgate');
}

export const storeConfigSchema = z
  .object({
    stateDir: z
      .string()
      .min(1, 'must name a directory')
      .default(() => defaultStateDir()),
    file: z
      .string()
      .min(1, 'must name a file')
      .refine((name) => !name.includes('/'), { message: 'must be a file name inside stateDir, without "/"' })
      .default('floodgate.db'),
  })
  .strict();

export type StoreConfig = z.infer<typeof storeConfigSchema>;

/** The database file the configuration points to. */
export function storePath(config: StoreConfig): string {
  return join(config.stateDir, config.file);
}
