import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type CollectorsConfig, collectorsConfigSchema } from '../../collectors/config.js';

const defaults: CollectorsConfig = {
  netflow: { listen: ['0.0.0.0:2055', '0.0.0.0:4739'] },
  sflow: { listen: ['0.0.0.0:6343'] },
  receiveBufferBytes: 33_554_432,
  defaultSamplingRate: 1,
  sampling: { overrides: [] },
  exporters: { allow: [] },
};

describe('collectorsConfigSchema', () => {
  it('fills every default from nothing or an empty section', () => {
    expect(collectorsConfigSchema.parse(undefined)).toEqual(defaults);
    expect(collectorsConfigSchema.parse({})).toEqual(defaults);
    expect(collectorsConfigSchema.parse({ netflow: {}, sflow: {}, sampling: {}, exporters: {} })).toEqual(
      defaults,
    );
  });

  it('does not share default arrays between parses', () => {
    const a = collectorsConfigSchema.parse({});
    a.netflow.listen.push('127.0.0.1:9995');
    expect(collectorsConfigSchema.parse({}).netflow.listen).toEqual(defaults.netflow.listen);
  });

  it('keeps what the operator set, the same from an object and after a YAML round trip', () => {
    const input = {
      netflow: { listen: ['[::]:2055', ':9995'] },
      sflow: { listen: ['192.0.2.1:6343'] },
      receiveBufferBytes: 8_388_608,
      defaultSamplingRate: 1000,
      sampling: {
        overrides: [
          { exporter: '192.0.2.1', rate: 2048 },
          { exporter: '192.0.2.0/24', sourceId: 256, rate: 100 },
          { exporter: '2001:db8::/32', rate: 1 },
        ],
      },
      exporters: { allow: ['192.0.2.0/24', '2001:db8::/32'] },
    };
    expect(collectorsConfigSchema.parse(input)).toEqual(input);
    expect(collectorsConfigSchema.parse(parse(stringify(input)))).toEqual(input);
  });

  it('names the path of every invalid value', () => {
    const r = collectorsConfigSchema.safeParse({
      netflow: { listen: ['0.0.0.0:70000'] },
      defaultSamplingRate: 0,
      receiveBufferBytes: 1.5,
      exporters: { allow: ['192.0.2.1/24'] },
      sflow: { lisen: [] },
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.')).sort();
    expect(paths).toEqual([
      'defaultSamplingRate',
      'exporters.allow.0',
      'netflow.listen.0',
      'receiveBufferBytes',
      'sflow',
    ]);
  });

  it('names the path of every invalid sampling override', () => {
    const r = collectorsConfigSchema.safeParse({
      sampling: {
        overrides: [
          { exporter: '192.0.2.1', rate: 10 },
          { exporter: '192.0.2.1/24', rate: 40 },
          { exporter: '2001:db8::/32', rate: 0 },
          { exporter: '2001:db8::/32', sourceId: -1, rate: 1.5 },
          { exporter: '198.51.100.1', rate: 1, sample: 2 },
          { rate: 5 },
        ],
      },
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'sampling.overrides.1.exporter',
      'sampling.overrides.2.rate',
      'sampling.overrides.3.rate',
      'sampling.overrides.3.sourceId',
      'sampling.overrides.4',
      'sampling.overrides.5.exporter',
    ]);
  });

  it('refuses two overrides for the same exporters and source id, however the prefix is written', () => {
    const r = collectorsConfigSchema.safeParse({
      sampling: {
        overrides: [
          { exporter: '192.0.2.1', rate: 10 },
          { exporter: '192.0.2.1', sourceId: 3, rate: 30 },
          { exporter: '192.0.2.1/32', rate: 20 },
          { exporter: '2001:db8:0::/48', rate: 5 },
          { exporter: '2001:db8::/48', sourceId: 3, rate: 5 },
          { exporter: '2001:db8::/48', sourceId: 3, rate: 6 },
        ],
      },
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'sampling.overrides.2: overrides entry 0 for the same exporters and source id (192.0.2.1/32)',
      'sampling.overrides.5: overrides entry 4 for the same exporters and source id (2001:db8::/48 source id 3)',
    ]);
  });
});
