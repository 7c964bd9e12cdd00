/**
 * The page's lifecycle, in one place: visible and hidden, online, and the
 * back/forward cache. Every module that reacts to the page coming and going
 * says so here, so the rule for the back/forward cache is one rule:
 *
 * - `leaving` (pagehide): the page may be closed, or frozen in the cache
 *   (`persisted`). It lets go of whatever would keep it out of the cache or
 *   keep other tabs waiting (open channels, held locks), and sends now what
 *   must not wait (keepalive).
 * - `returned`: the page is visible again, or restored from the cache
 *   (pageshow, `persisted`). What it may have missed meanwhile is re-read
 *   from storage, never assumed.
 */

export interface PageHooks {
  /** Visible again (`visibilitychange`), or restored from the back/forward cache. */
  returned?: () => void;
  /** Visible again (`visibilitychange` only). */
  visible?: () => void;
  hidden?: () => void;
  online?: () => void;
  /** The page is shown (`pageshow`), `persisted` when restored from the back/forward cache. */
  shown?: (persisted: boolean) => void;
  /** The page is hidden away (`pagehide`): closed, or (`persisted`) into the back/forward cache. */
  leaving?: (persisted: boolean) => void;
}

/** Calls `hooks` as the page comes and goes, until `signal` aborts (or for the life of the page). */
export function onPage(hooks: PageHooks, signal?: AbortSignal): void {
  const options = { signal };
  const { returned, visible, hidden, online, shown, leaving } = hooks;
  if (returned || visible || hidden) {
    document.addEventListener(
      'visibilitychange',
      () => {
        if (document.visibilityState !== 'visible') return hidden?.();
        visible?.();
        returned?.();
      },
      options,
    );
  }
  if (online) window.addEventListener('online', online, options);
  if (returned || shown) {
    window.addEventListener(
      'pageshow',
      (event) => {
        shown?.(event.persisted);
        if (event.persisted) returned?.();
      },
      options,
    );
  }
  if (leaving) window.addEventListener('pagehide', (event) => leaving(event.persisted), options);
}
