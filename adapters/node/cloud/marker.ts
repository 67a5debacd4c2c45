/**
 * The marker Floodgate writes into the notes of what it creates at a provider, so reconciliation
 * can find its own blocks among the operator's rules: "[floodgate:TAG]" at the start of a note.
 * The tag is the caller's key for the block (the node adapter uses its run tag).
 */
import { FloodgateError } from '../../../core/errors.js';

export const TAG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const MARKER_PREFIX = '[floodgate:';

export function checkTag(tag: string): string {
  if (!TAG_PATTERN.test(tag)) {
    throw new FloodgateError(
      'FG_ERR_NODE_PARAM',
      `tag "${tag}" is refused: use 1 to 64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit`,
      { param: 'tag', value: tag },
    );
  }
  return tag;
}

export function marker(tag: string): string {
  return `${MARKER_PREFIX}${checkTag(tag)}]`;
}

/** The tag of a note that starts with a Floodgate marker; undefined for anyone else's note. */
export function markerTag(note: unknown): string | undefined {
  if (typeof note !== 'string' || !note.startsWith(MARKER_PREFIX)) return undefined;
  const end = note.indexOf(']', MARKER_PREFIX.length);
  if (end === -1) return undefined;
  const tag = note.slice(MARKER_PREFIX.length, end);
  return TAG_PATTERN.test(tag) ? tag : undefined;
}
