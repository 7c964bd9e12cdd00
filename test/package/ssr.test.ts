// Server-side rendering: the package imported in Node with no DOM, and the element rendered by
// @lit-labs/ssr into declarative shadow DOM, in a process that then exits by itself. (Hydrating
// that markup in Chromium: test/element/ssr-hydration.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastJsonLine, runFixture } from './support.js';

interface Rendered {
  before: { document: string; window: string };
  after: { document: string; window: string };
  exports: string[];
  state: string;
  html: string;
}

void describe('konpro-widget-guard in Node, without a DOM', () => {
  void it('imports, constructs and renders through @lit-labs/ssr, then lets the process exit', async () => {
    const run = await runFixture('ssr-render.mjs');
    assert.equal(
      run.timedOut,
      false,
      'the process was still running 10 s later: something the guard opened kept it alive',
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const out = lastJsonLine<Rendered>(run);
    // No DOM before, and the import did not invent one.
    assert.deepEqual(out.before, { document: 'undefined', window: 'undefined' });
    assert.deepEqual(out.after, { document: 'undefined', window: 'undefined' });
    assert.ok(out.exports.includes('KonproWidgetGuard') && out.exports.includes('TAG_NAME'), out.exports.join());
    assert.equal(out.state, 'idle');

    const { html } = out;
    // The host keeps its attributes and light DOM; the shadow root is declarative.
    assert.match(html, /<konpro-widget-guard\s[^>]*session-id="ws_ssr_1"/);
    assert.match(html, /<template shadowroot="open" shadowrootmode="open">/);
    assert.match(html, /<p slot="terminated">Signed out\.<\/p>/);
    // The guard's own template and styles are in it; the widget is not (it mounts in the browser).
    assert.match(html, /<div class="widget"><slot><\/slot><\/div>/);
    assert.match(html, /<div class="panel terminated" part="terminated"/);
    assert.match(html, /:host\(\[state='active'\]\) \.widget/);
    assert.match(html, /role="status" aria-live="polite"/);
    assert.doesNotMatch(html, /<iframe/);
    assert.equal(html.match(/<template shadowroot/g)?.length, 1);
  });
});

void describe('konpro-widget-guard/react on the server', () => {
  void it('renders with react-dom/server (properties follow in the browser), then lets the process exit', async () => {
    const run = await runFixture('react-ssr.mjs');
    assert.equal(run.timedOut, false, 'the process was still running 10 s later');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const { html } = lastJsonLine<{ html: string }>(run);
    // The element and its light DOM; properties and listeners are set once React runs in the page.
    assert.match(
      html,
      /^<konpro-widget-guard id="assistant"[^>]*><p slot="terminated">Signed out\.<\/p><\/konpro-widget-guard>$/,
    );
  });
});
