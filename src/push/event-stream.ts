/**
 * Follows `GET {proxy}/events` over `fetch` (an `EventSource` cannot send the
 * guard header), for as long as its scope lasts. A dropped stream is resumed
 * with `Last-Event-ID`, so nothing sent meanwhile is lost; failures back off
 * with jitter and honour `Retry-After`; a stream silent for longer than three
 * of the proxy's 15 s heartbeats is taken for dead and reconnected. 401/403
 * wait long (the user may sign in again) and end nothing; a 404 means the
 * proxy has no stream: it is reported once, and the stream stops.
 */
import { parseRetryAfter, retryDelay } from '../shared/backoff.js';
import { GUARD_HEADER } from '../shared/konpro-api.js';
import { childScope, sleep } from '../platform/async.js';
import { unwatchedFetch } from '../detection/response-watch.js';
import { EventStreamParser, type StreamEvent } from './event-stream-parser.js';

/** No byte (not even a `: ping`) for this long: the stream is dead. */
const SILENCE_MS = 45_000;
/** A stream open this long was healthy: its end starts the backoff afresh. */
const HEALTHY_MS = 60_000;
/** Added to the backoff after a 401/403. */
const SIGNED_OUT_WAIT_MS = 60_000;

export interface EventStreamOptions {
  /** Where to connect, read at each (re)connect. */
  url(): string;
  /** Where to resume from (the `Last-Event-ID` of the first connection). */
  lastId?: string;
  onEvent(event: StreamEvent): void;
  /** The proxy has no event stream (404). */
  onUnavailable(): void;
}

export interface FollowedStream {
  /** Connects again now (resuming), e.g. with another URL. */
  reconnect(): void;
  /** The last event id: where a follower of the same stream resumes. */
  readonly lastId: string;
}

export function followEventStream(options: EventStreamOptions, signal: AbortSignal): FollowedStream {
  const parser = new EventStreamParser((event) => options.onEvent(event));
  parser.lastId = options.lastId ?? '';
  let failures = 0;
  /** The current connection, or the wait before the next one. */
  let attempt = childScope(signal);

  const connect = async (scope: AbortSignal): Promise<number | undefined> => {
    const headers: Record<string, string> = { [GUARD_HEADER]: '1', Accept: 'text/event-stream' };
    if (parser.lastId) headers['Last-Event-ID'] = parser.lastId;
    let response: Response;
    try {
      response = await unwatchedFetch()(options.url(), {
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        redirect: 'error',
        signal: scope,
      });
    } catch {
      return retryDelay(++failures, undefined);
    }
    const { status, body } = response;
    if (status === 404) {
      void body?.cancel();
      options.onUnavailable();
      return undefined;
    }
    if (status !== 200 || !body || !/^text\/event-stream/i.test(response.headers.get('content-type') ?? '')) {
      void body?.cancel().catch(() => {});
      const wait = retryDelay(++failures, parseRetryAfter(response.headers.get('retry-after')));
      return status === 401 || status === 403 ? wait + SIGNED_OUT_WAIT_MS : wait;
    }
    const opened = Date.now();
    let heard = opened;
    const watchdog = window.setInterval(() => Date.now() - heard > SILENCE_MS && attempt.abort(), SILENCE_MS / 3);
    const reader = body.getReader();
    const decoder = new TextDecoder();
    parser.reset();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || scope.aborted) break;
        heard = Date.now();
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch {
      // Dropped, or aborted: either way, connect again.
    } finally {
      window.clearInterval(watchdog);
      void reader.cancel().catch(() => {});
    }
    failures = Date.now() - opened > HEALTHY_MS ? 1 : failures + 1;
    return retryDelay(failures, undefined);
  };

  void (async () => {
    while (!signal.aborted) {
      const wait = await connect(attempt.signal);
      if (wait === undefined) return;
      // (An attempt aborted by reconnect() or the watchdog skips the wait.)
      if (!attempt.signal.aborted) await sleep(wait, attempt.signal);
      attempt.abort();
      attempt = childScope(signal);
    }
  })();

  return {
    reconnect() {
      failures = 0;
      attempt.abort();
    },
    get lastId() {
      return parser.lastId;
    },
  };
}
