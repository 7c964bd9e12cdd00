/**
 * The calls the simulator received on the documented session API
 * (`/v1/widget/sessions...`), oldest first, with the status each got. It is
 * what a vendor's dashboard would show, and what lets an end-to-end test say
 * "exactly one DELETE reached the vendor". Widget runtime polls are left out:
 * they are the widget's, not the customer backend's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeSegment } from './http.js';
import { SESSIONS_PATH } from './vendor-api.js';

export interface LoggedRequest {
  /** When the request arrived (simulator clock), ISO 8601. */
  at: string;
  method: string;
  /** Path below the mount, e.g. `/v1/widget/sessions/ws_...`. */
  path: string;
  /** The session the path names, `null` for the collection. */
  session_id: string | null;
  /** Status sent; `0` when no answer was sent (offline fault, connection lost). */
  status: number;
}

export class RequestLog {
  readonly #entries: LoggedRequest[] = [];

  constructor(
    private readonly now: () => number = Date.now,
    /** Oldest entries are dropped past this many. */
    private readonly limit = 1000,
  ) {}

  /** Whether `path` (below the mount) is a call the log keeps. */
  static covers(path: string): boolean {
    return path === SESSIONS_PATH || path.startsWith(`${SESSIONS_PATH}/`);
  }

  /** Records a request now; its status is filled in when the answer has gone out (or the connection closed). */
  record(req: IncomingMessage, res: ServerResponse, path: string): void {
    const rest = path.slice(SESSIONS_PATH.length + 1);
    const entry: LoggedRequest = {
      at: new Date(this.now()).toISOString(),
      method: req.method ?? 'GET',
      path,
      session_id: rest === '' ? null : (decodeSegment(rest) ?? rest),
      status: 0,
    };
    this.#entries.push(entry);
    if (this.#entries.length > this.limit) this.#entries.shift();
    res.once('finish', () => (entry.status = res.statusCode));
  }

  /** Copies, oldest first, optionally only one method and/or one session. */
  list(filter: { method?: string; sessionId?: string } = {}): LoggedRequest[] {
    return this.#entries
      .filter(
        (e) =>
          (filter.method === undefined || e.method === filter.method.toUpperCase()) &&
          (filter.sessionId === undefined || e.session_id === filter.sessionId),
      )
      .map((e) => ({ ...e }));
  }

  clear(): void {
    this.#entries.length = 0;
  }
}
