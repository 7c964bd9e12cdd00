/**
 * `GET {proxy}/events`: Server-Sent Events of the signed-in user's ended
 * sessions. One `store.follow` per proxy instance fans out to this
 * instance's open streams by user id, so a thousand streams cost one store
 * subscription and a few hundred bytes each.
 *
 * Resuming with `Last-Event-ID` loses nothing and repeats nothing: a new
 * stream is attached to the fan-out (buffering) before the feed history is
 * read, then history and buffer are written in feed order, each entry once.
 * Then an `id:` alone (no event) tells the client where the feed stands, so
 * that a stream dropped before its first event still resumes without loss.
 */
import { compareFeedIds, type EndedEvent } from '../store/store.js';
import { errorBody, jsonResponse, ProxyErrorCode } from '../errors.js';
import type { GuardedStore } from './guarded-store.js';
import type { Scheduler } from './scheduler.js';

/** Most feed entries a resuming stream replays (the memory store keeps 10 000). */
const MAX_REPLAY = 10_000;
const REPLAY_PAGE = 1_000;
/** A client this many chunks behind is not reading: drop it, and it resumes from its last id. */
const MAX_UNREAD_CHUNKS = 256;
/** Sessions per touch call. */
const TOUCH_BATCH = 500;
/**
 * Before this instance has seen a feed entry, a new stream's resume point is the clock, this much back:
 * the store's ids follow its own clock (Redis's), and a resume repeats an event rather than lose one.
 */
const ANCHOR_SLACK_MS = 5_000;

const encoder = new TextEncoder();
const PING = encoder.encode(': ping\n\n');
const OPENED = encoder.encode(': connected\n\n');

export interface EventStreamsOptions {
  store: GuardedStore;
  scheduler: Scheduler;
  /** How often each stream gets a `: ping` comment and its sessions are touched. */
  heartbeatMs: number;
  /** Hears every feed entry this instance follows (an end made on any instance): e.g. to forget cached status. */
  ended: (sessionId: string) => void;
}

/** One open stream: who it is for, which sessions it reports, and where it is in the feed. */
class Stream {
  readonly userId: string;
  /** The sessions it reports that are the user's (checked against the registry at connect). */
  readonly sessions: Set<string>;
  controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** Feed id of the last entry written: nothing at or before it is written again. */
  lastId: string | undefined;
  /** Entries that arrived while the history was being read; `undefined` once live. */
  pending: EndedEvent[] | undefined = [];
  closed = false;

  constructor(userId: string, sessions: Set<string>, lastId: string | undefined) {
    this.userId = userId;
    this.sessions = sessions;
    this.lastId = lastId;
  }
}

export class EventStreams {
  readonly #options: EventStreamsOptions;
  readonly #byUser = new Map<string, Set<Stream>>();
  /** sessionId → how many of this instance's streams report it. */
  readonly #pages = new Map<string, number>();
  readonly #follow = new AbortController();
  #following: Promise<boolean> | undefined;
  #heartbeat = false;
  #count = 0;
  /** The newest feed id this instance has seen. */
  #head: string | undefined;

  constructor(options: EventStreamsOptions) {
    this.#options = options;
  }

  /** Open streams on this instance. */
  get size(): number {
    return this.#count;
  }

  /** How many of this instance's streams report `sessionId`. */
  pagesOf(sessionId: string): number {
    return this.#pages.get(sessionId) ?? 0;
  }

  /**
   * The stream for `userId`, reporting those of `sessionIds` the registry
   * knows as the user's; resumes after `lastEventId` when given. Answers 503
   * when the store cannot follow the feed now (the guard retries later).
   */
  async open(request: Request, userId: string, sessionIds: readonly string[], lastEventId?: string): Promise<Response> {
    if (this.#options.scheduler.closed) return unavailable('The proxy is shutting down.');
    const stream = new Stream(userId, new Set(), lastEventId);
    this.#attach(stream);
    const ready = await this.#prepare(stream, sessionIds, lastEventId);
    if (!ready || request.signal.aborted) {
      this.#detach(stream);
      return unavailable('The session store does not answer; status checks go on.');
    }
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          stream.controller = controller;
          controller.enqueue(OPENED);
          for (const entry of ready.history) this.#write(stream, entry);
          const pending = stream.pending ?? [];
          stream.pending = undefined;
          for (const entry of pending) this.#write(stream, entry);
          const anchor = this.#head ?? (lastEventId === undefined ? `${Date.now() - ANCHOR_SLACK_MS}-0` : undefined);
          if (anchor !== undefined && (stream.lastId === undefined || compareFeedIds(anchor, stream.lastId) > 0))
            controller.enqueue(encoder.encode(`id: ${anchor}\n\n`));
        },
        cancel: () => this.#leave(stream),
      },
      { highWaterMark: 0 },
    );
    request.signal.addEventListener('abort', () => this.#leave(stream), { once: true });
    for (const sessionId of ready.sessions) {
      stream.sessions.add(sessionId);
      this.#pages.set(sessionId, this.pagesOf(sessionId) + 1);
    }
    await this.#touch([...stream.sessions]);
    this.#startHeartbeat();
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      },
    });
  }

  /** Ends every open stream and the feed subscription. */
  close(): void {
    this.#follow.abort();
    for (const streams of [...this.#byUser.values()]) for (const stream of [...streams]) this.#detach(stream);
  }

  /** Follows the feed (once), checks the reported sessions, and reads what a resuming stream missed. */
  async #prepare(
    stream: Stream,
    sessionIds: readonly string[],
    lastEventId: string | undefined,
  ): Promise<{ sessions: string[]; history: EndedEvent[] } | undefined> {
    if (!(await this.#ensureFollowing())) return undefined;
    const { store } = this.#options;
    let sessions: string[] = [];
    if (sessionIds.length > 0) {
      const own = await store.attempt((s) => s.list({ userId: stream.userId }));
      if (!own.ok) return undefined;
      const ids = new Set(own.value.map((session) => session.sessionId));
      sessions = sessionIds.filter((id) => ids.has(id));
    }
    const history: EndedEvent[] = [];
    if (lastEventId !== undefined) {
      let after = lastEventId;
      for (let read = 0; read < MAX_REPLAY; read += REPLAY_PAGE) {
        const page = await store.attempt((s) => s.readFeed(after, REPLAY_PAGE));
        if (!page.ok) return undefined;
        for (const entry of page.value) if (entry.userId === stream.userId) history.push(entry);
        if (page.value.length < REPLAY_PAGE) break;
        after = page.value[page.value.length - 1].id;
      }
    }
    return { sessions, history };
  }

  #ensureFollowing(): Promise<boolean> {
    this.#following ??= this.#options.store
      .attempt((s) => s.follow((entry) => this.#deliver(entry), this.#follow.signal))
      .then((followed) => {
        // A store that could not follow now may later: the next stream tries again.
        if (!followed.ok) this.#following = undefined;
        return followed.ok;
      });
    return this.#following;
  }

  #deliver(entry: EndedEvent): void {
    this.#options.ended(entry.sessionId);
    this.#head = entry.id;
    const streams = this.#byUser.get(entry.userId);
    if (!streams) return;
    for (const stream of streams) {
      if (stream.pending) stream.pending.push(entry);
      else this.#write(stream, entry);
    }
  }

  #write(stream: Stream, entry: EndedEvent): void {
    if (stream.lastId !== undefined && compareFeedIds(entry.id, stream.lastId) <= 0) return;
    stream.lastId = entry.id;
    const data = JSON.stringify({ session_id: entry.sessionId, reason: entry.reason });
    this.#enqueue(stream, encoder.encode(`id: ${entry.id}\nevent: ended\ndata: ${data}\n\n`));
    // An ended session is no longer shown by this stream's pages.
    if (stream.sessions.delete(entry.sessionId)) this.#unpage(entry.sessionId);
  }

  #enqueue(stream: Stream, chunk: Uint8Array): void {
    const { controller } = stream;
    if (!controller || stream.closed) return;
    if ((controller.desiredSize ?? 0) < -MAX_UNREAD_CHUNKS) return this.#leave(stream);
    try {
      controller.enqueue(chunk);
    } catch {
      this.#leave(stream);
    }
  }

  #attach(stream: Stream): void {
    let streams = this.#byUser.get(stream.userId);
    if (!streams) this.#byUser.set(stream.userId, (streams = new Set()));
    streams.add(stream);
    this.#count++;
  }

  /** A client went away: the sessions it reported are seen now, by one page fewer. */
  #leave(stream: Stream): void {
    if (stream.closed) return;
    const sessions = [...stream.sessions];
    this.#detach(stream);
    void this.#touch(sessions, true);
  }

  #detach(stream: Stream): void {
    if (stream.closed) return;
    stream.closed = true;
    this.#count--;
    const streams = this.#byUser.get(stream.userId);
    streams?.delete(stream);
    if (streams?.size === 0) this.#byUser.delete(stream.userId);
    for (const sessionId of stream.sessions) this.#unpage(sessionId);
    stream.sessions.clear();
    stream.pending = undefined;
    try {
      stream.controller?.close();
    } catch {
      // Already closed or cancelled by the client.
    }
    stream.controller = undefined;
  }

  #unpage(sessionId: string): void {
    const pages = this.pagesOf(sessionId) - 1;
    if (pages > 0) this.#pages.set(sessionId, pages);
    else this.#pages.delete(sessionId);
  }

  #startHeartbeat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = true;
    this.#options.scheduler.every(this.#options.heartbeatMs, async () => {
      for (const streams of this.#byUser.values()) for (const stream of streams) this.#enqueue(stream, PING);
      await this.#touch([...this.#pages.keys()]);
    });
  }

  /**
   * Tells the registry these sessions are shown now, each with how many of this instance's streams
   * report it; sessions no stream reports any more are left out unless `includeUnshown`.
   */
  async #touch(sessionIds: readonly string[], includeUnshown = false): Promise<void> {
    if (sessionIds.length === 0) return;
    const byPages = new Map<number, string[]>();
    for (const sessionId of sessionIds) {
      const pages = this.pagesOf(sessionId);
      if (pages === 0 && !includeUnshown) continue;
      let ids = byPages.get(pages);
      if (!ids) byPages.set(pages, (ids = []));
      ids.push(sessionId);
    }
    const at = Date.now();
    for (const [pages, ids] of byPages) {
      for (let i = 0; i < ids.length; i += TOUCH_BATCH) {
        const batch = ids.slice(i, i + TOUCH_BATCH);
        await this.#options.store.attempt((s) => s.touch(batch, at, pages));
      }
    }
  }
}

function unavailable(message: string): Response {
  return jsonResponse(503, errorBody(ProxyErrorCode.ServiceUnavailable, message), { 'retry-after': '5' });
}
