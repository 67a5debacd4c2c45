/**
 * The command line ExaBGP runs Floodgate's helper with: this Node binary and the helper next to
 * this file. Built (dist/), that is `node .../dist/adapters/exabgp/helper.js`; run from the
 * sources (development, tests), the helper is the .ts file loaded through tsx, named by absolute
 * path so it works whatever ExaBGP's working directory is.
 */
import { fileURLToPath } from 'node:url';

export interface HelperCommandOptions {
  socketPath: string;
  retryMs: number;
  /** The Node binary; this process's by default. */
  node?: string;
}

export function helperArgv(options: HelperCommandOptions): string[] {
  const fromSources = import.meta.url.endsWith('.ts');
  const helper = fileURLToPath(new URL(fromSources ? './helper.ts' : './helper.js', import.meta.url));
  const loader = fromSources ? ['--import', fileURLToPath(import.meta.resolve('tsx'))] : [];
  return [
    options.node ?? process.execPath,
    ...loader,
    helper,
    '--socket',
    options.socketPath,
    '--retry-ms',
    String(options.retryMs),
  ];
}
