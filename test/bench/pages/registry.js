// A page of the site on the reference proxy (served from the proxy's own origin by
// registry-server.ts): its guard starts a session through the proxy by itself, as a site's
// page does. For the registry figures (push, orphans). Query: `check-interval` (default 30),
// `push` (present: the attribute is set). `window.bench` says what happened, in wall-clock
// ms (Date.now(), comparable with the bench process's clock).
import { WIDGET_SRC } from './bench-page.js';

await import('/dist/konpro-widget-guard.min.js');

const params = new URLSearchParams(location.search);
const bench = { sessionId: undefined, startedAt: undefined, endedAt: undefined, reason: undefined, goneAt: undefined };
window.bench = bench;

const guard = document.createElement('konpro-widget-guard');
guard.setAttribute('proxy', '/api/widget-sessions');
guard.setAttribute('widget-src', WIDGET_SRC);
guard.setAttribute('check-interval', params.get('check-interval') ?? '30');
if (params.has('push')) guard.setAttribute('push', '');
guard.setAttribute('auto-start', '');
guard.style.display = 'block';

let frame;
guard.addEventListener('konpro-session-start', (event) => {
  bench.sessionId = event.detail.sessionId;
  bench.startedAt = Date.now();
  frame = guard.shadowRoot.querySelector('iframe');
  // The widget is gone when its frame leaves the DOM: the first moment any script can see it.
  const observer = new MutationObserver(() => {
    if (frame && !frame.isConnected) {
      bench.goneAt ??= Date.now();
      observer.disconnect();
    }
  });
  observer.observe(guard.shadowRoot, { childList: true, subtree: true });
});
guard.addEventListener('konpro-session-end', (event) => {
  bench.endedAt = Date.now();
  bench.reason = event.detail.reason;
  // The guard removes the frame in the task that ends the session, before this event.
  if (!frame || !frame.isConnected) bench.goneAt ??= bench.endedAt;
});

document.body.append(guard);
window.benchReady = true;
