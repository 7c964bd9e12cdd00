/**
 * JSON routes behind the simulator console, `{mount}/console/api/*`, also
 * used by end-to-end tests:
 *
 * - `GET  sessions`              every session, newest first
 * - `POST sessions`              create one (`{agentic_avatar_id?, max_duration?, account_id?}`)
 * - `POST sessions/{id}/revoke`  delete one, as an admin would
 * - `GET  faults`, `PUT faults`  read / merge the fault settings
 * - `GET  requests`              calls received on the session API (`?method=DELETE&session_id=...`)
 * - `POST reset`                 forget sessions (and the request log) and faults (`{sessions?, faults?}`, both by default)
 *
 * Creating and revoking go through the documented vendor API over HTTP
 * (`POST` / `DELETE /v1/widget/sessions/...`) with the owning account's key,
 * server-side: the console exercises the same path a customer backend does
 * (faults included), and no key ever reaches the browser.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRecord, isSessionId } from './schema.js';
import type { FaultInjector } from './faults.js';
import { FaultPatchError } from './faults.js';
import type { SimulatorErrorCode } from './http.js';
import { BodyError, decodeSegment, discardBody, readJsonBody, sendError, sendJson, splitUrl } from './http.js';
import type { RequestLog } from './request-log.js';
import type { EndReason, SessionStore } from './sessions.js';
import { toVendorSession } from './sessions.js';
import { SESSIONS_PATH } from './vendor-api.js';

export const CONSOLE_API_PATH = '/console/api';

export interface ConsoleApiContext {
  store: SessionStore;
  faults: FaultInjector;
  requests: RequestLog;
  /** API key → account id. */
  accounts: ReadonlyMap<string, string>;
  /** The key sessions are created with unless another account is asked for. */
  apiKey: string;
  mountPath: string;
  /** Where this server reaches its own vendor API; by default the local address of the request's connection. */
  selfUrl?: string;
  widgetUrl(sessionId: string): string;
  defaultAvatarId: string;
}

/** One row of `GET {mount}/console/api/sessions`. */
export interface ConsoleSession {
  session_id: string;
  account_id: string;
  agentic_avatar_id: string;
  status: string;
  ended: EndReason | null;
  created_at: string;
  expires_at: string;
  ended_at: string | null;
  widget_url: string;
}

/** Long enough to outlast the largest injected latency (60 s). */
const UPSTREAM_TIMEOUT_MS = 70_000;

export async function handleConsoleApi(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  ctx: ConsoleApiContext,
): Promise<void> {
  const method = req.method ?? 'GET';
  const route = path.slice(CONSOLE_API_PATH.length);
  const fail = (code: SimulatorErrorCode, message: string, details?: unknown): void =>
    sendError(res, code, message, { details });

  // A form on another site must not be able to revoke sessions or flip faults.
  if (method !== 'GET' && method !== 'HEAD' && isCrossOrigin(req)) {
    await discardBody(req);
    return fail('INSUFFICIENT_PERMISSIONS', 'Cross-origin requests to the console are refused');
  }

  let body: unknown;
  try {
    body = method === 'GET' || method === 'HEAD' ? undefined : await readJsonBody(req);
  } catch (error) {
    if (error instanceof BodyError) return fail('INVALID_REQUEST', error.message);
    throw error;
  }

  if (route === '/sessions' && method === 'GET') {
    return sendJson(res, 200, { server_time: new Date(ctx.store.now()).toISOString(), sessions: listSessions(ctx) });
  }
  if (route === '/sessions' && method === 'POST') return createSession(req, res, body, ctx);
  const revoke = /^\/sessions\/([^/]+)\/revoke$/.exec(route);
  if (revoke && method === 'POST') return revokeSession(req, res, decodeSegment(revoke[1] ?? ''), ctx);
  if (route === '/requests' && method === 'GET') {
    const { query } = splitUrl(req.url);
    const filter = { method: query.get('method') ?? undefined, sessionId: query.get('session_id') ?? undefined };
    return sendJson(res, 200, { requests: ctx.requests.list(filter) });
  }
  if (route === '/faults' && method === 'GET') return sendJson(res, 200, ctx.faults.state);
  if (route === '/faults' && (method === 'PUT' || method === 'PATCH' || method === 'POST')) {
    try {
      return sendJson(res, 200, ctx.faults.update(body ?? {}));
    } catch (error) {
      if (error instanceof FaultPatchError) return fail('VALIDATION_ERROR', error.message, { errors: error.problems });
      throw error;
    }
  }
  if (route === '/reset' && method === 'POST') {
    const what = isRecord(body) ? body : {};
    if (what.sessions !== false) {
      ctx.store.clear();
      ctx.requests.clear();
    }
    if (what.faults !== false) ctx.faults.reset();
    return sendJson(res, 200, { sessions: ctx.store.size, faults: ctx.faults.state });
  }
  return fail('RESOURCE_NOT_FOUND', `No console endpoint ${method} ${path}`);
}

function listSessions(ctx: ConsoleApiContext): ConsoleSession[] {
  return ctx.store.list().map((record) => {
    const endedAt = ctx.store.endedAt(record);
    return {
      ...toVendorSession(ctx.store, record),
      account_id: record.accountId,
      ended: ctx.store.endReason(record),
      ended_at: endedAt === null ? null : new Date(endedAt).toISOString(),
      widget_url: ctx.widgetUrl(record.id),
    };
  });
}

async function createSession(
  req: IncomingMessage,
  res: ServerResponse,
  body: unknown,
  ctx: ConsoleApiContext,
): Promise<void> {
  const options = isRecord(body) ? body : {};
  let apiKey = ctx.apiKey;
  if (options.account_id !== undefined) {
    const key = keyOfAccount(ctx, options.account_id);
    if (key === undefined)
      return sendError(res, 'VALIDATION_ERROR', 'Unknown account_id', { details: { field: 'account_id' } });
    apiKey = key;
  }
  const vendorBody = {
    agentic_avatar_id: options.agentic_avatar_id ?? ctx.defaultAvatarId,
    settings: { max_duration: options.max_duration ?? 3600 },
  };
  const answer = await callVendor(req, ctx, 'POST', SESSIONS_PATH, apiKey, JSON.stringify(vendorBody));
  if (!answer) return sendError(res, 'UPSTREAM_UNREACHABLE', 'The vendor API did not answer (is it offline?)');
  const created = answer.status === 201 && isRecord(answer.body) && isSessionId(answer.body.session_id);
  const result =
    created && isRecord(answer.body)
      ? { ...answer.body, widget_url: ctx.widgetUrl(answer.body.session_id as string) }
      : answer.body;
  return sendJson(res, answer.status, result, answer.requestId ? { 'x-request-id': answer.requestId } : {});
}

async function revokeSession(
  req: IncomingMessage,
  res: ServerResponse,
  sessionId: string | undefined,
  ctx: ConsoleApiContext,
): Promise<void> {
  if (!isSessionId(sessionId))
    return sendError(res, 'INVALID_REQUEST', 'Invalid session id', { details: { field: 'session_id' } });
  const record = ctx.store.get(sessionId);
  if (!record) return sendError(res, 'RESOURCE_NOT_FOUND', 'Session not found', { details: { session_id: sessionId } });
  const apiKey = keyOfAccount(ctx, record.accountId);
  if (apiKey === undefined)
    return sendError(res, 'PROCESSING_ERROR', 'No API key for the account that owns this session');
  const answer = await callVendor(req, ctx, 'DELETE', `${SESSIONS_PATH}/${sessionId}`, apiKey);
  if (!answer) return sendError(res, 'UPSTREAM_UNREACHABLE', 'The vendor API did not answer (is it offline?)');
  // The vendor's own answer, verbatim: the console shows exactly what the documented DELETE said.
  return sendJson(res, answer.status, answer.body, answer.requestId ? { 'x-request-id': answer.requestId } : {});
}

interface VendorAnswer {
  status: number;
  body: unknown;
  requestId: string | null;
}

/** One documented vendor call over real HTTP; `undefined` when no answer came (offline fault, time-out). */
async function callVendor(
  req: IncomingMessage,
  ctx: ConsoleApiContext,
  method: 'POST' | 'DELETE',
  path: string,
  apiKey: string,
  body?: string,
): Promise<VendorAnswer | undefined> {
  try {
    const response = await fetch(`${selfBaseUrl(req, ctx)}${ctx.mountPath}${path}`, {
      method,
      headers: { 'x-api-key': apiKey, 'Content-Type': 'application/json' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      // Not JSON (should not happen): pass the text on as it came.
    }
    return { status: response.status, body: parsed, requestId: response.headers.get('x-request-id') };
  } catch {
    return undefined;
  }
}

/**
 * The server's own address, taken from the connection rather than the
 * `Host` header: a forged `Host` must not send an API key elsewhere.
 */
function selfBaseUrl(req: IncomingMessage, ctx: ConsoleApiContext): string {
  if (ctx.selfUrl) return ctx.selfUrl.replace(/\/+$/, '');
  const address = req.socket.localAddress ?? '127.0.0.1';
  const host = address.includes(':') ? `[${address}]` : address;
  const scheme = 'encrypted' in req.socket ? 'https' : 'http';
  return `${scheme}://${host}:${req.socket.localPort ?? 80}`;
}

function keyOfAccount(ctx: ConsoleApiContext, accountId: unknown): string | undefined {
  for (const [key, account] of ctx.accounts) if (account === accountId) return key;
  return undefined;
}

function isCrossOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return req.headers['sec-fetch-site'] === 'cross-site';
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}
