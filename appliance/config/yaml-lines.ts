/**
 * Finds the line of floodgate.yaml that a validation error is about, so that an operator
 * reading "detection.thresholds.pps: expected number (line 12)" can go straight to it.
 */
import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

type PathKey = string | number | symbol;

/**
 * The line (1-based) of the node at `path`; for a key that is missing, the line of the deepest
 * ancestor that exists; for an unrecognised key, the line of that key itself.
 */
export function lineOfPath(
  doc: Document,
  lines: LineCounter,
  path: readonly PathKey[],
  unknownKey?: string,
): number | undefined {
  let node: unknown = doc.contents;
  let line = lineOfNode(node, lines);
  for (const key of path) {
    const next = childOf(node, key);
    if (next === undefined) break;
    node = next.value;
    // A map entry is reported at its key, a list item at the item itself.
    line = lineOfNode(next.key, lines) ?? lineOfNode(next.value, lines) ?? line;
  }
  if (unknownKey !== undefined && isMap(node)) {
    for (const pair of node.items) {
      if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === unknownKey) {
        return lineOfNode(pair.key, lines) ?? line;
      }
    }
  }
  return line;
}

function childOf(node: unknown, key: PathKey): { key: unknown; value: unknown } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === String(key)) {
        return { key: pair.key, value: pair.value };
      }
    }
    return undefined;
  }
  if (isSeq(node) && typeof key === 'number') {
    const item = node.items[key];
    return item === undefined ? undefined : { key: undefined, value: item };
  }
  return undefined;
}

function lineOfNode(node: unknown, lines: LineCounter): number | undefined {
  const range = (node as Node | undefined)?.range;
  if (!range) return undefined;
  return lines.linePos(range[0]).line;
}
