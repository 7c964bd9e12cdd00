// A fake Konpro widget-session API on loopback: a real node:http server that
// behaves like the documented vendor, records every request, and can be told
// to answer anything else for the next requests.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const API_KEY = 'kp_live_TEST-7f3c9a1e5b2d4f60a8c1-never-leak';

export interface VendorRequest {
  method: string;
  /** The request target exactly as received (path and query). */
  url: string;
  apiKey: string | undefined;
  body: string;
}

export type Reply = (res: ServerResponse, request: VendorRequest) => void;

interface StoredSession {
  session_id: string;
  agentic_avatar_id: string;
  status: string;
  created_at: string;
  expires_at: string;
}

export const reply = {
  json:
    (status: number, body: unknown, headers: Record<string, string> = {}): Reply =>
    (res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    },
  text:
    (status: number, text: string, type = 'text/html'): Reply =>
    (res) => {
      res.writeHead(status, { 'content-type': type });
      res.end(text);
    },
  error:
    (
      status: number,
      code: string,
      message = code,
      headers: Record<string, string> = {},
      requestId = `vendor-req-${status}`,
    ): Reply =>
    (res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify({ error: { code, message }, request_id: requestId }));
    },
  /** Never answers (the socket stays open until the server closes). */
  hang: (): Reply => () => undefined,
  /** Sends headers, then stalls in the middle of the body. */
  stallBody: (): Reply => (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"session_id":');
  },
  redirect:
    (location: string, status = 302): Reply =>
    (res) => {
      res.writeHead(status, { location });
      res.end();
    },
  /** Drops the connection without answering. */
  drop: (): Reply => (res) => res.socket?.destroy(),
};

const defaultId = (n: number) => `sess_${n}`;

export class FakeVendor {
  readonly requests: VendorRequest[] = [];
  readonly sessions = new Map<string, StoredSession>();
  /** How long each answer waits (after the request is recorded): a slow vendor, for races. */
  latencyMs = 0;
  readonly #server: Server;
  readonly #prefix: string;
  readonly #queued: Reply[] = [];
  #next = 1;
  /** The id of the n-th session created (reset to `sess_{n}` between tests). */
  idOf: (n: number) => string = defaultId;

  /** A fake vendor whose API lives under `{prefix}/v1/widget/sessions`, once it {@link listen}s. */
  constructor(prefix = '') {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#prefix = prefix;
  }

  /** Listens on 127.0.0.1, on a free port. */
  async listen(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  get baseUrl(): string {
    return `${this.origin}${this.#prefix}`;
  }

  /** Answers the next requests with these replies, in order, instead of the documented behaviour. */
  queue(...replies: Reply[]): void {
    this.#queued.push(...replies);
  }

  /** A session that exists on the vendor but was not created through a proxy. */
  addSession(sessionId: string): void {
    this.sessions.set(sessionId, this.#session(sessionId, 3600));
  }

  reset(): void {
    this.requests.length = 0;
    this.#queued.length = 0;
    this.latencyMs = 0;
    this.sessions.clear();
    this.idOf = defaultId;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const header = req.headers['x-api-key'];
    const request: VendorRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      apiKey: Array.isArray(header) ? header.join(',') : header,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.requests.push(request);
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const queued = this.#queued.shift();
    if (queued) return queued(res, request);
    this.#documented(res, request);
  }

  /** The vendor as documented. */
  #documented(res: ServerResponse, request: VendorRequest): void {
    if (request.apiKey !== API_KEY) return reply.error(401, 'INVALID_API_KEY', 'The API key is invalid')(res, request);
    const collection = `${this.#prefix}/v1/widget/sessions`;
    if (request.url === collection && request.method === 'POST') {
      const { settings } = JSON.parse(request.body) as { settings: { max_duration: number } };
      const session = this.#session(this.idOf(this.#next++), settings.max_duration);
      this.sessions.set(session.session_id, session);
      return reply.json(201, session)(res, request);
    }
    const id = request.url.startsWith(`${collection}/`) ? request.url.slice(collection.length + 1) : undefined;
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session) return reply.error(404, 'RESOURCE_NOT_FOUND', 'Session not found')(res, request);
    if (request.method === 'GET') return reply.json(200, session)(res, request);
    if (request.method === 'DELETE') {
      this.sessions.delete(session.session_id);
      return reply.json(200, { message: 'Session terminated successfully', session_id: session.session_id })(
        res,
        request,
      );
    }
    reply.error(400, 'INVALID_REQUEST')(res, request);
  }

  #session(sessionId: string, maxDuration: number): StoredSession {
    const now = Date.now();
    return {
      session_id: sessionId,
      agentic_avatar_id: 'avatar-1',
      status: 'active',
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + maxDuration * 1000).toISOString(),
    };
  }
}
