import { describe, expect, it } from 'vitest';
import { NetflowV9Decoder } from '../../../collectors/netflow/v9.js';
import { TemplateCache } from '../../../collectors/template/template-cache.js';
import { fuzzTemplateDecoder } from '../template/fuzz-property.js';
import { v9Corpus } from '../template/template-corpus.js';

describe('NetFlow v9 decoder under fuzzing', () => {
  it('raises only WireError and stays within its caps on damaged and random datagrams', () => {
    const outcome = fuzzTemplateDecoder(
      () => {
        const cache = new TemplateCache('netflow-v9', {
          maxTemplatesPerExporter: 3,
          maxTemplates: 4,
          maxFieldsPerTemplate: 12,
          maxPendingSetsPerExporter: 2,
          maxPendingBytes: 600,
        });
        return { decoder: new NetflowV9Decoder(cache), cache };
      },
      v9Corpus,
      [0, 9],
      3000,
    );
    expect(outcome.records).toBeGreaterThan(1000);
    expect(outcome.wireErrors).toBeGreaterThan(100);
  });
});
