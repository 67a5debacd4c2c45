/**
 * The notes Floodgate writes on the Vultr rules it creates when narrowing. They carry what undo
 * and reconciliation need and that the rule itself cannot: who made the piece (tag), which hole
 * it was cut around, and the operator's original rule it came from (prefix and notes), so any
 * later undo, also another block's, can merge pieces back into that rule verbatim.
 *
 *   [floodgate:TAG] hole=198.51.100.4/32 root=0.0.0.0/0 | the operator's notes
 *
 * A piece made by merging at undo, which no longer borders one particular hole, says hole=none.
 */
import { type Cidr, formatCidr, parseRemoteCidr } from './cidr.js';
import { marker, markerTag } from './marker.js';

/** Vultr accepts notes up to 255 characters (vultr-cli documentation). */
export const VULTR_NOTES_MAX = 255;

export interface PieceNotes {
  tag: string;
  hole: Cidr | undefined;
  root: Cidr;
  rootNotes: string;
  /** False when the operator's notes had to be shortened to fit. */
  complete: boolean;
}

export function formatPieceNotes(tag: string, hole: Cidr | undefined, root: Cidr, rootNotes: string): string {
  const head = `${marker(tag)} hole=${hole ? formatCidr(hole) : 'none'} root=${formatCidr(root)} | `;
  const room = VULTR_NOTES_MAX - head.length;
  return rootNotes.length <= room ? head + rootNotes : `${head}${rootNotes.slice(0, Math.max(0, room - 1))}…`;
}

const PIECE_RE = /^\[floodgate:[^\]]+\] hole=(\S+) root=(\S+) \| ([\s\S]*)$/;

export function parsePieceNotes(notes: unknown): PieceNotes | undefined {
  const tag = markerTag(notes);
  if (tag === undefined || typeof notes !== 'string') return undefined;
  const m = PIECE_RE.exec(notes);
  if (!m) return undefined;
  const root = parseRemoteCidr(m[2]!);
  const hole = m[1] === 'none' ? undefined : parseRemoteCidr(m[1]!);
  if (!root || (m[1] !== 'none' && !hole)) return undefined;
  const rootNotes = m[3]!;
  const complete = !(notes.length === VULTR_NOTES_MAX && rootNotes.endsWith('…'));
  return { tag, hole, root, rootNotes: complete ? rootNotes : rootNotes.slice(0, -1), complete };
}
