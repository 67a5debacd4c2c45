import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfigText } from '../../../appliance/config/load.js';
import { repoRoot } from '../../helpers/cli.js';

describe('docs/floodgate.example.yaml', () => {
  it('is valid and says exactly what the embedded defaults are', () => {
    const text = readFileSync(join(repoRoot, 'docs', 'floodgate.example.yaml'), 'utf8');
    const example = parseConfigText(text, 'docs/floodgate.example.yaml');
    const defaults = defaultConfig().config;
    // The state directory default depends on who runs the tests.
    expect({ ...example, store: { ...example.store, stateDir: 'x' } }).toEqual({
      ...defaults,
      store: { ...defaults.store, stateDir: 'x' },
    });
  });
});
