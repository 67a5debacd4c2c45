import { describe, expect, it } from 'vitest';
import { capabilityFor, isCapability, requireCapability } from '../../adapters/contract.js';
import { FloodgateError } from '../../core/errors.js';
import { sampleIntents } from '../conformance/adapter.js';

describe('adapter contract helpers', () => {
  it('maps each intent to the capability it needs', () => {
    expect(sampleIntents().map(capabilityFor)).toEqual(['flowspec4', 'flowspec6', 'rtbh4', 'rtbh6']);
  });

  it('recognises capability names', () => {
    expect(isCapability('rtbh6')).toBe(true);
    expect(isCapability('rtbh')).toBe(false);
    expect(isCapability(4)).toBe(false);
  });

  it('explains a missing capability with the adapter, intent and what it declares', () => {
    const [fs4, fs6] = sampleIntents();
    const adapter = { name: 'edge', capabilities: new Set(['flowspec4', 'rtbh4'] as const) };
    expect(() => requireCapability(adapter, fs4!)).not.toThrow();
    try {
      requireCapability(adapter, fs6!);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FloodgateError);
      const error = e as FloodgateError;
      expect(error.code).toBe('FG_ERR_ADAPTER_CAPABILITY');
      expect(error.message).toBe(
        `FG_ERR_ADAPTER_CAPABILITY: adapter "edge" cannot deliver flowspec6 (intent ${fs6!.id}); it declares flowspec4, rtbh4`,
      );
    }
  });
});
