/**
 * `floodgate approve ID` and `floodgate withdraw ID`: operator actions, carried out by the running
 * daemon through its HTTP API (the daemon holds the adapters' sessions). ID is a mitigation id
 * (`fs4-...@edge`), or for approve an incident id to approve all its pending mitigations.
 */
import { parseListen } from '../../core/config/formats.js';
import { ConfigError, defaultConfig, formatProblem, loadConfigFile } from '../config/load.js';
import type { CliIo } from './check-config.js';

export interface OperatorOptions {
  config?: string;
  /** Base URL of the API, e.g. http://127.0.0.1:8080; from the configuration's http.listen when absent. */
  api?: string;
  operator?: string;
}

interface RecordJson {
  id: string;
  state: string;
  rendered: string;
  error: string | null;
}

/** Where the daemon of this configuration answers; a wildcard listen address is reached on loopback. */
export function apiBase(options: OperatorOptions): string {
  if (options.api !== undefined) return options.api.replace(/\/+$/, '');
  const loaded = options.config === undefined ? defaultConfig() : loadConfigFile(options.config);
  const listen = parseListen(loaded.config.http.listen);
  if (listen === undefined) throw new Error(`http.listen "${loaded.config.http.listen}" is not HOST:PORT`);
  let host = listen.host;
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}`;
}

export async function operatorAction(
  action: 'approve' | 'withdraw',
  id: string,
  options: OperatorOptions,
  io: CliIo,
): Promise<number> {
  let base: string;
  try {
    base = apiBase(options);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`${String(e.details['source'])}: invalid configuration (${e.code})\n`);
      for (const p of e.problems) io.err(`  ${formatProblem(p)}\n`);
    } else {
      io.err(`${(e as Error).message}\n`);
    }
    return 1;
  }
  const resource = action === 'approve' && id.startsWith('inc-') ? 'incidents' : 'mitigations';
  const url = `${base}/api/v1/${resource}/${encodeURIComponent(id)}/${action}`;
  const operator = options.operator ?? process.env['USER'] ?? 'cli';
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operator }),
    });
  } catch (e) {
    io.err(
      `cannot reach the daemon at ${base}: ${(e as Error).message} (is floodgate run up? --api sets the address)\n`,
    );
    return 1;
  }
  const body = (await response.json().catch(() => ({}))) as {
    item?: RecordJson;
    items?: RecordJson[];
    error?: { code: string; message: string };
  };
  if (!response.ok) {
    io.err(
      `${action} ${id} refused (HTTP ${response.status}): ${body.error?.message ?? 'no reason given'}\n`,
    );
    return 1;
  }
  const records = body.items ?? (body.item ? [body.item] : []);
  let failed = false;
  for (const r of records) {
    io.out(`${r.id}: ${r.state}${r.error ? ` (${r.error})` : ''}\n  ${r.rendered}\n`);
    if (r.state === 'failed') failed = true;
  }
  return failed ? 1 : 0;
}
