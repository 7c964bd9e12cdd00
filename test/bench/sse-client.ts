/**
 * A lean event-stream client for the bench: `GET {proxy}/events` over
 * `node:http` (one connection each, as each browser's stream is), with the
 * headers the guard sends, Server-Sent Events parsed as they arrive, and a
 * callback per event, so a thousand idle streams cost the measuring process
 * little and an event is timed the moment its block is parsed.
 */
import { request, type ClientRequest } from 'node:http';
import { BASE_PATH, SITE } from '../proxy/support/harness.js';

export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

export interface SseOptions {
  /** The signed-in user (the bench proxies read it from the `site_user` cookie). */
  user: string;
  /** Binding cookies (`name=value`). */
  cookies?: readonly string[];
  /** The sessions this browser shows (`?session=`). */
  sessions?: readonly string[];
}

export interface SseStream {
  /** Resolves with the status once the proxy's `: connected` comment arrived (or the refusal's status). */
  opened: Promise<number>;
  events: SseEvent[];
  /** Called with each event as soon as it is parsed. */
  onEvent: ((event: SseEvent) => void) | undefined;
  /** Resolves when the connection ends, either side. */
  closed: Promise<void>;
  close(): void;
}

export function openSse(origin: string, options: SseOptions): SseStream {
  const query = new URLSearchParams((options.sessions ?? []).map((id) => ['session', id]));
  const cookies = [`site_user=${options.user}`, ...(options.cookies ?? [])];
  let resolveOpened: (status: number) => void = () => undefined;
  let resolveClosed: () => void = () => undefined;
  const stream: SseStream = {
    opened: new Promise((resolve) => (resolveOpened = resolve)),
    events: [],
    onEvent: undefined,
    closed: new Promise((resolve) => (resolveClosed = resolve)),
    close: () => req.destroy(),
  };
  const req: ClientRequest = request(
    `${origin}${BASE_PATH}/events${query.size > 0 ? `?${query}` : ''}`,
    {
      agent: false,
      headers: {
        accept: 'text/event-stream',
        'x-konpro-guard': '1',
        origin: SITE,
        'sec-fetch-site': 'same-origin',
        cookie: cookies.join('; '),
      },
    },
    (res) => {
      if (res.statusCode !== 200) {
        resolveOpened(res.statusCode ?? 0);
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (text: string) => {
        buffer += text;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(': connected')) resolveOpened(200);
          const event = parseBlock(block);
          if (event) {
            stream.events.push(event);
            stream.onEvent?.(event);
          }
        }
      });
    },
  );
  req.on('error', () => resolveOpened(0));
  req.on('close', () => {
    resolveOpened(0);
    resolveClosed();
  });
  req.end();
  return stream;
}

function parseBlock(block: string): SseEvent | undefined {
  const event: SseEvent = {};
  let fields = 0;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'id' || name === 'event' || name === 'data') {
      event[name] = value;
      fields++;
    }
  }
  return fields > 0 ? event : undefined;
}

/** The headers of a guard's request from a page of the site (the bench proxies read the user from `site_user`). */
export function guardHeaders(user: string, cookies: readonly string[] = []): Record<string, string> {
  return {
    'x-konpro-guard': '1',
    origin: SITE,
    'sec-fetch-site': 'same-origin',
    accept: 'application/json',
    cookie: [`site_user=${user}`, ...cookies].join('; '),
  };
}

export interface CreatedSession {
  user: string;
  sessionId: string;
  /** The binding cookie (`name=value`). */
  cookie: string;
}

/** `POST {proxy}` as `user`'s page does. */
export async function createSession(origin: string, user: string): Promise<CreatedSession> {
  const created = await fetch(`${origin}${BASE_PATH}`, { method: 'POST', headers: guardHeaders(user) });
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${await created.text()}`);
  const { session_id: sessionId } = (await created.json()) as { session_id: string };
  return { user, sessionId, cookie: created.headers.getSetCookie()[0].split(';')[0] };
}

/** `GET {proxy}/{id}`, the guard's status check: whether the proxy still says `active`. */
export async function checkStatus(
  origin: string,
  session: CreatedSession,
): Promise<{ active: boolean; status: number }> {
  const answer = await fetch(`${origin}${BASE_PATH}/${session.sessionId}`, {
    headers: guardHeaders(session.user, [session.cookie]),
  });
  const body = (await answer.json()) as { status?: string };
  return { status: answer.status, active: answer.status === 200 && body.status === 'active' };
}

/** Runs `work` over `items`, at most `limit` at a time. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
