/**
 * Which intents hold each route a BGP speaker announces. A speaker keeps one route per key (the
 * NLRI for GoBGP, the prefix for a static route), so two intents with the same match but other
 * actions, or the same host with other communities, share it: the one applied last is what is
 * announced, and withdrawing it announces the previous one again instead of removing the route.
 * Kept in memory: after a restart reconciliation re-applies what is missing.
 */
export interface Holder<T> {
  intentId: string;
  value: T;
}

export interface ReleaseOutcome<T> {
  /** The holder announced after the release, when other intents still hold the route. */
  next: Holder<T> | undefined;
  /** The released intent was the one announced. */
  wasAnnounced: boolean;
}

export class RouteHolders<T> {
  readonly #byKey = new Map<string, Holder<T>[]>();

  /** Records that `intentId` now holds `key` and is what is announced for it. */
  hold(key: string, intentId: string, value: T): void {
    const list = (this.#byKey.get(key) ?? []).filter((h) => h.intentId !== intentId);
    list.push({ intentId, value });
    this.#byKey.set(key, list);
  }

  /** Every intent holding `key`, the announced one last. */
  holders(key: string): readonly Holder<T>[] {
    return this.#byKey.get(key) ?? [];
  }

  /** The announced holder of `key`. */
  announced(key: string): Holder<T> | undefined {
    return this.#byKey.get(key)?.at(-1);
  }

  release(key: string, intentId: string): ReleaseOutcome<T> {
    const list = this.#byKey.get(key) ?? [];
    const wasAnnounced = list.at(-1)?.intentId === intentId;
    const rest = list.filter((h) => h.intentId !== intentId);
    if (rest.length === 0) this.#byKey.delete(key);
    else this.#byKey.set(key, rest);
    return { next: rest.at(-1), wasAnnounced };
  }

  /** Forgets a key (the route is gone from the speaker). */
  drop(key: string): void {
    this.#byKey.delete(key);
  }
}
