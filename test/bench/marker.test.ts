import { describe, expect, it } from 'vitest';
import { MARKER_PROTOCOL, MARKER_RECORDS_PER_DATAGRAM, markerDatagram } from '../../bench/ingest/marker.js';
import { createDecoderTable } from '../../collectors/registry.js';
import { FlowBatch } from '../../core/flow/flow-batch.js';

describe('marker datagrams', () => {
  it('are valid NetFlow v5 whose every record has the marker protocol', () => {
    const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } });
    const batch = new FlowBatch(64);
    const n = table.decode(markerDatagram(90, 1_763_700_000_123), '127.0.0.1', 0, batch, () => {
      throw new Error('no flush expected');
    });
    expect(n).toBe(MARKER_RECORDS_PER_DATAGRAM);
    expect(table.snapshot().totals.errors).toEqual({});
    for (let row = 0; row < n; row++) {
      expect(batch.protocol[row]).toBe(MARKER_PROTOCOL);
      expect(batch.packets[row]).toBe(1);
      expect(batch.bytes[row]).toBe(64);
    }
  });

  it('carry the sequence they are given', () => {
    expect(markerDatagram(4711, 0).readUInt32BE(16)).toBe(4711);
  });
});
