/**
 * Undo on a Vultr group, in three steps over the group's current rules:
 * 1. restoreChange: for each rule a block replaced, accept its part of S again and merge the
 *    Floodgate pieces of the same original rule around it, as far as no other block's hole
 *    stops it (the original itself comes back, with its notes, when nothing else is blocked);
 * 2. completeOriginals: any original rule whose whole subnet is accepted again comes back and
 *    its pieces go (finishes merges a later lift made possible);
 * 3. removeLeftovers: pieces an interrupted run left inside their own original or a merged
 *    piece of it are deleted.
 * Every step changes how rules are split, never what is accepted, apart from S itself.
 */
import {
  type Cidr,
  contains,
  formatCidr,
  isCovered,
  overlaps,
  parent,
  parseRemoteCidr,
  sameCidr,
  sibling,
} from './cidr.js';
import {
  createBody,
  familyKey,
  isSubnetAccept,
  ruleCidr,
  snapshot,
  type VultrGroup,
  type VultrRule,
  type VultrRuleSnapshot,
} from './vultr-group.js';
import { formatPieceNotes, parsePieceNotes } from './vultr-notes.js';

export interface VultrRuleChange {
  deleted: VultrRuleSnapshot;
  /** The operator's rule the deleted one came from (itself unless it was a Floodgate piece). */
  root: { subnet: string; subnet_size: number; notes: string; notesComplete: boolean };
  created: Array<{ id: number; subnet: string; subnet_size: number }>;
  /** Pieces not created because an operator's identical rule already accepted them. */
  kept: Array<{ subnet: string; subnet_size: number }>;
}

export interface RestoreState {
  rules: VultrRule[];
  max?: number;
}

const pieceOf = (rule: VultrRule, root: Cidr): boolean => {
  const p = parsePieceNotes(rule.notes);
  return p !== undefined && sameCidr(p.root, root);
};

const subnetRules = (state: RestoreState, family: string): VultrRule[] =>
  state.rules.filter((r) => isSubnetAccept(r) && familyKey(r) === family && ruleCidr(r) !== undefined);

/**
 * Creates `body` and deletes `pieces`; creating first keeps their traffic flowing, unless the
 * group is at its ceiling, then the pieces go first (a pause of a few requests).
 */
async function replaceRules(
  group: VultrGroup,
  state: RestoreState,
  body: unknown,
  pieces: readonly VultrRule[],
) {
  state.max ??= await group.maxRules();
  if (state.rules.length + 1 <= state.max) {
    await group.create(body);
    for (const r of pieces) await group.remove(r.id);
  } else {
    for (const r of pieces) await group.remove(r.id);
    await group.create(body);
  }
  state.rules = await group.listRules();
}

/** Step 1 for one replaced rule. True when something had to be restored. */
export async function restoreChange(
  group: VultrGroup,
  state: RestoreState,
  change: VultrRuleChange,
  source: Cidr,
  tag: string,
): Promise<boolean> {
  const deleted = ruleCidr(change.deleted);
  const root = parseRemoteCidr(`${change.root.subnet}/${change.root.subnet_size}`);
  if (!deleted || !root) return false;
  const family = familyKey(change.deleted);
  const inFamily = subnetRules(state, family);
  const pieces = inFamily.filter((r) => pieceOf(r, root));
  const block = contains(deleted, source) ? source : deleted;
  // Done already when the original is back, or its pieces admit the block again (another rule
  // admitting S does not make this one whole).
  const rootBack = inFamily.some((r) => !parsePieceNotes(r.notes) && sameCidr(ruleCidr(r)!, root));
  if (
    rootBack ||
    isCovered(
      block,
      pieces.map((r) => ruleCidr(r)!),
    )
  )
    return false;

  // Widen while the neighbouring half is all pieces of the same original (or an operator's
  // identical rule that stood in for one).
  const kept = change.kept.flatMap((k) => {
    const c = parseRemoteCidr(`${k.subnet}/${k.subnet_size}`);
    return c && inFamily.some((r) => sameCidr(ruleCidr(r)!, c)) ? [c] : [];
  });
  const neighbours = [...pieces.map((r) => ruleCidr(r)!), ...kept, block];
  let x = block;
  while (!sameCidr(x, root) && x.length > 0 && isCovered(sibling(x), neighbours)) x = parent(x);

  const inside = pieces.filter((r) => contains(x, ruleCidr(r)!));
  let notes: string;
  if (sameCidr(x, root)) {
    const fromPiece = inside.map((r) => parsePieceNotes(r.notes)).find((p) => p?.complete);
    notes = change.root.notesComplete ? change.root.notes : (fromPiece?.rootNotes ?? change.root.notes);
  } else {
    notes = formatPieceNotes(tag, undefined, root, change.root.notes);
  }
  await replaceRules(group, state, createBody(change.deleted, x, notes), inside);
  return true;
}

/** Step 2 over the kinds of rules the block touched. True when an original came back. */
export async function completeOriginals(
  group: VultrGroup,
  state: RestoreState,
  changes: readonly VultrRuleChange[],
): Promise<boolean> {
  let any = false;
  for (const family of new Set(changes.map((c) => familyKey(c.deleted)))) {
    const roots = new Map<string, { root: Cidr; notes: string; like: VultrRule }>();
    for (const r of subnetRules(state, family)) {
      const p = parsePieceNotes(r.notes);
      if (p && !roots.has(formatCidr(p.root)))
        roots.set(formatCidr(p.root), { root: p.root, notes: p.rootNotes, like: r });
    }
    for (const { root, notes, like } of roots.values()) {
      const inFamily = subnetRules(state, family);
      const pieces = inFamily.filter((r) => pieceOf(r, root));
      if (
        pieces.length === 0 ||
        !isCovered(
          root,
          inFamily.map((r) => ruleCidr(r)!),
        )
      )
        continue;
      const own = changes.find((c) => {
        const rc = parseRemoteCidr(`${c.root.subnet}/${c.root.subnet_size}`);
        return rc && sameCidr(rc, root) && familyKey(c.deleted) === family && c.root.notesComplete;
      });
      const back = inFamily.some((r) => !parsePieceNotes(r.notes) && sameCidr(ruleCidr(r)!, root));
      if (back) {
        for (const r of pieces) await group.remove(r.id);
        state.rules = await group.listRules();
      } else {
        await replaceRules(group, state, createBody(snapshot(like), root, own?.root.notes ?? notes), pieces);
      }
      any = true;
    }
  }
  return any;
}

/** Step 3, limited to pieces of originals that overlapped the block's source. */
export async function removeLeftovers(group: VultrGroup, state: RestoreState, source: Cidr): Promise<void> {
  const gone = new Set<number>();
  for (const r of state.rules) {
    const p = parsePieceNotes(r.notes);
    const c = ruleCidr(r);
    if (!p || !c || !isSubnetAccept(r) || !overlaps(p.root, source)) continue;
    const wider = state.rules.some((o) => {
      const oc = ruleCidr(o);
      if (o.id === r.id || gone.has(o.id) || !oc || !isSubnetAccept(o) || familyKey(o) !== familyKey(r)) {
        return false;
      }
      // Only the original itself, or a merged piece of it, makes a piece a leftover; an
      // operator's wider rule holding it is another original and leaves it alone.
      const op = parsePieceNotes(o.notes);
      const sameOrigin = op ? sameCidr(op.root, p.root) : sameCidr(oc, p.root);
      return sameOrigin && contains(oc, c) && (!sameCidr(oc, c) || o.id < r.id);
    });
    if (wider) {
      await group.remove(r.id);
      gone.add(r.id);
    }
  }
  if (gone.size > 0) state.rules = await group.listRules();
}
