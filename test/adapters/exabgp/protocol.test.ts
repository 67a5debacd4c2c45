/** The helper socket protocol: what each side accepts, and ExaBGP's neighbor-change lines. */
import { describe, expect, it } from 'vitest';
import {
  applyEffect,
  type HelperEntry,
  lineSplitter,
  MAX_LINE_BYTES,
  parseAdapterMessage,
  parseHelperMessage,
  parseNeighborChange,
} from '../../../adapters/exabgp/protocol.js';

const entry: HelperEntry = {
  intentId: 'bh4-1',
  receipt: {
    adapter: 'edge',
    intentId: 'bh4-1',
    kind: 'rtbh',
    command: 'announce route 203.0.113.66/32 next-hop 192.0.2.1',
    appliedAtMs: 1,
  },
};

describe('helper protocol', () => {
  it('accepts well-formed messages and rejects anything else', () => {
    const hello = {
      t: 'hello',
      v: 1,
      helperPid: 2,
      exabgpPid: 1,
      exabgpStart: null,
      table: [entry],
      sessions: {},
    };
    expect(parseHelperMessage(JSON.stringify(hello))).toEqual(hello);
    expect(
      parseHelperMessage(JSON.stringify({ ...hello, table: [{ intentId: 'x', receipt: entry.receipt }] })),
    ).toBeUndefined();
    expect(
      parseHelperMessage(
        JSON.stringify({ t: 'reply', id: 'a', answer: 'done', effect: { op: 'delete', intentId: 'x' } }),
      ),
    ).toBeDefined();
    expect(
      parseHelperMessage(
        JSON.stringify({ t: 'reply', id: 'a', answer: 'maybe', effect: { op: 'delete', intentId: 'x' } }),
      ),
    ).toBeUndefined();
    expect(
      parseHelperMessage(JSON.stringify({ t: 'session', peer: '127.0.0.3', state: 'sideways', detail: '' })),
    ).toBeUndefined();
    expect(parseHelperMessage('done')).toBeUndefined();
    expect(parseHelperMessage('[1,2]')).toBeUndefined();
    expect(
      parseAdapterMessage(JSON.stringify({ t: 'send', id: 'a', line: 'x', effect: { op: 'put', entry } })),
    ).toBeDefined();
    expect(
      parseAdapterMessage(JSON.stringify({ t: 'send', id: 'a', line: 3, effect: { op: 'put', entry } })),
    ).toBeUndefined();
    expect(parseAdapterMessage(JSON.stringify({ t: 'adopt', table: [entry] }))).toBeDefined();
    expect(parseAdapterMessage(JSON.stringify({ t: 'shell', cmd: 'rm' }))).toBeUndefined();
  });

  it("reads ExaBGP's neighbor-change lines", () => {
    expect(parseNeighborChange('neighbor 127.0.0.3 up')).toEqual({
      peer: '127.0.0.3',
      state: 'up',
      detail: '',
    });
    expect(parseNeighborChange('neighbor 2001:db8::1 down - peer reset the session')).toEqual({
      peer: '2001:db8::1',
      state: 'down',
      detail: 'peer reset the session',
    });
    expect(parseNeighborChange('neighbor 127.0.0.3 update start')).toBeUndefined();
    expect(parseNeighborChange('done')).toBeUndefined();
  });

  it('applies effects to a table', () => {
    const table = new Map<string, HelperEntry>();
    applyEffect(table, { op: 'put', entry });
    expect([...table.keys()]).toEqual(['bh4-1']);
    applyEffect(table, { op: 'delete', intentId: 'bh4-1' });
    expect(table.size).toBe(0);
  });

  it('splits lines across chunks, strips CR, and drops an over-long line', () => {
    const lines: string[] = [];
    let overflows = 0;
    const feed = lineSplitter(
      (l) => lines.push(l),
      () => overflows++,
    );
    feed(Buffer.from('do'));
    feed(Buffer.from('ne\r\nerr'));
    feed(Buffer.from('or\n'));
    expect(lines).toEqual(['done', 'error']);
    feed(Buffer.alloc(MAX_LINE_BYTES + 1, 0x61));
    expect(overflows).toBe(1);
    feed(Buffer.from('\nok\n'));
    expect(lines).toEqual(['done', 'error', '', 'ok']);
  });
});
