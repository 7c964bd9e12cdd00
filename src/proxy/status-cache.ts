/**
 * Status checks of one session share their vendor call: checks made while
 * one is in flight wait for its answer, and a successful answer is reused
 * for `ttlMs` (a few seconds; 0 turns both off). Three hundred checks of a session at once are
 * one vendor call, not three hundred. Only this instance's memory: the
 * proxy forgets a session here as soon as it learns that it ended.
 */
/** A bound on the sessions remembered; past it stale entries go, then the oldest. */
const MAX_ENTRIES = 10_000;

interface Entry<T> {
  answer: Promise<T>;
  /** When a settled answer stops being reused; `Infinity` while in flight. */
  until: number;
}

export class StatusCache<T> {
  readonly #ttlMs: number;
  readonly #keep: (answer: T) => boolean;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry<T>>();

  /** `keep`: whether a settled answer may be reused (a failure is not: the next check asks again). */
  constructor(ttlMs: number, keep: (answer: T) => boolean, now: () => number = () => Date.now()) {
    this.#ttlMs = ttlMs;
    this.#keep = keep;
    this.#now = now;
  }

  /** The answer in flight or still fresh for `sessionId`, if any. */
  peek(sessionId: string): Promise<T> | undefined {
    const entry = this.#entries.get(sessionId);
    if (!entry) return undefined;
    if (entry.until > this.#now()) return entry.answer;
    this.#entries.delete(sessionId);
    return undefined;
  }

  /**
   * The answer of `read` (the vendor), shared with the checks that come while it is in flight. The
   * entry is in place before `read` runs, so checks arriving while it waits (e.g. for a rate limit
   * counted in the store) share it too.
   */
  load(sessionId: string, read: () => Promise<T>): Promise<T> {
    // Off: every check asks on its own.
    if (this.#ttlMs === 0) return read();
    const entry: Entry<T> = { answer: Promise.resolve().then(read), until: Infinity };
    this.#makeRoom();
    this.#entries.set(sessionId, entry);
    void entry.answer.then(
      (answer) => {
        if (this.#entries.get(sessionId) !== entry) return;
        if (this.#keep(answer)) entry.until = this.#now() + this.#ttlMs;
        else this.#entries.delete(sessionId);
      },
      () => this.#entries.delete(sessionId),
    );
    return entry.answer;
  }

  /** The session ended (or is ending): its next check asks the vendor. */
  forget(sessionId: string): void {
    this.#entries.delete(sessionId);
  }

  #makeRoom(): void {
    if (this.#entries.size < MAX_ENTRIES) return;
    const now = this.#now();
    for (const [sessionId, entry] of this.#entries) if (entry.until <= now) this.#entries.delete(sessionId);
    // Still full: the oldest entry (maps keep insertion order) goes.
    if (this.#entries.size >= MAX_ENTRIES) {
      const first = this.#entries.keys().next();
      if (!first.done) this.#entries.delete(first.value);
    }
  }
}
