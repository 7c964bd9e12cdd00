/**
 * Messages between the tabs of one origin: a session ended, a delete
 * settled, someone is active. BroadcastChannel where it works; otherwise
 * `storage` events on a localStorage key (which every browser delivers to
 * the other tabs of the origin). One channel per page, so a tab never hears
 * its own messages. Every incoming message is validated; anything malformed
 * is dropped.
 *
 * The BroadcastChannel is closed while the page is hidden away (`pagehide`)
 * and opened again on `pageshow`: an open channel with a listener keeps
 * Chrome from putting the page in the back/forward cache, and what was
 * missed meanwhile is re-read from storage by the guard on restore.
 */
import { DELETE_OUTCOMES, END_REASONS, type DeleteOutcomeKind, type EndReason } from '../shared/end-reasons.js';
import { onPage } from '../platform/page-lifecycle.js';
import { isRecord } from '../shared/konpro-api.js';
import { isValidSessionId } from '../shared/session-id.js';

export type TabMessage =
  /** `server`: the proxy's event stream said so (relayed by the tab that follows it). */
  | { kind: 'ended'; sessionId: string; reason: EndReason; endedAt: number; server?: boolean }
  | {
      kind: 'delete-settled';
      key: string;
      sessionId: string;
      outcome: DeleteOutcomeKind;
      attempts: number;
      status?: number;
    }
  | { kind: 'activity'; at: number }
  /**
   * The sessions a tab shows, for the tab that follows the event stream at `url` (none: it left).
   * `ask`: that tab just took the stream over, and every tab answers with what it shows. `last`: from
   * the tab that follows it, the stream's last event id, where the next one to follow it resumes.
   */
  | { kind: 'push-showing'; url: string; tab: string; sessions: string[]; ask?: boolean; last?: string };

const NAME = 'konpro-widget-guard';
const VERSION = 1;
const REASONS: readonly string[] = END_REASONS;
const OUTCOMES: readonly string[] = DELETE_OUTCOMES;

function parseTabMessage(data: unknown): TabMessage | undefined {
  if (!isRecord(data) || data.v !== VERSION) return undefined;
  switch (data.kind) {
    case 'ended':
      return isValidSessionId(data.sessionId) &&
        typeof data.reason === 'string' &&
        REASONS.includes(data.reason) &&
        typeof data.endedAt === 'number'
        ? {
            kind: 'ended',
            sessionId: data.sessionId,
            reason: data.reason as EndReason,
            endedAt: data.endedAt,
            ...(data.server === true ? { server: true } : {}),
          }
        : undefined;
    case 'delete-settled': {
      if (
        typeof data.key !== 'string' ||
        !isValidSessionId(data.sessionId) ||
        typeof data.outcome !== 'string' ||
        !OUTCOMES.includes(data.outcome) ||
        typeof data.attempts !== 'number'
      ) {
        return undefined;
      }
      const message: TabMessage = {
        kind: 'delete-settled',
        key: data.key,
        sessionId: data.sessionId,
        outcome: data.outcome as DeleteOutcomeKind,
        attempts: data.attempts,
      };
      if (typeof data.status === 'number') message.status = data.status;
      return message;
    }
    case 'activity':
      return typeof data.at === 'number' ? { kind: 'activity', at: data.at } : undefined;
    case 'push-showing':
      return typeof data.url === 'string' &&
        typeof data.tab === 'string' &&
        Array.isArray(data.sessions) &&
        data.sessions.every(isValidSessionId)
        ? {
            kind: 'push-showing',
            url: data.url,
            tab: data.tab,
            sessions: data.sessions,
            ask: !!data.ask,
            ...(typeof data.last === 'string' ? { last: data.last } : {}),
          }
        : undefined;
    default:
      return undefined;
  }
}

type Listener = (message: TabMessage) => void;

export class TabChannel {
  readonly #listeners = new Set<Listener>();
  #channel: BroadcastChannel | undefined;
  #useBroadcastChannel: boolean;
  #storageListening = false;

  // No page, no tabs: where there is no window (server-side rendering in Node, whose BroadcastChannel
  // would keep the process alive) the channel stays closed.
  constructor(useBroadcastChannel = typeof BroadcastChannel === 'function' && typeof window !== 'undefined') {
    this.#useBroadcastChannel = useBroadcastChannel;
    this.#open();
    if (useBroadcastChannel && typeof window !== 'undefined') {
      // For the life of the page (see platform/page-lifecycle.ts: leaving lets go, shown opens again).
      onPage({
        leaving: () => {
          this.#channel?.close();
          this.#channel = undefined;
        },
        shown: () => this.#open(),
      });
    }
  }

  #open(): void {
    if (!this.#useBroadcastChannel || this.#channel) return;
    try {
      this.#channel = new BroadcastChannel(NAME);
      this.#channel.onmessage = (event: MessageEvent<unknown>) => this.#deliver(event.data);
    } catch {
      // Unusable here: storage events carry the messages instead.
      this.#useBroadcastChannel = false;
      this.#channel = undefined;
    }
  }

  /** Tells the other tabs; `here`: this page's listeners too (in this same task). */
  post(message: TabMessage, here = false): void {
    const data = { v: VERSION, ...message };
    // The other tabs first: this page's work on it would keep the browser busy in front of the message.
    this.#send(data);
    if (here) this.#deliver(data);
  }

  #send(data: object): void {
    if (this.#channel) {
      try {
        this.#channel.postMessage(data);
        return;
      } catch {
        this.#useBroadcastChannel = false;
        this.#channel = undefined;
      }
    }
    try {
      // A nonce makes every message a change, so repeated messages still fire `storage`.
      localStorage.setItem(NAME, JSON.stringify({ ...data, nonce: Math.random() }));
      localStorage.removeItem(NAME);
    } catch {
      // No storage either: this tab cannot tell the others; each still re-checks on return.
    }
  }

  /** Listens until `signal` aborts. */
  subscribe(listener: Listener, signal: AbortSignal): void {
    if (signal.aborted) return;
    this.#listeners.add(listener);
    // Storage events too, even with a BroadcastChannel: a tab posts through storage while its
    // channel is closed (during pagehide), and where the channel fails.
    if (!this.#storageListening) {
      this.#storageListening = true;
      window.addEventListener('storage', this.#onStorage);
    }
    signal.addEventListener(
      'abort',
      () => {
        this.#listeners.delete(listener);
        if (this.#listeners.size === 0 && this.#storageListening) {
          this.#storageListening = false;
          window.removeEventListener('storage', this.#onStorage);
        }
      },
      { once: true },
    );
  }

  readonly #onStorage = (event: StorageEvent): void => {
    if (event.key !== NAME || event.newValue === null) return;
    try {
      this.#deliver(JSON.parse(event.newValue));
    } catch {
      // Not ours, or damaged: ignore.
    }
  };

  #deliver(data: unknown): void {
    const message = parseTabMessage(data);
    if (!message) return;
    for (const listener of [...this.#listeners]) listener(message);
  }
}

let shared: TabChannel | undefined;

/** The page-wide channel every guard and the outbox share. */
export function tabChannel(): TabChannel {
  shared ??= new TabChannel();
  return shared;
}
