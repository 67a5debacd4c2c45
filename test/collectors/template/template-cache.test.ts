import { describe, expect, it } from 'vitest';
import { ntpToUnixMs, readFloat, readUint } from '../../../collectors/template/bytes.js';
import { K } from '../../../collectors/template/information-elements.js';
import type { PendingSet } from '../../../collectors/template/pending-sets.js';
import { SamplingValues } from '../../../collectors/template/sampling.js';
import {
  CompiledTemplate,
  planEntry,
  planKind,
  planOffset,
  planWidth,
  type TemplateDefinition,
} from '../../../collectors/template/template.js';
import { TemplateCache } from '../../../collectors/template/template-cache.js';

function definition(
  id: number,
  fields: [number, number, number?][],
  kind: 'data' | 'options' = 'data',
  scopeCount = 0,
) {
  const d: TemplateDefinition = {
    id,
    kind,
    scopeCount,
    ids: Uint16Array.from(fields, (f) => f[0]),
    lengths: Uint16Array.from(fields, (f) => f[1]),
    enterprises: Uint32Array.from(fields, (f) => f[2] ?? 0),
  };
  return d;
}

/** The read plan as [kind, width, offset] per field. */
function plan(t: CompiledTemplate): number[][] {
  return Array.from(t.plan, (e) => [planKind(e), planWidth(e), planOffset(e)]);
}

function held(templateId: number, arrivalMs: number, bytes: number, domainId = 0): PendingSet {
  return { domainId, templateId, arrivalMs, exportMs: 0, sysUptime: -1, body: new Uint8Array(bytes) };
}

describe('compiled templates', () => {
  it('merges consecutive skipped fields into one step and measures records', () => {
    const t = new CompiledTemplate(
      definition(256, [
        [8, 4],
        [5, 1], // ToS: skipped
        [61, 1], // direction: skipped
        [300, 2, 9], // enterprise: skipped
        [12, 4],
        [82, 0xffff], // variable: its own step
        [136, 1],
      ]),
      'ipfix',
      0,
    );
    expect(Array.from(t.kinds)).toEqual([K.SRC_V4, K.SKIP, K.DST_V4, K.SKIP, K.SKIP]);
    expect(Array.from(t.lengths)).toEqual([4, 4, 4, 0xffff, 1]);
    expect(t.fixedLength).toBe(-1);
    expect(t.minLength).toBe(4 + 4 + 4 + 1 + 1);
    expect(t.hasSampling).toBe(false);
    // The read plan keeps only what is read; after a variable-length field the offsets are
    // found per record.
    expect(plan(t)).toEqual([
      [K.SRC_V4, 4, 0],
      [K.DST_V4, 4, 8],
    ]);
  });

  it('plans fixed-length records as field offsets from the record start', () => {
    const t = new CompiledTemplate(
      definition(256, [
        [27, 16], // sourceIPv6Address
        [5, 1], // ToS: skipped, not in the plan
        [7, 2],
        [3, 4], // a known element of an unusable width would be skipped too; 3 is unknown
        [1, 8],
        [152, 8],
      ]),
      'ipfix',
      0,
    );
    expect(t.fixedLength).toBe(16 + 1 + 2 + 4 + 8 + 8);
    expect(plan(t)).toEqual([
      [K.SRC_V6, 16, 0],
      [K.SRC_PORT, 2, 17],
      [K.BYTES_DELTA, 8, 23],
      [K.START_MILLIS, 8, 31],
    ]);
  });

  it('leaves fields of a width their kind cannot take out of the plan', () => {
    const t = new CompiledTemplate(
      definition(256, [
        [8, 3], // a 3-byte IPv4 address
        [4, 1],
      ]),
      'v9',
      0,
    );
    expect(t.ignoredFields).toBe(1);
    expect(plan(t)).toEqual([[K.PROTOCOL, 1, 3]]);
  });

  it('treats NetFlow v9 options scope fields as scope types, IPFIX ones as elements', () => {
    const fields: [number, number][] = [
      [48, 1], // v9: scope type 48 (none); IPFIX: samplerId
      [34, 4],
    ];
    const v9 = new CompiledTemplate(definition(256, fields, 'options', 1), 'v9', 0);
    const ipfix = new CompiledTemplate(definition(256, fields, 'options', 1), 'ipfix', 0);
    expect(Array.from(v9.kinds)).toEqual([K.SKIP, K.SAMPLING_INTERVAL]);
    expect(Array.from(ipfix.kinds)).toEqual([K.SAMPLER_ID, K.SAMPLING_INTERVAL]);
    expect(v9.fixedLength).toBe(5);
  });
});

describe('template cache', () => {
  it('withdraws one kind of template across a domain and keeps counts right', () => {
    const cache = new TemplateCache('ipfix');
    const e = cache.exporter('192.0.2.1')!;
    const d = cache.domain(e, 0)!;
    cache.store(e, d, new CompiledTemplate(definition(256, [[8, 4]]), 'ipfix', 0));
    cache.store(e, d, new CompiledTemplate(definition(257, [[8, 4]]), 'ipfix', 0));
    cache.store(
      e,
      d,
      new CompiledTemplate(
        definition(
          258,
          [
            [48, 1],
            [34, 4],
          ],
          'options',
          1,
        ),
        'ipfix',
        0,
      ),
    );
    expect(cache.withdrawAll(e, d, 'data')).toBe(2);
    expect([...d.templates.keys()]).toEqual([258]);
    expect(e.templateCount).toBe(1);
    expect(cache.templateCount).toBe(1);
    expect(cache.withdraw(e, d, 256)).toBe(false);
  });

  it('caps exporters, domains and samplers', () => {
    const cache = new TemplateCache('netflow-v9', {
      maxExporters: 1,
      maxDomainsPerExporter: 1,
      maxSamplersPerDomain: 1,
    });
    const e = cache.exporter('192.0.2.1')!;
    expect(cache.exporter('192.0.2.2')).toBeUndefined();
    expect(cache.exporter('192.0.2.1')).toBe(e);
    const d = cache.domain(e, 1)!;
    expect(cache.domain(e, 2)).toBeUndefined();
    expect(cache.setSamplerRate(d, 1, 100)).toBe(true);
    expect(cache.setSamplerRate(d, 1, 200)).toBe(true);
    expect(cache.setSamplerRate(d, 2, 100)).toBe(false);
    expect([...d.samplerRates]).toEqual([[1, 200]]);
  });

  it('holds sets within per-exporter and total bounds, and clears expired ones of quiet exporters', () => {
    const cache = new TemplateCache('ipfix', {
      maxPendingSetsPerExporter: 2,
      maxPendingBytesPerExporter: 1000,
      maxPendingBytes: 1500,
      pendingWindowMs: 10_000,
    });
    const quiet = cache.exporter('192.0.2.1')!;
    const busy = cache.exporter('192.0.2.2')!;
    expect(cache.hold(quiet, held(300, 0, 900))).toBe(true);
    expect(cache.hold(quiet, held(301, 0, 200))).toBe(false); // per-exporter bytes
    expect(cache.hold(busy, held(300, 5_000, 500))).toBe(true);
    expect(cache.hold(busy, held(301, 5_000, 500))).toBe(false); // total bytes; nothing expired yet
    expect(cache.hold(busy, held(301, 10_001, 500))).toBe(true); // the quiet exporter's set expired
    expect(quiet.pending).toHaveLength(0);
    expect(cache.hold(busy, held(302, 10_001, 1))).toBe(false); // per-exporter count
    expect(cache.pendingBytes).toBe(1000);
  });

  it('takes held sets of one template, oldest first, and frees their bytes', () => {
    const cache = new TemplateCache('ipfix');
    const e = cache.exporter('192.0.2.1')!;
    cache.hold(e, held(300, 1, 10));
    cache.hold(e, held(301, 2, 20));
    cache.hold(e, held(300, 3, 30));
    cache.hold(e, held(300, 4, 40, 9));
    const taken = cache.take(e, 0, 300);
    expect(taken.map((s) => s.arrivalMs)).toEqual([1, 3]);
    expect(e.pending.map((s) => s.templateId)).toEqual([301, 300]);
    expect(cache.pendingBytes).toBe(60);
    expect(cache.take(e, 0, 999)).toHaveLength(0);
    expect(cache.expire(e, 10_003)).toBe(1);
    expect(cache.pendingBytes).toBe(40);
  });
});

describe('byte readers', () => {
  it('reads unsigned integers of every width 1..8', () => {
    const b = Uint8Array.of(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08);
    const expected = [
      0x01,
      0x0102,
      0x010203,
      0x01020304,
      0x0102030405,
      0x010203040506,
      0x01020304050607,
      Number(0x0102030405060708n),
    ];
    for (let w = 1; w <= 8; w++) expect(readUint(b, 0, w)).toBe(expected[w - 1]);
    expect(readUint(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 0, 4)).toBe(0xffffffff);
  });

  it('reads NTP timestamps in era 0 and, after February 2036, era 1', () => {
    const ntp = (seconds: number, fraction: number) => {
      const b = new Uint8Array(8);
      const v = new DataView(b.buffer);
      v.setUint32(0, seconds);
      v.setUint32(4, fraction);
      return b;
    };
    expect(ntpToUnixMs(ntp(2_208_988_800 + 1_700_000_000, 2 ** 31), 0)).toBe(1_700_000_000_500);
    expect(ntpToUnixMs(ntp(10, 0), 0)).toBe((2 ** 32 - 2_208_988_800 + 10) * 1000);
  });

  it('reads floats of 4 and 8 bytes and refuses other widths', () => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, 0.25);
    expect(readFloat(b, 0, 8)).toBe(0.25);
    new DataView(b.buffer).setFloat32(0, 0.5);
    expect(readFloat(b, 0, 4)).toBe(0.5);
    expect(readFloat(b, 0, 2)).toBeNaN();
  });
});

describe('sampling values', () => {
  it('reduces each form to 1 in N, rounding and clamping', () => {
    const s = new SamplingValues();
    const rate = (set: Partial<SamplingValues>) => {
      s.reset();
      Object.assign(s, set);
      return s.rate();
    };
    expect(rate({})).toBe(0);
    expect(rate({ interval: 1000, packetInterval: 1, packetSpace: 9 })).toBe(1000);
    expect(rate({ packetInterval: 2, packetSpace: 1 })).toBe(2); // 1.5 rounds up
    expect(rate({ size: 3, population: 1000 })).toBe(333);
    expect(rate({ probability: 0.3 })).toBe(3);
    expect(rate({ probability: 2 })).toBe(0);
    expect(rate({ probability: Number.NaN })).toBe(0);
    expect(rate({ size: 1000, population: 1 })).toBe(1);
    expect(rate({ interval: 2 ** 40 })).toBe(0xffffffff);
  });
});

describe('read plan entries', () => {
  it('keep offsets up to the largest record whole', () => {
    for (const offset of [0, 1, 32_767, 32_768, 65_530]) {
      const e = planEntry(K.BYTES_DELTA, 8, offset);
      expect([planKind(e), planWidth(e), planOffset(e)]).toEqual([K.BYTES_DELTA, 8, offset]);
    }
  });
});
