/**
 * Names Floodgate gives what it creates, so an operator (or a cleanup) can tell them apart from
 * their own: rule comments carry the plan's tag; kernel objects with short name limits (hashlimit
 * tables, ifb devices: 15 characters) carry a hash of it.
 */

/** The comment on iptables and ufw rules of one plan. */
export function tagComment(tag: string): string {
  return `floodgate:${tag}`;
}

/** 8 hex digits of FNV-1a over the parts: stable across builds and platforms. */
export function shortHash(...parts: string[]): string {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(parts.join('\u0000'), 'utf8')) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** A name of at most 11 characters for a kernel object of one plan ("fg-1a2b3c4d"). */
export function shortName(actionId: string, tag: string, ...more: string[]): string {
  return `fg-${shortHash(actionId, tag, ...more)}`;
}
