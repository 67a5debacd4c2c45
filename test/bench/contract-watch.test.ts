/**
 * The fuzzer learns of contract breaches through the decoder table's logger; these tests drive
 * a real table with decoders that throw, so a change in how the table reports them shows here.
 */
import { describe, expect, it } from 'vitest';
import { ContractWatch } from '../../bench/fuzz/contract-watch.js';
import type { FlowDecoder } from '../../collectors/decoder.js';
import { DecoderTable } from '../../collectors/registry.js';
import { FloodgateError, WireError } from '../../core/errors.js';
import { FlowBatch } from '../../core/flow/flow-batch.js';

function tableThrowing(error: () => unknown, watch: ContractWatch): DecoderTable {
  const table = new DecoderTable({ defaultSamplingRate: 1, logger: watch.logger });
  const decoder: FlowDecoder = {
    name: 'thrower',
    decode() {
      throw error();
    },
  };
  table.register('netflow-v5', decoder);
  return table;
}

const V5 = new Uint8Array([0, 5, 0, 0, 0, 0, 0, 0]);

function decode(table: DecoderTable, exporter = '192.0.2.1'): void {
  table.decode(V5, exporter, 0, new FlowBatch(8), (b) => b.clear());
}

describe('contract watch', () => {
  it('sees a decoder throwing a plain Error, with its stack', () => {
    const watch = new ContractWatch();
    decode(tableThrowing(() => new TypeError('cannot read x of undefined'), watch));
    expect(watch.breach).toMatchObject({ kind: 'decoder-exception', decoder: 'thrower' });
    expect(watch.breach?.message).toContain('cannot read x of undefined');
    expect(watch.breach?.stack).toContain('TypeError');
  });

  it('sees a FloodgateError that is not a WireError', () => {
    const watch = new ContractWatch();
    decode(tableThrowing(() => new FloodgateError('FG_ERR_STORE', 'wrong kind of error'), watch));
    expect(watch.breach).toMatchObject({ kind: 'not-a-wire-error', decoder: 'thrower' });
  });

  it('lets WireErrors pass: they are the contract', () => {
    const watch = new ContractWatch();
    decode(tableThrowing(() => new WireError('FG_ERR_WIRE_TRUNCATED', 'short', 4), watch));
    expect(watch.breach).toBeUndefined();
  });

  it('hears of each breach once per exporter, which is why the fuzzer renews addresses', () => {
    const watch = new ContractWatch();
    const table = tableThrowing(() => new Error('boom'), watch);
    decode(table, '192.0.2.1');
    expect(watch.breach).toBeDefined();
    watch.breach = undefined;
    decode(table, '192.0.2.1');
    expect(watch.breach).toBeUndefined();
    decode(table, '192.0.2.2');
    expect(watch.breach).toBeDefined();
  });
});
