import { describe, expect, it } from 'vitest';
import { resolveSamplingRate } from '../../collectors/decoder.js';
import {
  ExporterSampling,
  parseSamplingOverrides,
  type SamplingOverrideConfig,
} from '../../collectors/sampling-overrides.js';
import { FloodgateError } from '../../core/errors.js';
import { parseAddress } from '../../core/net/address.js';
import { testDecodeContext } from '../helpers/decode-context.js';

function samplingFor(exporter: string, overrides: readonly SamplingOverrideConfig[], defaultRate = 1) {
  const words = Uint32Array.from(parseAddress(exporter)!.words);
  return new ExporterSampling(defaultRate, parseSamplingOverrides(overrides), words);
}

describe('parseSamplingOverrides', () => {
  it('parses addresses and prefixes of both families, with and without a source id', () => {
    const parsed = parseSamplingOverrides([
      { exporter: '192.0.2.1', rate: 1000 },
      { exporter: '2001:db8::/32', sourceId: 0, rate: 1 },
    ]);
    expect(parsed.map((o) => [o.prefix.version, o.prefix.length, o.rate, o.sourceId])).toEqual([
      [4, 32, 1000, -1],
      [6, 32, 1, 0],
    ]);
  });

  it('refuses what the config schema refuses, naming the entry', () => {
    const cases: [SamplingOverrideConfig, RegExp][] = [
      [{ exporter: '192.0.2.1/24', rate: 1 }, /overrides\.0\.exporter: "192\.0\.2\.1\/24" is not an address/],
      [{ exporter: 'router1', rate: 1 }, /overrides\.0\.exporter/],
      [{ exporter: '192.0.2.1', rate: 0 }, /overrides\.0\.rate: sampling rate must be an integer from 1/],
      [{ exporter: '192.0.2.1', rate: 2.5 }, /overrides\.0\.rate/],
      [{ exporter: '192.0.2.1', rate: 2 ** 24 + 1 }, /overrides\.0\.rate/],
      [{ exporter: '192.0.2.1', rate: 1, sourceId: -2 }, /overrides\.0\.sourceId/],
      [{ exporter: '192.0.2.1', rate: 1, sourceId: 2 ** 32 }, /overrides\.0\.sourceId/],
    ];
    for (const [entry, message] of cases) {
      let caught: unknown;
      try {
        parseSamplingOverrides([entry]);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(FloodgateError);
      expect((caught as FloodgateError).code).toBe('FG_ERR_CONFIG_INVALID');
      expect((caught as Error).message).toMatch(message);
    }
  });

  it('refuses two entries for the same exporters and source id, however written', () => {
    expect(() =>
      parseSamplingOverrides([
        { exporter: '192.0.2.1', rate: 10 },
        { exporter: '192.0.2.1/32', rate: 20 },
      ]),
    ).toThrow(/overrides\.1: overrides entry 0 for the same exporters and source id \(192\.0\.2\.1\/32\)/);
    expect(() =>
      parseSamplingOverrides([
        { exporter: '2001:db8::/32', sourceId: 5, rate: 10 },
        { exporter: '2001:0db8::/32', sourceId: 5, rate: 20 },
      ]),
    ).toThrow(/source id 5/);
    // Same prefix, different source ids (or one naming none): distinct entries.
    expect(
      parseSamplingOverrides([
        { exporter: '192.0.2.1', rate: 10 },
        { exporter: '192.0.2.1', sourceId: 1, rate: 20 },
        { exporter: '192.0.2.1', sourceId: 2, rate: 30 },
      ]),
    ).toHaveLength(3);
  });
});

describe('ExporterSampling', () => {
  it('forces nothing without overrides, or when none matches the exporter', () => {
    expect(samplingFor('192.0.2.1', []).forcedRate(0)).toBe(0);
    const s = samplingFor('192.0.2.1', [
      { exporter: '198.51.100.0/24', rate: 100 },
      { exporter: '2001:db8::/32', rate: 100 },
    ]);
    expect(s.forcedRate(0)).toBe(0);
    expect(s.defaultRate).toBe(1);
  });

  it('applies an exporter-wide entry to every source id', () => {
    const s = samplingFor('203.0.113.9', [{ exporter: '203.0.113.0/24', rate: 512 }]);
    expect([0, 1, 256, 0xffffffff].map((id) => s.forcedRate(id))).toEqual([512, 512, 512, 512]);
  });

  it('applies a source-specific entry to that source id only', () => {
    const s = samplingFor('2001:db8::9', [{ exporter: '2001:db8::9', sourceId: 256, rate: 64 }]);
    expect([s.forcedRate(256), s.forcedRate(0), s.forcedRate(257)]).toEqual([64, 0, 0]);
  });

  it('lets the most specific entry win: longer prefix first, then the one naming the source id', () => {
    const overrides: SamplingOverrideConfig[] = [
      { exporter: '10.0.0.0/8', rate: 1 },
      { exporter: '10.0.0.0/8', sourceId: 3, rate: 3 },
      { exporter: '10.1.0.0/16', rate: 16 },
      { exporter: '10.1.1.0/24', sourceId: 7, rate: 247 },
      { exporter: '10.1.1.1', sourceId: 9, rate: 329 },
    ];
    const host = samplingFor('10.1.1.1', overrides);
    // sid 3: the /16 exporter-wide entry is longer than the /8 naming sid 3.
    expect([0, 3, 7, 9].map((id) => host.forcedRate(id))).toEqual([16, 16, 247, 329]);
    const other = samplingFor('10.2.0.1', overrides);
    // Only the /8 entries match: at equal length the one naming the source id wins.
    expect([0, 3, 7].map((id) => other.forcedRate(id))).toEqual([1, 3, 1]);
    // The order of the list does not matter.
    const reversed = samplingFor('10.1.1.1', [...overrides].reverse());
    expect([0, 3, 7, 9].map((id) => reversed.forcedRate(id))).toEqual([16, 16, 247, 329]);
  });
});

describe('resolveSamplingRate', () => {
  it('takes an override over the reported rate and the default, and counts each source', () => {
    const ctx = testDecodeContext({
      exporter: '192.0.2.1',
      defaultRate: 7,
      overrides: [{ exporter: '192.0.2.1', sourceId: 1, rate: 1000 }],
    });
    expect(resolveSamplingRate(50, 1, ctx)).toBe(1000);
    expect(resolveSamplingRate(0, 1, ctx)).toBe(1000);
    expect(resolveSamplingRate(50, 2, ctx)).toBe(50);
    expect(resolveSamplingRate(0, 2, ctx)).toBe(7);
    expect(Object.fromEntries(ctx.stats.notices)).toEqual({
      'sampling-override-used': 2,
      'sampling-default-used': 1,
    });
    expect(ctx.stats.lastSamplingRate).toBe(7);
  });
});
