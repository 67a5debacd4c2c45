import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../adapters/bgp/bytes.js';
import { decodeCommunities } from '../../../adapters/bgp/community.js';
import { decodeExtendedCommunities } from '../../../adapters/bgp/extended-community.js';
import { decodeFlowSpecNlris, encodeFlowSpecNlri } from '../../../adapters/bgp/flowspec-nlri.js';
import { WireError } from '../../../core/errors.js';
import { arbitraryNlri } from './arbitraries.js';

const CRASHERS = join(import.meta.dirname, '../../../adapters/bgp/testdata/crashers');

const DECODERS: Record<string, (bytes: Uint8Array) => unknown> = {
  flowspec4: (b) => decodeFlowSpecNlris(b, 4),
  flowspec6: (b) => decodeFlowSpecNlris(b, 6),
  'ext-communities': decodeExtendedCommunities,
  communities: decodeCommunities,
};

/** Runs a decoder; returns the WireError it threw, undefined when it decoded, and rethrows anything else. */
function wireErrorOf(decode: (b: Uint8Array) => unknown, bytes: Uint8Array): WireError | undefined {
  try {
    decode(bytes);
  } catch (e) {
    if (e instanceof WireError) return e;
    throw new Error(
      `decoder threw something other than a WireError for ${Buffer.from(bytes).toString('hex')}`,
      {
        cause: e,
      },
    );
  }
  return undefined;
}

describe('BGP decoders on hostile input', () => {
  const files = readdirSync(CRASHERS).filter((f) => f.endsWith('.hex'));

  it('has crasher fixtures to replay', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  for (const file of files) {
    it(`refuses ${file} with the recorded WireError`, () => {
      const text = readFileSync(join(CRASHERS, file), 'utf8');
      const decoder = /# decoder: (\S+)/.exec(text)?.[1];
      const expected = /# expect: (\S+)/.exec(text)?.[1];
      const decode = DECODERS[decoder ?? ''];
      expect(decode, `${file}: unknown decoder ${decoder}`).toBeDefined();
      const error = wireErrorOf(decode!, fromHex(text));
      expect(error?.code, file).toBe(expected);
      expect(Number.isInteger(error?.offset)).toBe(true);
    });
  }

  it('random bytes: every decoder returns or throws a WireError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const decode of Object.values(DECODERS)) wireErrorOf(decode, bytes);
      }),
      { numRuns: 20_000 },
    );
  });

  it('valid NLRIs with bytes flipped, cut or added: WireError or a decode, nothing else', () => {
    fc.assert(
      fc.property(
        arbitraryNlri(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.integer({ min: -8, max: 4 }),
        (nlri, flips, cut) => {
          const bytes = encodeFlowSpecNlri(nlri);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          const mutated =
            cut < 0
              ? bytes.subarray(0, Math.max(0, bytes.length + cut))
              : new Uint8Array([...bytes, ...Array(cut).fill(0x81)]);
          wireErrorOf(DECODERS[`flowspec${nlri.version}`]!, mutated);
        },
      ),
      { numRuns: 5_000 },
    );
  });
});
