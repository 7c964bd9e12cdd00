// Server-side rendering, the browser half: guards rendered by @lit-labs/ssr on the test server
// (test/support/ssr-page.mjs) hydrate in Chromium with Lit's hydrate support, keep the nodes the
// server sent, mount each widget once and start each session once, with no error in the console.
// (Rendering in Node without a DOM: test/package/ssr.test.ts.)
import { expect } from '@esm-bundle/chai';
import type { KonproWidgetGuard } from '../../src/index.js';
import { FakeProxy, GONE, sleep, uniqueId, until } from '../support/helpers.js';

interface SsrWindow extends Window {
  ready?: boolean;
  errors: string[];
  starts: string[];
  serverRendered: Record<string, { defined: boolean; nodes: Element[] }>;
}

async function openSsrPage(query: Record<string, string>): Promise<{ win: SsrWindow; close(): void }> {
  const frame = document.createElement('iframe');
  frame.src = `/test-api/ssr-page.html?${new URLSearchParams(query).toString()}`;
  document.body.append(frame);
  await new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  const win = frame.contentWindow as SsrWindow;
  await until(() => win.ready === true, 'the page loaded hydrate support and the element', 8000);
  return { win, close: () => frame.remove() };
}

const count = (guard: KonproWidgetGuard, selector: string) => guard.shadowRoot!.querySelectorAll(selector).length;

describe('server-side rendering with @lit-labs/ssr, hydrated in the browser', () => {
  it('hydrates the server’s markup: one frame per guard, each session started once, no error', async () => {
    const proxy = new FakeProxy();
    const session = uniqueId('ssr');
    const page = await openSsrPage({ session, proxy: proxy.url });
    try {
      const known = page.win.document.getElementById('known') as KonproWidgetGuard;
      const auto = page.win.document.getElementById('auto') as KonproWidgetGuard;
      // What the parser built from the server's HTML, before the element was defined.
      for (const id of ['known', 'auto']) {
        expect(page.win.serverRendered[id].defined, id).to.equal(false);
        expect(page.win.serverRendered[id].nodes.length, id).to.be.greaterThan(5);
      }

      await until(() => known.state === 'active' && auto.state === 'active', 'both guards active', 8000);
      // A second start would have asked the proxy when the first did (a request made now reaches it
      // after), a second render would be done once updateComplete resolves; but a second activation
      // of a session reads IndexedDB (is it ended?) before it mounts, and nothing marks that read:
      // a second on top, many such reads, for it.
      await Promise.all([known.updateComplete, auto.updateComplete]);
      await proxy.requestsArrived();
      await sleep(1000);
      for (const guard of [known, auto]) {
        expect(count(guard, 'iframe'), guard.id).to.equal(1);
        expect(count(guard, '.widget'), guard.id).to.equal(1);
        expect(count(guard, '.panel'), guard.id).to.equal(3);
        expect(count(guard, '[role="status"]'), guard.id).to.equal(1);
        expect(count(guard, 'style'), guard.id).to.equal(1);
        // Hydrated, not rendered again: every node the server sent is still the one in the shadow root.
        const server = page.win.serverRendered[guard.id].nodes;
        for (const node of server) expect(node.isConnected, `${guard.id}: ${node.localName}`).to.equal(true);
        expect(guard.shadowRoot!.querySelector('.terminated')).to.equal(
          server.find((node) => node.classList.contains('terminated')),
        );
      }
      expect(known.shadowRoot!.querySelector('iframe')!.src).to.contain(`session_id=${session}`);
      const created = (await proxy.log()).filter((entry) => entry.method === 'POST');
      expect(created.length, 'auto-start asked the proxy once').to.equal(1);
      expect([...page.win.starts].sort()).to.deep.equal([session, auto.sessionId].sort());

      // The hydrated guard is live: a "gone" answer tears it down and shows the server's panel.
      await page.win.fetch(GONE);
      expect(known.state).to.equal('terminated');
      expect(count(known, 'iframe')).to.equal(0);
      const panel = known.shadowRoot!.querySelector('.terminated')!;
      expect(page.win.getComputedStyle(panel).display).to.equal('block');
      expect(panel.textContent.trim()).to.equal('This avatar session has ended.');
      expect(auto.state, 'the other session is not this one').to.equal('active');
      expect(page.win.errors).to.deep.equal([]);
    } finally {
      page.close();
    }
  });
});
