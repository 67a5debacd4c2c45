/**
 * The set of destination hosts being counted, keyed by 128-bit address. Attack traffic picks
 * its destinations (a random-destination flood touches every address of a /16), so the table
 * has a hard cap: when it is full, a new host is refused and the refusal is counted; memory
 * never grows past what the cap allocated at construction.
 *
 * Layout: hosts live in dense slots 0..capacity-1 (their id), and per-host data elsewhere
 * (counters, rings) is indexed by the same id. An open-addressing index with linear probing
 * maps an address hash to id+1 (0 = empty) and is sized to a power of two at least twice the
 * capacity, so probes stay short even when every slot is in use.
 *
 * Deletion uses backward-shift (no tombstones): after removing an entry, later entries of the
 * same probe run move back into the hole, so lookups never walk over dead entries and the table
 * does not degrade with churn. Freed ids go on a stack and are reused first, which keeps the
 * touched part of the per-host arrays (and so resident memory) as small as the live set allows.
 *
 * Memory per host slot: 16 (key) + 4 (hash) + 8 (last seen) + 1 (used) + 1 (pinned) + 4 (free
 * stack) + 8 (index, two 4-byte entries per slot) = 42 bytes.
 */
import { ADDRESS_WORDS } from '../flow/flow-batch.js';
import { hashWords } from './hash.js';

const EMPTY = 0;

export interface HostTableOptions {
  /** Most hosts tracked at once. */
  capacity: number;
  /** Hash seed; pass a random one in production so attackers cannot aim at collisions. */
  seed?: number;
}

export class HostTable {
  readonly capacity: number;
  /** Address of each slot, 4 words per id. */
  readonly keys: Uint32Array;
  /** Latest flow arrival seen for each slot (Unix ms). */
  readonly lastSeenMs: Float64Array;
  /** 1 when the id holds a live host. */
  readonly used: Uint8Array;
  /** Live hosts. */
  size = 0;
  /** Inserts refused because the table was full. */
  overflow = 0;
  /** Ids at or above this have never been handed out; loops over live ids can stop here. */
  highWater = 0;

  private readonly hashes: Uint32Array;
  private readonly pinned: Uint8Array;
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly freeIds: Int32Array;
  private freeTop = 0;
  private readonly seed: number;

  constructor(options: HostTableOptions) {
    const { capacity } = options;
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new RangeError(`host table capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.seed = (options.seed ?? 0x2545f491) >>> 0;
    this.keys = new Uint32Array(capacity * ADDRESS_WORDS);
    this.lastSeenMs = new Float64Array(capacity);
    this.used = new Uint8Array(capacity);
    this.pinned = new Uint8Array(capacity);
    this.hashes = new Uint32Array(capacity);
    this.freeIds = new Int32Array(capacity);
    let size = 2;
    while (size < capacity * 2) size *= 2;
    this.index = new Int32Array(size);
    this.mask = size - 1;
  }

  /** Id of the host whose address is at `row` of a 4-word column, or -1. Allocation-free. */
  lookupRow(column: Uint32Array, row: number): number {
    const a = row * ADDRESS_WORDS;
    const w0 = column[a]!;
    const w1 = column[a + 1]!;
    const w2 = column[a + 2]!;
    const w3 = column[a + 3]!;
    const keys = this.keys;
    let pos = hashWords(w0, w1, w2, w3, this.seed) & this.mask;
    for (;;) {
      const entry = this.index[pos]!;
      if (entry === EMPTY) return -1;
      const id = entry - 1;
      const k = id * ADDRESS_WORDS;
      if (keys[k] === w0 && keys[k + 1] === w1 && keys[k + 2] === w2 && keys[k + 3] === w3) return id;
      pos = (pos + 1) & this.mask;
    }
  }

  /**
   * Adds the host at `row` (the caller has checked it is absent) and returns its id, or -1 when
   * the table is full (counted in `overflow`). The new slot's `lastSeenMs` is 0.
   */
  insertRow(column: Uint32Array, row: number): number {
    let id: number;
    if (this.freeTop > 0) {
      this.freeTop -= 1;
      id = this.freeIds[this.freeTop]!;
    } else if (this.highWater < this.capacity) {
      id = this.highWater;
      this.highWater += 1;
    } else {
      this.overflow += 1;
      return -1;
    }
    const a = row * ADDRESS_WORDS;
    const k = id * ADDRESS_WORDS;
    const w0 = column[a]!;
    const w1 = column[a + 1]!;
    const w2 = column[a + 2]!;
    const w3 = column[a + 3]!;
    this.keys[k] = w0;
    this.keys[k + 1] = w1;
    this.keys[k + 2] = w2;
    this.keys[k + 3] = w3;
    const hash = hashWords(w0, w1, w2, w3, this.seed);
    this.hashes[id] = hash;
    let pos = hash & this.mask;
    while (this.index[pos] !== EMPTY) pos = (pos + 1) & this.mask;
    this.index[pos] = id + 1;
    this.used[id] = 1;
    this.pinned[id] = 0;
    this.lastSeenMs[id] = 0;
    this.size += 1;
    return id;
  }

  /** Removes a live host; its id may be handed out again by the next insert. */
  remove(id: number): void {
    if (this.used[id] !== 1) return;
    const mask = this.mask;
    const index = this.index;
    let hole = this.hashes[id]! & mask;
    while (index[hole] !== id + 1) hole = (hole + 1) & mask;
    // Backward shift: walk the rest of the probe run; an entry whose home slot is not
    // cyclically within (hole, pos] would become unreachable across the hole, so it moves back.
    let pos = hole;
    for (;;) {
      pos = (pos + 1) & mask;
      const entry = index[pos]!;
      if (entry === EMPTY) break;
      const home = this.hashes[entry - 1]! & mask;
      const distFromHome = (pos - home) & mask;
      const distFromHole = (pos - hole) & mask;
      if (distFromHome >= distFromHole) {
        index[hole] = entry;
        hole = pos;
      }
    }
    index[hole] = EMPTY;
    this.used[id] = 0;
    this.pinned[id] = 0;
    this.freeIds[this.freeTop] = id;
    this.freeTop += 1;
    this.size -= 1;
  }

  /** A pinned host is never evicted (the detector pins hosts with an open incident). */
  setPinned(id: number, pinned: boolean): void {
    this.pinned[id] = pinned ? 1 : 0;
  }

  isPinned(id: number): boolean {
    return this.pinned[id] === 1;
  }

  /**
   * Removes every unpinned host not seen since `cutoffMs`, telling `onEvict` each id before it
   * goes (so per-host state held elsewhere can be let go); returns how many went.
   */
  evictIdle(cutoffMs: number, onEvict?: (id: number) => void): number {
    let evicted = 0;
    for (let id = 0; id < this.highWater; id++) {
      if (this.used[id] === 1 && this.pinned[id] === 0 && this.lastSeenMs[id]! < cutoffMs) {
        onEvict?.(id);
        this.remove(id);
        evicted += 1;
      }
    }
    return evicted;
  }

  get bytesAllocated(): number {
    return (
      this.keys.byteLength +
      this.lastSeenMs.byteLength +
      this.used.byteLength +
      this.pinned.byteLength +
      this.hashes.byteLength +
      this.freeIds.byteLength +
      this.index.byteLength
    );
  }
}
