/**
 * Async helpers the browser side shares: one of each.
 */

/** Waits `ms`, or less if `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      window.clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = window.setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A scope that ends with `parent`, or before it; ending it early leaves nothing on `parent`. */
export function childScope(parent: AbortSignal): AbortController {
  const child = new AbortController();
  parent.addEventListener('abort', () => child.abort(), { once: true, signal: child.signal });
  return child;
}
