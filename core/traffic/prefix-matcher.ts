/**
 * Longest-prefix match of flow addresses against the monitored networks. Built once from the
 * configuration, then asked once per flow record, so a lookup reads typed arrays only: no
 * objects, no strings, no allocation.
 *
 * Each family has its own trie with 8-bit strides (one level per address byte: at most 4 steps
 * for IPv4, 16 for IPv6). A prefix that ends inside a byte is expanded over the entries it
 * covers at that level; prefixes are inserted shortest first, so a longer one overwrites a
 * shorter one on the entries they share, and a value found deeper in the walk always belongs to
 * a longer prefix. The last value met on the walk is therefore the longest match.
 *
 * IPv4 prefixes only match IPv4 (IPv4-mapped) addresses and IPv6 prefixes only IPv6 ones: "::/0"
 * means "all of IPv6" to an operator, not "IPv4 too" because of how addresses are stored.
 */
import { ADDRESS_WORDS } from '../flow/flow-batch.js';
import type { Prefix } from '../net/address.js';

const FANOUT = 256;
const NO_MATCH = -1;

/** One family's trie, flattened into typed arrays once built. */
class ByteTrie {
  /** node * 256 + byte -> child node index, 0 when none (the root is never a child). */
  readonly children: Int32Array;
  /** node * 256 + byte -> index of the longest prefix ending at this level, -1 when none. */
  readonly values: Int32Array;
  /** The /0 prefix of this family, or -1. */
  readonly rootValue: number;

  constructor(entries: readonly { bytes: readonly number[]; length: number; value: number }[]) {
    const children: Int32Array[] = [new Int32Array(FANOUT)];
    const values: Int32Array[] = [new Int32Array(FANOUT).fill(NO_MATCH)];
    let rootValue = NO_MATCH;
    const sorted = [...entries].sort((a, b) => a.length - b.length);
    for (const { bytes, length, value } of sorted) {
      if (length === 0) {
        rootValue = value;
        continue;
      }
      const lastByte = (length - 1) >> 3;
      let node = 0;
      for (let b = 0; b < lastByte; b++) {
        const byte = bytes[b]!;
        let child = children[node]![byte]!;
        if (child === 0) {
          child = children.length;
          children.push(new Int32Array(FANOUT));
          values.push(new Int32Array(FANOUT).fill(NO_MATCH));
          children[node]![byte] = child;
        }
        node = child;
      }
      const bitsHere = length - lastByte * 8;
      const span = 1 << (8 - bitsHere);
      const first = bytes[lastByte]! & ~(span - 1) & 0xff;
      values[node]!.fill(value, first, first + span);
    }
    this.children = new Int32Array(children.length * FANOUT);
    this.values = new Int32Array(values.length * FANOUT);
    for (let n = 0; n < children.length; n++) {
      this.children.set(children[n]!, n * FANOUT);
      this.values.set(values[n]!, n * FANOUT);
    }
    this.rootValue = rootValue;
  }

  get bytesAllocated(): number {
    return this.children.byteLength + this.values.byteLength;
  }
}

function wordBytes(words: readonly number[], from: number): number[] {
  const out: number[] = [];
  for (let w = from; w < ADDRESS_WORDS; w++) {
    const v = words[w]! >>> 0;
    out.push(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  }
  return out;
}

export class PrefixMatcher {
  private readonly v4: ByteTrie;
  private readonly v6: ByteTrie;

  /** `prefixes[i]` matches as `i`; the caller keeps whatever it needs per index. */
  constructor(prefixes: readonly Prefix[]) {
    const v4: { bytes: number[]; length: number; value: number }[] = [];
    const v6: { bytes: number[]; length: number; value: number }[] = [];
    prefixes.forEach((p, i) => {
      if (p.version === 4) v4.push({ bytes: wordBytes(p.words, 3), length: p.length, value: i });
      else v6.push({ bytes: wordBytes(p.words, 0), length: p.length, value: i });
    });
    this.v4 = new ByteTrie(v4);
    this.v6 = new ByteTrie(v6);
  }

  /** Index of the longest prefix holding the address at `row` of a 4-word column, or -1. */
  matchRow(column: Uint32Array, row: number): number {
    const a = row * ADDRESS_WORDS;
    if (column[a] === 0 && column[a + 1] === 0 && column[a + 2] === 0xffff) {
      return walk(this.v4, column, a + 3, a + 4);
    }
    return walk(this.v6, column, a, a + 4);
  }

  get bytesAllocated(): number {
    return this.v4.bytesAllocated + this.v6.bytesAllocated;
  }
}

function walk(trie: ByteTrie, column: Uint32Array, from: number, to: number): number {
  const { children, values } = trie;
  let best = trie.rootValue;
  let node = 0;
  for (let w = from; w < to; w++) {
    const word = column[w]!;
    for (let shift = 24; shift >= 0; shift -= 8) {
      const i = node * FANOUT + ((word >>> shift) & 255);
      const v = values[i]!;
      if (v !== NO_MATCH) best = v;
      const child = children[i]!;
      if (child === 0) return best;
      node = child;
    }
  }
  return best;
}
