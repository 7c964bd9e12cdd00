/**
 * Mutual exclusion across the tabs of one origin, so that only one tab
 * works on a given delete at a time, and another takes over when that tab
 * dies. Web Locks where the browser has them (released by the browser when
 * a tab closes or crashes); otherwise a lease in IndexedDB, claimed in one
 * read-write transaction (which IndexedDB serialises across tabs) and kept
 * alive by a heartbeat, so a dead tab's lease lapses after `ttlMs`.
 */
import { sleep } from '../platform/async.js';
import { createStore, get, update, type UseStore } from 'idb-keyval';

export interface TabLocks {
  /**
   * Runs `work` while holding `name` in every tab of the origin, waiting for
   * it as long as needed. Resolves `undefined` without running `work` if
   * `signal` aborts first.
   */
  run<T>(name: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T | undefined>;
}

interface Lease {
  owner: string;
  until: number;
}

export interface LeaseOptions {
  ttlMs: number;
  pollMs: number;
}

export class LeaseLocks implements TabLocks {
  readonly #owner = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  readonly #store: UseStore;
  readonly #options: LeaseOptions;

  constructor(
    store: UseStore = createStore('konpro-widget-guard-leases', 'leases'),
    options: LeaseOptions = { ttlMs: 5000, pollMs: 400 },
  ) {
    this.#store = store;
    this.#options = options;
  }

  async run<T>(name: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
    while (!(await this.#claim(name))) {
      if (signal?.aborted) return undefined;
      await sleep(this.#options.pollMs * (0.5 + Math.random()), signal);
      if (signal?.aborted) return undefined;
    }
    const heartbeat = window.setInterval(() => void this.#claim(name).catch(() => false), this.#options.ttlMs / 3);
    try {
      return await work();
    } finally {
      window.clearInterval(heartbeat);
      await update<Lease | undefined>(name, (lease) => (lease?.owner === this.#owner ? undefined : lease), this.#store);
    }
  }

  /** Takes or renews the lease if it is free, lapsed or ours; true if ours now. */
  async #claim(name: string): Promise<boolean> {
    const now = Date.now();
    await update<Lease | undefined>(
      name,
      (lease) =>
        !lease || lease.until < now || lease.owner === this.#owner
          ? { owner: this.#owner, until: now + this.#options.ttlMs }
          : lease,
      this.#store,
    );
    return (await get<Lease>(name, this.#store))?.owner === this.#owner;
  }
}

export function tabLocks(): TabLocks {
  if (typeof navigator !== 'undefined' && navigator.locks) {
    const { locks } = navigator;
    return {
      async run<T>(name: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
        try {
          return await locks.request(name, { signal }, () => work());
        } catch (error) {
          if (signal?.aborted) return undefined;
          throw error;
        }
      },
    };
  }
  if (typeof indexedDB !== 'undefined') return new LeaseLocks();
  // Neither Web Locks nor IndexedDB: the work runs directly.
  return { run: async (_name, work, signal) => (signal?.aborted ? undefined : work()) };
}
