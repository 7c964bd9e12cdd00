/**
 * The deletes of logged-out sessions, kept until the proxy confirms them:
 * what the element calls (`submit`, `attach`, `subscribe`, `replay`). The
 * work on each delete is a worker's (worker.ts), the records the store's
 * (store.ts, and journal.ts for the logout's own task).
 *
 * - A delete is journaled synchronously in the logout's own task (see
 *   outbox-journal.ts), written to IndexedDB before the first network
 *   attempt, and leaves the pending state only when the proxy confirms it
 *   (2xx, or "gone").
 *   A confirmed delete stays a while as a tombstone, so a late logout of the
 *   same session in another tab does not send it again.
 * - 429, 5xx, time-outs and network errors are retried with capped
 *   exponential backoff and full jitter, honouring `Retry-After` (which no
 *   replay skips). 400/401/403 cannot succeed by retrying now: they fail at
 *   once, and the entry stays, to be tried again on the next load (the user
 *   may have signed in again) until the age limit.
 * - One tab at a time works on a delete (a tab lock per delete); the others
 *   wait behind it and take over from storage if it dies. Every settlement is
 *   told to the other tabs, so each tab that asked for the delete hears how it
 *   ended.
 * - Pending deletes are replayed on load, when the page comes back online and
 *   when it becomes visible; every attempt uses `keepalive`, and a delete
 *   waiting for its retry is sent at once when the page is hidden.
 * - A replay sends a stored delete only to the resource URL of its session
 *   under a proxy a guard of this page uses (entry-check.ts); anything else
 *   in storage is dropped unsent and reported, and dates are clamped.
 */
import type { UseStore } from 'idb-keyval';
import { cappedRetryAfter, DEFAULT_BACKOFF, type BackoffOptions } from '../shared/backoff.js';
import type { DeleteDetail, DeleteOutcome } from '../element/events.js';
import { callProxy, type ProxyAnswer } from '../net/proxy-client.js';
import { onPage } from '../platform/page-lifecycle.js';
import { tabChannel, type TabChannel, type TabMessage } from '../tabs/tab-channel.js';
import { tabLocks, type TabLocks } from '../tabs/tab-lock.js';
import { clampDates, malformedDelete, proxyOf, underProxy } from './entry-check.js';
import { OutboxJournal } from './journal.js';
import { openOutboxStore, OutboxStore, type OutboxEntry } from './store.js';
import { DeleteWorker, outUntil, requestLifetimeMs, type WorkerContext } from './worker.js';

export type { OutboxEntry };

export interface DeleteOutboxOptions {
  /** A pending delete older than this is given up, with an event. */
  maxAgeMs: number;
  /** How long a confirmed delete is remembered, to not send it twice. */
  tombstoneMs: number;
  backoff: BackoffOptions;
  /** Time limit of one attempt. */
  timeoutMs: number;
}

const OUTBOX_DEFAULTS: DeleteOutboxOptions = {
  maxAgeMs: 24 * 3600_000,
  tombstoneMs: 15 * 60_000,
  backoff: DEFAULT_BACKOFF,
  timeoutMs: 10_000,
};

export interface DeleteOutboxDeps {
  store?: UseStore | null;
  locks?: TabLocks;
  channel?: TabChannel;
  journal?: OutboxJournal;
  send?: (url: string) => Promise<ProxyAnswer>;
  now?: () => number;
  random?: () => number;
  options?: Partial<DeleteOutboxOptions>;
  /** The page's origin: stored deletes go nowhere else. */
  origin?: string;
}

type SettleListener = (detail: DeleteDetail) => void;

const LOCK_PREFIX = 'konpro-widget-guard:delete:';

export class DeleteOutbox {
  /** Called once if IndexedDB fails and the outbox falls back to memory (then only this tab knows). */
  onStorageError: ((error: unknown) => void) | undefined;
  /** Called for each stored delete a replay dropped unsent, with why (see entry-check.ts). */
  onDroppedDelete: ((url: string, reason: string) => void) | undefined;
  /** Tunable (tests slow the backoff down, say); the workers read it at each step. */
  readonly options: DeleteOutboxOptions;
  readonly #store: OutboxStore;
  readonly #channel: TabChannel;
  readonly #journal: OutboxJournal;
  /** Deletes journaled but not yet in IndexedDB, by URL. */
  readonly #unwritten = new Set<string>();
  /** What the workers use of this outbox (and nothing else does). */
  readonly #context: WorkerContext;
  readonly #workers = new Map<string, DeleteWorker>();
  /** Requests of workers that left (the page went into the back/forward cache), until answered. */
  readonly #handedBack = new Map<string, Promise<void>>();
  readonly #listeners = new Set<SettleListener>();
  #attachments = 0;
  #pageListeners: AbortController | undefined;
  #replayed = false;
  #hearing: AbortController | undefined;
  /** The proxy collection URLs of this page's guards (and of its own logouts): the only places a replay sends to. */
  readonly #proxies = new Set<string>();
  readonly #origin: string;

  constructor(deps: DeleteOutboxDeps = {}) {
    const store = (this.#store = new OutboxStore(deps.store === undefined ? openOutboxStore() : deps.store, (error) =>
      this.onStorageError?.(error),
    ));
    const locks = deps.locks ?? tabLocks();
    const channel = (this.#channel = deps.channel ?? tabChannel());
    const journal = (this.#journal = deps.journal ?? new OutboxJournal());
    const options = (this.options = { ...OUTBOX_DEFAULTS, ...deps.options });
    this.#origin = deps.origin ?? location.origin;
    this.#context = {
      store,
      journal,
      options,
      send: deps.send ?? ((url) => callProxy('DELETE', url, { keepalive: true, timeoutMs: options.timeoutMs })),
      now: deps.now ?? Date.now,
      random: deps.random ?? Math.random,
      lock: (key, work, signal) => locks.run(LOCK_PREFIX + key, work, signal),
      emit: (detail) => {
        for (const listener of [...this.#listeners]) listener(detail);
      },
      post: (message) => channel.post(message),
      done: (key, worker) => {
        if (this.#workers.get(key) === worker) this.#workers.delete(key);
        this.#refreshPageListeners();
      },
      handBack: (key, answered) => {
        const settled: Promise<void> = answered
          .catch(() => {})
          .finally(() => this.#handedBack.get(key) === settled && this.#handedBack.delete(key));
        this.#handedBack.set(key, settled);
      },
      handedBack: (key) => this.#handedBack.get(key),
    };
  }

  /** Whether deletes survive a reload (IndexedDB works). */
  get persistent(): boolean {
    return this.#store.persistent;
  }

  /**
   * Queues the delete of `sessionId` at `url` and delivers it. Resolves with
   * the first settlement: `deleted`, `already-gone`, `failed`, or `queued`
   * when it will be retried (later settlements reach the listeners).
   */
  submit(url: string, sessionId: string): Promise<DeleteOutcome> {
    const proxy = proxyOf(url, sessionId);
    if (proxy) this.#proxies.add(proxy);
    const fresh: OutboxEntry = { url, sessionId, createdAt: this.#context.now(), attempts: 0, nextAttemptAt: 0 };
    // Durable before this call returns, even if the page is closed right after.
    this.#journal.add(fresh);
    this.#unwritten.add(url);
    this.#refreshPageListeners();
    return this.#persistAndRun(fresh);
  }

  async #persistAndRun(fresh: OutboxEntry): Promise<DeleteOutcome> {
    const { url, sessionId } = fresh;
    let entry: OutboxEntry;
    try {
      entry = await this.#store.write(url, (existing) => {
        if (!existing || this.#expiredTombstone(existing)) return fresh;
        // Asked again for a delete the proxy refused before: try it again now.
        if (existing.failed) return { ...existing, failed: undefined, nextAttemptAt: 0 };
        return existing;
      });
      this.#journal.written(url);
    } finally {
      this.#unwritten.delete(url);
    }
    if (entry.settled) {
      return { sessionId, outcome: entry.settled.outcome, attempts: entry.attempts };
    }
    return this.#worker(url, sessionId, true).first;
  }

  /**
   * Picks up every pending delete of the origin that no tab here works on
   * yet. `onLoad`: also those the proxy refused before (on the next load
   * only, not on every return to the tab).
   */
  async replay(onLoad = false): Promise<void> {
    const now = this.#context.now();
    const { maxAgeMs } = this.options;
    // Deletes journaled by pages that closed before IndexedDB had them.
    for (const journaled of this.#journal.entries()) {
      if (this.#unwritten.has(journaled.url)) continue; // being written by this page right now
      const { sentAt, ...rest } = journaled;
      const problem = malformedDelete({ ...rest, attempts: 0, nextAttemptAt: 0 }, this.#origin);
      if (problem) {
        this.#journal.remove(journaled.url);
        this.#drop(journaled.url, problem);
        continue;
      }
      // A page sent it and may have gone away: let that request finish before another goes out.
      const sentUntil = sentAt === undefined ? undefined : outUntil(sentAt, now, this.options);
      let settled = false;
      await this.#store.write(journaled.url, (existing) => {
        settled = existing?.settled !== undefined;
        if (!existing) {
          return {
            ...rest,
            attempts: sentAt === undefined ? 0 : 1,
            nextAttemptAt: 0,
            ...(sentUntil === undefined ? {} : { notBefore: sentUntil }),
          };
        }
        if (sentUntil === undefined || existing.settled) return existing;
        return { ...existing, notBefore: Math.max(existing.notBefore ?? 0, sentUntil) };
      });
      // The mark of a request that may still be out stays, for a tab that holds the entry already
      // (unless the delete is settled: nothing more goes out for it); so does one made since.
      if (settled || sentUntil === undefined || sentUntil <= this.#context.now())
        this.#journal.written(journaled.url, sentAt);
    }
    // The longest the outbox itself ever makes a delete wait.
    const maxWaitMs = Math.max(requestLifetimeMs(this.options), cappedRetryAfter(Infinity, this.options.backoff));
    for (const [key, entry] of await this.#store.all()) {
      const problem = key === entry?.url ? malformedDelete(entry, this.#origin) : 'stored under another key';
      if (problem) {
        await this.#store.remove(key);
        this.#drop(String(key), problem);
        continue;
      }
      if (clampDates(entry, now, maxWaitMs)) {
        // In one transaction with a read: another tab may be working on it.
        await this.#store.write(key, (current = entry) => (clampDates(current, now, maxWaitMs), current));
      }
      if (entry.settled) {
        if (this.#expiredTombstone(entry)) await this.#store.remove(key);
        continue;
      }
      if (!underProxy(entry, this.#proxies)) {
        // Another page's guard on this origin may use that proxy: left to it, until the age limit.
        if (now - entry.createdAt > maxAgeMs) await this.#store.remove(key);
        continue;
      }
      if (entry.failed && !onLoad) continue;
      this.#worker(key, entry.sessionId, onLoad);
    }
    this.#pokeAll();
  }

  #drop(url: string, reason: string): void {
    this.onDroppedDelete?.(url.slice(0, 200), reason);
  }

  /**
   * Keeps the outbox listening to the page (online, visible, hidden) until
   * `signal` aborts; the first attachment of the page replays what is pending.
   * `proxy` is the guard's proxy collection URL: a replay sends only the
   * deletes of sessions under a proxy one of the page's guards attached with.
   */
  attach(signal: AbortSignal, proxy?: string): void {
    if (signal.aborted) return;
    this.#attachments += 1;
    if (!this.#hearing) {
      // Once per outbox, for the life of the page: every settlement is heard once.
      this.#hearing = new AbortController();
      this.#channel.subscribe((message) => this.#hear(message), this.#hearing.signal);
    }
    signal.addEventListener(
      'abort',
      () => {
        this.#attachments -= 1;
        this.#refreshPageListeners();
      },
      { once: true },
    );
    this.#refreshPageListeners();
    if (proxy !== undefined) this.useProxy(proxy);
    if (!this.#replayed) {
      this.#replayed = true;
      void this.replay(true);
    }
  }

  /**
   * A guard of this page uses the proxy at collection URL `proxy`: its
   * sessions' stored deletes may be sent (picked up now, if it is new to the
   * page after the load's replay).
   */
  useProxy(proxy: string): void {
    if (this.#proxies.has(proxy)) return;
    this.#proxies.add(proxy);
    if (this.#replayed) void this.replay(true);
  }

  /** Hears every settlement that concerns a delete this tab asked for or replays. */
  subscribe(listener: SettleListener, signal: AbortSignal): void {
    this.#listeners.add(listener);
    signal.addEventListener('abort', () => this.#listeners.delete(listener), { once: true });
  }

  /** Pending deletes this tab works on or waits for (for tests and the bench). */
  get pendingKeys(): string[] {
    return [...this.#workers.keys()];
  }

  #expiredTombstone(entry: OutboxEntry): boolean {
    return entry.settled !== undefined && this.#context.now() - entry.settled.at > this.options.tombstoneMs;
  }

  #worker(key: string, sessionId: string, retryFailed: boolean): DeleteWorker {
    let worker = this.#workers.get(key);
    if (!worker) {
      worker = new DeleteWorker(this.#context, key, sessionId, retryFailed);
      this.#workers.set(key, worker);
      this.#refreshPageListeners();
      worker.start();
    }
    return worker;
  }

  #hear(message: TabMessage): void {
    if (message.kind !== 'delete-settled') return;
    this.#workers.get(message.key)?.heard(message);
  }

  #pokeAll(): void {
    for (const worker of this.#workers.values()) worker.poke();
  }

  #refreshPageListeners(): void {
    const needed = this.#attachments > 0 || this.#workers.size > 0 || this.#unwritten.size > 0;
    if (needed && !this.#pageListeners) {
      this.#pageListeners = new AbortController();
      const workers = () => this.#workers.values();
      onPage(
        {
          online: () => void this.replay(),
          // Visible again, or back from the back/forward cache: pick up what was left to other tabs.
          returned: () => void this.replay(),
          hidden: () => {
            for (const worker of workers()) worker.sendNow();
          },
          leaving: (persisted) => {
            for (const worker of workers()) {
              // (Its request outlives the page, keepalive; the journal marks it for whoever is next.)
              worker.sendNow();
              // A page in the back/forward cache must hold no lock and wait for none: it would
              // keep the other tabs from the work (or be evicted). Storage has the entry; another
              // tab, or this one when it is shown again, picks it up.
              worker.leave();
            }
            // The page is going away before IndexedDB had these: send them now (keepalive);
            // the journal still has them for the next load, should this attempt fail. Not those
            // a request is out for already (here, or marked by another tab): it is the one.
            if (persisted) return;
            const now = this.#context.now();
            for (const url of this.#unwritten) {
              const journaled = this.#journal.read(url);
              const marked = journaled?.sentAt;
              if (!journaled || this.#workers.has(url) || this.#handedBack.has(url)) continue;
              if (marked !== undefined && outUntil(marked, now, this.options) > now) continue;
              this.#journal.markSent(journaled, now);
              void this.#context.send(url).catch(() => {});
            }
          },
        },
        this.#pageListeners.signal,
      );
    } else if (!needed && this.#pageListeners) {
      this.#pageListeners.abort();
      this.#pageListeners = undefined;
    }
  }
}

let shared: DeleteOutbox | undefined;

/** The page-wide outbox every guard shares. */
export function deleteOutbox(): DeleteOutbox {
  shared ??= new DeleteOutbox();
  return shared;
}
