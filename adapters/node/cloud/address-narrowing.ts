/**
 * Blocking a source on a firewall that can only allow: narrowing an allow list of addresses so
 * it no longer admits S, and widening it back at undo. Pure functions over the address strings a
 * provider stores for one rule (DigitalOcean's sources.addresses), property-tested on their own.
 *
 * Narrowing replaces each entry that covers S by that entry minus S (the fewest prefixes, in
 * place, sorted) and drops each entry lying inside S. Each replaced entry remembers its root:
 * the operator's entry it descends from, which is itself unless it is a piece another block
 * still in place cut earlier (the caller passes those blocks' roots; the provider stores no note
 * on an address, so nothing else can tell a piece from an operator's entry).
 *
 * Restoring puts back exactly what apply took out (S ∩ each replaced entry) and merges upward
 * while the neighbouring half is allowed, never past the root: with no other block inside the
 * root, the root comes back verbatim at its place; another block's hole stops the merge, so that
 * block stays in place. Addresses of the other family and non-address entries are untouched.
 */
import {
  type Cidr,
  cidrKey,
  compareCidrs,
  complement,
  contains,
  formatCidr,
  isCovered,
  overlaps,
  parent,
  parseRemoteCidr,
  sameCidr,
  sibling,
} from './cidr.js';

export interface ReplacedEntry {
  /** The entry as the rule held it ("0.0.0.0/0", "198.51.100.0/24"). */
  original: string;
  /** What replaced it at apply time (empty when the entry lay inside S). */
  pieces: string[];
  /** The operator's entry `original` descends from, verbatim (`original` itself for theirs). */
  root: string;
}

export interface NarrowResult {
  addresses: string[];
  replaced: ReplacedEntry[];
}

/**
 * `roots`: the roots recorded by the other blocks still in place on this rule. An entry strictly
 * inside one of them is a piece of that root (the narrowest such root is taken).
 */
export function narrowAddresses(
  addresses: readonly string[],
  source: Cidr,
  roots: readonly string[] = [],
): NarrowResult {
  const touched = (entry: Cidr | undefined): entry is Cidr =>
    entry !== undefined && entry.version === source.version && overlaps(entry, source);
  const knownRoots = roots.flatMap((text) => {
    const cidr = parseRemoteCidr(text);
    return cidr ? [{ text, cidr }] : [];
  });
  const rootOf = (text: string, entry: Cidr): string => {
    const holders = knownRoots
      .filter((r) => contains(r.cidr, entry) && !sameCidr(r.cidr, entry))
      .sort((a, b) => b.cidr.length - a.cidr.length);
    return holders[0]?.text ?? text;
  };
  // A piece equal to an entry the rule keeps (or to a piece already placed) is not listed twice.
  const listed = new Set(
    addresses.flatMap((text) => {
      const entry = parseRemoteCidr(text);
      return entry && !touched(entry) ? [cidrKey(entry)] : [];
    }),
  );
  const out: string[] = [];
  const replaced: ReplacedEntry[] = [];
  for (const text of addresses) {
    const entry = parseRemoteCidr(text);
    if (!touched(entry)) {
      out.push(text);
      continue;
    }
    const pieces = (contains(entry, source) ? complement(entry, source) : []).filter((p) => {
      if (listed.has(cidrKey(p))) return false;
      listed.add(cidrKey(p));
      return true;
    });
    out.push(...pieces.map(formatCidr));
    replaced.push({ original: text, pieces: pieces.map(formatCidr), root: rootOf(text, entry) });
  }
  return { addresses: out, replaced };
}

export interface RestoreResult {
  addresses: string[];
  /** False when S was already allowed wherever this record had removed it (nothing to do). */
  restored: boolean;
}

interface Parsed {
  text: string;
  cidr: Cidr | undefined;
}

const parseAll = (list: readonly string[]): Parsed[] =>
  list.map((text) => ({ text, cidr: parseRemoteCidr(text) }));

/**
 * Puts back into `current` (the rule's addresses now) exactly what the block's apply took out,
 * given `before` (the rule's addresses at apply time) and what apply replaced. Lifting one block
 * never reopens another's hole, except where two blocks overlap (a /32 blocked first, then its
 * /24): lifting the inner one reopens it inside the outer one, which reconciliation then finds
 * not fully in place and applies again.
 */
export function restoreAddresses(
  current: readonly string[],
  before: readonly string[],
  replaced: readonly ReplacedEntry[],
  source: Cidr,
): RestoreResult {
  const beforeParsed = parseAll(before);
  const beforeCidrs = beforeParsed.flatMap((p) => (p.cidr ? [p.cidr] : []));
  const redundantBefore = (c: Cidr): boolean =>
    beforeCidrs.some((other) => !sameCidr(other, c) && contains(other, c));

  const work: Array<{ block: Cidr; root: Cidr; rootText: string }> = [];
  for (const r of replaced) {
    const original = parseRemoteCidr(r.original);
    const root = parseRemoteCidr(r.root) ?? original;
    if (!original || !root || !contains(root, original)) continue;
    const block = contains(original, source) ? source : original;
    if (!work.some((w) => sameCidr(w.block, block) && sameCidr(w.root, root))) {
      work.push({ block, root, rootText: r.root });
    }
  }
  const blocks = work.map((w) => w.block);

  let list = [...current];
  let restored = false;
  for (const { block, root, rootText } of work) {
    const entries = parseAll(list).flatMap((p) => (p.cidr ? [p.cidr] : []));
    if (isCovered(block, entries)) continue;
    restored = true;
    const allowed = [...entries, ...blocks];
    let x = block;
    while (x.length > root.length && isCovered(sibling(x), allowed)) x = parent(x);

    // Entries the operator listed inside a wider one of theirs stay (redundant before too), as
    // many times as they were listed then.
    const keepBudget = new Map<string, number>();
    for (const p of beforeParsed) {
      if (p.cidr && redundantBefore(p.cidr) && !overlaps(p.cidr, source)) {
        keepBudget.set(p.text, (keepBudget.get(p.text) ?? 0) + 1);
      }
    }
    const next: string[] = [];
    let at = -1;
    for (const p of parseAll(list)) {
      const inside = p.cidr !== undefined && contains(x, p.cidr);
      const keep = inside && (keepBudget.get(p.text) ?? 0) > 0;
      if (keep) keepBudget.set(p.text, keepBudget.get(p.text)! - 1);
      if (inside && !keep) {
        if (at === -1) at = next.length;
        continue;
      }
      next.push(p.text);
    }
    const text = sameCidr(x, root)
      ? rootText
      : (beforeParsed.find((p) => p.cidr && sameCidr(p.cidr, x))?.text ?? formatCidr(x));
    if (at === -1) placeInRoot(next, text, x, root, rootText, before);
    else next.splice(at, 0, text);
    list = next;
  }

  // Replaced entries that sat inside a wider entry of the same rule come back too, once the
  // wider one is whole again (they were redundant before the block and are again now).
  for (const r of replaced) {
    const original = parseRemoteCidr(r.original);
    if (!original || list.includes(r.original) || !redundantBefore(original)) continue;
    const covering = parseAll(list).some(
      (p) => p.cidr && !sameCidr(p.cidr, original) && contains(p.cidr, original),
    );
    if (covering) {
      insertAtOriginalPlace(list, r.original, before);
      restored = true;
    }
  }
  return { addresses: list, restored };
}

/**
 * Places a restored prefix that replaced nothing: where it stood before if it was an entry, else
 * among the root's other pieces in address order, else where the root stood.
 */
function placeInRoot(
  list: string[],
  text: string,
  x: Cidr,
  root: Cidr,
  rootText: string,
  before: readonly string[],
) {
  if (before.includes(text)) {
    insertAtOriginalPlace(list, text, before);
    return;
  }
  const inRoot = parseAll(list).flatMap((p, i) =>
    p.cidr && contains(root, p.cidr) ? [{ i, cidr: p.cidr }] : [],
  );
  if (inRoot.length > 0) {
    const after = inRoot.find((p) => p.cidr.network > x.network);
    list.splice(after ? after.i : inRoot[inRoot.length - 1]!.i + 1, 0, text);
    return;
  }
  insertAtOriginalPlace(list, text, before, rootText);
}

/**
 * Inserts `text` after the nearest entry that preceded it (or `anchor`, standing in for it) in
 * `before` and is still listed.
 */
function insertAtOriginalPlace(list: string[], text: string, before: readonly string[], anchor = text): void {
  const index = before.indexOf(anchor);
  // A list kept in address order (the usual case, and what the pieces follow) stays in it.
  if (index !== -1 && !inAddressOrder(before)) {
    for (let j = index - 1; j >= 0; j--) {
      const at = list.indexOf(before[j]!);
      if (at !== -1) {
        list.splice(at + 1, 0, text);
        return;
      }
    }
    for (let j = index + 1; j < before.length; j++) {
      const at = list.indexOf(before[j]!);
      if (at !== -1) {
        list.splice(at, 0, text);
        return;
      }
    }
  }
  // No neighbour left to go by (or a merged prefix that was no entry): address order, IPv4 first.
  const c = parseRemoteCidr(text);
  const at = c ? parseAll(list).findIndex((p) => p.cidr !== undefined && compareCidrs(p.cidr, c) > 0) : -1;
  if (at === -1) list.push(text);
  else list.splice(at, 0, text);
}

/** Sorted as compareCidrs sorts: IPv4 before IPv6, then by address (non-addresses ignored). */
function inAddressOrder(list: readonly string[]): boolean {
  const parsed = parseAll(list).flatMap((p) => (p.cidr ? [p.cidr] : []));
  return parsed.every((c, i) => i === 0 || compareCidrs(parsed[i - 1]!, c) <= 0);
}
