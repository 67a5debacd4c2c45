import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  defaultConfig,
  formatProblem,
  loadConfigFile,
  parseConfigText,
} from '../../../appliance/config/load.js';

function problemsOf(text: string): string[] {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.map(formatProblem);
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration loading', () => {
  it('has embedded defaults that match what the README promises', () => {
    const { config, source } = defaultConfig();
    expect(source).toBe('(embedded defaults)');
    expect(config.mode).toBe('detect-only');
    expect(config.collectors.netflow.listen).toEqual(['0.0.0.0:2055', '0.0.0.0:4739']);
    expect(config.collectors.sflow.listen).toEqual(['0.0.0.0:6343']);
    expect(config.http.listen).toBe('127.0.0.1:8080');
    expect(config.adapters).toEqual([{ name: 'dry-run', type: 'dry-run' }]);
    expect(config.store.stateDir.length).toBeGreaterThan(0);
    expect(Object.isFrozen(config.detection)).toBe(true);
  });

  it('fills defaults around what a file sets', () => {
    const config = parseConfigText(
      [
        'mode: automatic',
        'detection:',
        '  networks:',
        '    - prefix: 203.0.113.0/24',
        '      thresholds: { pps: 5000 }',
      ].join('\n'),
      'x.yaml',
    );
    expect(config.mode).toBe('automatic');
    expect(config.detection.networks).toHaveLength(1);
    expect(config.detection.networks[0]!.prefix).toBe('203.0.113.0/24');
    expect(config.http.listen).toBe('127.0.0.1:8080');
  });

  it('an empty file is the defaults', () => {
    expect(parseConfigText('', 'empty.yaml')).toEqual(defaultConfig().config);
  });

  it('names the path and the line of every problem', () => {
    const text = [
      'mode: automatc', // line 1
      'detection:', // 2
      '  networks:', // 3
      '    - prefix: 203.0.113.1/24', // 4: host bits set
      '  thresholds:', // 5
      '    pps: lots', // 6
      'http:', // 7
      '  listen: "127.0.0.1:99999"', // 8
      'colectors: {}', // 9: typo, unknown key
    ].join('\n');
    const problems = problemsOf(text);
    expect(problems).toHaveLength(5);
    expect(problems.some((p) => p.startsWith('mode: ') && p.endsWith('(line 1)'))).toBe(true);
    expect(
      problems.some((p) => p.startsWith('detection.networks[0].prefix: ') && p.endsWith('(line 4)')),
    ).toBe(true);
    expect(problems.some((p) => p.startsWith('detection.thresholds.pps: ') && p.endsWith('(line 6)'))).toBe(
      true,
    );
    expect(problems.some((p) => p.startsWith('http.listen: ') && p.endsWith('(line 8)'))).toBe(true);
    expect(problems).toContain(
      'colectors: unknown key (check its spelling and where it is indented) (line 9)',
    );
  });

  it('reports YAML syntax errors with their line', () => {
    const problems = problemsOf('mode: detect-only\ndetection:\n  networks: [\n');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^\(file\): .*\(line \d+\)$/);
  });

  it('refuses duplicate keys', () => {
    const problems = problemsOf('mode: automatic\nmode: detect-only\n');
    expect(problems[0]).toMatch(/\(line 2\)$/);
  });

  it('refuses duplicate adapter names', () => {
    const problems = problemsOf(
      'adapters:\n  - { name: a, type: dry-run }\n  - { name: a, type: dry-run }\n',
    );
    expect(problems[0]).toMatch(/^adapters: adapter names must be unique \(line 1\)$/);
  });

  it('reports an unreadable file', () => {
    expect(() => loadConfigFile('/nonexistent/floodgate.yaml')).toThrow(/FG_ERR_CONFIG_READ/);
  });

  it('loads a file from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-config-'));
    const file = join(dir, 'floodgate.yaml');
    writeFileSync(file, 'log: { level: debug }\n');
    const loaded = loadConfigFile(file);
    expect(loaded.source).toBe(file);
    expect(loaded.config.log.level).toBe('debug');
  });
});

describe('configuration safety', () => {
  it('refuses automatic mode while every address is monitored', () => {
    const problems = problemsOf('mode: automatic\n');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(
      /^detection\.networks\[0\]\.prefix: mode automatic needs detection\.networks to list your own prefixes/,
    );
  });

  it('accepts automatic mode with the operator’s own prefixes', () => {
    const config = parseConfigText(
      'mode: automatic\ndetection:\n  networks: [{ prefix: 2001:db8::/32 }]\n',
      'x.yaml',
    );
    expect(config.mode).toBe('automatic');
  });
});
