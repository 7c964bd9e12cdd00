// The proxy behind a real node:http server, and an event-stream client that reads GET {proxy}/events
// as the browser's stream client does (fetch with the guard header, Server-Sent Events parsed by hand).
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { toNodeListener, type WidgetSessionProxy } from '../../../src/proxy/index.js';
import { BASE_PATH, remember, SITE } from './harness.js';

export interface Served {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves `listener` (default: the proxy through toNodeListener) on 127.0.0.1. */
export async function serve(proxyOrListener: WidgetSessionProxy | RequestListener): Promise<Served> {
  const listener =
    'endSessions' in proxyOrListener ? (toNodeListener(proxyOrListener) as RequestListener) : proxyOrListener;
  const server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

export interface StreamOptions {
  user?: string;
  /** Binding cookies (`name=value`) of the browser. */
  cookies?: readonly string[];
  sessions?: readonly string[];
  lastEventId?: string;
  origin?: string | null;
  guardHeader?: string | null;
  accept?: string;
}

export interface OpenStream {
  status: number;
  headers: Headers;
  /** The body of a refused request. */
  text: string;
  /** Dispatched events (blocks with data), as a browser's parser dispatches them. */
  events: SseEvent[];
  /** The id a reconnect would send as `Last-Event-ID` (an `id:` without data sets it too). */
  lastId: string | undefined;
  /** `: ...` comment lines seen. */
  comments: string[];
  /** Resolves once `count` events in all have arrived; rejects after `timeoutMs`. */
  waitForEvents(count: number, timeoutMs?: number): Promise<SseEvent[]>;
  /** Resolves once `count` comments in all have arrived. */
  waitForComments(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** Drops the connection, as a closed tab does. */
  close(): void;
}

/** Opens `GET {url}{BASE_PATH}/events` as the guard's stream client does. */
export async function openStream(url: string, options: StreamOptions = {}): Promise<OpenStream> {
  const headers = new Headers({ accept: options.accept ?? 'text/event-stream', 'sec-fetch-site': 'same-origin' });
  if (options.guardHeader !== null) headers.set('x-konpro-guard', options.guardHeader ?? '1');
  if (options.origin !== null) headers.set('origin', options.origin ?? SITE);
  const cookies = [...(options.user ? [`site_user=${options.user}`] : []), ...(options.cookies ?? [])];
  if (cookies.length > 0) headers.set('cookie', cookies.join('; '));
  if (options.lastEventId !== undefined) headers.set('last-event-id', options.lastEventId);
  const query = new URLSearchParams((options.sessions ?? []).map((id) => ['session', id]));
  const controller = new AbortController();
  const response = await fetch(`${url}${BASE_PATH}/events${query.size > 0 ? `?${query}` : ''}`, {
    headers,
    signal: controller.signal,
  });
  const stream: OpenStream = {
    status: response.status,
    headers: response.headers,
    text: '',
    events: [],
    lastId: undefined,
    comments: [],
    waitForEvents: async (count, timeoutMs = 2_000) => {
      await until(() => stream.events.length >= count, timeoutMs, `${count} events (got ${stream.events.length})`);
      return stream.events;
    },
    waitForComments: (count, timeoutMs = 2_000) =>
      until(() => stream.comments.length >= count, timeoutMs, `${count} comments (got ${stream.comments.length})`),
    ended: Promise.resolve(),
    close: () => controller.abort(),
  };
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    stream.text = await response.text();
    remember(stream.text);
    return stream;
  }
  stream.ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      const reader = response.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        remember(buffer);
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          parseBlock(buffer.slice(0, end), stream);
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // Aborted by close().
    }
  })();
  return stream;
}

function parseBlock(block: string, stream: OpenStream): void {
  const event: SseEvent = {};
  let fields = 0;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      stream.comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'id' || name === 'event' || name === 'data') {
      event[name] = value;
      fields++;
    }
  }
  if (event.id !== undefined) stream.lastId = event.id;
  // As in a browser: a block without data is no event (an `id:` alone only moves the resume point).
  if (fields > 0 && event.data !== undefined) stream.events.push(event);
}

export async function until(condition: () => boolean, timeoutMs = 2_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}
