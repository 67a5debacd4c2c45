/**
 * The fuzz property both template decoders must hold, over sequences of datagrams (template
 * state carries from one to the next, which is where stateful decoders break): every call
 * returns a count or throws WireError, never anything else; the batch stays consistent; the
 * template state stays inside its caps.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { FlowDecoder } from '../../../collectors/decoder.js';
import type { TemplateCache } from '../../../collectors/template/template-cache.js';
import { WireError } from '../../../core/errors.js';
import { FlowBatch } from '../../../core/flow/flow-batch.js';
import { mutate, mutation } from '../../helpers/datagram-mutations.js';
import { testDecodeContext } from '../../helpers/decode-context.js';

export interface FuzzOutcome {
  datagrams: number;
  records: number;
  wireErrors: number;
}

export function fuzzTemplateDecoder(
  make: () => { decoder: FlowDecoder; cache: TemplateCache },
  corpus: readonly Uint8Array[],
  versionPrefix: readonly number[],
  numRuns: number,
): FuzzOutcome {
  const outcome: FuzzOutcome = { datagrams: 0, records: 0, wireErrors: 0 };
  const damaged = fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.constantFrom(...corpus), fc.array(mutation, { maxLength: 4 }))
        .map(([d, ms]) => mutate(d, ms)),
    },
    { weight: 2, arbitrary: fc.constantFrom(...corpus) },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 600 })
        .map((body) => Uint8Array.from([...versionPrefix, ...body])),
    },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(damaged, fc.integer({ min: 0, max: 20_000 })), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 40 }),
      (sequence, capacity) => {
        const { decoder, cache } = make();
        let flushed = 0;
        const ctx = testDecodeContext({
          flush: (b) => {
            flushed += b.length;
            b.clear();
          },
        });
        const out = new FlowBatch(capacity);
        let arrival = 1_700_000_000_000;
        for (const [datagram, gapMs] of sequence) {
          arrival += gapMs;
          ctx.arrivalMs = arrival;
          const before = out.length + flushed;
          outcome.datagrams += 1;
          try {
            const n = decoder.decode(datagram, ctx, out);
            expect(n).toBeGreaterThanOrEqual(0);
            expect(out.length + flushed - before).toBe(n);
            outcome.records += n;
          } catch (e) {
            if (!(e instanceof WireError)) throw e;
            expect(Number.isInteger(e.offset)).toBe(true);
            expect(e.offset).toBeGreaterThanOrEqual(0);
            expect(e.offset).toBeLessThanOrEqual(datagram.length);
            outcome.wireErrors += 1;
            // The table would abandon the datagram's unflushed rows; do as it does.
            if (out.length > ctx.datagramStart) out.length = ctx.datagramStart;
          }
          expect(out.length).toBeLessThanOrEqual(out.capacity);
          expect(cache.templateCount).toBeLessThanOrEqual(cache.limits.maxTemplates);
          expect(cache.pendingBytes).toBeLessThanOrEqual(cache.limits.maxPendingBytes);
          for (const exporter of cache.exporterStates()) {
            expect(exporter.templateCount).toBeLessThanOrEqual(cache.limits.maxTemplatesPerExporter);
            expect(exporter.pending.length).toBeLessThanOrEqual(cache.limits.maxPendingSetsPerExporter);
          }
        }
      },
    ),
    { numRuns },
  );
  return outcome;
}
