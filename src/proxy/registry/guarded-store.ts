/**
 * The store as the proxy's requests use it: a store that rejects degrades the
 * registry instead of failing the request. Creates, status checks and deletes
 * go on through the vendor; the outage is logged once when it starts and once
 * when it ends, never once per request.
 */
import type { StoreHealth, WidgetSessionStore } from '../store/store.js';

export type StoreState = 'ok' | 'degraded';

/** What `attempt` gives back: the store's answer, or that it could not answer. */
export type Attempt<T> = { ok: true; value: T } | { ok: false };

export interface StoreStateChange {
  state: StoreState;
  /** Why, for `degraded`. */
  detail?: string;
}

/** How long `health()` waits for the store before it calls it degraded. */
const HEALTH_TIMEOUT_MS = 2_000;

export class GuardedStore {
  readonly store: WidgetSessionStore;
  readonly #onChange: (change: StoreStateChange) => void;
  readonly #secrets: readonly string[];
  #state: StoreState = 'ok';
  #detail: string | undefined;

  /** `secrets` are taken out of any error text before it is logged or reported. */
  constructor(store: WidgetSessionStore, onChange: (change: StoreStateChange) => void, secrets: readonly string[]) {
    this.store = store;
    this.#onChange = onChange;
    this.#secrets = secrets;
  }

  get state(): StoreState {
    return this.#state;
  }

  /** Runs one store operation; a rejection marks the store degraded and becomes `{ok: false}`. */
  async attempt<T>(operation: (store: WidgetSessionStore) => Promise<T>): Promise<Attempt<T>> {
    let value: T;
    try {
      value = await operation(this.store);
    } catch (error) {
      this.#degrade(this.#describe(error));
      return { ok: false };
    }
    this.#recover();
    return { ok: true, value };
  }

  /** Runs one store operation for a caller that must know it failed (revokeUser, listSessions): rethrows. */
  async require<T>(operation: (store: WidgetSessionStore) => Promise<T>, doing: string): Promise<T> {
    const result = await this.attempt(operation);
    if (!result.ok) {
      throw new Error(
        `konpro-widget-guard/proxy: the session store did not answer, so ${doing} could not run (${this.#detail ?? 'unknown error'})`,
      );
    }
    return result.value;
  }

  /** The store's own answer, with a deadline; also ends or starts an outage. */
  async health(): Promise<{ store: StoreState; detail?: string }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<StoreHealth>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, detail: `no answer within ${HEALTH_TIMEOUT_MS} ms` }),
        HEALTH_TIMEOUT_MS,
      );
    });
    let health: StoreHealth;
    try {
      health = await Promise.race([this.store.health(), deadline]);
    } catch (error) {
      health = { ok: false, detail: this.#describe(error) };
    } finally {
      clearTimeout(timer);
    }
    if (!health.ok) {
      const detail = health.detail === undefined ? 'the store says it is not healthy' : this.#redact(health.detail);
      this.#degrade(detail);
      return { store: 'degraded', detail };
    }
    this.#recover();
    return { store: 'ok' };
  }

  #degrade(detail: string): void {
    this.#detail = detail;
    if (this.#state === 'degraded') return;
    this.#state = 'degraded';
    this.#onChange({ state: 'degraded', detail });
  }

  #recover(): void {
    if (this.#state === 'ok') return;
    this.#state = 'ok';
    this.#detail = undefined;
    this.#onChange({ state: 'ok' });
  }

  #describe(error: unknown): string {
    return this.#redact(error instanceof Error ? `${error.name}: ${error.message}` : `rejected with ${typeof error}`);
  }

  /** No secret and no credentials of a connection URL reach a log line or a health answer. */
  #redact(text: string): string {
    const safe = this.#secrets.reduce((out, secret) => (secret ? out.replaceAll(secret, '[redacted]') : out), text);
    return safe.replace(/\/\/[^/\s@]*@/g, '//[redacted]@').slice(0, 300);
  }
}
