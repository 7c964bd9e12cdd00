// Memory: guards mounted and torn down over and over in one page, as a single-page app
// (or a kiosk) does. Even cycles release the guard by removing it (navigation away in an
// SPA); odd ones log out first (the outbox sends a real delete), then remove it.
import { WIDGET_SRC, once } from './bench-page.js';

await import('/dist/konpro-widget-guard.min.js');
const host = document.getElementById('host');

async function cycle(i) {
  const guard = document.createElement('konpro-widget-guard');
  guard.setAttribute('proxy', '/bench/proxy');
  guard.setAttribute('widget-src', WIDGET_SRC);
  guard.setAttribute('check-interval', '30');
  guard.setAttribute('session-id', `m_${i}_${Date.now().toString(36)}`);
  const started = once(guard, 'konpro-session-start');
  host.append(guard);
  await started;
  if (i % 2 === 1) await guard.logout();
  guard.remove();
}

window.runCycles = async (from, to) => {
  for (let i = from; i < to; i++) await cycle(i);
  return { guards: document.querySelectorAll('konpro-widget-guard').length, frames: window.length };
};

window.benchReady = true;
