// Helpers shared by the bench pages (plain browser JavaScript, loaded as a module).

export const WIDGET_SRC = '/pages/widget.html?session_id={session_id}';

/** Resolves with the next `type` event on `target`. */
export function once(target, type) {
  return new Promise((resolve) => target.addEventListener(type, resolve, { once: true }));
}

/** Resolves when the widget page of session `id` has loaded in some frame of this page. */
export function widgetLoaded(id) {
  return new Promise((resolve) => {
    const onMessage = (event) => {
      if (event.data?.type === 'bench-widget-loaded' && event.data.session_id === id) {
        window.removeEventListener('message', onMessage);
        resolve();
      }
    };
    window.addEventListener('message', onMessage);
  });
}

/** A unique session id (valid for the guard: letters, digits, _ and -). */
let counter = 0;
export function uniqueId(prefix) {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}_${counter}`;
}

/**
 * A frame equivalent to the guard's: same widget page, same `allow`, inside a
 * shadow root of its own host, sized like the guard's frame.
 */
export function baselineHost() {
  const host = document.createElement('div');
  host.className = 'baseline-host';
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML =
    '<style>iframe { display: block; width: 100%; min-height: 360px; border: 0; }</style><div class="widget"></div>';
  document.body.append(host);
  return {
    root,
    async mount(id) {
      const frame = document.createElement('iframe');
      frame.allow = 'camera; microphone; autoplay';
      frame.title = 'Avatar';
      const loaded = widgetLoaded(id);
      frame.src = WIDGET_SRC.replace('{session_id}', id);
      root.querySelector('.widget').append(frame);
      await loaded;
      return frame;
    },
  };
}

/** A guard with a widget frame, as a site would put it on the page. */
export function createGuard(attributes) {
  const guard = document.createElement('konpro-widget-guard');
  guard.setAttribute('widget-src', WIDGET_SRC);
  guard.setAttribute('check-interval', '0');
  for (const [name, value] of Object.entries(attributes)) guard.setAttribute(name, value);
  guard.style.display = 'block';
  document.body.append(guard);
  return {
    guard,
    /** Mounts session `id` and waits until its widget page has loaded. */
    async mount(id) {
      const started = once(guard, 'konpro-session-start');
      const loaded = widgetLoaded(id);
      guard.setAttribute('session-id', id);
      await started;
      await loaded;
      return guard.shadowRoot.querySelector('iframe');
    },
  };
}

/**
 * The time (from `clock`) at which `node` leaves the DOM under `root`, as a
 * MutationObserver sees it: the first moment any script of the page can.
 */
export function removalTime(root, node, clock) {
  return new Promise((resolve) => {
    const observer = new MutationObserver((records) => {
      for (const record of records) {
        for (const removed of record.removedNodes) {
          if (removed === node || removed.contains?.(node)) {
            observer.disconnect();
            resolve(clock());
            return;
          }
        }
      }
    });
    observer.observe(root, { childList: true, subtree: true });
  });
}

/** A macrotask later: lets pending tasks (IndexedDB, messages) run between iterations. */
export const nextTask = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));
