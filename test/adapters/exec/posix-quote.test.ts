import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { posixCommand, posixQuote } from '../../../adapters/exec/posix-quote.js';

/** What a POSIX shell makes of `printf FORMAT <quoted words>`. */
function shellPrintf(shell: string, format: string, words: readonly string[]): string {
  const r = spawnSync(shell, ['-c', `printf '${format}' ${posixCommand(words)}`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** Characters shells give meaning to, mixed with arbitrary text. */
const SPECIAL = [...' \'"$`;&|<>()[]{}*?~#!\\\n\t\r%=-^,.'];
const word = fc
  .oneof(
    fc.string({ unit: fc.constantFrom(...SPECIAL) }),
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: fc.oneof(fc.constantFrom(...SPECIAL), fc.constantFrom('a', 'Z', '0', 'é', '😀')) }),
  )
  // NUL cannot be in an argument at all (refused above).
  .map((w) => w.replaceAll('\0', ''));

describe('posixQuote', () => {
  it("wraps every word in single quotes and writes a quote as '\\''", () => {
    expect(posixQuote('plain')).toBe("'plain'");
    expect(posixQuote('')).toBe("''");
    expect(posixQuote("it's")).toBe("'it'\\''s'");
    expect(posixQuote("'")).toBe("''\\'''");
    expect(posixQuote('$HOME `id` ; x')).toBe("'$HOME `id` ; x'");
    expect(posixCommand(['printf', '%s\\n', 'a b'])).toBe("'printf' '%s\\n' 'a b'");
    expect(posixCommand([])).toBe('');
  });

  it('refuses a NUL byte, which no process can receive', () => {
    expect(() => posixQuote('a\0b')).toThrow(/FG_ERR_EXEC_START: .*NUL/);
  });

  it('sh and bash give back exactly the words: spaces, quotes, $, `, ;, newlines, the empty string', () => {
    const words = [
      'two words',
      "it's",
      '"',
      '$HOME',
      '$(id)',
      '`id`',
      '; echo x',
      'a\nb',
      '',
      '\\',
      '*',
      '#c',
      '-n',
    ];
    for (const shell of ['sh', 'bash']) {
      expect(shellPrintf(shell, '%s\\n', words)).toBe(words.map((w) => `${w}\n`).join(''));
    }
  });

  it('property: sh -c "printf \'%s\\n\' <quoted words>" prints exactly the words', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (words) => {
        expect(shellPrintf('sh', '%s\\n', words)).toBe(words.map((w) => `${w}\n`).join(''));
        // NUL-separated as well, so the word boundaries are exact even when a word holds "\n".
        expect(shellPrintf('sh', '%s\\0', words).split('\0').slice(0, -1)).toEqual(words);
      }),
      { numRuns: 150 },
    );
  });

  it('property: the same through bash', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (words) => {
        expect(shellPrintf('bash', '%s\\0', words).split('\0').slice(0, -1)).toEqual(words);
      }),
      { numRuns: 100 },
    );
  });
});
