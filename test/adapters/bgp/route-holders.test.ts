import { describe, expect, it } from 'vitest';
import { RouteHolders } from '../../../adapters/bgp/route-holders.js';

describe('RouteHolders', () => {
  it('announces the last applied intent and falls back to the previous one on its withdrawal', () => {
    const h = new RouteHolders<string>();
    h.hold('k', 'a', 'A');
    h.hold('k', 'b', 'B');
    expect(h.announced('k')).toEqual({ intentId: 'b', value: 'B' });
    // Re-applying an intent makes it the announced one again, without a duplicate.
    h.hold('k', 'a', 'A2');
    expect(h.holders('k').map((x) => x.intentId)).toEqual(['b', 'a']);
    expect(h.release('k', 'a')).toEqual({ next: { intentId: 'b', value: 'B' }, wasAnnounced: true });
    expect(h.release('k', 'x')).toEqual({ next: { intentId: 'b', value: 'B' }, wasAnnounced: false });
    expect(h.release('k', 'b')).toEqual({ next: undefined, wasAnnounced: true });
    expect(h.holders('k')).toEqual([]);
    h.hold('k', 'c', 'C');
    h.drop('k');
    expect(h.announced('k')).toBeUndefined();
  });
});
