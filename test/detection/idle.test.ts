import { expect, use } from '@esm-bundle/chai';
import { sendKeys } from '@web/test-runner-commands';
import { chaiA11yAxe } from 'chai-a11y-axe';
import { createStore, get } from 'idb-keyval';
import type { KonproWidgetGuard, SessionEndDetail } from '../../src/index.js';
import {
  FakeProxy,
  fixture,
  describeElement,
  expectNoFrame,
  fixtureCleanup,
  frameLoaded,
  frameOf,
  html,
  outboxSettled,
  sleep,
  until,
} from '../support/helpers.js';

use(chaiA11yAxe);
afterEach(() => fixtureCleanup());

interface Recorded {
  warnings: number[];
  ends: SessionEndDetail[];
  starts: string[];
}

function record(el: KonproWidgetGuard): Recorded {
  const r: Recorded = { warnings: [], ends: [], starts: [] };
  el.addEventListener('konpro-idle-warning', (e) => r.warnings.push(e.detail.secondsLeft));
  el.addEventListener('konpro-session-end', (e) => r.ends.push(e.detail));
  el.addEventListener('konpro-session-start', (e) => r.starts.push(e.detail.sessionId));
  return r;
}

/** A kiosk guard: auto-start, idle timeout; started and active. */
async function kiosk(
  proxy: FakeProxy,
  attributes: Record<string, string> = {},
): Promise<{ el: KonproWidgetGuard; events: Recorded }> {
  const el = document.createElement('konpro-widget-guard');
  el.setAttribute('proxy', proxy.url);
  el.setAttribute('auto-start', '');
  el.setAttribute('check-interval', '0');
  el.setAttribute('idle-timeout', '2');
  el.setAttribute('idle-warning', '1');
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  el.innerHTML = '<p slot="start">Touch to begin</p>';
  const events = record(el);
  (await fixture(html`<div style="height: 400px"></div>`)).append(el);
  await until(() => el.state === 'active', 'kiosk active');
  return { el, events };
}

const warningOf = (el: KonproWidgetGuard) => el.shadowRoot!.querySelector<HTMLElement>('[part="warning"]');

describe('kiosk idle reset', () => {
  it('warns, then resets after the configured time: old session deleted, a new one live', async () => {
    const proxy = new FakeProxy();
    const { el, events } = await kiosk(proxy);
    const first = el.sessionId!;
    await until(() => warningOf(el) !== null, 'countdown shows', 3000);
    expect(events.warnings[0]).to.equal(1);
    const button = warningOf(el)!.querySelector('button')!;
    await until(() => el.shadowRoot!.activeElement === button, 'the button has focus');
    expect(button.textContent).to.match(/still here/i);
    await until(() => events.ends.length === 1, 'reset', 3000);
    expect(events.ends[0]).to.deep.equal({ sessionId: first, reason: 'idle' });
    await until(() => el.state === 'active' && el.sessionId !== first, 'a fresh session', 5000);
    expect(events.starts.length).to.equal(2);
    expect(describeElement(warningOf(el)), 'the countdown is gone').to.equal(null);
    await until(async () => (await proxy.deletes(first)).some((d) => d.outcome === 'deleted'), 'old session deleted');
  });

  it('activity in the page during the countdown cancels it', async () => {
    const proxy = new FakeProxy();
    const { el, events } = await kiosk(proxy, { 'idle-timeout': '2', 'idle-warning': '1.5' });
    await until(() => warningOf(el) !== null, 'countdown shows', 3000);
    const warned = events.warnings.length;
    document.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true }));
    await el.updateComplete;
    expect(describeElement(warningOf(el)), 'the countdown is gone').to.equal(null);
    // The countdown is checked on a one-second tick: the tick that would have reset the kiosk, had
    // the activity not counted, is the one that shows the next countdown (0.5 s idle of 2 s).
    // Wait for that warning (or a reset), not for a guessed time.
    await until(() => events.warnings.length > warned || events.ends.length > 0, 'the next tick', 5000);
    expect(events.ends).to.deep.equal([]);
    expect(el.state).to.equal('active');
  });

  it('activity inside the widget frame cancels it', async () => {
    const proxy = new FakeProxy();
    const { el, events } = await kiosk(proxy, { 'idle-timeout': '2', 'idle-warning': '1.5' });
    await frameLoaded(frameOf(el));
    await until(() => warningOf(el) !== null, 'countdown shows', 3000);
    frameOf(el)!.contentWindow!.postMessage({ cmd: 'post', data: { type: 'konpro-widget-activity' } }, '*');
    await until(() => warningOf(el) === null, 'cancelled by the frame', 2000);
    expect(events.ends).to.deep.equal([]);
  });

  it('activity in another tab of the device cancels it', async () => {
    const proxy = new FakeProxy();
    const { el, events } = await kiosk(proxy, { 'idle-timeout': '2', 'idle-warning': '1.5' });
    await until(() => warningOf(el) !== null, 'countdown shows', 3000);
    const otherTab = new BroadcastChannel('konpro-widget-guard');
    otherTab.postMessage({ v: 1, kind: 'activity', at: Date.now() });
    otherTab.close();
    await until(() => warningOf(el) === null, 'cancelled by the other tab', 2000);
    expect(events.ends).to.deep.equal([]);
  });

  it('a machine that slept past the deadline resets on wake, at once', async () => {
    const proxy = new FakeProxy();
    const { el, events } = await kiosk(proxy, { 'idle-timeout': '600', 'idle-warning': '10' });
    const realNow = Date.now;
    try {
      // Thirty minutes asleep: past the idle deadline, not yet past the session's expiry (one hour).
      Date.now = () => realNow() + 30 * 60_000;
      document.dispatchEvent(new Event('visibilitychange'));
    } finally {
      Date.now = realNow;
    }
    expect(events.ends.map((e) => e.reason)).to.deep.equal(['idle']);
    expectNoFrame(el);
  });

  it('the countdown is accessible and works from the keyboard', async () => {
    const proxy = new FakeProxy();
    // A long countdown: the accessibility check inside it is slow while another test file runs.
    const { el, events } = await kiosk(proxy, { 'idle-timeout': '10', 'idle-warning': '9.5' });
    await until(() => warningOf(el) !== null, 'countdown shows', 3000);
    const warning = warningOf(el)!;
    expect(warning.getAttribute('role')).to.equal('alertdialog');
    expect(warning.querySelector('#idle-message')!.textContent).to.match(/reset in \d+ second/);
    const live = el.shadowRoot!.querySelector('[aria-live="polite"]')!;
    expect(live.textContent).to.match(/reset in \d+ seconds/);
    await expect(el).to.be.accessible();
    // Read afresh: activity in the other test file's window is shared, as a kiosk's other tabs'
    // is, and may have cancelled that countdown and shown a new one.
    await until(() => el.shadowRoot!.activeElement === warningOf(el)?.querySelector('button'), 'focused');
    // Seen as it happens: polled afterwards, the countdown may already show again (0.5 s idle of
    // 10 s starts the next one, and sendKeys can take longer than that on a loaded machine).
    let observer: MutationObserver | undefined;
    const cancelled = new Promise<void>((resolve) => {
      observer = new MutationObserver(() => warningOf(el) === null && resolve());
      observer.observe(el.shadowRoot!, { childList: true, subtree: true });
    });
    try {
      await sendKeys({ press: 'Enter' });
      await Promise.race([
        cancelled,
        sleep(5000).then(() => Promise.reject(new Error('timed out: cancelled from the keyboard'))),
      ]);
    } finally {
      observer!.disconnect();
    }
    expect(events.ends).to.deep.equal([]);
  });
});

describe('reset() as one transaction', () => {
  it('wipes what the host lists, keeps everything else and the outbox', async () => {
    const proxy = new FakeProxy();
    const { el } = await kiosk(proxy, { 'idle-timeout': '0' });
    const id = el.sessionId!;
    el.setAttribute(
      'wipe',
      `localStorage:avatar-* sessionStorage:chat indexedDB:avatar-cache-{session_id} cookie:kp_{session_id} localStorage:konpro-widget-guard*`,
    );
    localStorage.setItem('avatar-transcript', 'hello');
    localStorage.setItem('avatar-voice', 'x');
    localStorage.setItem('site-theme', 'dark');
    sessionStorage.setItem('chat', 'secret');
    document.cookie = `kp_${id}=1; path=/`;
    document.cookie = 'site_pref=1; path=/';
    // The widget's own database, written and closed (as a torn-down widget leaves it).
    await new Promise<void>((resolve, reject) => {
      const open = indexedDB.open(`avatar-cache-${id}`);
      open.onupgradeneeded = () => open.result.createObjectStore('cache');
      open.onsuccess = () => {
        open.result.close();
        resolve();
      };
      open.onerror = () => reject(open.error ?? new Error('open failed'));
    });
    await el.reset();
    expect(localStorage.getItem('avatar-transcript')).to.equal(null);
    expect(localStorage.getItem('avatar-voice')).to.equal(null);
    expect(localStorage.getItem('site-theme')).to.equal('dark');
    expect(sessionStorage.getItem('chat')).to.equal(null);
    expect(document.cookie).to.not.contain(`kp_${id}`);
    expect(document.cookie).to.contain('site_pref=1');
    const databases = (await indexedDB.databases()).map((d) => d.name);
    expect(databases).to.not.include(`avatar-cache-${id}`);
    expect(databases, 'the guard keeps its own stores').to.include('konpro-widget-guard-ended');
    expect(await get(id, createStore('konpro-widget-guard-ended', 'ended')), 'the ended record survives').to.not.equal(
      undefined,
    );
    localStorage.removeItem('site-theme');
    document.cookie = 'site_pref=; Max-Age=0; path=/';
  });

  it('ends the old widget’s camera and microphone', async () => {
    const proxy = new FakeProxy();
    const { el } = await kiosk(proxy, { 'idle-timeout': '0' });
    await frameLoaded(frameOf(el));
    const frame = frameOf(el)!;
    const started = new Promise<void>((resolve) =>
      window.addEventListener(
        'message',
        (e) => (e.data as { type?: string })?.type === 'test-media-started' && resolve(),
      ),
    );
    frame.contentWindow!.postMessage({ cmd: 'media' }, '*');
    await started;
    const stream = (frame.contentWindow as unknown as { stream: MediaStream }).stream;
    expect(stream.getTracks().map((t) => t.readyState)).to.deep.equal(['live', 'live']);
    await el.reset();
    await until(() => stream.getTracks().every((t) => t.readyState === 'ended'), 'tracks ended', 2000);
  });

  it('concurrent resets make one delete and one new session', async () => {
    const proxy = new FakeProxy();
    const { el, events } = await kiosk(proxy, { 'idle-timeout': '0' });
    const first = el.sessionId!;
    await Promise.all([el.reset(), el.reset(), el.reset()]);
    await el.reset(); // joins nothing: the new session is fresh, so this one resets it (a deliberate second reset)
    await until(() => el.state === 'active', 'active');
    // The deletes travel through the outbox: wait until it has the final answer to each (a settled
    // delete is never sent again), then count.
    await until(async () => (await proxy.deletes()).length >= 2, 'both deletes arrived');
    await outboxSettled((await proxy.deletes()).map((d) => `${proxy.url}/${d.id!}`));
    await proxy.requestsArrived();
    const log = await proxy.log();
    expect(log.filter((e) => e.method === 'DELETE' && e.id === first).length).to.equal(1);
    expect(log.filter((e) => e.method === 'POST').length, 'first session + one per completed reset').to.equal(3);
    expect(events.ends.filter((e) => e.sessionId === first).map((e) => e.reason)).to.deep.equal(['reset']);
  });

  it('a reset while the fresh session is starting joins it', async () => {
    const proxy = new FakeProxy();
    const { el } = await kiosk(proxy, { 'idle-timeout': '0' });
    await proxy.faults({ method: 'POST', hold: true });
    const a = el.reset();
    // The fresh session's POST has reached the proxy (and is held there): it is starting.
    await until(async () => (await proxy.log()).filter((e) => e.method === 'POST').length === 2, 'starting');
    const b = el.reset();
    await proxy.release();
    await Promise.all([a, b]);
    expect((await proxy.log()).filter((e) => e.method === 'POST').length).to.equal(2);
  });

  it('without auto-start it shows the attract screen', async () => {
    const proxy = new FakeProxy();
    const { el } = await kiosk(proxy, { 'idle-timeout': '0' });
    el.autoStart = false;
    await el.reset();
    expect(el.state).to.equal('idle');
    const start = el.shadowRoot!.querySelector<HTMLElement>('.start')!;
    expect(getComputedStyle(start).display).to.not.equal('none');
    expectNoFrame(el);
  });

  it('keeps a retrying attract screen, not a broken widget, when no new session can be made', async () => {
    const proxy = new FakeProxy();
    const { el } = await kiosk(proxy, { 'idle-timeout': '0' });
    await proxy.faults({ method: 'POST', status: 503, times: 2 });
    const errors: string[] = [];
    el.addEventListener('konpro-guard-error', (e) => errors.push(e.detail.message));
    const resetting = el.reset();
    await until(() => errors.length >= 1, 'first failure reported');
    expect(el.state).to.equal('starting');
    expect(getComputedStyle(el.shadowRoot!.querySelector('.start')!).display).to.not.equal('none');
    expect(getComputedStyle(el.shadowRoot!.querySelector('.error')!).display).to.equal('none');
    await resetting;
    expect(el.state).to.equal('active');
    expect(errors.every((m) => /retrying/.test(m))).to.equal(true);
  });
});
