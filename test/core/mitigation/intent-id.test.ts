import { describe, expect, it } from 'vitest';
import type { FlowSpecIntent } from '../../../core/mitigation/intent.js';
import { canonicalIntentContent, intentId } from '../../../core/mitigation/intent-id.js';

const base: FlowSpecIntent = {
  kind: 'flowspec',
  id: 'ignored',
  incidentId: 'inc-1',
  ipVersion: 6,
  match: { destination: '2001:db8::5/128', protocols: [17], sourcePorts: [53, 123] },
  action: { type: 'discard' },
};

describe('intentId', () => {
  it('is a family-tagged prefix and 16 hex digits, stable across runs', () => {
    // Pinned: ids are stored and shown to operators, so the hashing must not drift silently.
    // fs6- + sha256('{"action":{"type":"discard"},"ipVersion":6,"kind":"flowspec","match":{...}}')
    expect(intentId(base)).toBe('fs6-336296349161c80b');
    expect(
      intentId({
        kind: 'rtbh',
        ipVersion: 4,
        prefix: '203.0.113.5/32',
        nextHop: '192.0.2.1',
        communities: ['65535:666'],
      }),
    ).toBe('bh4-751f2f3ff6ed3b56');
  });

  it('ignores id, incident and meaningless differences of order and spelling', () => {
    const same: FlowSpecIntent = {
      ...base,
      id: 'other',
      incidentId: 'inc-2',
      match: {
        sourcePorts: [123, 53, 123],
        protocols: [17],
        destination: '2001:DB8:0:0::5/128',
        destinationPorts: [],
      },
    };
    expect(intentId(same)).toBe(intentId(base));
    expect(
      intentId({
        kind: 'rtbh',
        ipVersion: 4,
        prefix: '203.0.113.5/32',
        nextHop: '192.0.2.1',
        communities: ['1:1', '65535:666'],
      }),
    ).toBe(
      intentId({
        kind: 'rtbh',
        ipVersion: 4,
        prefix: '203.0.113.5/32',
        nextHop: '192.0.2.1',
        communities: ['65535:666', '1:1', '1:1'],
      }),
    );
  });

  it('changes with anything that changes what the router does', () => {
    const variants: FlowSpecIntent[] = [
      { ...base, action: { type: 'rate-limit', bytesPerSecond: 0 } },
      { ...base, match: { ...base.match, sourcePorts: [53] } },
      { ...base, match: { ...base.match, destination: '2001:db8::6/128' } },
      { ...base, match: { ...base.match, fragment: 'is-fragment' } },
      { ...base, match: { ...base.match, tcpFlagsSet: 2 } },
    ];
    const ids = new Set([intentId(base), ...variants.map(intentId)]);
    expect(ids.size).toBe(variants.length + 1);
  });

  it('normalises content without the identity fields', () => {
    expect(canonicalIntentContent(base)).toEqual({
      kind: 'flowspec',
      ipVersion: 6,
      match: { destination: '2001:db8::5/128', protocols: [17], sourcePorts: [53, 123] },
      action: { type: 'discard' },
    });
  });
});
