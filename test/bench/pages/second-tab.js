// Second tab: from a logout in tab A to the widget leaving the DOM in tab B, the guard
// against the physical floor (a raw BroadcastChannel message, then a bare iframe.remove()
// of an equivalent frame). Both pages are this page; the bench drives them.
import { baselineHost, createGuard, nextTask, removalTime, uniqueId } from './bench-page.js';

await import('/dist/konpro-widget-guard.min.js');

// Times are compared across two pages (two renderer processes): wall-clock based
// high-resolution time, corrected by the offset the bench measures between the pages.
const clock = () => performance.timeOrigin + performance.now();
const guarded = createGuard({ proxy: '/bench/proxy' });
const floor = baselineHost();
const floorChannel = new BroadcastChannel('bench-floor');
const clockChannel = new BroadcastChannel('bench-clock');
let floorFrame;
let pending;
// Diagnostics: when the guard's own "ended" message reaches this tab (a listener of
// the guard's channel name), and how long the logout call kept tab A busy.
let messageAt = Number.NaN;
new BroadcastChannel('konpro-widget-guard').onmessage = (event) => {
  if (event.data?.kind === 'ended') messageAt = clock();
};

// Clock calibration: tab B answers every ping with its own clock.
clockChannel.onmessage = (event) => {
  if (event.data.kind === 'ping') clockChannel.postMessage({ kind: 'pong', seq: event.data.seq, at: clock() });
};
let seq = 0;
window.clockSample = () =>
  new Promise((resolve) => {
    const mine = ++seq;
    const sent = clock();
    const channel = new BroadcastChannel('bench-clock');
    channel.onmessage = (event) => {
      if (event.data.kind !== 'pong' || event.data.seq !== mine) return;
      const received = clock();
      channel.close();
      resolve({ sent, remote: event.data.at, received });
    };
    channel.postMessage({ kind: 'ping', seq: mine });
  });

window.newId = () => uniqueId('x');

window.mountGuard = async (id) => {
  await guarded.mount(id);
  await nextTask(20);
};
window.mountFloor = async (id) => {
  floorFrame = await floor.mount(id);
  await nextTask(20);
};

/** Tab B: starts watching for the guard's frame to go. */
window.armGuard = () => {
  messageAt = Number.NaN;
  const frame = guarded.guard.shadowRoot.querySelector('iframe');
  pending = removalTime(guarded.guard.shadowRoot, frame, clock);
};
/**
 * Tab B: removes its frame on the raw message, and watches for it to go. With `blankFirst`,
 * points it at about:blank first, as guarantee 1 asks of any teardown.
 */
window.armFloor = (id, blankFirst = false) => {
  const frame = floorFrame;
  pending = removalTime(floor.root, frame, clock);
  floorChannel.onmessage = (event) => {
    if (event.data.id !== id) return;
    if (blankFirst) frame.src = 'about:blank';
    frame.remove();
  };
};
window.removedAt = async () => ({ goneAt: await pending, messageAt });

/** Tab A: the user logs out. */
window.fireGuard = () => {
  const at = clock();
  void guarded.guard.logout();
  return { at, returnedAt: clock() };
};
/** Tab A: the floor's message. */
window.fireFloor = (id) => {
  const at = clock();
  floorChannel.postMessage({ id });
  return { at, returnedAt: clock() };
};

/**
 * Tab A, the floor doing in tab A what the guard does there too: the message first, then its
 * own frame out (about:blank, then remove), in the same task, as guarantee 1 asks of tab A's
 * widget. The two tabs may share one renderer's main thread, so tab B can wait for this.
 */
window.fireFloorBoth = (id) => {
  const at = clock();
  floorChannel.postMessage({ id });
  floorFrame.src = 'about:blank';
  floorFrame.remove();
  return { at, returnedAt: clock() };
};

window.benchReady = true;
