/**
 * The demo's HTTP plumbing on `node:http`: JSON answers, request bodies with
 * a size limit, URL paths. Used by the demo server, the demo site and the
 * vendor simulator alike (none of it is the vendor's or the library's).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Headers = Record<string, string | number>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Why a request body could not be read as JSON. */
export class BodyError extends Error {
  constructor(
    readonly reason: 'too-large' | 'malformed',
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

export const MAX_BODY_BYTES = 64 * 1024;

/** The raw body, refused past `limit` bytes (the rest is drained, so the connection stays usable). */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) tooLarge = true;
    else chunks.push(chunk);
  }
  if (tooLarge) throw new BodyError('too-large', `Request body exceeds ${limit} bytes`);
  return Buffer.concat(chunks);
}

/** The body parsed as JSON; an empty body is `undefined`. */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const text = (await readBody(req, limit)).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BodyError('malformed', 'Request body is not valid JSON');
  }
}

/** Drains a body the route does not use (DELETE with `Content-Type: application/json`, as the docs send it). */
export async function discardBody(req: IncomingMessage): Promise<void> {
  for await (const _chunk of req as AsyncIterable<Buffer>) {
    // Nothing to keep: reading is what lets the next request on this connection through.
  }
}

/** The path of a request URL, undecoded, and its query. Never resolves `//host` forms as URLs do. */
export function splitUrl(url: string | undefined): { path: string; query: URLSearchParams } {
  const raw = url ?? '/';
  const at = raw.indexOf('?');
  return at < 0
    ? { path: raw, query: new URLSearchParams() }
    : { path: raw.slice(0, at), query: new URLSearchParams(raw.slice(at + 1)) };
}

/** One path segment, percent-decoded; `undefined` when the escape is malformed. */
export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
