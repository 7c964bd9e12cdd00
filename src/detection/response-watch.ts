/**
 * Reads the responses the page receives for "session terminated".
 *
 * One patch of `fetch` and `XMLHttpRequest` per page, shared by every guard,
 * installed when the first guard starts watching and removed when the last
 * one stops (unless another script has wrapped it since, in which case it
 * stays as a pass-through rather than cut the other wrapper out).
 *
 * Requests outside every watched prefix are not touched: `fetch` returns the
 * very promise the original returned and no body is read. For watched
 * requests the classification runs before the caller gets the response (for
 * `fetch`, before the returned promise settles; for XHR, in the first
 * `readystatechange` at DONE, before `load` and `loadend`), so a caller that
 * awaits a terminated response finds the widget already gone.
 */
import { isJsonType, MALFORMED, MAX_BODY_BYTES, parseJson, readTextCapped } from '../shared/json-body.js';
import { classifyResponse, urlHasPrefix, type Classification } from './classify-response.js';

export interface ResponseWatcher {
  /** Absolute URL prefixes whose responses this watcher reads. */
  readonly prefixes: readonly string[];
  /**
   * Called synchronously with what a watched response says, and its JSON
   * body if it was read. A 404 or 410 is told twice: at once from the
   * status alone (body `undefined`), in the task the response arrived in,
   * so a "gone" about a session the URL names ends it with no wait for the
   * body; then again with the body, for answers only the body can name.
   */
  onResponse(classification: Classification, url: URL, body: unknown): void;
}

const watchers = new Set<ResponseWatcher>();
type OpenFn = (this: XMLHttpRequest, ...args: unknown[]) => void;
let originalFetch: typeof fetch | undefined;
let originalOpen: OpenFn | undefined;
/** `XMLHttpRequest.prototype`, typed for patching `open`. */
const xhrPrototype = () => XMLHttpRequest.prototype as unknown as { open: OpenFn };
let installed = false;
const xhrUrls = new WeakMap<XMLHttpRequest, URL>();

/** Reads responses for `watcher` until `signal` aborts. */
export function watchResponses(watcher: ResponseWatcher, signal: AbortSignal): void {
  if (signal.aborted) return;
  watchers.add(watcher);
  install();
  signal.addEventListener(
    'abort',
    () => {
      watchers.delete(watcher);
      if (watchers.size === 0) uninstall();
    },
    { once: true },
  );
}

/**
 * The page's `fetch` as it was before the guard patched it, for the guard's
 * own requests (which it reads itself and must not read twice).
 */
export function unwatchedFetch(): typeof fetch {
  // Native fetch needs no `this`; a wrapper that does would break anywhere it is passed around.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  return originalFetch ?? window.fetch;
}

/** Whether the patches are in place (for tests of the release guarantee). */
export function isWatching(): boolean {
  return installed && watchers.size > 0;
}

function interestedIn(url: URL): ResponseWatcher[] {
  const href = url.href;
  return [...watchers].filter((w) => w.prefixes.some((prefix) => urlHasPrefix(href, prefix)));
}

function toUrl(input: unknown): URL | undefined {
  try {
    if (input instanceof Request) return new URL(input.url);
    if (input instanceof URL) return input;
    return new URL(String(input), document.baseURI);
  } catch {
    return undefined;
  }
}

/** Tells the watchers interested in `url` what its response says. */
function notify(url: URL, classification: Classification, body?: unknown): void {
  for (const watcher of interestedIn(url)) {
    try {
      watcher.onResponse(classification, url, body);
    } catch (error) {
      // A failing watcher must not keep the response from the page.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with the caller's `this`
  originalFetch = window.fetch;
  window.fetch = guardedFetch;
  if (typeof XMLHttpRequest !== 'undefined') {
    originalOpen = xhrPrototype().open;
    xhrPrototype().open = guardedOpen;
  }
}

function uninstall(): void {
  // Only take the patch out where it is still ours on top; otherwise it stays
  // in the chain as a pass-through (no watchers, nothing read).
  const fetchRestorable = window.fetch === guardedFetch;
  const openRestorable = typeof XMLHttpRequest === 'undefined' || xhrPrototype().open === guardedOpen;
  if (!fetchRestorable || !openRestorable) return;
  if (originalFetch) window.fetch = originalFetch;
  if (originalOpen) xhrPrototype().open = originalOpen;
  originalFetch = undefined;
  originalOpen = undefined;
  installed = false;
}

function guardedFetch(this: unknown, ...args: Parameters<typeof fetch>): Promise<Response> {
  const original = originalFetch ?? fetchFallback;
  const url = watchers.size > 0 ? toUrl(args[0]) : undefined;
  if (!url || interestedIn(url).length === 0) return Reflect.apply(original, this, args);
  return Reflect.apply(original, this, args).then(
    async (response) => {
      await inspectFetchResponse(response, url);
      return response;
    },
    (error: unknown) => {
      // A network error is transient: nothing ends, the caller gets its error.
      notify(url, classifyResponse(0));
      throw error;
    },
  );
}

// For a stale reference to the patch, called after it was taken out.
function fetchFallback(...args: Parameters<typeof fetch>): Promise<Response> {
  return window.fetch(...args);
}

async function inspectFetchResponse(response: Response, url: URL): Promise<void> {
  if (response.type === 'opaque' || response.type === 'opaqueredirect') return;
  if (response.status === 404 || response.status === 410) {
    notify(url, classifyResponse(response.status));
    // A watcher whose session that ended has stopped watching (in the same call): when none is
    // left, nobody needs the body, and the teardown's task is not made longer by reading it.
    if (interestedIn(url).length === 0) return;
  }
  const inspect = async () => {
    try {
      const body = needsBody(response.status) ? await readJson(response) : undefined;
      notify(url, classifyResponse(response.status, body), body);
    } catch {
      // Reading our clone failed: no conclusion, the caller still gets its response.
    }
  };
  // A 2xx body of unknown length may be a long-lived stream: the caller must not wait for its end,
  // so it is read alongside. Error answers (and bodies of known length) are read first.
  const ok = response.status >= 200 && response.status < 300;
  if (ok && !response.headers.has('content-length')) void inspect();
  else await inspect();
}

/** Only these answers can carry a status body, an error code or the session they are about. */
function needsBody(status: number): boolean {
  return (status >= 200 && status < 300) || status === 401 || status === 403 || status === 404 || status === 410;
}

async function readJson(response: Response): Promise<unknown> {
  if (!isJsonType(response.headers.get('content-type'))) return undefined;
  const length = Number(response.headers.get('content-length') ?? '0');
  if (length > MAX_BODY_BYTES || !response.body) return undefined;
  const text = await readTextCapped(response.clone().body!, MAX_BODY_BYTES);
  return text === undefined ? undefined : parseJson(text);
}

function guardedOpen(this: XMLHttpRequest, ...args: unknown[]): void {
  const url = toUrl(args[1]);
  if (url) {
    if (!xhrUrls.has(this)) this.addEventListener('readystatechange', inspectXhr);
    xhrUrls.set(this, url);
  }
  Reflect.apply(originalOpen ?? xhrPrototype().open, this, args);
}

function inspectXhr(this: XMLHttpRequest): void {
  if (this.readyState !== XMLHttpRequest.DONE || watchers.size === 0) return;
  const url = xhrUrls.get(this);
  if (!url) return;
  if (interestedIn(url).length === 0) return;
  const body = needsBody(this.status) ? xhrJson(this) : undefined;
  notify(url, classifyResponse(this.status, body), body);
}

function xhrJson(xhr: XMLHttpRequest): unknown {
  if (xhr.responseType === 'json') return (xhr.response as unknown) ?? MALFORMED;
  if (xhr.responseType !== '' && xhr.responseType !== 'text') return undefined;
  if (!isJsonType(xhr.getResponseHeader('content-type'))) return undefined;
  if (xhr.responseText.length > MAX_BODY_BYTES) return undefined;
  return parseJson(xhr.responseText);
}
