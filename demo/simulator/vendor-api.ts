/**
 * The documented Konpro widget-session API, `{mount}/v1/widget/sessions`:
 * create, read and delete, each behind `x-api-key`, with the vendor's bodies,
 * statuses and error codes (contract: "The vendor API it guards", and the
 * vendor's own page for DELETE).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRecord, isSessionId, type DeletedSession } from './schema.js';
import type { SimulatorErrorCode } from './http.js';
import { BodyError, decodeSegment, discardBody, newRequestId, readJsonBody, sendError, sendJson } from './http.js';
import type { SessionStore } from './sessions.js';
import { toVendorSession } from './sessions.js';

export const SESSIONS_PATH = '/v1/widget/sessions';

/** `settings.max_duration` in seconds: short ones are allowed so tests and demos can watch a session expire. */
export const MAX_DURATION = { min: 1, max: 86_400, default: 3_600 } as const;

const AVATAR_ID = /^[A-Za-z0-9_-]{1,128}$/;

export interface VendorApiContext {
  store: SessionStore;
  /** API key → account id. A session belongs to the account of the key that created it. */
  accounts: ReadonlyMap<string, string>;
  mountPath: string;
}

export interface FieldError {
  field: string;
  message: string;
}

/** A validated create request. */
export interface CreateRequest {
  agenticAvatarId: string;
  maxDurationSeconds: number;
  settings: Record<string, unknown>;
}

/** Checks a create body field by field, so one answer names every problem. */
export function validateCreateBody(body: Record<string, unknown>): CreateRequest | FieldError[] {
  const errors: FieldError[] = [];
  const avatar = body.agentic_avatar_id;
  if (avatar === undefined) errors.push({ field: 'agentic_avatar_id', message: 'agentic_avatar_id is required' });
  else if (typeof avatar !== 'string' || !AVATAR_ID.test(avatar)) {
    errors.push({
      field: 'agentic_avatar_id',
      message: 'agentic_avatar_id must be 1-128 characters of A-Z, a-z, 0-9, "_" and "-"',
    });
  }
  let settings: Record<string, unknown> = {};
  if (body.settings !== undefined) {
    if (isRecord(body.settings)) settings = body.settings;
    else errors.push({ field: 'settings', message: 'settings must be an object' });
  }
  const duration = 'max_duration' in settings ? settings.max_duration : MAX_DURATION.default;
  if (
    !Number.isInteger(duration) ||
    (duration as number) < MAX_DURATION.min ||
    (duration as number) > MAX_DURATION.max
  ) {
    errors.push({
      field: 'settings.max_duration',
      message: `settings.max_duration must be an integer number of seconds from ${MAX_DURATION.min} to ${MAX_DURATION.max}`,
    });
  }
  if (errors.length > 0) return errors;
  return { agenticAvatarId: avatar as string, maxDurationSeconds: duration as number, settings };
}

export async function handleVendorApi(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  ctx: VendorApiContext,
): Promise<void> {
  const requestId = newRequestId();
  const fail = (code: SimulatorErrorCode, message: string, details?: unknown, headers?: Record<string, string>): void =>
    sendError(res, code, message, { requestId, details, headers });
  const ok = (status: number, body: unknown, headers: Record<string, string> = {}): void =>
    sendJson(res, status, body, { ...headers, 'x-request-id': requestId });

  const isCollection = path === SESSIONS_PATH;
  const rest = path.startsWith(`${SESSIONS_PATH}/`) ? path.slice(SESSIONS_PATH.length + 1) : undefined;
  const isItem = rest !== undefined && rest !== '' && !rest.includes('/');
  const method = req.method ?? 'GET';
  if (!(isCollection && method === 'POST') && !(isItem && (method === 'GET' || method === 'DELETE'))) {
    await discardBody(req);
    return fail('RESOURCE_NOT_FOUND', `No endpoint ${method} ${path}`);
  }

  const key = req.headers['x-api-key'];
  if (typeof key !== 'string' || key === '') {
    await discardBody(req);
    return fail('INVALID_API_KEY', 'Missing API key. Send it in the x-api-key header.');
  }
  const accountId = ctx.accounts.get(key);
  if (accountId === undefined) {
    await discardBody(req);
    return fail('INVALID_API_KEY', 'Invalid API key.');
  }

  if (isCollection) {
    let body: unknown;
    try {
      body = await readJsonBody(req);
    } catch (error) {
      if (error instanceof BodyError) return fail('INVALID_REQUEST', error.message);
      throw error;
    }
    if (!isRecord(body))
      return fail(
        'INVALID_REQUEST',
        body === undefined ? 'Request body is required' : 'Request body must be a JSON object',
      );
    const parsed = validateCreateBody(body);
    if (Array.isArray(parsed))
      return fail('VALIDATION_ERROR', parsed.map((e) => e.message).join('; '), { errors: parsed });
    const record = ctx.store.create({ accountId, ...parsed });
    return ok(201, toVendorSession(ctx.store, record), { Location: `${ctx.mountPath}${SESSIONS_PATH}/${record.id}` });
  }

  // The docs send DELETE with `Content-Type: application/json` and no body; whatever comes is ignored.
  await discardBody(req);
  const sessionId = decodeSegment(rest ?? '');
  if (!isSessionId(sessionId)) {
    return fail('INVALID_REQUEST', 'session_id must be 1-128 characters of A-Z, a-z, 0-9, "_" and "-"', {
      field: 'session_id',
    });
  }
  const record = ctx.store.get(sessionId);
  if (!record) return fail('RESOURCE_NOT_FOUND', 'Session not found', { session_id: sessionId });
  if (record.accountId !== accountId) {
    return fail('INSUFFICIENT_PERMISSIONS', 'This session belongs to another account', { session_id: sessionId });
  }
  if (method === 'GET') return ok(200, toVendorSession(ctx.store, record));
  if (!ctx.store.delete(record)) {
    return fail('RESOURCE_NOT_FOUND', 'Session not found or already terminated', { session_id: sessionId });
  }
  const deleted: DeletedSession = { message: 'Session terminated successfully', session_id: sessionId };
  return ok(200, deleted);
}
