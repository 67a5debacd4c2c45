/**
 * Malformed and hostile sFlow datagrams: every structural lie is refused whole with a WireError
 * at the offset where the input stopped making sense, earlier rows and stored counters stay as
 * they were, nothing escapes the decoder table, and fuzzing finds no other outcome.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDecoderTable } from '../../../collectors/registry.js';
import { SflowV5Decoder } from '../../../collectors/sflow/v5.js';
import { WireError } from '../../../core/errors.js';
import { FlowBatch } from '../../../core/flow/flow-batch.js';
import { testDecodeContext } from '../../helpers/decode-context.js';
import { flowRows } from '../../helpers/flow-row.js';
import { concat, ethernet, ipv4, ipv6, payload, TCP_SYN, tcp, udp } from '../../helpers/raw-packets.js';
import { encodeSflow, type FlowSampleSpec, type SampleSpec } from '../../helpers/sflow.js';

const V4 = { src: '198.51.100.7', dst: '203.0.113.10' };
const header = ethernet(ipv4({ ...V4, protocol: 17, body: udp(123, 40_000, payload(100)) }));
const flow = (more: Partial<FlowSampleSpec> = {}): FlowSampleSpec => ({
  kind: 'flow',
  samplingRate: 10,
  records: [{ kind: 'raw-header', header }],
  ...more,
});
const counters: SampleSpec = { kind: 'counters', records: [{ kind: 'generic-interface', ifIndex: 4 }] };

/** IPv4 agent: the header is 28 bytes, the sample count at byte 24, the first sample at 28. */
const FIRST_SAMPLE = 28;
/** In a compact flow sample: its records start 8 + 32 bytes in. */
const FIRST_RECORD = FIRST_SAMPLE + 8 + 32;
/** The counter sample above: 8-byte sample header, 12 fixed, one 8 + 88 byte record. */
const COUNTERS_BYTES = 8 + 12 + 8 + 88;

function expectWireError(datagram: Uint8Array, code: string, offset: number) {
  const decoder = new SflowV5Decoder();
  const ctx = testDecodeContext();
  const out = new FlowBatch(64);
  decoder.decode(encodeSflow({ samples: [flow(), flow()] }), ctx, out);
  const before = flowRows(out);
  let caught: unknown;
  try {
    decoder.decode(datagram, ctx, out);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(WireError);
  const err = caught as WireError;
  expect({ code: err.code, offset: err.offset }).toEqual({ code, offset });
  expect(err.details['offset']).toBe(offset);
  expect(err.message).toContain('sFlow datagram from 192.0.2.1');
  // Refused whole: the earlier datagram's rows intact, no new row, no counters stored.
  expect(flowRows(out)).toEqual(before);
  expect(decoder.interfaceCounters()).toEqual([]);
  return err;
}

function patchU32(d: Uint8Array, at: number, value: number): Uint8Array {
  const copy = Uint8Array.from(d);
  new DataView(copy.buffer).setUint32(at, value >>> 0);
  return copy;
}

describe('sFlow v5 decoder: malformed datagrams', () => {
  const good = encodeSflow({ samples: [counters, flow()] });

  it('refuses a datagram too short for its header', () => {
    expectWireError(new Uint8Array(0), 'FG_ERR_WIRE_TRUNCATED', 0);
    expectWireError(good.subarray(0, 7), 'FG_ERR_WIRE_TRUNCATED', 7);
    expectWireError(good.subarray(0, 27), 'FG_ERR_WIRE_TRUNCATED', 27);
    const v6 = encodeSflow({ agent: '2001:db8::1', samples: [] });
    expect(v6.length).toBe(40);
    expectWireError(v6.subarray(0, 39), 'FG_ERR_WIRE_TRUNCATED', 39);
  });

  it('refuses other versions and agent address types', () => {
    expectWireError(encodeSflow({ version: 4, samples: [] }), 'FG_ERR_WIRE_VERSION', 0);
    const err = expectWireError(encodeSflow({ agentType: 3, samples: [] }), 'FG_ERR_WIRE_VALUE', 4);
    expect(err.details).toMatchObject({ agentType: 3 });
  });

  it('refuses a sample count the bytes cannot hold, before walking anything', () => {
    const one = encodeSflow({ samples: [flow()] });
    const mostThatFit = (one.length - FIRST_SAMPLE) / 8;
    for (const count of [0xffffffff, 1_000_000, mostThatFit + 1]) {
      const err = expectWireError(
        encodeSflow({ samples: [flow()], sampleCount: count }),
        'FG_ERR_WIRE_VALUE',
        24,
      );
      expect(err.details).toMatchObject({ samples: count });
    }
  });

  it('refuses a count larger than the samples present, where the bytes run out', () => {
    const d = encodeSflow({ samples: [flow(), flow()], sampleCount: 3 });
    expectWireError(d, 'FG_ERR_WIRE_TRUNCATED', d.length);
  });

  it('refuses a sample length pointing past the end, at that length field', () => {
    expectWireError(
      good.subarray(0, good.length - 1),
      'FG_ERR_WIRE_LENGTH',
      FIRST_SAMPLE + COUNTERS_BYTES + 4,
    );
    const err = expectWireError(
      patchU32(good, FIRST_SAMPLE + 4, 0xfffffff0),
      'FG_ERR_WIRE_LENGTH',
      FIRST_SAMPLE + 4,
    );
    expect(err.details).toMatchObject({ sample: 0, declared: 0xfffffff0 });
  });

  it('refuses bytes after the last sample, and a count smaller than the samples present', () => {
    expectWireError(concat(good, new Uint8Array(4)), 'FG_ERR_WIRE_LENGTH', good.length);
    const fewer = encodeSflow({ samples: [flow(), flow()], sampleCount: 1 });
    expectWireError(fewer, 'FG_ERR_WIRE_LENGTH', (fewer.length + FIRST_SAMPLE) / 2);
    expectWireError(encodeSflow({ samples: [flow()], sampleCount: 0 }), 'FG_ERR_WIRE_LENGTH', FIRST_SAMPLE);
  });

  describe('lengths nested in samples and records that lie', () => {
    it('refuses a flow or counter sample shorter than its fixed part', () => {
      expectWireError(
        encodeSflow({ samples: [flow({ length: 28 })] }),
        'FG_ERR_WIRE_LENGTH',
        FIRST_SAMPLE + 4,
      );
      const short = encodeSflow({ samples: [{ kind: 'opaque', format: 3, data: payload(40, 0) }] });
      expectWireError(short, 'FG_ERR_WIRE_LENGTH', FIRST_SAMPLE + 4);
      const counter = encodeSflow({ samples: [{ kind: 'opaque', format: 4, data: payload(12, 0) }] });
      expectWireError(counter, 'FG_ERR_WIRE_LENGTH', FIRST_SAMPLE + 4);
    });

    it('refuses a sample length that cuts its records, however the rest is laid out', () => {
      // The sample says 8 bytes fewer: its last record overruns it.
      const d = encodeSflow({ samples: [flow()] });
      const sampleLength = d.length - FIRST_SAMPLE - 8;
      expectWireError(
        encodeSflow({
          samples: [
            flow({ length: sampleLength - 8 }),
            { kind: 'opaque', format: 9, data: new Uint8Array(0) },
          ],
        }),
        'FG_ERR_WIRE_LENGTH',
        FIRST_RECORD + 4,
      );
    });

    it('refuses a record count the sample cannot hold, at the count', () => {
      expectWireError(
        encodeSflow({ samples: [flow({ recordCount: 0x7fffffff })] }),
        'FG_ERR_WIRE_VALUE',
        FIRST_RECORD - 4,
      );
      const c = encodeSflow({ samples: [{ ...counters, recordCount: 100 } as SampleSpec] });
      expectWireError(c, 'FG_ERR_WIRE_VALUE', FIRST_SAMPLE + 8 + 8);
    });

    it('refuses records that do not fill their sample exactly', () => {
      const two = flow({ records: [{ kind: 'extended-switch' }, { kind: 'raw-header', header }] });
      // Count 1 of 2 records: the second is left over inside the sample.
      expectWireError(
        encodeSflow({ samples: [{ ...two, recordCount: 1 }] }),
        'FG_ERR_WIRE_LENGTH',
        FIRST_RECORD + 24,
      );
      // Count 3 of 2: the third would start at the sample's end.
      const three = encodeSflow({ samples: [{ ...two, recordCount: 3 }] });
      expectWireError(three, 'FG_ERR_WIRE_LENGTH', three.length);
    });

    it('refuses a raw header whose header length lies about its record', () => {
      // 142 header bytes, padded to 144 in the record: 145 cannot be there.
      expect(header.length).toBe(142);
      expectWireError(
        encodeSflow({ samples: [flow({ records: [{ kind: 'raw-header', header, headerLength: 145 }] })] }),
        'FG_ERR_WIRE_LENGTH',
        FIRST_RECORD + 8 + 12,
      );
      expectWireError(
        encodeSflow({
          samples: [flow({ records: [{ kind: 'raw-header', header, headerLength: 0xffffffff }] })],
        }),
        'FG_ERR_WIRE_LENGTH',
        FIRST_RECORD + 8 + 12,
      );
      // A header length far shorter than the record: the record's length is the lie.
      expectWireError(
        encodeSflow({ samples: [flow({ records: [{ kind: 'raw-header', header, headerLength: 10 }] })] }),
        'FG_ERR_WIRE_LENGTH',
        FIRST_RECORD + 4,
      );
      expectWireError(
        encodeSflow({ samples: [flow({ records: [{ kind: 'opaque', format: 1, data: payload(12, 0) }] })] }),
        'FG_ERR_WIRE_LENGTH',
        FIRST_RECORD + 4,
      );
    });

    it('accepts an unpadded raw header whose record ends with the header bytes', () => {
      const odd = header.subarray(0, 61);
      const record = { kind: 'opaque' as const, format: 1, data: concat(encodeRawHeaderBody(odd), odd) };
      const decoder = new SflowV5Decoder();
      const out = new FlowBatch(4);
      expect(
        decoder.decode(encodeSflow({ samples: [flow({ records: [record] })] }), testDecodeContext(), out),
      ).toBe(1);
      expect(out.dstPort[0]).toBe(40_000);
    });

    it('refuses fixed-size records of the wrong size', () => {
      const ipv4Record = { kind: 'sampled-ipv4' as const, length: 100, protocol: 17, ...V4 };
      expectWireError(
        encodeSflow({ samples: [flow({ records: [{ ...ipv4Record, recordLength: 28 }] })] }),
        'FG_ERR_WIRE_LENGTH',
        FIRST_RECORD + 4,
      );
      expectWireError(
        encodeSflow({ samples: [flow({ records: [{ kind: 'opaque', format: 4, data: payload(60, 0) }] })] }),
        'FG_ERR_WIRE_LENGTH',
        FIRST_RECORD + 4,
      );
      expectWireError(
        encodeSflow({
          samples: [{ kind: 'counters', records: [{ kind: 'opaque', format: 1, data: payload(84, 0) }] }],
        }),
        'FG_ERR_WIRE_LENGTH',
        FIRST_SAMPLE + 8 + 12 + 4,
      );
    });

    it('stores no counters from a datagram refused after them', () => {
      // The counter sample comes first and is fine; the flow sample after it lies.
      expectWireError(
        encodeSflow({ samples: [counters, flow({ recordCount: 1000 })] }),
        'FG_ERR_WIRE_VALUE',
        FIRST_SAMPLE + COUNTERS_BYTES + 8 + 28,
      );
    });
  });

  it('never lets an error escape the decoder table, and counts each by code', () => {
    const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } });
    const out = new FlowBatch(16);
    const sink = (b: FlowBatch) => b.clear();
    const bad = [
      good.subarray(0, 27),
      encodeSflow({ samples: [flow()], sampleCount: 0xffffffff }),
      concat(good, new Uint8Array(4)),
      encodeSflow({ agentType: 9, samples: [] }),
    ];
    for (const d of bad) expect(table.decode(d, '192.0.2.1', 1, out, sink)).toBe(0);
    expect(table.decode(good, '192.0.2.1', 2, out, sink)).toBe(1);
    const e = table.snapshot().exporters[0]!;
    expect(e.errors).toEqual({ FG_ERR_WIRE_TRUNCATED: 1, FG_ERR_WIRE_VALUE: 2, FG_ERR_WIRE_LENGTH: 1 });
    expect(e.records).toBe(1);
    expect(e.lastError).toMatchObject({
      reason: 'FG_ERR_WIRE_VALUE',
      details: { offset: 4, decoder: 'sflow-v5' },
    });
  });
});

/** header_protocol, frame_length, stripped, header length, for a hand-made raw header record. */
function encodeRawHeaderBody(h: Uint8Array): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, 1);
  v.setUint32(4, h.length + 4);
  v.setUint32(8, 4);
  v.setUint32(12, h.length);
  return b;
}

describe('sFlow v5 decoder: fuzz', () => {
  const seeds = [
    encodeSflow({
      samples: [
        counters,
        flow(),
        flow({
          expanded: true,
          records: [
            { kind: 'extended-switch' },
            {
              kind: 'raw-header',
              header: ethernet(
                ipv6({
                  src: '2001:db8::1',
                  dst: '2001:db8::2',
                  protocol: 6,
                  body: tcp(1, 2, TCP_SYN),
                  extensions: [{ kind: 'fragment', offset: 0, more: true }],
                }),
                { vlans: [1, 2] },
              ),
            },
          ],
        }),
      ],
    }),
    encodeSflow({
      agent: '2001:db8::9',
      samples: [
        { kind: 'flow', records: [{ kind: 'sampled-ipv4', length: 40, protocol: 6, ...V4 }] },
        { kind: 'counters', expanded: true, records: [{ kind: 'generic-interface', ifIndex: 1 }] },
        { kind: 'opaque', enterprise: 4413, format: 7, data: payload(16) },
      ],
    }),
  ];

  /** Decodes through a fresh table; the only acceptable outcomes are rows or a counted error. */
  function survives(d: Uint8Array) {
    const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } });
    const out = new FlowBatch(8);
    let delivered = 0;
    const n = table.decode(d, '192.0.2.1', 1, out, (b) => {
      delivered += b.length;
      b.clear();
    });
    expect(n).toBe(delivered + out.length);
    const e = table.snapshot().exporters[0]!;
    expect(e.errors['decoder-exception']).toBeUndefined();
    // Each sample yields at most one row: output stays proportional to input.
    expect(n).toBeLessThanOrEqual(d.length / 8);
  }

  /** Direct calls: a result or a WireError, nothing else. */
  function directly(d: Uint8Array, decoder: SflowV5Decoder) {
    try {
      decoder.decode(d, testDecodeContext({ flush: (b) => b.clear() }), new FlowBatch(8));
    } catch (e) {
      expect(e).toBeInstanceOf(WireError);
    }
  }

  it('survives random bytes behind a valid sFlow v5 start', () => {
    const decoder = new SflowV5Decoder({ maxInterfaces: 16 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (tail) => {
        const d = concat(Uint8Array.of(0, 0, 0, 5, 0, 0, 0, 1), tail);
        survives(d);
        directly(d, decoder);
      }),
      { numRuns: 3000 },
    );
    expect(decoder.interfaceCounters().length).toBeLessThanOrEqual(16);
  });

  it('survives mutated valid datagrams: flipped bytes, forged words, cuts', () => {
    const decoder = new SflowV5Decoder({ maxInterfaces: 16 });
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(0, 1, 3, 4, 8, 0x7fffffff, 0xffffffff)), {
          maxLength: 3,
        }),
        fc.option(fc.nat()),
        (seed, flips, words, cut) => {
          let d: Uint8Array = Uint8Array.from(seed);
          for (const [at, value] of flips) d[at % d.length] = value;
          for (const [at, value] of words) d = patchU32(d, (at % (d.length >>> 2)) * 4, value);
          if (cut !== null) d = d.subarray(0, cut % (d.length + 1));
          survives(d);
          directly(d, decoder);
        },
      ),
      { numRuns: 5000 },
    );
    expect(decoder.interfaceCounters().length).toBeLessThanOrEqual(16);
  });
});
