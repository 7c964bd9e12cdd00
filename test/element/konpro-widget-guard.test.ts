import { expect } from '@esm-bundle/chai';
import { executeServerCommand } from '@web/test-runner-commands';
import { createStore, get } from 'idb-keyval';
import { isWatching } from '../../src/detection/response-watch.js';
import { deleteOutbox } from '../../src/outbox/outbox.js';
import type { KonproWidgetGuard, SessionEndDetail } from '../../src/index.js';
import {
  activeGuard,
  echoUrl,
  FakeProxy,
  fixture,
  fixtureCleanup,
  frameLoaded,
  describeElement,
  expectNoFrame,
  frameOf,
  html,
  oneEvent,
  messagesHandled,
  uniqueId,
  until,
  WIDGET,
  GONE,
} from '../support/helpers.js';

afterEach(() => fixtureCleanup());

function recordEvents(target: EventTarget, type: string): Array<CustomEvent> {
  const events: CustomEvent[] = [];
  target.addEventListener(type, (e) => events.push(e as CustomEvent));
  return events;
}

describe('<konpro-widget-guard> mounting', () => {
  it('mounts the widget in an iframe it owns, with camera, microphone and autoplay allowed', async () => {
    const guard = await activeGuard();
    const frame = frameOf(guard)!;
    expect(guard.state).to.equal('active');
    expect(guard.getAttribute('state')).to.equal('active');
    expect(frame.getAttribute('part')).to.equal('frame');
    expect(frame.allow).to.equal('camera; microphone; autoplay');
    expect(frame.title).to.not.equal('');
    expect(new URL(frame.src).searchParams.get('session_id')).to.equal(guard.sessionId);
  });

  it('fires konpro-session-start with the session id', async () => {
    const id = uniqueId();
    const guard = document.createElement('konpro-widget-guard');
    guard.setAttribute('widget-src', WIDGET);
    guard.setAttribute('session-id', id);
    const started = oneEvent(guard, 'konpro-session-start');
    (await fixture(html`<div></div>`)).append(guard);
    expect((await started).detail).to.deep.equal({ sessionId: id });
  });

  it('shows host markup from the default slot while active', async () => {
    const id = uniqueId();
    const el = await fixture<KonproWidgetGuard>(
      html`<konpro-widget-guard session-id=${id}><div id="w">widget</div></konpro-widget-guard>`,
    );
    await until(() => el.state === 'active', 'active');
    const slot = el.shadowRoot!.querySelector<HTMLSlotElement>('slot:not([name])')!;
    expect(slot.assignedElements().map((e) => e.id)).to.deep.equal(['w']);
    expect(el.querySelector('#w')!.getBoundingClientRect().height).to.be.greaterThan(0);
  });

  it('stamps a <template> afresh for each session, with {session_id} filled in', async () => {
    const id = uniqueId();
    const el = await fixture<KonproWidgetGuard>(html`
      <konpro-widget-guard session-id=${id}>
        <template><div class="embed" data-session="{session_id}"></div></template>
      </konpro-widget-guard>
    `);
    await until(() => el.state === 'active', 'active');
    expect(el.querySelector('.embed')!.getAttribute('data-session')).to.equal(id);
    const next = uniqueId();
    el.sessionId = next;
    await until(
      () => el.state === 'active' && el.querySelector('.embed')?.getAttribute('data-session') === next,
      'second session',
    );
    expect(el.querySelectorAll('.embed').length).to.equal(1);
    expect(el.querySelector('template')).to.exist;
  });

  it('is idle without a session and reflects state read-only', async () => {
    const el = await fixture<KonproWidgetGuard>(html`<konpro-widget-guard widget-src=${WIDGET}></konpro-widget-guard>`);
    expect(el.state).to.equal('idle');
    el.setAttribute('state', 'active');
    expect(el.getAttribute('state')).to.equal('idle');
    expectNoFrame(el);
  });
});

describe('<konpro-widget-guard> session-id validation', () => {
  const bad = ['a/b', '../../admin', 'x'.repeat(129), 'a b', 'a?x=1', 'ü', 'abc#frag', '%2e%2e'];

  for (const value of bad) {
    it(`refuses ${JSON.stringify(value.length > 20 ? `${value.slice(0, 12)}… (${value.length})` : value)}: error state, an event, nothing mounted`, async () => {
      const el = await fixture<KonproWidgetGuard>(
        html`<konpro-widget-guard widget-src=${WIDGET}></konpro-widget-guard>`,
      );
      const errors = recordEvents(el, 'konpro-guard-error');
      const requests: string[] = [];
      const observer = new PerformanceObserver((list) => requests.push(...list.getEntries().map((e) => e.name)));
      observer.observe({ type: 'resource', buffered: false });
      expect(() => el.setAttribute('session-id', value)).to.not.throw();
      await el.updateComplete;
      // Anything the guard fetched or framed for this id it asked for by now (the refusal is
      // synchronous); a request made after it, once observed, says those had their time.
      const marker = `/test-api/echo?status=204&after=${uniqueId('m')}`;
      await fetch(marker);
      await until(() => requests.some((url) => url.endsWith(marker)), 'the request made after it observed');
      observer.disconnect();
      expect(el.state).to.equal('error');
      expect(errors.map((e) => (e.detail as { code: string }).code)).to.deep.equal(['invalid-session-id']);
      expect((errors[0].detail as { message: string }).message).to.match(/session id/);
      expectNoFrame(el);
      expect(
        requests.some(
          (url) => !url.endsWith(marker) && (url.includes(encodeURIComponent(value)) || url.includes(value)),
        ),
      ).to.equal(false);
    });
  }

  it('recovers when a valid id follows', async () => {
    const el = await fixture<KonproWidgetGuard>(
      html`<konpro-widget-guard widget-src=${WIDGET} session-id="bad id"></konpro-widget-guard>`,
    );
    expect(el.state).to.equal('error');
    el.sessionId = uniqueId();
    await until(() => el.state === 'active', 'active');
  });

  it('reports unusable widget-src and proxy without throwing', async () => {
    const el = await fixture<KonproWidgetGuard>(html`<konpro-widget-guard></konpro-widget-guard>`);
    const errors = recordEvents(el, 'konpro-guard-error');
    el.setAttribute('widget-src', 'javascript:alert(1)');
    el.setAttribute('session-id', uniqueId());
    await until(() => el.state === 'error', 'error state');
    expect(errors.map((e) => (e.detail as { code: string }).code)).to.include('invalid-widget-src');
    expectNoFrame(el);
  });
});

describe('<konpro-widget-guard> detecting termination in responses', () => {
  it('tears the widget down before the caller of fetch() gets the terminated response', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    const ended = recordEvents(guard, 'konpro-session-end');
    const response = await fetch(
      echoUrl(404, { error: { code: 'RESOURCE_NOT_FOUND', message: 'gone' }, request_id: 'r' }),
    );
    // Same task as the caller's resumption: no await in between.
    expectNoFrame(guard, 'frame gone when fetch resolves');
    expect(guard.state).to.equal('terminated');
    expect(ended.map((e) => (e.detail as SessionEndDetail).reason)).to.deep.equal(['terminated']);
    expect(response.status).to.equal(404);
    expect((await response.json()).error.code, 'the caller can still read the body').to.equal('RESOURCE_NOT_FOUND');
  });

  it('ends on a 404 about this session as soon as the status arrives, without waiting for the body', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    const url = `${echoUrl(404, { error: { code: 'RESOURCE_NOT_FOUND', message: 'gone' } })}&session_id=${guard.sessionId}&bodyDelay=3000`;
    const started = performance.now();
    const response = fetch(url);
    await until(() => guard.state === 'terminated', 'terminated', 2000);
    expect(performance.now() - started, 'long before the body').to.be.below(2000);
    expectNoFrame(guard);
    expect((await response).status).to.equal(404);
  });

  const ending: Array<[string, number, unknown]> = [
    ['410', 410, { error: { code: 'RESOURCE_NOT_FOUND', message: 'gone' }, request_id: 'r' }],
    ['401 SESSION_TERMINATED', 401, { error: { code: 'SESSION_TERMINATED', message: 'x' }, request_id: 'r' }],
    ['403 TOKEN_EXPIRED', 403, { error: { code: 'TOKEN_EXPIRED', message: 'x' }, request_id: 'r' }],
  ];
  for (const [name, status, body] of ending) {
    it(`ends on ${name}`, async () => {
      const guard = await activeGuard({ watch: '/test-api/echo' });
      await fetch(echoUrl(status, body));
      expectNoFrame(guard);
      expect(guard.state).to.equal('terminated');
    });
  }

  it('ends on a status body for this session that is not active', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    await fetch(echoUrl(200, { session_id: guard.sessionId, status: 'terminated' }));
    expect(guard.state).to.equal('terminated');
  });

  const transient: Array<[string, string]> = [
    ['429', echoUrl(429, { error: { code: 'RATE_LIMIT_EXCEEDED', message: 'slow down' }, request_id: 'r' })],
    ['500', echoUrl(500, { error: { code: 'PROCESSING_ERROR', message: 'x' }, request_id: 'r' })],
    ['503', echoUrl(503, 'Service Unavailable', 'text/plain')],
    ['401 INVALID_API_KEY', echoUrl(401, { error: { code: 'INVALID_API_KEY', message: 'x' }, request_id: 'r' })],
    ['401 with a malformed body', echoUrl(401, '{"error": {"code": "SESSION_TERMINATED"', 'application/json')],
    ['200 with a malformed body', echoUrl(200, '{not json', 'application/json')],
    ['a status body about another session', echoUrl(200, { session_id: 'someone_else', status: 'terminated' })],
    ['a 404 naming another session', echoUrl(404, { session_id: 'someone_else' })],
  ];
  for (const [name, url] of transient) {
    it(`keeps the widget on ${name}`, async () => {
      const guard = await activeGuard({ watch: '/test-api/echo' });
      await (await fetch(url)).text();
      expect(guard.state).to.equal('active');
      expect(frameOf(guard)).to.not.equal(null);
    });
  }

  it('keeps the widget on a network error, and the caller gets its error', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    let failed = false;
    try {
      await fetch('/test-api/echo?drop=1');
    } catch {
      failed = true;
    }
    expect(failed).to.equal(true);
    expect(guard.state).to.equal('active');
  });

  it('ignores a bare 404 page that names no session (a CDN or load balancer), but not one that names it', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    await (await fetch(echoUrl(404, '<h1>Not Found</h1>', 'text/html'))).text();
    await (await fetch(echoUrl(404, ''))).text();
    expect(guard.state).to.equal('active');
    await fetch(`/test-api/echo/sessions/${guard.sessionId}?status=404&type=text/html&body=gone`);
    expect(guard.state).to.equal('terminated');
  });

  it('ignores responses outside the watched prefixes, and hands them over untouched', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo/watched' });
    const response = await fetch(GONE);
    expect(guard.state).to.equal('active');
    expect(response.bodyUsed).to.equal(false);
  });

  it('returns the very response of the underlying fetch for unrelated requests', async () => {
    const marker = new Response('marker');
    const original = window.fetch;
    window.fetch = () => Promise.resolve(marker);
    try {
      const guard = await activeGuard({ watch: '/test-api/echo/watched' });
      const response = await window.fetch('/elsewhere');
      expect(response).to.equal(marker);
      expect(response.bodyUsed).to.equal(false);
      guard.remove();
    } finally {
      window.fetch = original;
    }
  });

  it('tears down before XMLHttpRequest load and loadend listeners run', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    const seen = await new Promise<string[]>((resolve) => {
      const xhr = new XMLHttpRequest();
      const log: string[] = [];
      xhr.onload = () => log.push(`load:${frameOf(guard) === null ? 'gone' : 'present'}`);
      xhr.addEventListener('loadend', () => {
        log.push(`loadend:${frameOf(guard) === null ? 'gone' : 'present'}`);
        resolve(log);
      });
      xhr.open('GET', echoUrl(401, { error: { code: 'SESSION_EXPIRED', message: 'x' }, request_id: 'r' }));
      xhr.send();
    });
    expect(seen).to.deep.equal(['load:gone', 'loadend:gone']);
    expect(guard.state).to.equal('terminated');
  });

  it('reads XHR json responses too, and leaves transient ones alone', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    const xhrGet = (url: string, type: XMLHttpRequestResponseType) =>
      new Promise<void>((resolve) => {
        const xhr = new XMLHttpRequest();
        xhr.responseType = type;
        xhr.onloadend = () => resolve();
        xhr.open('GET', url);
        xhr.send();
      });
    await xhrGet(echoUrl(503), 'json');
    expect(guard.state).to.equal('active');
    await xhrGet(echoUrl(200, { session_id: guard.sessionId, status: 'terminated' }), 'json');
    expect(guard.state).to.equal('terminated');
  });

  it('watches the proxy by default, and only the session it names', async () => {
    const proxy = new FakeProxy();
    const guard = await activeGuard({ proxy: proxy.url });
    await fetch(`${proxy.url}/someone_else`, { headers: { 'X-Konpro-Guard': '1' } }); // 404 about another id
    expect(guard.state).to.equal('active');
    await fetch(`${proxy.url}/${guard.sessionId}`, { headers: { 'X-Konpro-Guard': '1' } }); // 404: gone
    expect(guard.state).to.equal('terminated');
  });
});

describe('<konpro-widget-guard> messages from the widget frame', () => {
  async function loadedGuard(attributes: Record<string, string> = {}) {
    const guard = await activeGuard(attributes);
    await frameLoaded(frameOf(guard));
    return guard;
  }

  it('ends the session on the termination message from its own frame and trusted origin', async () => {
    const guard = await loadedGuard();
    const ended = oneEvent(guard, 'konpro-session-end');
    frameOf(guard)!.contentWindow!.postMessage(
      { cmd: 'post', data: { type: 'konpro-session-terminated', session_id: guard.sessionId } },
      '*',
    );
    expect((await ended).detail).to.deep.equal({ sessionId: guard.sessionId, reason: 'terminated' });
    expectNoFrame(guard);
  });

  it('ignores forgeries: the page itself, another frame, another session, another shape', async () => {
    const guard = await loadedGuard();
    const id = guard.sessionId!;
    window.postMessage({ type: 'konpro-session-terminated', session_id: id }, '*');
    const stranger = document.createElement('iframe');
    stranger.src = `/test/fixtures/widget.html?session_id=${id}`;
    document.body.append(stranger);
    await frameLoaded(stranger);
    stranger.contentWindow!.postMessage(
      { cmd: 'post', data: { type: 'konpro-session-terminated', session_id: id } },
      '*',
    );
    const own = frameOf(guard)!.contentWindow!;
    own.postMessage({ cmd: 'post', data: { type: 'konpro-session-terminated', session_id: 'other' } }, '*');
    own.postMessage({ cmd: 'post', data: { type: 'konpro-session-terminated' } }, '*');
    own.postMessage({ cmd: 'post', data: `konpro-session-terminated ${id}` }, '*');
    own.postMessage({ cmd: 'post', data: { type: 'KONPRO-SESSION-TERMINATED', session_id: id } }, '*');
    await messagesHandled(window, stranger.contentWindow!, own);
    stranger.remove();
    expect(guard.state).to.equal('active');
    expect(frameOf(guard)).to.not.equal(null);
  });

  it('ignores its own frame when the message comes from an untrusted origin', async () => {
    // The frame is served from 127.0.0.1 while only localhost's origin is trusted (or the reverse).
    const here = new URL(location.href);
    const otherHost = here.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
    const guard = await activeGuard({
      'widget-src': `${here.protocol}//${otherHost}:${here.port}${WIDGET}`,
      'widget-origin': location.origin,
    });
    await frameLoaded(frameOf(guard));
    frameOf(guard)!.contentWindow!.postMessage(
      { cmd: 'post', data: { type: 'konpro-session-terminated', session_id: guard.sessionId } },
      '*',
    );
    await messagesHandled(frameOf(guard)!.contentWindow!);
    expect(guard.state).to.equal('active');
  });
});

describe('<konpro-widget-guard> teardown', () => {
  it('points the frame at about:blank, then removes it, in one task', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    const frame = frameOf(guard)!;
    const steps: string[] = [];
    const observer = new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'attributes' && r.attributeName === 'src') steps.push(`src=${frame.getAttribute('src')}`);
        if (r.type === 'childList' && [...r.removedNodes].includes(frame)) steps.push('removed');
      }
    });
    observer.observe(guard.shadowRoot!, { subtree: true, childList: true, attributes: true, attributeFilter: ['src'] });
    await fetch(GONE);
    const records = observer.takeRecords();
    observer.disconnect();
    for (const r of records) {
      if (r.type === 'attributes') steps.push(`src=${(r.target as HTMLIFrameElement).getAttribute('src')}`);
      if (r.type === 'childList' && [...r.removedNodes].includes(frame)) steps.push('removed');
    }
    expect(steps).to.deep.equal(['src=about:blank', 'removed']);
  });

  it('removes slotted widget markup and stops its media', async () => {
    const id = uniqueId();
    const el = await fixture<KonproWidgetGuard>(html`
      <konpro-widget-guard session-id=${id} watch="/test-api/echo">
        <div class="widget-markup"><iframe src="/test/fixtures/widget.html" title="w"></iframe></div>
        <p slot="terminated">Bye</p>
      </konpro-widget-guard>
    `);
    await until(() => el.state === 'active', 'active');
    const inner = el.querySelector('iframe')!;
    await fetch(GONE);
    expect(describeElement(el.querySelector('.widget-markup')), 'the stamped markup is gone').to.equal(null);
    expect(inner.getAttribute('src')).to.equal('about:blank');
    expect(el.querySelector('[slot="terminated"]'), 'other slots stay').to.exist;
  });

  it('shows the terminated panel, announces it politely, and moves focus out of the widget', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    const frame = frameOf(guard)!;
    await frameLoaded(frame);
    frame.focus();
    expect(describeElement(guard.shadowRoot!.activeElement), 'focus').to.equal(describeElement(frame));
    await fetch(GONE);
    const panel = guard.shadowRoot!.querySelector<HTMLElement>('[part="terminated"]')!;
    expect(getComputedStyle(panel).display).to.not.equal('none');
    expect(panel.textContent).to.match(/ended/);
    expect(describeElement(guard.shadowRoot!.activeElement), 'focus').to.equal(describeElement(panel));
    const live = guard.shadowRoot!.querySelector('[aria-live="polite"]')!;
    expect(live.textContent).to.match(/ended/);
  });

  it('removing the element or changing the session id releases everything, without ending the session', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    const ended = recordEvents(guard, 'konpro-session-end');
    const first = guard.sessionId!;
    guard.sessionId = uniqueId();
    await until(
      () => guard.state === 'active' && frameOf(guard)?.src.includes(guard.sessionId!) === true,
      'second session',
    );
    expect(guard.shadowRoot!.querySelectorAll('iframe').length).to.equal(1);
    guard.remove();
    expect(guard.shadowRoot!.querySelectorAll('iframe').length).to.equal(0);
    expect(isWatching()).to.equal(false);
    expect(ended.length).to.equal(0);
    expect(first).to.not.equal(guard.sessionId);
  });
});

describe('<konpro-widget-guard> never again', () => {
  it('refuses an ended session id in this page', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    const id = guard.sessionId!;
    await fetch(GONE);
    const again = document.createElement('konpro-widget-guard');
    again.setAttribute('widget-src', WIDGET);
    again.setAttribute('session-id', id);
    const ended = oneEvent(again, 'konpro-session-end');
    (await fixture(html`<div></div>`)).append(again);
    expect((await ended).detail).to.deep.equal({ sessionId: id, reason: 'invalid' });
    expect(again.state).to.equal('terminated');
    expectNoFrame(again);
  });

  it('refuses it after a reload (a fresh page of the origin)', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    const id = guard.sessionId!;
    await fetch(GONE);
    // The record the new tab reads is written asynchronously: wait until it is there.
    await until(
      async () => (await get(id, createStore('konpro-widget-guard-ended', 'ended'))) !== undefined,
      'the ended record stored',
    );
    const tab = await executeServerCommand<number, { url: string }>('tab-open', {
      url: `/test/fixtures/guard-page.html?session_id=${id}`,
    });
    try {
      await until(
        async () =>
          (await executeServerCommand('tab-eval', { id: tab, expression: 'window.guard.state' })) === 'terminated',
        'terminated in the new tab',
      );
      expect(await executeServerCommand('tab-eval', { id: tab, expression: 'window.frameCount()' })).to.equal(0);
    } finally {
      await executeServerCommand('tab-close', { id: tab });
    }
  });
});

describe('<konpro-widget-guard> logout()', () => {
  it('tears down synchronously, then deletes through the proxy with the guard header', async () => {
    const proxy = new FakeProxy();
    const guard = await activeGuard({ proxy: proxy.url });
    const id = guard.sessionId!;
    await proxy.session(id);
    const ended = recordEvents(guard, 'konpro-session-end');
    const pending = guard.logout();
    expectNoFrame(guard, 'gone before any network I/O');
    expect(guard.state).to.equal('terminated');
    expect((ended[0].detail as SessionEndDetail).reason).to.equal('logout');
    const outcome = await pending;
    expect(outcome).to.deep.equal({ sessionId: id, outcome: 'deleted', attempts: 1 });
    const deletes = await proxy.deletes(id);
    expect(deletes.length).to.equal(1);
    expect(deletes[0].guardHeader).to.equal('1');
  });

  it('says already-gone when the proxy has no such session, and is idempotent', async () => {
    const proxy = new FakeProxy();
    const guard = await activeGuard({ proxy: proxy.url });
    await proxy.faults({ method: 'DELETE', status: 404 });
    const first = guard.logout();
    expect(guard.logout()).to.equal(first);
    expect((await first).outcome).to.equal('already-gone');
  });

  it('without a proxy it still tears down, reports the misconfiguration and says failed', async () => {
    const guard = await activeGuard();
    const errors = recordEvents(guard, 'konpro-guard-error');
    const outcome = await guard.logout();
    expectNoFrame(guard);
    expect(outcome.outcome).to.equal('failed');
    expect(errors.map((e) => (e.detail as { code: string }).code)).to.include('missing-proxy');
  });
});

describe('<konpro-widget-guard> leaves nothing behind', () => {
  it('1,000 mount/teardown cycles leave no frames, listeners, timers or patches', async function () {
    this.timeout(120_000);
    const listeners = () =>
      executeServerCommand<string[], { expression: string }>('cdp-listeners', { expression: 'window' });
    const docListeners = () =>
      executeServerCommand<string[], { expression: string }>('cdp-listeners', { expression: 'document' });
    const host = await fixture<HTMLDivElement>(html`<div></div>`);
    // Timers set by the guard's own modules (not by the test harness).
    const liveTimers = new Set<number>();
    const fromGuard = () => /\/src\/[\w-]+\.ts/.test(new Error().stack ?? '');
    const { setTimeout: st, clearTimeout: ct, setInterval: si, clearInterval: ci } = window;
    window.setTimeout = ((fn: TimerHandler, ms?: number, ...rest: unknown[]) => {
      const id = st(() => {
        liveTimers.delete(id);
        (fn as (...a: unknown[]) => void)(...rest);
      }, ms);
      if (fromGuard()) liveTimers.add(id);
      return id;
    }) as typeof window.setTimeout;
    window.clearTimeout = ((id?: number) => {
      if (id !== undefined) liveTimers.delete(id);
      ct(id);
    }) as typeof window.clearTimeout;
    window.setInterval = ((fn: TimerHandler, ms?: number, ...rest: unknown[]) => {
      const id = si(fn, ms, ...rest);
      if (fromGuard()) liveTimers.add(id);
      return id;
    }) as typeof window.setInterval;
    window.clearInterval = ((id?: number) => {
      if (id !== undefined) liveTimers.delete(id);
      ci(id);
    }) as typeof window.clearInterval;
    try {
      const cycle = async (i: number) => {
        const guard = document.createElement('konpro-widget-guard');
        guard.setAttribute('widget-src', '/test-api/echo?status=204&s={session_id}');
        guard.setAttribute('watch', '/test-api/echo');
        guard.setAttribute('session-id', uniqueId(`c${i}`));
        const started = oneEvent(guard, 'konpro-session-start');
        host.append(guard);
        await started;
        if (i % 2 === 0)
          guard.remove(); // released
        else {
          guard.dispatchEvent(new Event('noop'));
          // ended (no proxy: failed)
          logouts.push((guard as unknown as { logout(): Promise<unknown> }).logout().catch(() => {}));
          guard.remove();
        }
        return guard.getAttribute('session-id')!;
      };
      // What an end leaves to finish after it: the logout's outcome, and the ended record's write to
      // IndexedDB. Writes to one object store commit in the order they were made, so once the last
      // ended session's record is there every earlier one's is too.
      const logouts: Promise<unknown>[] = [];
      const endedStore = createStore('konpro-widget-guard-ended', 'ended');
      const settled = async (lastEnded: string) => {
        await Promise.all(logouts);
        await until(async () => (await get(lastEnded, endedStore)) !== undefined, 'the ended record stored');
      };
      // The baseline after one cycle of each kind (released, ended) and what they left to finish.
      await cycle(0);
      await settled(await cycle(1));
      const baseWindow = (await listeners()).length;
      const baseDocument = (await docListeners()).length;
      const baseTimers = liveTimers.size;
      let lastEnded = '';
      for (let i = 2; i <= 1001; i++) {
        const id = await cycle(i);
        if (i % 2 === 1) lastEnded = id;
      }
      await settled(lastEnded);
      expect(host.querySelectorAll('konpro-widget-guard').length).to.equal(0);
      expect(window.length, 'child browsing contexts').to.equal(0);
      expect((await listeners()).length, 'window listeners').to.equal(baseWindow);
      expect((await docListeners()).length, 'document listeners').to.equal(baseDocument);
      expect(liveTimers.size, 'live timers').to.equal(baseTimers);
      expect(isWatching()).to.equal(false);
    } finally {
      Object.assign(window, { setTimeout: st, clearTimeout: ct, setInterval: si, clearInterval: ci });
    }
  });
});

describe('<konpro-widget-guard> start()', () => {
  it('asks the proxy for a session and mounts its widget URL', async () => {
    const proxy = new FakeProxy();
    const el = await fixture<KonproWidgetGuard>(
      html`<konpro-widget-guard proxy=${proxy.url} check-interval="0"></konpro-widget-guard>`,
    );
    const started = oneEvent(el, 'konpro-session-start');
    await el.start();
    const { sessionId } = (await started).detail;
    expect(el.state).to.equal('active');
    expect(el.sessionId).to.equal(sessionId);
    expect(el.getAttribute('session-id')).to.equal(sessionId);
    expect(frameOf(el)!.src).to.contain(`/test/fixtures/widget.html?session_id=${sessionId}`);
    const posts = (await proxy.log()).filter((e) => e.method === 'POST');
    expect(posts.length).to.equal(1);
    expect(posts[0].guardHeader).to.equal('1');
  });

  it('stamps the host’s <template> rather than framing the proxy’s widget URL', async () => {
    const proxy = new FakeProxy();
    const el = await fixture<KonproWidgetGuard>(html`
      <konpro-widget-guard proxy=${proxy.url} check-interval="0">
        <template><div class="embed" data-session="{session_id}"></div></template>
      </konpro-widget-guard>
    `);
    await el.start();
    expectNoFrame(el);
    expect(el.querySelector('.embed')!.getAttribute('data-session')).to.equal(el.sessionId);
  });

  it('coalesces concurrent calls into one session', async () => {
    const proxy = new FakeProxy();
    const el = await fixture<KonproWidgetGuard>(
      html`<konpro-widget-guard proxy=${proxy.url} check-interval="0"></konpro-widget-guard>`,
    );
    await Promise.all([el.start(), el.start(), el.start()]);
    expect((await proxy.log()).filter((e) => e.method === 'POST').length).to.equal(1);
  });

  it('auto-start starts a session when there is none', async () => {
    const proxy = new FakeProxy();
    const el = document.createElement('konpro-widget-guard');
    el.setAttribute('proxy', proxy.url);
    el.setAttribute('check-interval', '0');
    el.setAttribute('auto-start', '');
    const started = oneEvent(el, 'konpro-session-start');
    (await fixture(html`<div></div>`)).append(el);
    await started;
    expect(el.state).to.equal('active');
  });

  it('a proxy failure is state error plus an event, and start() rejects', async () => {
    const proxy = new FakeProxy();
    await proxy.faults({ method: 'POST', status: 401 });
    const el = await fixture<KonproWidgetGuard>(html`<konpro-widget-guard proxy=${proxy.url}></konpro-widget-guard>`);
    const errors = recordEvents(el, 'konpro-guard-error');
    let rejected = false;
    await el.start().catch(() => (rejected = true));
    expect(rejected).to.equal(true);
    expect(el.state).to.equal('error');
    expect(errors.map((e) => (e.detail as { code: string }).code)).to.deep.equal(['start-failed']);
    expect((errors[0].detail as { message: string }).message).to.match(/401/);
  });

  it('refuses a proxy on another origin', async () => {
    const el = await fixture<KonproWidgetGuard>(
      html`<konpro-widget-guard proxy="https://elsewhere.example/api"></konpro-widget-guard>`,
    );
    const errors = recordEvents(el, 'konpro-guard-error');
    let rejected = false;
    await el.start().catch(() => (rejected = true));
    expect(rejected, 'start() rejects, as the README says').to.equal(true);
    expect(errors.map((e) => (e.detail as { code: string }).code)).to.include('invalid-proxy');
  });

  it('reports a stored delete the outbox dropped unsent, once, on the first guard of the page', async () => {
    const proxy = new FakeProxy();
    const host = await fixture<HTMLElement>(
      html`<div>
        <konpro-widget-guard proxy=${proxy.url}></konpro-widget-guard
        ><konpro-widget-guard proxy=${proxy.url}></konpro-widget-guard>
      </div>`,
    );
    const [first, second] = host.querySelectorAll('konpro-widget-guard');
    const errors = recordEvents(host, 'konpro-guard-error');
    // What the outbox calls when a replay drops a record (planted records: test/outbox/stored-entries.test.ts).
    deleteOutbox().onDroppedDelete?.('https://elsewhere.example/api/x', 'its URL is on another origin');
    expect(errors.map((e) => [e.target, (e.detail as { code: string }).code])).to.deep.equal([
      [first, 'invalid-stored-delete'],
    ]);
    expect((errors[0].detail as { message: string }).message).to.match(/another origin.*elsewhere\.example/);
    expect(second).to.not.equal(null);
  });
});
