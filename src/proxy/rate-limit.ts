/**
 * Per-user limits on creates and deletes: a fixed window per user, counted
 * in this instance's memory. With several instances behind a load balancer
 * each counts on its own, so a user may reach the limit once per instance;
 * the limit stops a runaway page or script, not a distributed attack.
 */

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class RateLimiter {
  readonly #windows = new Map<string, { count: number; resetAt: number }>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #nextSweep = 0;

  constructor(limit: number, windowMs: number, now: () => number = () => Date.now()) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Counts one action by `key`, unless the key has used up its window. */
  take(key: string): RateLimitDecision {
    const now = this.#now();
    this.#sweep(now);
    let window = this.#windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + this.#windowMs };
      this.#windows.set(key, window);
    }
    if (window.count >= this.#limit) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((window.resetAt - now) / 1000)) };
    }
    window.count++;
    return { allowed: true };
  }

  /** Forgets ended windows at most once per window, so memory follows the active users. */
  #sweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + this.#windowMs;
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
  }
}
