import { describe, expect, it } from 'vitest';
import { IpfixDecoder } from '../../../collectors/ipfix/ipfix.js';
import { TemplateCache } from '../../../collectors/template/template-cache.js';
import { fuzzTemplateDecoder } from '../template/fuzz-property.js';
import { ipfixCorpus } from '../template/template-corpus.js';

describe('IPFIX decoder under fuzzing', () => {
  it('raises only WireError and stays within its caps on damaged and random messages', () => {
    const outcome = fuzzTemplateDecoder(
      () => {
        // Small caps, so that fuzzing reaches them.
        const cache = new TemplateCache('ipfix', {
          maxTemplatesPerExporter: 3,
          maxTemplates: 4,
          maxFieldsPerTemplate: 12,
          maxPendingSetsPerExporter: 2,
          maxPendingBytes: 600,
        });
        return { decoder: new IpfixDecoder(cache), cache };
      },
      ipfixCorpus,
      [0, 10],
      3000,
    );
    // Both paths were exercised.
    expect(outcome.records).toBeGreaterThan(1000);
    expect(outcome.wireErrors).toBeGreaterThan(100);
  });
});
