// Operations that overlap: each case here was a defect found in review, and stays fixed.
import { expect } from '@esm-bundle/chai';
import type { KonproWidgetGuard, SessionEndDetail } from '../../src/index.js';
import {
  activeGuard,
  echoUrl,
  FakeProxy,
  fixture,
  fixtureCleanup,
  describeElement,
  expectNoFrame,
  frameOf,
  GONE,
  html,
  sleep,
  uniqueId,
  until,
  WIDGET,
} from '../support/helpers.js';

afterEach(() => fixtureCleanup());

function events(el: EventTarget): string[] {
  const seen: string[] = [];
  for (const type of ['konpro-session-start', 'konpro-session-end', 'konpro-delete'] as const) {
    el.addEventListener(type, (e) => {
      const detail = (e as CustomEvent<{ reason?: string; outcome?: string }>).detail;
      seen.push(
        `${type.slice(7)}${detail.reason ? `:${detail.reason}` : ''}${detail.outcome ? `:${detail.outcome}` : ''}`,
      );
    });
  }
  return seen;
}

describe('overlapping operations', () => {
  it('a logout while start() waits for the proxy: the new session never goes live, and is deleted', async () => {
    const proxy = new FakeProxy();
    await proxy.faults({ method: 'POST', hold: true });
    const el = await fixture<KonproWidgetGuard>(
      html`<konpro-widget-guard proxy=${proxy.url} check-interval="0"></konpro-widget-guard>`,
    );
    const seen = events(el);
    const starting = el.start();
    await until(async () => (await proxy.log()).some((e) => e.method === 'POST'), 'the POST at the proxy (held)');
    const loggingOut = el.logout();
    await proxy.release();
    const outcome = await loggingOut;
    await starting;
    // start() has handled the answer; whatever it rendered, it has rendered now.
    await el.updateComplete;
    expect(el.state).to.equal('terminated');
    expectNoFrame(el);
    expect(seen.filter((e) => e.startsWith('session-start'))).to.deep.equal([]);
    const created = (await proxy.log()).find((e) => e.method === 'POST')!.id!;
    expect(outcome).to.deep.equal({ sessionId: created, outcome: 'deleted', attempts: 1 });
    expect((await proxy.deletes(created)).length).to.equal(1);
  });

  it('a logout-trigger click while start() waits for the proxy: the new session never goes live, and is deleted', async () => {
    const proxy = new FakeProxy();
    await proxy.faults({ method: 'POST', hold: true });
    const el = await fixture<KonproWidgetGuard>(
      html`<konpro-widget-guard
        proxy=${proxy.url}
        check-interval="0"
        logout-trigger=".sign-out"
      ></konpro-widget-guard>`,
    );
    const seen = events(el);
    const button = document.createElement('button');
    button.className = 'sign-out';
    el.after(button);
    const starting = el.start();
    await until(async () => (await proxy.log()).some((e) => e.method === 'POST'), 'the POST at the proxy (held)');
    button.click();
    expect(el.state, 'in that same click').to.equal('terminated');
    await proxy.release();
    await starting;
    // start() has handled the answer; whatever it rendered, it has rendered now.
    await el.updateComplete;
    expect(el.state).to.equal('terminated');
    expectNoFrame(el);
    expect(seen.filter((e) => e.startsWith('session-start'))).to.deep.equal([]);
    const created = (await proxy.log()).find((e) => e.method === 'POST')!.id!;
    await until(async () => (await proxy.deletes(created)).length === 1, 'the created session deleted');
  });

  it('expires-at belongs to its session: the next session-id does not inherit it', async () => {
    const proxy = new FakeProxy();
    const [first, second] = [uniqueId(), uniqueId()];
    await proxy.session(first);
    await proxy.session(second);
    const el = document.createElement('konpro-widget-guard');
    const seen = events(el);
    Object.assign(el, { proxy: proxy.url, checkInterval: 0, widgetSrc: WIDGET, sessionId: first });
    (await fixture(html`<div></div>`)).append(el);
    await until(() => el.state === 'active', 'first active');
    const deadline = Date.now() + 300;
    el.expiresAt = deadline;
    await el.updateComplete; // (the first session's clock takes the new deadline)
    el.sessionId = second; // the host names a new session and says nothing of its expiry
    await until(() => frameOf(el)?.src.includes(second) === true, 'second mounted');
    // A clock of the second session that took the first one's deadline was armed before this timer,
    // for no later (timers run in the order they are due): when this one fires, that one has fired.
    await sleep(Math.max(0, deadline - Date.now()) + 200);
    expect(el.state).to.equal('active');
    expect(seen.filter((e) => e.startsWith('session-end:expired'))).to.deep.equal([]);
    // Set together with a new session-id, it is the new session's.
    const third = uniqueId();
    await proxy.session(third);
    Object.assign(el, { sessionId: third, expiresAt: Date.now() + 300 });
    await until(() => el.state === 'terminated', 'third expired', 3000);
    expect(seen.at(-1)).to.equal('session-end:expired');
  });

  it('a session already expired when it mounts ends once, never "starts", and leaves no checks running', async () => {
    const proxy = new FakeProxy();
    const id = uniqueId();
    await proxy.session(id);
    const el = document.createElement('konpro-widget-guard');
    const seen = events(el);
    Object.assign(el, {
      proxy: proxy.url,
      checkInterval: 0.2,
      widgetSrc: WIDGET,
      expiresAt: Date.now() - 1000,
      sessionId: id,
    });
    (await fixture(html`<div></div>`)).append(el);
    await until(() => el.state === 'terminated', 'ended');
    // Status checks left running were armed (every 0.2 s) at the mount, before this timer: it runs
    // after their first turn and about their second; a check's request then reaches the proxy
    // before the marker does.
    await sleep(450);
    await proxy.requestsArrived();
    expect(seen).to.deep.equal(['session-end:expired']);
    expect((await proxy.gets()).length, 'no status checks').to.equal(0);
    expectNoFrame(el);
  });

  it('reset() wipes the last session’s storage even when that session had already ended', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo', wipe: 'localStorage:avatar-*' });
    localStorage.setItem('avatar-transcript', 'private');
    await fetch(GONE); // revoked by the vendor
    expect(guard.state).to.equal('terminated');
    await guard.reset();
    expect(localStorage.getItem('avatar-transcript')).to.equal(null);
  });

  it('changing check-interval from 0 starts the status checks', async () => {
    const proxy = new FakeProxy();
    const guard = await activeGuard({ proxy: proxy.url, 'check-interval': '0' });
    await proxy.session(guard.sessionId!);
    guard.checkInterval = 0.2;
    await until(async () => (await proxy.log()).some((e) => e.method === 'GET'), 'a status check', 3000);
  });

  it('a session id set by a listener of the refusal is mounted', async () => {
    const ended = uniqueId();
    const first = await activeGuard({ watch: '/test-api/echo', 'session-id': ended });
    await fetch(GONE);
    expect(first.state).to.equal('terminated');
    const el = document.createElement('konpro-widget-guard');
    el.setAttribute('widget-src', WIDGET);
    const next = uniqueId();
    el.addEventListener('konpro-session-end', (e) => {
      if (e.detail.reason === 'invalid') el.sessionId = next;
    });
    el.setAttribute('session-id', ended);
    (await fixture(html`<div></div>`)).append(el);
    await until(() => el.state === 'active' && el.sessionId === next, 'the next session mounted');
  });

  it('moving an ended guard in the page reports nothing more', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    const reasons: string[] = [];
    guard.addEventListener('konpro-session-end', (e: CustomEvent<SessionEndDetail>) => reasons.push(e.detail.reason));
    await fetch(GONE);
    const elsewhere = await fixture(html`<section></section>`);
    elsewhere.append(guard);
    guard.autoStart = true;
    // What the move and the property change cause happens on connecting and in the update.
    await guard.updateComplete;
    await sleep(0);
    expect(reasons).to.deep.equal(['terminated']);
    expect(guard.state).to.equal('terminated');
  });
});

describe('several guards on one page', () => {
  it('guards showing the same session end together', async () => {
    const id = uniqueId();
    const a = await activeGuard({ watch: '/test-api/echo', 'session-id': id });
    const b = await activeGuard({ 'session-id': id });
    void a.logout();
    expect(b.state).to.equal('terminated');
    expectNoFrame(b);
  });

  it('a guard inside a shadow root reports its deletes', async () => {
    const proxy = new FakeProxy();
    const host = await fixture<HTMLDivElement>(html`<div></div>`);
    const root = host.attachShadow({ mode: 'open' });
    const guard = document.createElement('konpro-widget-guard');
    Object.assign(guard, { proxy: proxy.url, checkInterval: 0, widgetSrc: WIDGET, sessionId: uniqueId() });
    const deletes: string[] = [];
    document.addEventListener('konpro-delete', (e) => deletes.push(e.detail.outcome));
    root.append(guard);
    await until(() => guard.state === 'active', 'active');
    await guard.logout();
    await until(() => deletes.length > 0, 'konpro-delete heard at the document');
    expect(deletes).to.deep.equal(['deleted']);
  });
});

describe('watching starts before the widget runs', () => {
  it('an embed whose first request already says "terminated" is torn down', async () => {
    // A stand-in for a vendor embed: it calls its runtime the moment it connects.
    if (!customElements.get('test-eager-embed')) {
      customElements.define(
        'test-eager-embed',
        class extends HTMLElement {
          connectedCallback() {
            void fetch(echoUrl(401, { error: { code: 'SESSION_TERMINATED', message: 'gone' }, request_id: 'r' }));
          }
        },
      );
    }
    const el = await fixture<KonproWidgetGuard>(html`
      <konpro-widget-guard watch="/test-api/echo" session-id=${uniqueId()}>
        <template><test-eager-embed data-session="{session_id}"></test-eager-embed></template>
      </konpro-widget-guard>
    `);
    await until(() => el.state === 'terminated', 'ended by its first request');
    expect(describeElement(el.querySelector('test-eager-embed'))).to.equal(null);
  });
});
