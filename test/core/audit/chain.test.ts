import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../core/audit/canonical-json.js';
import {
  type AuditEntry,
  type AuditInput,
  auditEntryHash,
  chainEntry,
  GENESIS_PREV_HASH,
  verifyChain,
} from '../../../core/audit/chain.js';

const inputs: AuditInput[] = [
  { atMs: 1_000, actor: 'system', action: 'incident-open', incidentId: 'inc-1', result: 'ok' },
  {
    atMs: 2_000,
    actor: 'adapter:exabgp',
    action: 'apply',
    incidentId: 'inc-1',
    mitigationId: 'rtbh-1@exabgp',
    adapter: 'exabgp',
    command: 'announce route 203.0.113.5/32 next-hop 192.0.2.1 community [65535:666]',
    result: 'ok',
  },
  {
    atMs: 3_000,
    actor: 'system',
    action: 'refuse',
    incidentId: 'inc-1',
    result: 'refused',
    detail: { code: 'FG_ERR_SAFETY_PROTECTED', prefixes: ['198.51.100.0/24'] },
  },
  { atMs: 4_000, actor: 'operator:alice', action: 'withdraw', mitigationId: 'rtbh-1@exabgp', result: 'ok' },
];

function buildChain(list: readonly AuditInput[]): AuditEntry[] {
  const chain: AuditEntry[] = [];
  for (const input of list) chain.push(chainEntry(chain.at(-1) ?? null, input));
  return chain;
}

describe('chainEntry', () => {
  it('starts from the genesis hash with seq 1 and links each entry to the previous hash', () => {
    const chain = buildChain(inputs);
    expect(chain.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(chain[0]!.prevHash).toBe(GENESIS_PREV_HASH);
    expect(GENESIS_PREV_HASH).toMatch(/^0{64}$/);
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.prevHash).toBe(chain[i - 1]!.hash);
    for (const entry of chain) expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes the canonical JSON of the entry without its hash field', async () => {
    const entry = chainEntry(null, inputs[1]!);
    const { hash, ...content } = entry;
    const { createHash } = await import('node:crypto');
    expect(hash).toBe(createHash('sha256').update(canonicalJson(content)).digest('hex'));
    expect(auditEntryHash(entry)).toBe(hash);
  });

  it('leaves absent optional fields out instead of storing undefined', () => {
    const entry = chainEntry(null, { ...inputs[0]!, adapter: undefined, detail: undefined });
    expect(Object.keys(entry).sort()).toEqual([
      'action',
      'actor',
      'atMs',
      'hash',
      'incidentId',
      'prevHash',
      'result',
      'seq',
    ]);
  });

  it('does not depend on the key order of the input or its detail', () => {
    const a = chainEntry(null, { ...inputs[2]!, detail: { b: 1, a: { y: 2, x: 3 } } });
    const reordered = {
      result: 'refused',
      detail: { a: { x: 3, y: 2 }, b: 1 },
      incidentId: 'inc-1',
      action: 'refuse',
      actor: 'system',
      atMs: 3_000,
    } as const;
    expect(chainEntry(null, reordered).hash).toBe(a.hash);
  });

  it('stores detail as it reads back from JSON, so a stored entry still verifies', () => {
    const entry = chainEntry(null, {
      ...inputs[0]!,
      detail: { when: new Date(0), missing: undefined, list: [1, undefined] },
    });
    expect(entry.detail).toEqual({ when: '1970-01-01T00:00:00.000Z', list: [1, null] });
    const roundTripped = JSON.parse(JSON.stringify(entry)) as AuditEntry;
    expect(verifyChain([roundTripped])).toEqual({ ok: true, count: 1 });
  });
});

describe('verifyChain', () => {
  it('accepts an intact chain and an empty one', () => {
    expect(verifyChain(buildChain(inputs))).toEqual({ ok: true, count: 4 });
    expect(verifyChain([])).toEqual({ ok: true, count: 0 });
  });

  it('accepts any generator of entries (streamed from storage)', () => {
    const chain = buildChain(inputs);
    function* stream() {
      yield* chain;
    }
    expect(verifyChain(stream())).toEqual({ ok: true, count: 4 });
  });

  it('detects an edited field', () => {
    const chain = buildChain(inputs);
    chain[1] = { ...chain[1]!, command: 'announce route 0.0.0.0/0 next-hop 192.0.2.1' };
    const result = verifyChain(chain);
    expect(result).toMatchObject({ ok: false, seq: 2 });
    expect(!result.ok && result.reason).toMatch(/hash does not match/);
  });

  it('detects an edited detail deep inside an entry', () => {
    const chain = buildChain(inputs);
    chain[2] = { ...chain[2]!, detail: { code: 'FG_ERR_SAFETY_PROTECTED', prefixes: ['198.51.100.0/25'] } };
    expect(verifyChain(chain)).toMatchObject({ ok: false, seq: 3 });
  });

  it('detects an edit that also recomputed the entry hash, at the next entry', () => {
    const chain = buildChain(inputs);
    const forged = { ...chain[1]!, result: 'error' as const };
    chain[1] = { ...forged, hash: auditEntryHash(forged) };
    const result = verifyChain(chain);
    expect(result).toMatchObject({ ok: false, seq: 3 });
    expect(!result.ok && result.reason).toMatch(/prevHash does not match the hash of entry 2/);
  });

  it('detects a deleted entry', () => {
    const chain = buildChain(inputs);
    chain.splice(1, 1);
    const result = verifyChain(chain);
    expect(result).toMatchObject({ ok: false, seq: 3 });
    expect(!result.ok && result.reason).toMatch(/expected seq 2/);
  });

  it('detects a deleted first entry', () => {
    const chain = buildChain(inputs).slice(1);
    expect(verifyChain(chain)).toMatchObject({ ok: false, seq: 2 });
  });

  it('detects a deleted entry even when the later ones were renumbered', () => {
    const chain = buildChain(inputs);
    chain.splice(1, 1);
    const renumbered = chain.map((e, i) => ({ ...e, seq: i + 1 }));
    const result = verifyChain(renumbered);
    expect(result).toMatchObject({ ok: false, seq: 2 });
    expect(!result.ok && result.reason).toMatch(/prevHash/);
  });

  it('detects reordered entries', () => {
    const chain = buildChain(inputs);
    const swapped = [chain[0]!, chain[2]!, chain[1]!, chain[3]!];
    expect(verifyChain(swapped)).toMatchObject({ ok: false, seq: 3 });
  });

  it('detects a forged genesis', () => {
    const chain = buildChain(inputs);
    chain[0] = { ...chain[0]!, prevHash: 'f'.repeat(64) };
    const result = verifyChain(chain);
    expect(result).toMatchObject({ ok: false, seq: 1 });
    expect(!result.ok && result.reason).toMatch(/genesis/);
  });

  it('detects any single-entry removal or swap in random chains', () => {
    const inputArb = fc.record({
      atMs: fc.nat(),
      actor: fc.constantFrom('system' as const, 'operator:bob' as const, 'adapter:dry-run' as const),
      action: fc.constantFrom('apply' as const, 'withdraw' as const, 'fail' as const),
      result: fc.constantFrom('ok' as const, 'error' as const),
      detail: fc.option(fc.jsonValue(), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(inputArb, { minLength: 2, maxLength: 12 }), fc.nat(), (list, pick) => {
        const chain = buildChain(list);
        if (!verifyChain(chain).ok) return false;
        const i = pick % (chain.length - 1);
        const removed = chain.filter((_, j) => j !== i);
        const swapped = [...chain];
        [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
        return !verifyChain(removed).ok && !verifyChain(swapped).ok;
      }),
    );
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined properties', () => {
    expect(canonicalJson({ b: [{ d: 1, c: undefined, a: null }], a: 'x' })).toBe(
      '{"a":"x","b":[{"a":null,"d":1}]}',
    );
  });

  it('agrees with JSON.stringify on scalars', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null)), (v) => {
        return canonicalJson(v) === JSON.stringify(v);
      }),
    );
  });

  it('is unchanged by a JSON round trip', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => canonicalJson(JSON.parse(JSON.stringify(v))) === canonicalJson(v)),
    );
  });
});
