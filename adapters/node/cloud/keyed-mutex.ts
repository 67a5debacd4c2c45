/**
 * Serialises work per key inside this process: two blocks on the same DigitalOcean firewall or
 * Vultr group must not interleave their read-modify-write, or the second write would drop the
 * first one's change.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    // The tail never rejects, so one failed task does not poison the queue.
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/** The one queue per provider object in this process, shared by every action run. */
export const cloudObjectLocks = new KeyedMutex();
