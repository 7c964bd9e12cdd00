/**
 * Per-user limits on creates, deletes and status checks: a fixed window per
 * user, counted in the proxy's store (`store.hit`), so every instance that
 * shares the store shares the count: behind a load balancer a user reaches
 * a limit once, not once per instance. While the store does not answer,
 * each instance counts in its own memory instead (`RateLimiter`): a limit
 * never refuses a request because the store is down.
 */
import type { GuardedStore } from './registry/guarded-store.js';

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

/** One limit (creates, deletes or reads) counted in the store, with this instance's memory as the fallback. */
export class StoreRateLimit {
  readonly #name: string;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #store: GuardedStore;
  readonly #fallback: RateLimiter;

  constructor(name: string, limit: number, windowMs: number, store: GuardedStore) {
    this.#name = name;
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#store = store;
    this.#fallback = new RateLimiter(limit, windowMs);
  }

  /** Counts one action by `key` on every instance's count, unless the key has used up its window. */
  async take(key: string): Promise<RateLimitDecision> {
    const hit = await this.#store.attempt((s) => s.hit(`rate:${this.#name}:${key}`, this.#windowMs));
    if (!hit.ok) return this.#fallback.take(key);
    const { count, resetAt } = hit.value;
    if (count <= this.#limit) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)) };
  }
}
