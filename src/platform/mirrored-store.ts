/**
 * IndexedDB (through idb-keyval) with an in-memory mirror, for the guard's
 * own records (ended sessions, pending deletes). Where IndexedDB is missing,
 * or fails once (some private modes, storage blocked or full), the page
 * carries on with the mirror alone for good, and says so once: the
 * guarantees then hold for this page only.
 */
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';

/** The guard's database `name` with its one object store, or null where IndexedDB is unusable. */
export function openStore(name: string, storeName: string): UseStore | null {
  try {
    return typeof indexedDB === 'undefined' ? null : createStore(name, storeName);
  } catch {
    return null;
  }
}

/**
 * Every record of `store`, as idb-keyval's `entries()` answers, without its cursor walk for
 * browsers that lack `getAll` (none that runs this ES2022 code): two requests in one transaction.
 */
export function allEntries<V>(store: UseStore): Promise<Array<[string, V]>> {
  return store('readonly', (objects) =>
    Promise.all([promisifyRequest(objects.getAllKeys()), promisifyRequest(objects.getAll())]).then(([keys, values]) =>
      keys.map((key, i) => [key as string, values[i] as V]),
    ),
  );
}

export class MirroredStore<V> {
  /** What this page has read and written; all there is once IndexedDB is off. */
  readonly memory = new Map<string, V>();
  #store: UseStore | null;
  readonly #onError: (error: unknown) => void;

  constructor(store: UseStore | null, onError: (error: unknown) => void) {
    this.#store = store;
    this.#onError = onError;
  }

  /** Whether records survive a reload (IndexedDB works). */
  get persistent(): boolean {
    return this.#store !== null;
  }

  /** Runs `persistent` on IndexedDB; without it, or once it has failed (reported), `inMemory` instead. */
  async run<T>(persistent: (store: UseStore) => Promise<T>, inMemory: () => T): Promise<T> {
    if (this.#store) {
      try {
        return await persistent(this.#store);
      } catch (error) {
        this.#store = null;
        this.#onError(error);
      }
    }
    return inMemory();
  }
}
