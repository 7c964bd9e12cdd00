/**
 * The demo's administrator view of the proxy's registry, which the simulator
 * console shows beside the vendor's sessions:
 *
 * - `GET  /admin/registry`         live sessions grouped by user: device count, pages, last seen
 * - `POST /admin/registry/revoke`  `{user_id}`: `proxy.revokeUser`, "Revoke on every device"
 *
 * A demo has no administrators: these routes exist only with the simulator
 * (whose console can revoke anything anyway), and a form or script on another
 * site cannot post to them. A real site puts its own admin sign-in in front.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WidgetSessionProxy } from '../../src/proxy/index.js';
import { randomUUID } from 'node:crypto';
import { BodyError, discardBody, readJsonBody, sendJson, splitUrl } from '../http.js';

/** The console's errors, in the vendor's error schema (as the proxy answers them). */
const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  VALIDATION_ERROR: 400,
  INSUFFICIENT_PERMISSIONS: 403,
  SERVICE_UNAVAILABLE: 503,
} as const;

function sendError(res: ServerResponse, code: keyof typeof ERROR_STATUS, message: string): void {
  sendJson(res, ERROR_STATUS[code], { error: { code, message }, request_id: `req_${randomUUID()}` });
}

export const REGISTRY_ADMIN_PATH = '/admin/registry';

/** One user of `GET /admin/registry`. */
export interface RegistryUser {
  user_id: string;
  /** Each device (browser) holds its own session; tabs of one browser share it. */
  devices: number;
  /** Pages the event streams report, over all the user's sessions. */
  pages: number;
  last_seen_at: string;
  sessions: Array<{ session_id: string; created_at: string; expires_at: string; last_seen_at: string; pages: number }>;
}

/** Answers the admin routes and resolves `true`; `false` (nothing sent) for other paths. */
export async function handleRegistryAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  proxy: WidgetSessionProxy,
): Promise<boolean> {
  const { path } = splitUrl(req.url);
  if (path !== REGISTRY_ADMIN_PATH && path !== `${REGISTRY_ADMIN_PATH}/revoke`) return false;
  const method = req.method ?? 'GET';
  if (path === REGISTRY_ADMIN_PATH && (method === 'GET' || method === 'HEAD')) {
    try {
      sendJson(res, 200, { server_time: new Date().toISOString(), users: byUser(await proxy.listSessions()) });
    } catch (error) {
      sendError(res, 'SERVICE_UNAVAILABLE', error instanceof Error ? error.message : 'The registry did not answer');
    }
    return true;
  }
  if (path !== `${REGISTRY_ADMIN_PATH}/revoke` || method !== 'POST') {
    await discardBody(req);
    sendError(res, 'INVALID_REQUEST', `Use GET ${REGISTRY_ADMIN_PATH} or POST ${REGISTRY_ADMIN_PATH}/revoke`);
    return true;
  }
  if (isCrossOrigin(req)) {
    await discardBody(req);
    sendError(res, 'INSUFFICIENT_PERMISSIONS', 'Cross-origin requests to the registry are refused');
    return true;
  }
  let body: unknown;
  try {
    body = await readJsonBody(req, 4096);
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    sendError(res, 'INVALID_REQUEST', error.message);
    return true;
  }
  const userId = typeof body === 'object' && body !== null ? (body as { user_id?: unknown }).user_id : undefined;
  if (typeof userId !== 'string' || userId === '' || userId.length > 200) {
    sendError(res, 'VALIDATION_ERROR', 'Send {"user_id": "..."} as listed by GET /admin/registry');
    return true;
  }
  try {
    sendJson(res, 200, await proxy.revokeUser(userId));
  } catch (error) {
    sendError(res, 'SERVICE_UNAVAILABLE', error instanceof Error ? error.message : 'The registry did not answer');
  }
  return true;
}

function byUser(sessions: Awaited<ReturnType<WidgetSessionProxy['listSessions']>>): RegistryUser[] {
  const users = new Map<string, RegistryUser>();
  const iso = (ms: number) => new Date(ms).toISOString();
  for (const session of sessions) {
    let user = users.get(session.userId);
    if (!user) {
      user = { user_id: session.userId, devices: 0, pages: 0, last_seen_at: iso(0), sessions: [] };
      users.set(session.userId, user);
    }
    user.devices++;
    user.pages += session.pages;
    if (session.lastSeenAt > Date.parse(user.last_seen_at)) user.last_seen_at = iso(session.lastSeenAt);
    user.sessions.push({
      session_id: session.sessionId,
      created_at: iso(session.createdAt),
      expires_at: iso(session.expiresAt),
      last_seen_at: iso(session.lastSeenAt),
      pages: session.pages,
    });
  }
  return [...users.values()].sort((a, b) => a.user_id.localeCompare(b.user_id));
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
