/**
 * The page's activity, for kiosk resets (idle-countdown.ts times them).
 *
 * Activity is shared: one set of listeners per page (pointer, key, wheel,
 * touch, focus) feeds every guard of the page, and activity is told to the
 * other tabs of the origin, so a person using one tab is never reset by an
 * idle guard in another. Guards add what only they can see (their widget
 * frame taking focus, activity messages from the frame).
 */
import { tabChannel, type TabChannel } from '../tabs/tab-channel.js';

type ActivityListener = (at: number) => void;

const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'focusin'] as const;
/** Other tabs hear of this tab's activity at most this often. */
const BROADCAST_EVERY_MS = 1_000;

/** The page's activity, local and from other tabs. */
export class ActivityHub {
  readonly #listeners = new Set<ActivityListener>();
  readonly #channel: TabChannel;
  #pageListeners: AbortController | undefined;
  #lastBroadcast = 0;
  #last = Date.now();
  #muted = false;

  constructor(channel: TabChannel = tabChannel()) {
    this.#channel = channel;
  }

  /** The last activity anywhere on the device that this page knows of. */
  get lastActivity(): number {
    return this.#last;
  }

  /** Something happened: a person is here. */
  report(at: number = Date.now(), share = true): void {
    if (at > this.#last) this.#last = at;
    for (const listener of [...this.#listeners]) listener(at);
    if (share && at - this.#lastBroadcast >= BROADCAST_EVERY_MS) {
      this.#lastBroadcast = at;
      this.#channel.post({ kind: 'activity', at });
    }
  }

  /** Runs `action` (the guard moving focus itself) without counting its events as a person's activity. */
  quietly(action: () => void): void {
    this.#muted = true;
    try {
      action();
    } finally {
      this.#muted = false;
    }
  }

  /** Hears every activity until `signal` aborts; the page listeners live while anyone listens. */
  subscribe(listener: ActivityListener, signal: AbortSignal): void {
    if (signal.aborted) return;
    this.#listeners.add(listener);
    if (!this.#pageListeners) this.#listen();
    signal.addEventListener(
      'abort',
      () => {
        this.#listeners.delete(listener);
        if (this.#listeners.size === 0) {
          this.#pageListeners?.abort();
          this.#pageListeners = undefined;
        }
      },
      { once: true },
    );
  }

  #listen(): void {
    const controller = new AbortController();
    this.#pageListeners = controller;
    const { signal } = controller;
    const onActivity = () => this.#muted || this.report();
    for (const type of ACTIVITY_EVENTS)
      document.addEventListener(type, onActivity, { capture: true, passive: true, signal });
    this.#channel.subscribe((message) => {
      if (message.kind === 'activity' && message.at <= Date.now() + 5_000) this.report(message.at, false);
    }, signal);
  }
}

let shared: ActivityHub | undefined;

export function activityHub(): ActivityHub {
  shared ??= new ActivityHub();
  return shared;
}
