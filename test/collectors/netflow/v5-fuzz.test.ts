/**
 * The NetFlow v5 decoder called directly on damaged and random datagrams (the decoder table
 * would hide a thrown TypeError as a counted 'decoder-exception'): every call returns its
 * record count or throws a WireError whose offset lies inside the datagram, and a refused
 * datagram leaves no row behind. v5 keeps no state, so memory cannot grow with input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetflowV5Decoder, V5_HEADER_BYTES, V5_RECORD_BYTES } from '../../../collectors/netflow/v5.js';
import { WireError } from '../../../core/errors.js';
import { FlowBatch } from '../../../core/flow/flow-batch.js';
import { mutate, mutation } from '../../helpers/datagram-mutations.js';
import { testDecodeContext } from '../../helpers/decode-context.js';
import { encodeNetflowV5 } from '../../helpers/netflow-v5.js';

const validDatagram = fc
  .array(
    fc.record({
      packets: fc.nat(),
      bytes: fc.nat(),
      first: fc.nat(),
      last: fc.nat(),
      srcPort: fc.integer({ min: 0, max: 65535 }),
      dstPort: fc.integer({ min: 0, max: 65535 }),
      protocol: fc.constantFrom(1, 6, 17, 58, 0, 255),
      tcpFlags: fc.integer({ min: 0, max: 255 }),
    }),
    { minLength: 1, maxLength: 30 },
  )
  .chain((records) =>
    fc
      .record({
        sysUptime: fc.nat(),
        unixNsecs: fc.nat(),
        samplingInterval: fc.integer({ min: 0, max: 65535 }),
        engineType: fc.integer({ min: 0, max: 255 }),
        engineId: fc.integer({ min: 0, max: 255 }),
      })
      .map((header) => encodeNetflowV5(header, records)),
  );

interface Outcome {
  records: number;
  wireErrors: number;
}

/** Decodes `d` into a batch of `capacity` rows; checks the contract; counts what happened. */
function decodeChecked(d: Uint8Array, capacity: number, defaultRate: number, outcome: Outcome): void {
  const decoder = new NetflowV5Decoder();
  let flushed = 0;
  const ctx = testDecodeContext({
    defaultRate,
    overrides: [{ exporter: '192.0.2.1', sourceId: 0, rate: 3 }],
    flush: (b) => {
      flushed += b.length;
      b.clear();
    },
  });
  const out = new FlowBatch(capacity);
  try {
    const n = decoder.decode(d, ctx, out);
    expect(n).toBe(flushed + out.length);
    expect(d.length).toBe(V5_HEADER_BYTES + V5_RECORD_BYTES * n);
    for (let row = 0; row < out.length; row++) {
      expect(out.samplingRate[row]).toBeGreaterThanOrEqual(1);
      expect(out.packets[row]).toBe(out.sampledPackets[row]! * out.samplingRate[row]!);
    }
    outcome.records += n;
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    expect(Number.isInteger(e.offset)).toBe(true);
    expect(e.offset).toBeGreaterThanOrEqual(0);
    expect(e.offset).toBeLessThanOrEqual(d.length);
    // v5 checks the whole datagram before the first row: nothing was appended or flushed.
    expect(out.length + flushed).toBe(0);
    outcome.wireErrors += 1;
  }
}

describe('NetFlow v5 decoder under fuzzing', () => {
  it('returns its count or throws WireError on damaged datagrams, appending nothing when it refuses', () => {
    const outcome: Outcome = { records: 0, wireErrors: 0 };
    fc.assert(
      fc.property(
        validDatagram,
        fc.array(mutation, { maxLength: 4 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 1 << 24 }),
        (d, ms, capacity, defaultRate) => decodeChecked(mutate(d, ms), capacity, defaultRate, outcome),
      ),
      { numRuns: 3000 },
    );
    // Both paths were exercised.
    expect(outcome.records).toBeGreaterThan(1000);
    expect(outcome.wireErrors).toBeGreaterThan(100);
  });

  it('survives random bytes behind a v5 version word', () => {
    const outcome: Outcome = { records: 0, wireErrors: 0 };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1600 }), fc.integer({ min: 1, max: 40 }), (body, capacity) => {
        const d = new Uint8Array(2 + body.length);
        d[1] = 5;
        d.set(body, 2);
        decodeChecked(d, capacity, 1, outcome);
      }),
      { numRuns: 3000 },
    );
    expect(outcome.wireErrors).toBeGreaterThan(2000);
  });
});
