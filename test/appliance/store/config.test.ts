import { describe, expect, it } from 'vitest';
import { defaultStateDir, storeConfigSchema, storePath } from '../../../appliance/store/config.js';

describe('defaultStateDir', () => {
  it('is /var/lib/floodgate for root whatever the environment says', () => {
    expect(defaultStateDir({ XDG_STATE_HOME: '/somewhere' }, 0, '/root')).toBe('/var/lib/floodgate');
  });

  it('follows XDG_STATE_HOME for other users', () => {
    expect(defaultStateDir({ XDG_STATE_HOME: '/home/ann/.state' }, 1000, '/home/ann')).toBe(
      '/home/ann/.state/floodgate',
    );
  });

  it('falls back to ~/.local/state when XDG_STATE_HOME is unset or relative', () => {
    expect(defaultStateDir({}, 1000, '/home/ann')).toBe('/home/ann/.local/state/floodgate');
    expect(defaultStateDir({ XDG_STATE_HOME: 'relative' }, 1000, '/home/ann')).toBe(
      '/home/ann/.local/state/floodgate',
    );
  });

  it('uses the real process environment by default', () => {
    const expected = process.getuid?.() === 0 ? '/var/lib/floodgate' : /\/floodgate$/;
    expect(defaultStateDir()).toMatch(expected);
  });
});

describe('storeConfigSchema', () => {
  it('fills every default', () => {
    const config = storeConfigSchema.parse({});
    expect(config).toEqual({ stateDir: defaultStateDir(), file: 'floodgate.db' });
    expect(storePath(config)).toBe(`${defaultStateDir()}/floodgate.db`);
  });

  it('keeps what the operator set', () => {
    const config = storeConfigSchema.parse({ stateDir: '/srv/floodgate', file: 'lab.db' });
    expect(storePath(config)).toBe('/srv/floodgate/lab.db');
  });

  it('refuses a file with a directory part, an empty directory and unknown keys', () => {
    const result = storeConfigSchema.safeParse({ stateDir: '', file: 'a/b.db', path: '/x' });
    expect(result.success).toBe(false);
    const messages = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'stateDir: must name a directory',
        'file: must be a file name inside stateDir, without "/"',
      ]),
    );
    expect(result.error!.issues.some((i) => i.code === 'unrecognized_keys')).toBe(true);
  });
});
