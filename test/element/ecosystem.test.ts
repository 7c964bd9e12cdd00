import { expect, use } from '@esm-bundle/chai';
import { chaiA11yAxe } from 'chai-a11y-axe';
import type { KonproWidgetGuard } from '../../src/index.js';
import {
  activeGuard,
  echoUrl,
  FakeProxy,
  fixture,
  fixtureCleanup,
  frameOf,
  html,
  sleep,
  uniqueId,
  until,
  WIDGET,
  GONE,
} from '../support/helpers.js';

use(chaiA11yAxe);
afterEach(() => fixtureCleanup());

async function framePage<T extends Window>(
  url: string,
  ready: (win: T) => boolean,
): Promise<{ win: T; close(): void }> {
  const frame = document.createElement('iframe');
  frame.src = url;
  document.body.append(frame);
  await new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  const win = frame.contentWindow as T;
  await until(() => ready(win), `${url} ready`);
  return { win, close: () => frame.remove() };
}

describe('accessibility of every state', () => {
  it('active', async () => {
    const guard = await activeGuard();
    await expect(guard).to.be.accessible();
    expect(frameOf(guard)!.title).to.equal('Avatar');
  });

  it('terminated', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    await fetch(GONE);
    expect(guard.state).to.equal('terminated');
    await expect(guard).to.be.accessible();
  });

  it('error', async () => {
    const el = await fixture<KonproWidgetGuard>(
      html`<konpro-widget-guard widget-src=${WIDGET} session-id="not valid"></konpro-widget-guard>`,
    );
    expect(el.state).to.equal('error');
    const alert = el.shadowRoot!.querySelector('.error')!;
    expect(alert.getAttribute('role')).to.equal('alert');
    expect(getComputedStyle(alert).display).to.not.equal('none');
    await expect(el).to.be.accessible();
  });

  it('start (attract screen)', async () => {
    const el = await fixture<KonproWidgetGuard>(html`
      <konpro-widget-guard><button slot="start">Touch to talk to our assistant</button></konpro-widget-guard>
    `);
    expect(el.state).to.equal('idle');
    await expect(el).to.be.accessible();
  });

  it('announces each end once, politely, and not the countdown seconds', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    const live = guard.shadowRoot!.querySelector('[role="status"]')!;
    expect(live.getAttribute('aria-live')).to.equal('polite');
    const changes: string[] = [];
    new MutationObserver(() => changes.push(live.textContent ?? '')).observe(live, {
      childList: true,
      characterData: true,
      subtree: true,
    });
    await fetch(GONE);
    // The end announces synchronously; the render it causes is the one more chance to say it again.
    await guard.updateComplete;
    await sleep(0);
    expect(changes.filter((text) => text !== '')).to.deep.equal(['The avatar session has ended.']);
  });
});

describe('texts can be replaced and localised', () => {
  it('through slots and the strings property', async () => {
    const guard = await activeGuard({ watch: '/test-api/echo' });
    guard.strings = {
      ended: 'Die Sitzung ist beendet.',
      endedAnnouncement: 'Sitzung beendet.',
      frameTitle: 'Avatar (Deutsch)',
    };
    await guard.updateComplete;
    await fetch(GONE);
    await guard.updateComplete;
    const panel = guard.shadowRoot!.querySelector('[part="terminated"]')!;
    expect(panel.textContent.trim()).to.equal('Die Sitzung ist beendet.');
    expect(guard.shadowRoot!.querySelector('[role="status"]')!.textContent).to.equal('Sitzung beendet.');
    const slotted = await fixture<KonproWidgetGuard>(html`
      <konpro-widget-guard watch="/test-api/echo" widget-src=${WIDGET} session-id=${uniqueId()}>
        <p slot="terminated">Custom farewell</p>
      </konpro-widget-guard>
    `);
    await until(() => slotted.state === 'active', 'active');
    expect(frameOf(slotted)!.title).to.equal('Avatar');
    await fetch(GONE);
    const slot = slotted.shadowRoot!.querySelector<HTMLSlotElement>('slot[name="terminated"]')!;
    expect(slot.assignedElements()[0].textContent).to.equal('Custom farewell');
  });
});

describe("the README's Content-Security-Policy, with Trusted Types", () => {
  it('mounts, detects, tears down and logs out with no violation', async () => {
    const proxy = new FakeProxy();
    interface CspWindow extends Window {
      ready?: boolean;
      violations: string[];
      runGuard(proxy: string): Promise<string[]>;
    }
    const page = await framePage<CspWindow>('/test/fixtures/csp-page.html', (w) => w.ready === true);
    try {
      const steps = await page.win.runGuard(proxy.url);
      expect(steps).to.deep.equal([
        'mounted:1',
        'styled:true',
        'detected:terminated:0',
        'widget-loaded:true',
        'logout:terminated:deleted',
        'violations-during-run:0',
        'trusted-types:enforced',
        'connect:refused',
      ]);
      await until(() => page.win.violations.length >= 3, 'the probes are reported');
      // The probes' reports, and nothing from the guard.
      expect(page.win.violations.map((v) => v.split(':')[0]).sort()).to.deep.equal([
        'connect-src',
        'frame-src',
        'require-trusted-types-for',
      ]);
    } finally {
      page.close();
    }
  });
});

describe('living with other code on the page', () => {
  it('two copies on one page: defined once, a clear warning, no exception', async () => {
    interface TwoWindow extends Window {
      loaded?: boolean;
      warnings: string[];
      errors: string[];
    }
    const page = await framePage<TwoWindow>('/test/fixtures/two-copies.html', (w) => w.loaded === true);
    try {
      expect(page.win.errors).to.deep.equal([]);
      expect(page.win.warnings.filter((w) => w.includes('konpro-widget-guard'))).to.have.length(1);
      expect(page.win.warnings[0]).to.match(/another copy/);
      const guard = page.win.document.querySelector('konpro-widget-guard')!;
      guard.setAttribute('session-id', uniqueId());
      await until(() => guard.state === 'active', 'the defined copy works');
    } finally {
      page.close();
    }
  });

  it('works with other fetch wrappers installed before and after it, and leaves them working', async () => {
    const seenBefore: string[] = [];
    const seenAfter: string[] = [];
    const native = window.fetch;
    const urlOf = (input: RequestInfo | URL) => (input instanceof Request ? input.url : input.toString());
    const wrapperBefore: typeof fetch = (input, init) => {
      seenBefore.push(urlOf(input));
      return native(input, init);
    };
    window.fetch = wrapperBefore;
    try {
      const guard = await activeGuard({ watch: '/test-api/echo' });
      const underGuard = window.fetch;
      window.fetch = (input, init) => {
        seenAfter.push(urlOf(input));
        return underGuard(input, init);
      };
      await fetch(GONE);
      expect(guard.state, 'detected through the outer wrapper').to.equal('terminated');
      expect(seenBefore.length).to.equal(1);
      expect(seenAfter.length).to.equal(1);
      // The guard is released, but cannot unwrap itself from under the outer wrapper: it stays a pass-through.
      guard.remove();
      const response = await fetch(echoUrl(200, { ok: true }));
      expect(await response.json()).to.deep.equal({ ok: true });
      expect(seenBefore.length).to.equal(2);
      // A new guard still sees responses, through the same chain.
      const again = await activeGuard({ watch: '/test-api/echo' });
      await fetch(GONE);
      expect(again.state).to.equal('terminated');
    } finally {
      window.fetch = native;
    }
  });
});
