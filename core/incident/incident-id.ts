/**
 * Incident ids: readable in logs and URLs, sortable by time, and unique. The base is
 * `inc-<UTC yyyymmddThhmmssZ of opening>-<target>`, with ':' in IPv6 targets replaced by '-' and
 * the '/' of a prefix target (carpet bombing) by '~', so the id stays a safe path segment; a
 * second incident for the same target opened within the same second gets "_2", "_3", ... (an
 * underscore never occurs in an address or prefix, so a suffixed id cannot equal another
 * target's id: "2001-db8--5-2" is the target 2001:db8::5:2).
 */

/** "20261121T141900Z" for the given Unix milliseconds (UTC). */
export function compactUtc(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-21T14:19:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

export function incidentIdBase(openedAtMs: number, target: string): string {
  return `inc-${compactUtc(openedAtMs)}-${target.replaceAll(':', '-').replaceAll('/', '~')}`;
}

/**
 * Hands out unique ids. Ids embed their second, so only ids of the current second can collide:
 * the memory of issued ids is dropped whenever the second changes, which keeps it bounded.
 */
export class IncidentIdAllocator {
  private second = Number.NaN;
  private readonly issued = new Map<string, number>();

  next(openedAtMs: number, target: string): string {
    const second = Math.floor(openedAtMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.issued.clear();
    }
    const base = incidentIdBase(openedAtMs, target);
    const count = (this.issued.get(base) ?? 0) + 1;
    this.issued.set(base, count);
    return count === 1 ? base : `${base}_${count}`;
  }
}
