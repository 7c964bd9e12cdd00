/**
 * The routes the vendor's widget itself calls, `{mount}/v1/widget/runtime/*`,
 * authenticated by the session token alone (`Authorization: Bearer
 * <session_id>`): no API key ever reaches a browser. Once the session is
 * deleted or expired every call answers 401 `SESSION_TERMINATED` /
 * `SESSION_EXPIRED`, which is the "session terminated" error a guard detects.
 *
 * Widgets run on any site (the embed) or origin (the iframe), so these
 * routes answer CORS for any origin; they carry no cookies, only the bearer
 * token, so that exposes nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRecord, isSessionId } from './schema.js';
import type { SimulatorErrorCode } from './http.js';
import { BodyError, discardBody, newRequestId, randomToken, readJsonBody, sendError, sendJson } from './http.js';
import { avatarName, greeting, replyTo } from './replies.js';
import type { SessionRecord, SessionStore } from './sessions.js';

export const RUNTIME_PATH = '/v1/widget/runtime';
export const MAX_MESSAGE_LENGTH = 1_000;

/** `GET {mount}/v1/widget/runtime/session` */
export interface RuntimeSession {
  session_id: string;
  agentic_avatar_id: string;
  status: 'active';
  expires_at: string;
  /** Lets the widget count down with the server's clock, not a skewed local one. */
  server_time: string;
  avatar: { name: string; greeting: string };
}

/** `POST {mount}/v1/widget/runtime/messages` */
export interface RuntimeReply {
  message_id: string;
  reply: string;
  created_at: string;
}

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type',
  'Access-Control-Expose-Headers': 'x-request-id',
  'Access-Control-Max-Age': '600',
};

export interface RuntimeApiContext {
  store: SessionStore;
}

export async function handleRuntimeApi(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  ctx: RuntimeApiContext,
): Promise<void> {
  const method = req.method ?? 'GET';
  if (method === 'OPTIONS') {
    await discardBody(req);
    res.writeHead(204, { ...CORS_HEADERS, 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  const requestId = newRequestId();
  const fail = (
    code: SimulatorErrorCode,
    message: string,
    details?: unknown,
    headers: Record<string, string> = {},
  ): void => sendError(res, code, message, { requestId, details, headers: { ...CORS_HEADERS, ...headers } });
  const ok = (body: unknown): void => sendJson(res, 200, body, { ...CORS_HEADERS, 'x-request-id': requestId });

  const route =
    path === `${RUNTIME_PATH}/session` && method === 'GET'
      ? 'session'
      : path === `${RUNTIME_PATH}/messages` && method === 'POST'
        ? 'messages'
        : null;
  if (route === null) {
    await discardBody(req);
    return fail('RESOURCE_NOT_FOUND', `No endpoint ${method} ${path}`);
  }

  let body: unknown;
  try {
    if (route === 'messages') body = await readJsonBody(req);
    else await discardBody(req);
  } catch (error) {
    if (error instanceof BodyError) return fail('INVALID_REQUEST', error.message);
    throw error;
  }

  const auth = authenticate(req, ctx.store);
  if ('code' in auth)
    return fail(auth.code, auth.message, auth.details, { 'WWW-Authenticate': 'Bearer realm="konpro-widget"' });
  const { record } = auth;
  const name = avatarName(record.agenticAvatarId, record.settings);

  if (route === 'session') {
    const session: RuntimeSession = {
      session_id: record.id,
      agentic_avatar_id: record.agenticAvatarId,
      status: 'active',
      expires_at: new Date(record.expiresAt).toISOString(),
      server_time: new Date(ctx.store.now()).toISOString(),
      avatar: { name, greeting: greeting(name) },
    };
    return ok(session);
  }

  if (!isRecord(body)) return fail('INVALID_REQUEST', 'Request body must be a JSON object like {"text": "Hello"}');
  const text = typeof body.text === 'string' ? body.text.trim() : '';
  if (text === '' || text.length > MAX_MESSAGE_LENGTH) {
    const message = `text must be a non-empty string of at most ${MAX_MESSAGE_LENGTH} characters`;
    return fail('VALIDATION_ERROR', message, { errors: [{ field: 'text', message }] });
  }
  const now = ctx.store.now();
  const reply: RuntimeReply = {
    message_id: `msg_${randomToken(20)}`,
    reply: replyTo(text, { avatarName: name, msLeft: record.expiresAt - now }),
    created_at: new Date(now).toISOString(),
  };
  return ok(reply);
}

type Authenticated =
  { record: SessionRecord } | { code: SimulatorErrorCode; message: string; details?: { session_id: string } };

function authenticate(req: IncomingMessage, store: SessionStore): Authenticated {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const token = match?.[1];
  if (token === undefined)
    return {
      code: 'INVALID_SESSION_TOKEN',
      message: 'Missing session token. Send it as "Authorization: Bearer <session_id>".',
    };
  if (!isSessionId(token)) return { code: 'INVALID_SESSION_TOKEN', message: 'Malformed session token.' };
  const details = { session_id: token };
  const record = store.get(token);
  if (!record) return { code: 'INVALID_SESSION_TOKEN', message: 'Unknown session token.', details };
  switch (store.endReason(record)) {
    case 'deleted':
      return { code: 'SESSION_TERMINATED', message: 'This widget session has been terminated.', details };
    case 'expired':
      return {
        code: 'SESSION_EXPIRED',
        message: `This widget session expired at ${new Date(record.expiresAt).toISOString()}.`,
        details,
      };
    default:
      return { record };
  }
}
