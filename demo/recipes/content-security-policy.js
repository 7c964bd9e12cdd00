// Recipe: the Content-Security-Policy of a page that uses the guard. The browser test of a strict
// policy (test/ecosystem.test.ts, page test/fixtures/csp-page.html) is served with exactly this.

// #region readme
/**
 * The Content-Security-Policy header for a page with `<konpro-widget-guard>`: all the guard needs,
 * and nothing else allowed. Add what the rest of your page needs.
 */
export function guardPagePolicy({ widgetOrigin, scripts = "'self'" }) {
  return [
    "default-src 'none'", // nothing that is not named below
    `script-src ${scripts}`, // konpro-widget-guard.min.js (or your bundle): no inline script, no eval
    "connect-src 'self'", // the proxy on your origin: POST, GET and DELETE, keepalive deletes, the event stream
    `frame-src ${widgetOrigin}`, // the widget frame: the origin of widget-src, or of the proxy's widget_url
    "base-uri 'none'",
    "object-src 'none'",
    "require-trusted-types-for 'script'", // the guard never writes HTML from strings
    'trusted-types lit-html', // the one policy it creates: Lit's own
  ].join('; ');
}
// #endregion readme
