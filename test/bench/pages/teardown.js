// Teardown: from a terminated response reaching the page to the frame leaving the DOM,
// the guard (A) against a page that removes an equivalent frame itself (B), alternated.
import { baselineHost, createGuard, nextTask, removalTime, uniqueId } from './bench-page.js';

// Installed before the guard loads, so the guard's patch wraps it: `arrival` is the
// moment the browser hands the response to page script, for A and B alike.
const nativeFetch = window.fetch;
let arrival = Number.NaN;
// A macrotask queued at arrival: if it runs before the frame is gone, the teardown
// did not happen in the task in which the response arrived.
let macrotaskAt = Number.POSITIVE_INFINITY;
const marker = new MessageChannel();
marker.port1.onmessage = () => {
  macrotaskAt = performance.now();
};
window.fetch = function arrivalClock(...args) {
  return nativeFetch.apply(this, args).then((response) => {
    arrival = performance.now();
    macrotaskAt = Number.POSITIVE_INFINITY;
    marker.port2.postMessage(0);
    return response;
  });
};

await import('/dist/konpro-widget-guard.min.js');

// The site's proxy answers 404 for the ended session; the default watch covers the proxy.
const guarded = createGuard({ proxy: '/bench/ended' });
const baseline = baselineHost();
const clock = () => performance.now();

async function measure(id, frame, root, react) {
  await nextTask(30); // let the mount's own work (IndexedDB, frame load) settle
  const removed = removalTime(root, frame, clock);
  arrival = Number.NaN;
  const response = await fetch(`/bench/ended/${id}`);
  const continuationSawGone = !frame.isConnected;
  react(response, frame);
  const removedAt = await removed;
  const sameTask = removedAt < macrotaskAt;
  await response.text();
  return { ms: removedAt - arrival, sameTask, continuationSawGone };
}

window.teardownGuard = async () => {
  const id = uniqueId('t');
  const frame = await guarded.mount(id);
  // The guard reacts by itself; the caller does nothing.
  return measure(id, frame, guarded.guard.shadowRoot, () => {});
};

window.teardownBaseline = async () => {
  const id = uniqueId('b');
  const frame = await baseline.mount(id);
  // The least a page can do: remove the frame as soon as it sees the status.
  return measure(id, frame, baseline.root, (response, target) => {
    if (response.status === 404 || response.status === 410) target.remove();
  });
};

window.teardownBlankFirst = async () => {
  const id = uniqueId('f');
  const frame = await baseline.mount(id);
  // What guarantee 1 asks of any teardown: point the frame at about:blank (so camera and
  // microphone stop), then remove it. The floor for the guard, as the page's own code.
  return measure(id, frame, baseline.root, (response, target) => {
    if (response.status === 404 || response.status === 410) {
      target.src = 'about:blank';
      target.remove();
    }
  });
};

window.benchReady = true;
