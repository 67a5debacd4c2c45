import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeStep, formatStep, quoteWord } from '../../../../adapters/node/actions/format-step.js';

/** Letters and every character a shell gives a meaning to, plus a non-ASCII one. */
const WORD_CHARS = fc.constantFrom(...'aZ09-_./:=,@%+ \t\n\'"$`\\;&|<>(){}[]*?~#!^é'.split(''));

describe('formatStep', () => {
  it('leaves plain words bare and quotes the rest', () => {
    expect(
      formatStep({ argv: ['iptables', '-w', '-I', 'INPUT', '1', '-d', '203.0.113.5', '-j', 'DROP'] }),
    ).toBe('iptables -w -I INPUT 1 -d 203.0.113.5 -j DROP');
    expect(formatStep({ argv: ['nft', 'add rule inet floodgate fg-x { ip daddr 1.2.3.4 }; flush'] })).toBe(
      "nft 'add rule inet floodgate fg-x { ip daddr 1.2.3.4 }; flush'",
    );
    expect(quoteWord('')).toBe("''");
    expect(quoteWord("it's")).toBe("'it'\\''s'");
    expect(quoteWord('$(id)')).toBe("'$(id)'");
    expect(quoteWord('~root')).toBe("'~root'");
    expect(quoteWord('a*')).toBe("'a*'");
    expect(quoteWord('floodgate:set:floodgate-ip4')).toBe('floodgate:set:floodgate-ip4');
  });

  it('is read back by a POSIX shell as exactly the argv', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: WORD_CHARS, maxLength: 12 }), { minLength: 1, maxLength: 6 }),
        (words) => {
          const line = formatStep({ argv: ['printf', '%s\\0', ...words] });
          const out = execFileSync('/bin/sh', ['-c', line], { encoding: 'utf8' });
          expect(out.split('\0').slice(0, -1)).toEqual(words);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('describes the checks that may skip a step', () => {
    const line = describeStep({
      argv: ['iptables', '-w', '-D', 'INPUT', '-j', 'DROP'],
      skipIf: [{ argv: ['iptables', '-w', '-C', 'INPUT', '-j', 'DROP'], exitCodes: [1] }],
    });
    expect(line).toBe('iptables -w -D INPUT -j DROP    # skipped if `iptables -w -C INPUT -j DROP` exits 1');
  });
});
