/**
 * Reads floodgate.yaml, validates it against the one composed schema and returns the effective,
 * frozen configuration. An invalid file is refused with every error listed as
 * `path: message (line N)`: the daemon never starts half-configured.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { FloodgateError } from '../../core/errors.js';
import { type FloodgateConfig, floodgateConfigSchema } from './schema.js';
import { lineOfPath } from './yaml-lines.js';

export interface ConfigProblem {
  /** Dotted path into the file ("detection.networks[0].prefix"), or "(file)" for the whole file. */
  path: string;
  message: string;
  line: number | undefined;
}

export interface LoadedConfig {
  config: FloodgateConfig;
  /** Where it came from: a file path, or "(embedded defaults)". */
  source: string;
}

export function formatProblem(p: ConfigProblem): string {
  return p.line === undefined ? `${p.path}: ${p.message}` : `${p.path}: ${p.message} (line ${p.line})`;
}

export class ConfigError extends FloodgateError {
  readonly problems: readonly ConfigProblem[];
  constructor(
    code: 'FG_ERR_CONFIG_INVALID' | 'FG_ERR_CONFIG_YAML' | 'FG_ERR_CONFIG_READ',
    source: string,
    problems: ConfigProblem[],
  ) {
    super(
      code,
      `${source}: ${problems.length} problem(s)\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
      {
        source,
        problems,
      },
    );
    this.problems = problems;
  }
}

/** The embedded default configuration: what `floodgate run` uses with no file. */
export function defaultConfig(): LoadedConfig {
  return { config: deepFreeze(floodgateConfigSchema.parse({})), source: '(embedded defaults)' };
}

export function loadConfigFile(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('FG_ERR_CONFIG_READ', path, [
      { path: '(file)', message: (e as Error).message, line: undefined },
    ]);
  }
  return { config: parseConfigText(text, path), source: path };
}

export function parseConfigText(text: string, source: string): FloodgateConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      'FG_ERR_CONFIG_YAML',
      source,
      doc.errors.map((err) => ({
        path: '(file)',
        message: err.message.split('\n')[0] ?? err.message,
        line: lines.linePos(err.pos[0]).line,
      })),
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  const result = floodgateConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      'FG_ERR_CONFIG_INVALID',
      source,
      problemsFromIssues(result.error.issues, doc, lines),
    );
  }
  return deepFreeze(result.data);
}

function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  doc: ReturnType<typeof parseDocument>,
  lines: LineCounter,
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({
          path: formatPath([...issue.path, key]),
          message: 'unknown key (check its spelling and where it is indented)',
          line: lineOfPath(doc, lines, issue.path, key),
        });
      }
      continue;
    }
    out.push({
      path: formatPath(issue.path),
      message: issue.message,
      line: lineOfPath(doc, lines, issue.path),
    });
  }
  return out;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let s = '';
  for (const key of path) {
    if (typeof key === 'number') s += `[${key}]`;
    else s += s === '' ? String(key) : `.${String(key)}`;
  }
  return s;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
