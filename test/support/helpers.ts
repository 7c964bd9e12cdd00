// Helpers shared by the browser tests.
import { expect } from '@esm-bundle/chai';
import { fixture, fixtureCleanup, html, oneEvent } from '@open-wc/testing-helpers';
import { createStore, entries } from 'idb-keyval';
import '../../src/index.js';
import type { KonproWidgetGuard } from '../../src/index.js';

export { fixture, fixtureCleanup, html, oneEvent };

let counter = 0;
/** A session id no other test (or earlier run, thanks to the time part) has used. */
export function uniqueId(prefix = 's'): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}_${counter}`;
}

export const WIDGET = '/test/fixtures/widget.html?session_id={session_id}';

export function frameOf(guard: KonproWidgetGuard): HTMLIFrameElement | null {
  return guard.shadowRoot!.querySelector('iframe');
}

/**
 * An element in one line (tag, id, part, src), or `null`: what an assertion about elements should
 * compare or print. A failing chai assertion whose actual value is an element makes web-test-runner
 * try to serialise it (and the document it hangs in), and the file then runs into its time limit
 * with no test named; a string fails in a second, by name.
 */
export function describeElement(element: Element | null | undefined): string | null {
  if (!element) return null;
  const attributes = ['id', 'part', 'src', 'title']
    .map((name) => [name, element.getAttribute(name)] as const)
    .filter(([, value]) => value !== null)
    .map(([name, value]) => ` ${name}="${value!.length > 100 ? `${value!.slice(0, 100)}…` : value!}"`)
    .join('');
  return `<${element.localName}${attributes}>${element.isConnected ? '' : ' (disconnected)'}`;
}

/**
 * Asserts that the guard shows no widget frame. On failure it names the frame that is still there
 * (see {@link describeElement}) and the guard's state, instead of handing the element to the runner.
 */
export function expectNoFrame(guard: KonproWidgetGuard, message = 'the widget frame is gone'): void {
  const frame = frameOf(guard);
  expect(frame && `${describeElement(frame)} (guard state ${guard.state})`, message).to.equal(null);
}

export async function activeGuard(attributes: Record<string, string> = {}): Promise<KonproWidgetGuard> {
  const guard = document.createElement('konpro-widget-guard');
  guard.setAttribute('widget-src', WIDGET);
  guard.setAttribute('check-interval', '0');
  guard.setAttribute('session-id', uniqueId());
  for (const [name, value] of Object.entries(attributes)) guard.setAttribute(name, value);
  const started = oneEvent(guard, 'konpro-session-start');
  const parent = await fixture(html`<div></div>`);
  parent.append(guard);
  await started;
  return guard;
}

/**
 * Waits until the frame's document has loaded (it posts test-widget-loaded), or fails with a message
 * naming the frame after `timeoutMs`: a frame that never loads fails its test, by name, instead of
 * leaving it to hang (or to pass without ever having had a widget). A same-origin frame that loaded
 * before this was called (its message already gone) is seen from its document. No frame at all fails
 * at once, saying so.
 */
export function frameLoaded(frame: HTMLIFrameElement | null | undefined, timeoutMs = 10_000): Promise<void> {
  if (!frame) return Promise.reject(new Error('no widget frame to wait for: the guard has none mounted'));
  return new Promise((resolve, reject) => {
    const finish = (error?: Error) => {
      window.removeEventListener('message', onMessage);
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const onMessage = (event: MessageEvent) => {
      if (event.source === frame.contentWindow && (event.data as { type?: string })?.type === 'test-widget-loaded')
        finish();
    };
    window.addEventListener('message', onMessage);
    const timer = setTimeout(
      () => finish(new Error(`the widget frame did not load within ${timeoutMs} ms: ${describeElement(frame)}`)),
      timeoutMs,
    );
    let loadedAlready = false;
    try {
      const doc = frame.contentDocument; // null for a frame of another origin: its message tells
      loadedAlready = doc !== null && doc.URL === frame.src && doc.readyState === 'complete';
    } catch {
      // another origin: wait for its message
    }
    if (loadedAlready) finish();
  });
}

/**
 * Resolves once every message that `sources` posted to this window before now has been handled.
 * Each source posts a marker after them (a frame's window relays it, as the test widget relays
 * `{cmd: 'post'}`; this window posts its own); messages from one source arrive in the order they were
 * posted, and the guard handles a frame message synchronously in its listener, so when the marker
 * arrives here everything earlier from that source has been seen, and ignored or acted on. What
 * "nothing happened" tests wait for instead of a sleep.
 */
export function messagesHandled(...sources: Window[]): Promise<void> {
  return Promise.all(
    sources.map(
      (source) =>
        new Promise<void>((resolve, reject) => {
          const marker = uniqueId('marker');
          const onMessage = (event: MessageEvent) => {
            if (event.source !== source || (event.data as { marker?: string })?.marker !== marker) return;
            window.removeEventListener('message', onMessage);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(() => reject(new Error('a marker message did not come back within 5 s')), 5000);
          window.addEventListener('message', onMessage);
          if (source === window) window.postMessage({ marker }, '*');
          else source.postMessage({ cmd: 'post', data: { marker } }, '*');
        }),
    ),
  ).then(() => undefined);
}

/** A scriptable fake proxy at /test-api/proxy/{ns}, with control routes. */
export class FakeProxy {
  readonly ns = uniqueId('ns');
  readonly url = `/test-api/proxy/${this.ns}`;

  async reset(): Promise<void> {
    await fetch(`/test-api/control/${this.ns}/reset`, { method: 'POST' });
  }
  /** Requests that match a fault are served by it: `{method?, id?, times?, status?, retryAfter?, body?, delayMs?, drop?, hold?}`. */
  async faults(...faults: Array<Record<string, unknown>>): Promise<void> {
    await fetch(`/test-api/control/${this.ns}/faults`, { method: 'POST', body: JSON.stringify(faults) });
  }
  /** Lets every request held by a `hold` fault go on. */
  async release(): Promise<void> {
    await fetch(`/test-api/control/${this.ns}/release`, { method: 'POST' });
  }
  async session(id: string, change: { status?: string; expiresAt?: string } = {}): Promise<void> {
    await fetch(`/test-api/control/${this.ns}/sessions`, { method: 'POST', body: JSON.stringify({ id, ...change }) });
  }
  async expiresIn(ms: number): Promise<void> {
    await fetch(`/test-api/control/${this.ns}/expires-in`, { method: 'POST', body: JSON.stringify({ ms }) });
  }
  async log(): Promise<
    Array<{ method: string; id: string | null; outcome: string | null; guardHeader: string; at: number }>
  > {
    return (await fetch(`/test-api/control/${this.ns}/log`)).json();
  }
  /** The most `DELETE`s of each session that were in flight at this proxy at once. */
  async mostDeletesInFlight(): Promise<Record<string, number>> {
    return (await fetch(`/test-api/control/${this.ns}/deletes-in-flight`)).json();
  }
  /** How many `DELETE`s are in flight at this proxy now (arrived, not yet answered nor hung up on). */
  async deletesInFlight(): Promise<number> {
    return (await fetch(`/test-api/control/${this.ns}/deletes-in-flight-now`)).json();
  }
  async deletes(id?: string) {
    return (await this.log()).filter((e) => e.method === 'DELETE' && (id === undefined || e.id === id));
  }
  /**
   * Resolves once a request this page makes now has reached the proxy (it is logged on arrival, so
   * its answer means it is in the log). What "nothing more reached the proxy" tests wait for
   * instead of a sleep: a request the page had already made went out before this one, from the same
   * browser to the same server, so it is in the log by then (short of a race between two connections
   * within the same instant), however slow the machine is, where a fixed sleep is a guess. The marker is a `GET` of an id starting `marker_`; {@link gets} leaves it out.
   */
  async requestsArrived(): Promise<void> {
    await fetch(`${this.url}/${uniqueId('marker')}`, { headers: { 'X-Konpro-Guard': '1' } });
  }
  /** The status checks (`GET` of a session) the proxy received, markers left out. */
  async gets(id?: string) {
    return (await this.log()).filter(
      (e) => e.method === 'GET' && !e.id?.startsWith('marker_') && (id === undefined || e.id === id),
    );
  }
}

/**
 * Resolves once the page-wide outbox (shared by every tab of the origin) holds a settled record (a
 * tombstone) for each of `urls`: each delete has had its final answer and is never sent again (a
 * settled record is not sent again by any tab). What "only one delete" tests wait for before they count.
 */
export async function outboxSettled(urls: string[], timeoutMs = 10_000): Promise<void> {
  const store = createStore('konpro-widget-guard-outbox', 'deletes');
  const absolute = urls.map((url) => new URL(url, location.href).href);
  await until(
    async () => {
      const records = new Map(await entries<string, { settled?: unknown }>(store));
      return absolute.every((url) => records.get(url)?.settled !== undefined);
    },
    `the outbox settled ${absolute.join(', ')}`,
    timeoutMs,
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` until it holds, or fails after `timeoutMs`. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  message: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${message}`);
    await sleep(20);
  }
}

export function echoUrl(status: number, body?: unknown, type = 'application/json'): string {
  const params = new URLSearchParams({ status: String(status), type });
  if (body !== undefined) params.set('body', typeof body === 'string' ? body : JSON.stringify(body));
  return `/test-api/echo?${params.toString()}`;
}

/** A watched URL whose answer says "gone" the way an API does: 404 with a JSON error body. */
export const GONE = echoUrl(404, {
  error: { code: 'RESOURCE_NOT_FOUND', message: 'session not found' },
  request_id: 'req_test',
});
