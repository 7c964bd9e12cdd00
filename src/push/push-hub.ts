/**
 * One event stream per browser, however many tabs: HTTP/1.1 allows six
 * connections per origin, so a stream per tab would starve the page.
 *
 * Every tab whose guards show sessions (with `push`) asks for one Web Lock
 * per stream URL (tabs/tab-lock.ts, as the outbox does); the tab holding it
 * follows the stream for the sessions of every tab, which each announce
 * theirs over the tab channel (when they change, every 30 s, and when the
 * holder asks), and relays each `ended` event to every tab, itself
 * included, as a tab message. A tab gives the lock up when it has nothing to
 * show or goes away (pagehide, also into the back/forward cache, where it
 * shows nothing); the next tab in line takes over and resumes. A tab not
 * heard from for a while (crashed) stops being reported, so its sessions
 * can become orphans at the proxy.
 */
import { followEventStream, type FollowedStream } from './event-stream.js';
import type { EndReason } from '../shared/end-reasons.js';
import { isRecord } from '../shared/konpro-api.js';
import { isValidSessionId, sessionResourceUrl } from '../shared/session-id.js';
import { onPage } from '../platform/page-lifecycle.js';
import { sleep } from '../platform/async.js';
import { endedSessions } from '../session/ended-sessions.js';
import { tabChannel, type TabMessage } from '../tabs/tab-channel.js';
import { tabLocks } from '../tabs/tab-lock.js';

const ANNOUNCE_MS = 30_000;
/** Longer than two announcements of a hidden tab (whose timers run once a minute). */
const FORGET_MS = 150_000;
/** Changes within this are one reconnect. */
const SETTLE_MS = 250;
/** The proxy takes at most 64 `session` parameters. */
const MAX_SESSIONS = 64;
/** The server's reasons as the page's: an orphaned session was ended by the site's server too. */
const REASONS: readonly string[] = ['logout', 'terminated', 'expired'];

export class PushHub {
  readonly #url: string;
  readonly #tab = Math.random().toString(36).slice(2);
  /** Sessions the guards of this page show: how many guards each, and who to tell that there is no stream. */
  readonly #local = new Map<string, number>();
  readonly #unavailable = new Set<() => void>();
  /** What the other tabs last announced, and when. */
  readonly #remote = new Map<string, { sessions: string[]; at: number }>();
  /** While this page has sessions to show: waiting for the lock, or holding it. */
  #run: AbortController | undefined;
  #stream: FollowedStream | undefined;
  /** The sessions the stream reports, as its URL says them. */
  #streamed = '';
  #settling: number | undefined;
  #gone = false;
  /** The stream's last event id, as its follower (this tab or another) last said. */
  #lastId: string | undefined;

  constructor(url: string) {
    this.#url = url;
    onPage({
      leaving: () => {
        // (The resume point goes with it, for the tab that takes over.)
        this.#announce(true);
        this.#stop();
      },
      shown: () => this.#settle(),
    });
  }

  /** A guard shows `sessionId` until `signal` aborts; `onUnavailable`: the proxy has no stream (told once). */
  show(sessionId: string, onUnavailable: () => void, signal: AbortSignal): void {
    const count = (delta: number) => {
      const n = (this.#local.get(sessionId) ?? 0) + delta;
      if (n > 0) this.#local.set(sessionId, n);
      else this.#local.delete(sessionId);
      this.#changed();
    };
    if (this.#gone) return onUnavailable();
    count(1);
    this.#unavailable.add(onUnavailable);
    signal.addEventListener(
      'abort',
      () => {
        this.#unavailable.delete(onUnavailable);
        count(-1);
      },
      { once: true },
    );
  }

  #changed(): void {
    window.clearTimeout(this.#settling);
    this.#settling = window.setTimeout(() => this.#settle(), SETTLE_MS);
  }

  /** Starts or stops following, tells the other tabs, and reconnects when the sessions to report changed. */
  #settle(): void {
    if (this.#local.size === 0 || this.#gone) {
      if (this.#run) this.#announce(true);
      this.#stop();
      return;
    }
    if (!this.#run) this.#start();
    this.#announce();
    if (this.#stream && this.#sessions().join() !== this.#streamed) this.#stream.reconnect();
  }

  #start(): void {
    const run = new AbortController();
    const { signal } = run;
    this.#run = run;
    tabChannel().subscribe((message) => this.#hear(message), signal);
    const timer = window.setInterval(() => this.#settle(), ANNOUNCE_MS);
    signal.addEventListener('abort', () => window.clearInterval(timer));
    void tabLocks().run(`konpro-widget-guard-push ${this.#url}`, () => this.#hold(signal), signal);
  }

  #stop(): void {
    // Kept for the next time this page follows the stream.
    this.#lastId = this.#stream?.lastId || this.#lastId;
    this.#run?.abort();
    this.#run = this.#stream = undefined;
  }

  /** Holding the lock: follows the stream until this page lets go. */
  async #hold(signal: AbortSignal): Promise<void> {
    this.#announce(false, true);
    await sleep(SETTLE_MS, signal); // the other tabs' answers
    if (signal.aborted) return;
    this.#stream = followEventStream(
      {
        ...(this.#lastId ? { lastId: this.#lastId } : {}),
        url: () => {
          const url = new URL(this.#url);
          const sessions = this.#sessions();
          this.#streamed = sessions.join();
          for (const id of sessions) url.searchParams.append('session', id);
          return url.href;
        },
        onEvent: (event) => this.#relay(event.type, event.data),
        onUnavailable: () => {
          // Status checks only, from now on in this page: each guard is told once.
          this.#gone = true;
          this.#stop();
          for (const tell of [...this.#unavailable]) tell();
        },
      },
      signal,
    );
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  }

  /** The sessions the browser shows, this page's first. */
  #sessions(): string[] {
    const since = Date.now() - FORGET_MS;
    const all = new Set(this.#local.keys());
    for (const [tab, { sessions, at }] of this.#remote) {
      if (at < since) this.#remote.delete(tab);
      else for (const id of sessions) all.add(id);
    }
    return [...all].slice(0, MAX_SESSIONS);
  }

  #relay(type: string, data: string): void {
    if (type !== 'ended') return;
    let body: unknown;
    try {
      body = JSON.parse(data);
    } catch {
      return;
    }
    if (!isRecord(body) || !isValidSessionId(body.session_id)) return;
    const reason = (REASONS.includes(body.reason as string) ? body.reason : 'revoked') as EndReason;
    const sessionId = body.session_id;
    // Remembered for good before any tab hears of it; then every tab, this one included, ends it.
    void endedSessions().add(sessionId, reason);
    tabChannel().post({ kind: 'ended', sessionId, reason, endedAt: Date.now(), server: true }, true);
    this.#announce(); // (with the new resume point)
  }

  #hear(message: TabMessage): void {
    if (message.kind !== 'push-showing' || message.url !== this.#url) return;
    if (message.ask) this.#announce();
    if (message.last) this.#lastId = message.last;
    if (message.sessions.length > 0) this.#remote.set(message.tab, { sessions: message.sessions, at: Date.now() });
    else this.#remote.delete(message.tab);
    if (this.#stream) this.#changed();
  }

  #announce(none = false, ask = false): void {
    const sessions = none ? [] : [...this.#local.keys()];
    const last = this.#stream?.lastId;
    tabChannel().post({
      kind: 'push-showing',
      url: this.#url,
      tab: this.#tab,
      sessions,
      ask,
      ...(last ? { last } : {}),
    });
  }
}

const hubs = new Map<string, PushHub>();

/** The page's hub for the event stream of the proxy collection at `proxy`. */
export function pushHub(proxy: string): PushHub {
  const url = sessionResourceUrl(proxy, 'events');
  let hub = hubs.get(url);
  if (!hub) hubs.set(url, (hub = new PushHub(url)));
  return hub;
}
