// The `push` attribute, in headless Chromium against the reference proxy itself (test/support/push-backend.ts):
// a session the site's server ends is torn down at once in every tab; one stream per browser however many
// tabs, taken over when its tab goes; nothing lost across a dropped stream; a proxy without the route, or a
// stream in trouble, never ends a live widget; a hidden tab keeps its session from being swept as an orphan.
import { expect } from '@esm-bundle/chai';
import { executeServerCommand } from '@web/test-runner-commands';
import type { KonproWidgetGuard } from '../../src/index.js';
import { FakeProxy, fixture, fixtureCleanup, html, sleep, uniqueId, until } from '../support/helpers.js';
import { PushProxy } from '../support/push-proxy.js';

interface SeenEvent {
  type: string;
  detail: Record<string, unknown>;
  /** Widget frames in the guard, and its state, when the event fired. */
  frames: number;
  state: string;
}

interface TabWindow extends Window {
  guard: KonproWidgetGuard;
  events: SeenEvent[];
  frameCount(): number;
}

const frames = (guard: KonproWidgetGuard) => guard.shadowRoot!.querySelectorAll('iframe').length;

/** Records the guard's events with what the user sees as each fires. */
function record(guard: KonproWidgetGuard): SeenEvent[] {
  const seen: SeenEvent[] = [];
  for (const type of ['konpro-session-end', 'konpro-guard-error'] as const) {
    guard.addEventListener(type, (event) =>
      seen.push({ type, detail: { ...event.detail }, frames: frames(guard), state: guard.state }),
    );
  }
  return seen;
}

async function pushedGuard(proxy: { url: string }, attributes: Record<string, string> = {}) {
  const guard = await fixture<KonproWidgetGuard>(html`<div></div>`).then((parent) => {
    const el = document.createElement('konpro-widget-guard');
    el.setAttribute('proxy', proxy.url);
    el.setAttribute('push', '');
    el.setAttribute('check-interval', '0');
    el.setAttribute('widget-src', '/test/fixtures/widget.html?session_id={session_id}');
    for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
    parent.append(el);
    return el;
  });
  const seen = record(guard);
  if (!guard.hasAttribute('session-id')) await guard.start();
  await until(() => guard.state === 'active', 'active');
  return { guard, seen, sessionId: guard.sessionId! };
}

/** Pages of the origin in iframes: each its own realm, sharing cookies, storage, locks and channels. */
async function openTabs(
  count: number,
  query: Record<string, string>,
): Promise<{ tabs: TabWindow[]; frames: HTMLIFrameElement[] }> {
  const host = await fixture<HTMLDivElement>(html`<div></div>`);
  const params = new URLSearchParams({ push: '1', auto_start: '1', ...query }).toString();
  const frames: HTMLIFrameElement[] = [];
  const tabs = await Promise.all(
    Array.from({ length: count }, async () => {
      const frame = document.createElement('iframe');
      frame.src = `/test/fixtures/guard-page.html?${params}`;
      frames.push(frame);
      host.append(frame);
      await new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
      const win = frame.contentWindow as TabWindow;
      await until(() => win.guard?.state === 'active', 'tab active', 10_000);
      return win;
    }),
  );
  return { tabs, frames: tabs.map((tab) => frames.find((frame) => frame.contentWindow === tab)!) };
}

const ends = (seen: SeenEvent[]) => seen.filter((e) => e.type === 'konpro-session-end');

afterEach(() => fixtureCleanup());

describe('push', function () {
  this.timeout(30_000);

  it('a revocation tears the widget down as its event arrives, with reason revoked, and the id never comes back', async () => {
    const proxy = new PushProxy();
    await proxy.setup();
    await proxy.signIn('ada');
    const { guard, seen, sessionId } = await pushedGuard(proxy);
    await proxy.streaming([sessionId]);

    const started = performance.now();
    const result = await proxy.revokeUser('ada');
    expect(result).to.deep.equal({ ended: [sessionId], failed: [] });
    await until(() => ends(seen).length > 0, 'the widget ended', 1000);
    expect(performance.now() - started, 'ms from revokeUser to the end').to.be.lessThan(1000);
    // When konpro-session-end fires (in the task that handled the event), the widget is already gone.
    expect(ends(seen)).to.deep.equal([
      { type: 'konpro-session-end', detail: { sessionId, reason: 'revoked' }, frames: 0, state: 'terminated' },
    ]);
    expect(await proxy.vendorDeletes()).to.include(sessionId);

    // Offered again, in another guard of the page: refused.
    const again = document.createElement('konpro-widget-guard');
    again.setAttribute('proxy', proxy.url);
    again.setAttribute('session-id', sessionId);
    const refused = record(again);
    guard.after(again);
    await until(() => ends(refused).length > 0, 'refused');
    expect(ends(refused)[0].detail).to.deep.equal({ sessionId, reason: 'invalid' });
    expect(guard.state).to.equal('terminated');
  });

  it('the reason the event carries: a server-side logout ends it with reason logout', async () => {
    const proxy = new PushProxy();
    await proxy.setup();
    await proxy.signIn('bea');
    const { seen, sessionId } = await pushedGuard(proxy);
    await proxy.streaming([sessionId]);
    await proxy.revokeUser('bea', 'logout');
    await until(() => ends(seen).length > 0, 'ended', 1000);
    expect(ends(seen)[0].detail).to.deep.equal({ sessionId, reason: 'logout' });
  });

  it('five tabs: one stream at the proxy, reporting every tab’s session; a revocation ends all five', async () => {
    const proxy = new PushProxy();
    await proxy.setup();
    await proxy.signIn('cy');
    const { tabs } = await openTabs(5, { proxy: proxy.url });
    const ids = tabs.map((tab) => tab.guard.sessionId!);
    expect(new Set(ids).size).to.equal(5);
    await proxy.streaming(ids);
    // Every tab in line for the stream's lock: one holds it, the four others wait for it (each asked
    // for it as it began to show its session, before it announced it, so the stream reporting all
    // five means all have asked).
    await until(async () => {
      const { held = [], pending = [] } = await navigator.locks.query();
      const count = (locks: LockInfo[]) =>
        locks.filter((l) => l.name?.startsWith('konpro-widget-guard-push ') && l.name.includes(proxy.ns)).length;
      return count(held) === 1 && count(pending) === 4;
    }, 'one tab holding the stream lock, four waiting');
    // Nothing marks the moment a stream opened outside the lock would reach the proxy (it would
    // have been asked for when its tab began, before the stream above reported that tab): a
    // second on loopback, many round trips, before counting.
    await sleep(1000);
    const { open } = await proxy.streams();
    expect(open, 'open streams at the proxy').to.equal(1);
    const listed = await proxy.sessions();
    expect(listed.map((s) => [s.sessionId, s.pages]).sort()).to.deep.equal(ids.map((id) => [id, 1]).sort());

    await proxy.revokeUser('cy');
    await until(() => tabs.every((tab) => tab.guard.state === 'terminated'), 'every tab ended', 1000);
    for (const tab of tabs) {
      expect(ends(tab.events).map((e) => [e.detail.reason, e.frames])).to.deep.equal([['revoked', 0]]);
    }
  });

  it('the tab holding the stream closes: another takes it over, and a revocation still arrives', async () => {
    const proxy = new PushProxy();
    await proxy.setup();
    await proxy.signIn('dee');
    const { tabs, frames } = await openTabs(3, { proxy: proxy.url });
    const ids = tabs.map((tab) => tab.guard.sessionId!);
    const first = await proxy.streaming(ids);
    // The holder reports its own session first.
    const holder = ids.indexOf(first.sessions[0]);
    expect(holder).to.be.at.least(0);
    frames[holder].remove();
    const rest = ids.filter((_, i) => i !== holder);
    const second = await proxy.streaming(rest);
    expect(second.at).to.be.greaterThan(first.at);
    expect(second.lastEventId, 'the new holder resumes from the feed').to.not.equal(null);

    await proxy.revokeUser('dee');
    const left = tabs.filter((_, i) => i !== holder);
    await until(() => left.every((tab) => tab.guard.state === 'terminated'), 'the other tabs ended', 1000);
    for (const tab of left) expect(ends(tab.events).map((e) => e.detail.reason)).to.deep.equal(['revoked']);
  });

  it('a stream dropped mid-way resumes with Last-Event-ID: the revocation sent meanwhile still arrives', async () => {
    const proxy = new PushProxy();
    await proxy.setup();
    await proxy.signIn('eve');
    const { seen, sessionId } = await pushedGuard(proxy);
    await proxy.streaming([sessionId]);
    await proxy.faults({ hold: true });
    await proxy.drop();
    // The reconnect waits at the proxy's door while the session is revoked.
    await until(async () => (await proxy.streams()).log.length === 2, 'the reconnect');
    await proxy.revokeSession(sessionId);
    expect(await proxy.vendorDeletes()).to.include(sessionId);
    // The held stream is the only way it can hear (status checks are off): this is so by
    // construction, and nothing marks the moment another way would have told it. A revocation
    // reaches an open stream's tabs within a second (the tests above wait no longer), so a second
    // with nothing heard means nothing was coming by another way.
    await sleep(1000);
    expect(ends(seen), 'nothing heard while disconnected').to.deep.equal([]);
    await proxy.release();
    await until(() => ends(seen).length > 0, 'the missed event arrived', 3000);
    expect(ends(seen)[0]).to.deep.include({ detail: { sessionId, reason: 'revoked' }, frames: 0 });
    const { log } = await proxy.streams();
    expect(log[1].lastEventId, 'the reconnect said where it was').to.match(/^\d+-\d+$/);
  });

  it('a proxy without the route (404): status checks only, reported once, and the widget stays', async () => {
    const proxy = new FakeProxy();
    const id = uniqueId();
    await proxy.session(id);
    const { guard, seen } = await pushedGuard(proxy, { 'session-id': id, 'check-interval': '0.2' });
    await until(() => seen.some((e) => e.type === 'konpro-guard-error'), 'reported');
    const gets = async () => (await proxy.log()).filter((e) => e.method === 'GET');
    const checks = async () => (await gets()).filter((e) => e.id === id).length;
    const before = await checks();
    const reportedAt = Date.now();
    // Were a 404 retried as a failure, the retry would go out within the first backoff (under 1 s,
    // full jitter) of the 404's answer, which came before it was reported: on a timer due before
    // this one. A request made after that has reached the proxy after the retry would have.
    await until(async () => (await checks()) > before + 2, 'three more status checks');
    await sleep(Math.max(0, reportedAt + 1000 - Date.now()));
    await proxy.requestsArrived();
    expect(seen.map((e) => [e.type, e.detail.code])).to.deep.equal([['konpro-guard-error', 'push-unavailable']]);
    expect((await gets()).filter((e) => e.id === 'events').length, 'the stream was asked for once').to.equal(1);
    expect(await checks(), 'status checks go on').to.be.greaterThan(before + 2);
    expect(guard.state).to.equal('active');
    expect(frames(guard)).to.equal(1);
    // And they still end it.
    await proxy.session(id, { status: 'terminated' });
    await until(() => guard.state === 'terminated', 'ended by a status check');
    expect(ends(seen)[0].detail.reason).to.equal('terminated');
  });

  it('5xx, 429 and 401 on the stream never end a live widget; after 503 Retry-After it reconnects and still hears', async () => {
    const proxy = new PushProxy();
    await proxy.setup();
    await proxy.signIn('fay');
    await proxy.faults({ status: 503, retryAfter: '1' }, { status: 500 }, { status: 429, retryAfter: '1' });
    const { guard, seen, sessionId } = await pushedGuard(proxy);
    await proxy.streaming([sessionId], 15_000);
    const { log } = await proxy.streams();
    expect(log.map((r) => r.outcome)).to.deep.equal(['fault 503', 'fault 500', 'fault 429', 'open']);
    expect(log[1].at - log[0].at, 'Retry-After: 1 honoured').to.be.at.least(1000);
    expect(guard.state).to.equal('active');
    expect(seen).to.deep.equal([]);

    // Signed out at the proxy: a 401 waits long and ends nothing. No jitter from here on: the
    // reconnect comes at once, and a 401 retried without its long wait would be retried at once
    // too (with jitter it could come any time in the backoff's 16 s, and slip past any short wait).
    const random = Math.random;
    Math.random = () => 0;
    try {
      await proxy.faults({ status: 401 });
      await proxy.drop();
      await until(async () => (await proxy.streams()).log.length === 5, 'the reconnect', 10_000);
      // Nothing in the page marks the moment the 401's answer was handled (it ends nothing): a
      // retry at once would reach the proxy two loopback round trips after the 401 was logged;
      // two seconds leave a slow machine room for that many times over.
      await sleep(2000);
    } finally {
      Math.random = random;
    }
    expect((await proxy.streams()).log.length, 'no quick retry after a 401').to.equal(5);
    expect(guard.state).to.equal('active');
    expect(frames(guard)).to.equal(1);
    expect(seen).to.deep.equal([]);
  });

  it('a hidden tab is not swept as an orphan: with push, and with status checks alone', async function () {
    this.timeout(40_000);
    const proxy = new PushProxy();
    await proxy.setup({ orphanAfterMs: 2000, heartbeatMs: 500, sweepIntervalMs: 250 });
    await proxy.signIn('gus');
    const tabs: number[] = [];
    const inTab = <T>(tab: number, expression: string) =>
      executeServerCommand<T, { id: number; expression: string }>('tab-eval', { id: tab, expression });
    try {
      for (const push of ['1', '0']) {
        const query = new URLSearchParams({ proxy: proxy.url, auto_start: '1', push, check_interval: '0.5' });
        tabs.push(
          await executeServerCommand<number, { url: string }>('tab-open', {
            url: `/test/fixtures/guard-page.html?${query}`,
          }),
        );
      }
      for (const tab of tabs) {
        await until(
          async () => (await inTab<string>(tab, 'window.guard.state')) === 'active',
          'active in the tab',
          10_000,
        );
        expect(await inTab<string>(tab, 'document.visibilityState')).to.equal('hidden');
      }
      // A session not reported for orphanAfterMs (2 s) is an orphan at the next sweep: after three
      // times that, a hidden tab that stopped reporting is past it whatever its timers' throttling
      // did (nothing marks a report that did not come). The proxy sweeps every 250 ms; one more
      // sweep, here and now, makes sure one ran after that moment.
      await sleep(6000);
      expect((await proxy.sweep()).orphaned, 'swept as orphans').to.deep.equal([]);
      for (const tab of tabs) {
        expect(await inTab<string>(tab, 'window.guard.state'), 'still live in the hidden tab').to.equal('active');
      }
      const listed = (await proxy.sessions()).map((s) => s.sessionId);
      const shown = await Promise.all(tabs.map((tab) => inTab<string>(tab, 'window.guard.sessionId')));
      expect(listed.sort()).to.deep.equal([...shown].sort());
      expect((await proxy.vendorDeletes()).filter((id) => shown.includes(id))).to.deep.equal([]);
      // Closed: nothing shows them any more, and they are swept.
      for (const tab of tabs.splice(0)) await executeServerCommand('tab-close', { id: tab });
      await until(async () => (await proxy.sessions()).length === 0, 'swept once nothing shows them', 10_000);
      expect((await proxy.vendorDeletes()).filter((id) => shown.includes(id)).sort()).to.deep.equal([...shown].sort());
    } finally {
      for (const tab of tabs) await executeServerCommand('tab-close', { id: tab });
    }
  });

  it('a page following the stream still enters the back/forward cache, and follows again when restored', async function () {
    this.timeout(30_000);
    const proxy = new PushProxy();
    await proxy.setup();
    await proxy.signIn('hal');
    const query = new URLSearchParams({ proxy: proxy.url, auto_start: '1', push: '1' });
    const tab = await executeServerCommand<number, { url: string }>('tab-open', {
      url: `/test/fixtures/guard-page.html?${query}`,
    });
    const inTab = <T>(expression: string) =>
      executeServerCommand<T, { id: number; expression: string }>('tab-eval', { id: tab, expression });
    try {
      await until(async () => (await inTab<string>('window.guard.state')) === 'active', 'active in the tab', 10_000);
      const sessionId = await inTab<string>('window.guard.sessionId');
      await proxy.streaming([sessionId]);
      await executeServerCommand('tab-goto', { id: tab, url: '/test/fixtures/other.html' });
      await until(async () => (await proxy.streams()).open === 0, 'no stream while away');
      const back = await executeServerCommand<{ bfcacheNotUsed: string[] | null }, { id: number }>('tab-back', {
        id: tab,
      });
      expect(back.bfcacheNotUsed, 'reasons Chrome gave for not using the cache').to.equal(null);
      await proxy.streaming([sessionId]);
      await proxy.revokeUser('hal');
      await until(async () => (await inTab<string>('window.guard.state')) === 'terminated', 'ended after the restore');
      expect(
        await inTab<unknown[]>(
          'window.events.filter((e) => e.type === "konpro-session-end").map((e) => e.detail.reason)',
        ),
      ).to.deep.equal(['revoked']);
    } finally {
      await executeServerCommand('tab-close', { id: tab });
    }
  });
});
