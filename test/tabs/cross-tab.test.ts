import { expect } from '@esm-bundle/chai';
import { executeServerCommand } from '@web/test-runner-commands';
import type { KonproWidgetGuard, SessionEndDetail } from '../../src/index.js';
import {
  FakeProxy,
  fixture,
  expectNoFrame,
  fixtureCleanup,
  frameOf,
  html,
  outboxSettled,
  uniqueId,
  until,
} from '../support/helpers.js';

afterEach(() => fixtureCleanup());

interface TabWindow extends Window {
  guard: KonproWidgetGuard;
  events: Array<{ type: string; detail: Record<string, unknown> }>;
  frameCount(): number;
}

/** Pages of the origin in iframes: each its own realm, sharing storage, locks and channels with the others. */
async function openTabs(count: number, query: Record<string, string>): Promise<TabWindow[]> {
  const host = await fixture<HTMLDivElement>(html`<div></div>`);
  const params = new URLSearchParams(query).toString();
  return Promise.all(
    Array.from({ length: count }, async () => {
      const frame = document.createElement('iframe');
      frame.src = `/test/fixtures/guard-page.html?${params}`;
      host.append(frame);
      await new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
      const win = frame.contentWindow as TabWindow;
      await until(() => win.guard?.state === 'active', 'tab active');
      return win;
    }),
  );
}

const endReasons = (tab: TabWindow) =>
  tab.events.filter((e) => e.type === 'konpro-session-end').map((e) => e.detail.reason);

describe('every tab', () => {
  it('a logout in one tab tears down every other tab showing the session, at once', async () => {
    const proxy = new FakeProxy();
    const id = uniqueId();
    await proxy.session(id);
    const tabs = await openTabs(3, { session_id: id, proxy: proxy.url });
    const started = performance.now();
    void tabs[0].guard.logout();
    await until(() => tabs.every((t) => t.guard.state === 'terminated'), 'all tabs terminated', 2000);
    const elapsed = performance.now() - started;
    expect(elapsed, 'ms until the last tab is down').to.be.lessThan(250);
    expect(tabs.map((t) => t.frameCount())).to.deep.equal([0, 0, 0]);
    expect(endReasons(tabs[0])).to.deep.equal(['logout']);
    expect(endReasons(tabs[1])).to.deep.equal(['other-tab']);
    expect(endReasons(tabs[2])).to.deep.equal(['other-tab']);
    await until(async () => (await proxy.deletes(id)).length > 0, 'delete sent');
    // The other tabs ended in the same task as the message (above); a delete of theirs would have
    // gone out then, through the outbox every tab shares. Once that has the final answer no tab sends
    // it again; then a request made now reaches the proxy after any they made.
    await outboxSettled([`${proxy.url}/${id}`]);
    await Promise.all(tabs.map(() => proxy.requestsArrived()));
    expect((await proxy.deletes(id)).length, 'only the tab that logged out deletes').to.equal(1);
  });

  it('five tabs logging out at once send one delete, and each hears the outcome', async () => {
    const proxy = new FakeProxy();
    const id = uniqueId();
    await proxy.session(id);
    await proxy.faults({ method: 'DELETE', delayMs: 200 });
    const tabs = await openTabs(5, { session_id: id, proxy: proxy.url });
    const outcomes = await Promise.all(tabs.map((t) => t.guard.logout()));
    expect(outcomes.map((o) => o.outcome)).to.deep.equal(['deleted', 'deleted', 'deleted', 'deleted', 'deleted']);
    // Each tab has its outcome, so any delete it sent itself has been answered (and logged) by now;
    // the shared outbox has the final answer, so none is sent again.
    await outboxSettled([`${proxy.url}/${id}`]);
    await proxy.requestsArrived();
    expect((await proxy.deletes(id)).length).to.equal(1);
  });

  it('falls back to storage events where BroadcastChannel is missing', async () => {
    const proxy = new FakeProxy();
    const id = uniqueId();
    await proxy.session(id);
    const tabs = await openTabs(2, { session_id: id, proxy: proxy.url, no_broadcast: '1' });
    expect(typeof (tabs[0] as unknown as { BroadcastChannel?: unknown }).BroadcastChannel).to.equal('undefined');
    void tabs[0].guard.logout();
    await until(() => tabs[1].guard.state === 'terminated', 'other tab terminated', 2000);
    expect(endReasons(tabs[1])).to.deep.equal(['other-tab']);
  });

  it('ignores malformed tab messages', async () => {
    const id = uniqueId();
    const tabs = await openTabs(1, { session_id: id });
    const channel = new BroadcastChannel('konpro-widget-guard');
    for (const message of [
      { kind: 'ended', sessionId: id, reason: 'logout', endedAt: 1 }, // no version
      { v: 2, kind: 'ended', sessionId: id, reason: 'logout', endedAt: 1 },
      { v: 1, kind: 'ended', sessionId: id, reason: 'because', endedAt: 1 },
      { v: 1, kind: 'ended', sessionId: `${id}/..`, reason: 'logout', endedAt: 1 },
      { v: 1, kind: 'ended', sessionId: id, reason: 'logout' },
      { v: 1, kind: 'explode', sessionId: id },
      'ended',
      null,
    ]) {
      channel.postMessage(message);
    }
    // A marker after them, heard in the tab by a channel opened after the guard's: the tab's channels
    // get each message in the order they were made, so the guard has handled (and ignored) every
    // message above when the marker arrives.
    const TabBroadcastChannel = (tabs[0] as unknown as { BroadcastChannel: typeof BroadcastChannel }).BroadcastChannel;
    const inTab = new TabBroadcastChannel('konpro-widget-guard');
    const heard = new Promise<void>((resolve) =>
      inTab.addEventListener('message', (e) => (e.data as { marker?: boolean })?.marker === true && resolve()),
    );
    channel.postMessage({ marker: true });
    await heard;
    inTab.close();
    expect(tabs[0].guard.state).to.equal('active');
    channel.postMessage({ v: 1, kind: 'ended', sessionId: id, reason: 'logout', endedAt: Date.now() });
    await until(() => tabs[0].guard.state === 'terminated', 'a well-formed message ends it');
    channel.close();
  });

  it('a back/forward-cache restore does not bring the widget back (and the page is cacheable)', async function () {
    this.timeout(20_000);
    const proxy = new FakeProxy();
    const id = uniqueId();
    await proxy.session(id);
    const tab = await executeServerCommand<number, { url: string }>('tab-open', {
      url: `/test/fixtures/guard-page.html?session_id=${id}&proxy=${proxy.url}`,
    });
    const inTab = <T>(expression: string) =>
      executeServerCommand<T, { id: number; expression: string }>('tab-eval', { id: tab, expression });
    try {
      await until(async () => (await inTab<string>('window.guard.state')) === 'active', 'active in the tab');
      await until(
        async () => (await inTab<boolean>('window.widgetLoaded && document.readyState === "complete"')) === true,
        'loaded',
      );
      await executeServerCommand('tab-goto', { id: tab, url: '/test/fixtures/other.html' });
      // While that page is away (maybe in the back/forward cache), the session ends in this tab.
      const here = document.createElement('konpro-widget-guard');
      here.setAttribute('proxy', proxy.url);
      here.setAttribute('check-interval', '0');
      here.setAttribute('widget-src', '/test/fixtures/widget.html?session_id={session_id}');
      here.setAttribute('session-id', id);
      // (No fixture(): it waits for an animation frame, which a background page never gets.)
      document.body.append(here);
      await until(() => here.state === 'active', 'active here');
      await here.logout();
      here.remove();
      const back = await executeServerCommand<{ readyState: string; bfcacheNotUsed: string[] | null }, { id: number }>(
        'tab-back',
        { id: tab },
      );
      // The guard must not keep pages out of the back/forward cache, so this really is a restore.
      expect(back.bfcacheNotUsed, 'reasons Chrome gave for not using the cache').to.equal(null);
      await until(
        async () => (await inTab<string>('window.guard.state')) === 'terminated',
        'terminated after going back',
        5000,
      );
      expect(await inTab<number>('window.frameCount()')).to.equal(0);
      expect(await inTab<boolean[]>('window.restored')).to.deep.equal([false, true]);
    } finally {
      await executeServerCommand('tab-close', { id: tab });
    }
  });
});

describe('status checks', () => {
  async function checkedGuard(proxy: FakeProxy, seconds: string): Promise<KonproWidgetGuard> {
    const id = uniqueId();
    await proxy.session(id);
    const el = await fixture<KonproWidgetGuard>(html`
      <konpro-widget-guard
        proxy=${proxy.url}
        check-interval=${seconds}
        widget-src="/test/fixtures/widget.html?session_id={session_id}"
        session-id=${id}
      ></konpro-widget-guard>
    `);
    await until(() => el.state === 'active', 'active');
    return el;
  }

  it('status terminated ends the session', async () => {
    const proxy = new FakeProxy();
    const el = await checkedGuard(proxy, '0.2');
    const ended = new Promise<SessionEndDetail>((resolve) =>
      el.addEventListener('konpro-session-end', (e) => resolve(e.detail)),
    );
    await proxy.session(el.sessionId!, { status: 'terminated' });
    expect(await ended).to.deep.equal({ sessionId: el.sessionId, reason: 'terminated' });
    expectNoFrame(el);
  });

  it('a 404 ends it; 503, 429 and dropped connections do not, and back off', async () => {
    const proxy = new FakeProxy();
    const el = await checkedGuard(proxy, '0.2');
    await proxy.faults(
      { method: 'GET', status: 503, times: 2 },
      { method: 'GET', status: 429, times: 1 },
      { method: 'GET', status: 500, times: 1 },
    );
    await until(
      async () => (await proxy.log()).filter((e) => e.method === 'GET' && e.outcome?.startsWith('fault')).length >= 4,
      'faults served',
      20_000,
    );
    expect(el.state).to.equal('active');
    await proxy.faults({ method: 'GET', status: 404, times: 1 });
    await until(() => el.state === 'terminated', 'ended by 404', 20_000);
  });

  it('checks at once when the page comes back online', async () => {
    const proxy = new FakeProxy();
    const el = await checkedGuard(proxy, '60');
    const gets = async () => (await proxy.log()).filter((e) => e.method === 'GET').length;
    const before = await gets();
    window.dispatchEvent(new Event('online'));
    await until(async () => (await gets()) > before, 'checked on online', 2000);
    expect(el.state).to.equal('active');
  });

  it('check-interval 0 turns them off', async () => {
    const proxy = new FakeProxy();
    await checkedGuard(proxy, '0');
    window.dispatchEvent(new Event('online'));
    // A check on 'online' would go out in the event's own task (see the test above): a request made
    // after it has reached the proxy after it.
    await proxy.requestsArrived();
    expect((await proxy.gets()).length).to.equal(0);
  });
});

describe('expiry', () => {
  it('ends the session at expires-at (reason expired)', async () => {
    const at = new Date(Date.now() + 600).toISOString();
    const el = await fixture<KonproWidgetGuard>(html`
      <konpro-widget-guard
        widget-src="/test/fixtures/widget.html?session_id={session_id}"
        session-id=${uniqueId()}
        expires-at=${at}
      ></konpro-widget-guard>
    `);
    await until(() => el.state === 'active', 'active');
    const ended = new Promise<SessionEndDetail>((resolve) =>
      el.addEventListener('konpro-session-end', (e) => resolve(e.detail)),
    );
    expect((await ended).reason).to.equal('expired');
    expect(Date.now()).to.be.at.least(Date.parse(at));
  });

  it('ends at the expires_at the proxy gave when the session started', async () => {
    const proxy = new FakeProxy();
    await proxy.expiresIn(700);
    const el = await fixture<KonproWidgetGuard>(
      html`<konpro-widget-guard proxy=${proxy.url} check-interval="0"></konpro-widget-guard>`,
    );
    await el.start();
    await until(() => el.state === 'terminated', 'expired', 3000);
  });

  it('ends at once when the machine wakes past the expiry', async () => {
    const el = await fixture<KonproWidgetGuard>(html`
      <konpro-widget-guard
        widget-src="/test/fixtures/widget.html?session_id={session_id}"
        session-id=${uniqueId()}
      ></konpro-widget-guard>
    `);
    await until(() => el.state === 'active', 'active');
    el.expiresAt = Date.now() + 3_600_000;
    await el.updateComplete;
    const realNow = Date.now;
    try {
      // The machine slept two hours: timers did not run, the wall clock moved on.
      Date.now = () => realNow() + 2 * 3_600_000;
      document.dispatchEvent(new Event('visibilitychange'));
      expect(el.state).to.equal('terminated');
    } finally {
      Date.now = realNow;
    }
  });
});

describe('logout-trigger', () => {
  it('a click on a matching element, even one added later, logs out in that same click', async () => {
    const proxy = new FakeProxy();
    const id = uniqueId();
    await proxy.session(id);
    const el = await fixture<KonproWidgetGuard>(html`
      <konpro-widget-guard
        proxy=${proxy.url}
        logout-trigger=".sign-out"
        check-interval="0"
        widget-src="/test/fixtures/widget.html?session_id={session_id}"
        session-id=${id}
      ></konpro-widget-guard>
    `);
    await until(() => el.state === 'active', 'active');
    const button = document.createElement('button');
    button.className = 'sign-out';
    button.innerHTML = '<span>Sign out</span>';
    document.body.append(button);
    let seenInClick: string | undefined;
    button.addEventListener(
      'click',
      () => (seenInClick = `${el.state}:${frameOf(el) === null ? 'no frame' : 'frame'}`),
    );
    button.querySelector('span')!.click();
    button.remove();
    expect(seenInClick).to.equal('terminated:no frame');
    await until(async () => (await proxy.deletes(id)).length === 1, 'delete sent');
  });

  it('reports an invalid selector once and keeps the widget', async () => {
    const el = await fixture<KonproWidgetGuard>(html`
      <konpro-widget-guard
        logout-trigger="button["
        widget-src="/test/fixtures/widget.html?session_id={session_id}"
        session-id=${uniqueId()}
      ></konpro-widget-guard>
    `);
    await until(() => el.state === 'active', 'active');
    const codes: string[] = [];
    el.addEventListener('konpro-guard-error', (e) => codes.push(e.detail.code));
    document.body.click();
    document.body.click();
    expect(codes).to.deep.equal(['invalid-logout-trigger']);
    expect(el.state).to.equal('active');
  });
});
