// Server-side rendering for the hydration test (test/element/ssr-hydration.test.ts): the built element
// rendered by @lit-labs/ssr here, in the test server's Node process, as a site's server would.
// The page loads Lit's hydrate support first, then the element (test/fixtures/ssr-page.js).

/**
 * The page for `?session=&proxy=`: one guard with a session the server knows (`session-id`,
 * `widget-src`), one that starts its own (`auto-start`), both rendered to declarative shadow DOM.
 */
export async function renderSsrPage(query) {
  const [{ render }, { collectResult }, { html }] = await Promise.all([
    import('@lit-labs/ssr'),
    import('@lit-labs/ssr/lib/render-result.js'),
    import('lit'),
    import('../../dist/index.js'),
  ]);
  const session = String(query.session ?? '');
  const proxy = String(query.proxy ?? '');
  const body = await collectResult(
    render(html`
      <konpro-widget-guard
        id="known"
        proxy=${proxy}
        session-id=${session}
        widget-src="/test/fixtures/widget.html?session_id={session_id}"
        watch="/test-api/echo"
        check-interval="0"
      ></konpro-widget-guard>
      <konpro-widget-guard id="auto" proxy=${proxy} auto-start check-interval="0">
        <p slot="start">Starting…</p>
      </konpro-widget-guard>
    `),
  );
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Server-rendered guards</title>
    <script type="module" src="/test/fixtures/ssr-page.js"></script>
  </head>
  <body>
    ${body}
  </body>
</html>
`;
}
