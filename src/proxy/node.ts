/**
 * Runs the Fetch-API proxy on `node:http`, and in Express as middleware.
 * The `Request` built here only carries what the client sent; every
 * security decision is the handler's.
 */
import { errorBody, jsonPayloadOf, jsonResponse, ProxyErrorCode } from './errors.js';
import { nodeRequestBody } from './node-body.js';
import { rememberRawPath } from './request-checks.js';

/**
 * What the adapter uses of a `node:http` `IncomingMessage` (and Express's
 * `req`). Declared structurally so that `konpro-widget-guard/proxy` type-checks
 * without `@types/node`, on any Fetch-API runtime.
 */
export interface NodeRequest {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  socket: object;
  resume(): unknown;
}

/**
 * What the adapter uses of a `node:http` `ServerResponse` (and Express's `res`).
 * The optional members stream an event stream chunk by chunk and notice a
 * client that went away; `ServerResponse` has them all.
 */
export interface NodeResponse {
  statusCode: number;
  readonly headersSent: boolean;
  /** `ServerResponse`: true once the whole answer was handed to the system. */
  readonly writableFinished?: boolean;
  setHeader(name: string, value: string | readonly string[]): unknown;
  end(chunk: Uint8Array): unknown;
  destroy(): unknown;
  write?(chunk: Uint8Array): boolean;
  /** With a flat `[name, value, …]` list: sends the head at once (an event stream's). */
  writeHead?(statusCode: number, headers: Array<string | string[]>): unknown;
  flushHeaders?(): void;
  on?(event: 'close' | 'drain', listener: () => void): unknown;
  off?(event: 'close' | 'drain', listener: () => void): unknown;
}

/** A `node:http` request listener that is also Express middleware. */
export type NodeListener = (req: NodeRequest, res: NodeResponse, next?: (error?: unknown) => void) => void;

/**
 * A Fetch-API handler; with `handles`, requests it does not handle go to `next()` (or get a 404).
 * With `readsBody`, the request body is passed on (the proxy reads none; the back-channel logout endpoint does).
 */
export type FetchHandler = ((request: Request) => Promise<Response>) & {
  handles?(request: Request): boolean;
  readonly readsBody?: boolean;
};

/** The Node request each adapted `Request` came from, for `authorize` in apps whose middleware put the user on `req`. */
const origins = new WeakMap<Request, NodeRequest>();

/**
 * The `node:http` request (e.g. Express's `req`, with what your middleware
 * added, such as `req.session` or `req.user`) that `toNodeListener` or
 * `toFetchRequest` made `request` from. Use it in `authorize`.
 */
export function incomingMessageOf<T extends NodeRequest = NodeRequest>(request: Request): T | undefined {
  return origins.get(request) as T | undefined;
}

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Adapts a handler (such as the one `createWidgetSessionProxy` returns) to
 * `(req, res, next?)`. Request bodies are passed on only to a handler that
 * says it `readsBody` (such as `createBackChannelLogout`'s): the proxy reads none.
 */
export function toNodeListener(handler: FetchHandler): NodeListener {
  return (req, res, next) => {
    // The client going away aborts the Request's signal, so a stream's resources are freed at once.
    // A connection closing after the whole answer went out is not that (and an abort is not free).
    const gone = new AbortController();
    res.on?.('close', () => res.writableFinished !== true && gone.abort());
    // The Request and its Response are dropped once the answer's head is written: an open event stream
    // holds only its body, its socket and what follows the client going away.
    answer(handler, req, gone.signal, next)
      .then((response) => response && send(res, response, gone.signal))
      .catch(async () => {
        // Nothing about the failure reaches the client; the proxy's handler logs its own errors.
        if (res.headersSent) return void res.destroy();
        const failed = jsonResponse(500, errorBody(ProxyErrorCode.InternalError, 'The widget session proxy failed.'));
        await send(res, failed).catch(() => res.destroy());
      });
  };
}

/** The handler's answer to `req`; `undefined` when `next()` took the request instead. */
async function answer(
  handler: FetchHandler,
  req: NodeRequest,
  signal: AbortSignal,
  next: ((error?: unknown) => void) | undefined,
): Promise<Response | undefined> {
  const request = toFetchRequest(req, { body: handler.readsBody === true, signal });
  if (handler.handles && !handler.handles(request)) {
    if (next) return void next();
    return jsonResponse(404, errorBody(ProxyErrorCode.NotFound, 'There is no route here.'));
  }
  if (handler.readsBody !== true) req.resume(); // Drain an unread body so the connection can be reused.
  return handler(request);
}

/**
 * The Fetch-API `Request` for a `node:http` request: method, URL (`https:`
 * only on a TLS socket; the host from `Host` when it is a plain host name,
 * else `localhost`; the path from Express's `originalUrl` when there is one)
 * and headers, without the body. Use it to call
 * `endSessions` from a Node or Express logout route. With `{body: true}` the
 * request body comes too, streamed (or, when a body parser such as
 * `express.urlencoded()` read it first, re-encoded from the form it parsed).
 * `signal`, when given, becomes the Request's signal (abort it when the
 * client goes away).
 */
export function toFetchRequest(req: NodeRequest, options: { body?: boolean; signal?: AbortSignal } = {}): Request {
  const tls = (req.socket as { encrypted?: unknown }).encrypted === true;
  const hostHeader = req.headers.host;
  const host = typeof hostHeader === 'string' && HOST.test(hostHeader) ? hostHeader : 'localhost';
  // Path and query are set apart from the host, so a request target like "//other.example/x" stays a path.
  const url = new URL(`${tls ? 'https' : 'http'}://${host}`);
  // Express strips a mount path from `req.url` and keeps the full target in `originalUrl`.
  const original = 'originalUrl' in req && typeof req.originalUrl === 'string' ? req.originalUrl : undefined;
  const target = original ?? req.url ?? '/';
  const path = target.startsWith('/')
    ? target
    : URL.canParse(target)
      ? new URL(target).pathname + new URL(target).search
      : '/';
  const query = path.indexOf('?');
  url.pathname = query < 0 ? path : path.slice(0, query);
  url.search = query < 0 ? '' : path.slice(query);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  const method = req.method ?? 'GET';
  const body = options.body === true && method !== 'GET' && method !== 'HEAD' ? nodeRequestBody(req) : undefined;
  // `duplex` (not yet in TypeScript's RequestInit) is what Fetch requires of a streamed request body.
  const init = {
    method,
    headers,
    ...(body === undefined ? {} : { body, duplex: 'half' }),
    ...(options.signal ? { signal: options.signal } : {}),
  } as RequestInit;
  const request = new Request(url, init);
  origins.set(request, req);
  // Setting the path above normalised it; the proxy refuses a target that needed normalising.
  const rawPath = target.startsWith('/') ? target : target.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/, '');
  rememberRawPath(request, rawPath.split('?')[0] ?? '');
  return request;
}

function send(res: NodeResponse, response: Response, gone?: AbortSignal): Promise<void> {
  const isStream = /^text\/event-stream\b/i.test(response.headers.get('content-type') ?? '');
  if (!isStream || !response.body || !res.write || !gone) {
    // Every other answer of the proxy is a small JSON body: sent whole, with its length
    // (the bytes the proxy made, when it made them: not read back through the body stream).
    setHead(res, response);
    const payload = jsonPayloadOf(response);
    if (payload) return Promise.resolve(void res.end(payload));
    return response.arrayBuffer().then((body) => void res.end(new Uint8Array(body)));
  }
  if (res.writeHead) {
    // Written at once, and not also kept as header entries for the life of the stream.
    const head: Array<string | string[]> = [];
    for (const [name, value] of response.headers) if (name !== 'set-cookie') head.push(name, value);
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) head.push('set-cookie', cookies);
    res.writeHead(response.status, head);
  } else {
    setHead(res, response);
  }
  return stream(res, response.body, gone, res.write.bind(res));
}

function setHead(res: NodeResponse, response: Response): void {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) if (name !== 'set-cookie') res.setHeader(name, value);
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
}

/**
 * Writes an event stream as it comes, each chunk flushed, until it ends or the
 * client goes away. Callbacks, not an async loop: an idle stream is one pending
 * read, not a suspended frame per caller.
 */
function stream(
  res: NodeResponse,
  body: ReadableStream<Uint8Array>,
  gone: AbortSignal,
  write: (chunk: Uint8Array) => boolean,
): Promise<void> {
  const reader = body.getReader();
  const stop = () => void reader.cancel().catch(() => undefined);
  if (gone.aborted) stop();
  gone.addEventListener('abort', stop, { once: true });
  res.flushHeaders?.();
  return new Promise<void>((resolve, reject) => {
    const finish = () => {
      gone.removeEventListener('abort', stop);
      if (!gone.aborted) res.end(new Uint8Array(0));
      resolve();
    };
    const fail = (error: unknown) => {
      gone.removeEventListener('abort', stop);
      reject(error instanceof Error ? error : new Error('the event stream failed'));
    };
    const pump = (): void => void reader.read().then(onChunk, fail);
    const onChunk = ({ done, value }: ReadableStreamReadResult<Uint8Array>): void => {
      if (done || gone.aborted) return finish();
      try {
        const flowing = write(value);
        // Compression middleware (Express `compression`) holds chunks back until told to flush.
        (res as { flush?: () => void }).flush?.();
        if (flowing) pump();
        else drained(res, gone, pump);
      } catch (error) {
        fail(error);
      }
    };
    pump();
  });
}

/** Calls `resume` once `res` drained, or the client went away. */
function drained(res: NodeResponse, gone: AbortSignal, resume: () => void): void {
  if (!res.on) return resume();
  const done = () => {
    res.off?.('drain', done);
    gone.removeEventListener('abort', done);
    resume();
  };
  res.on('drain', done);
  gone.addEventListener('abort', done, { once: true });
}
