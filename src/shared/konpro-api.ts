/**
 * Shapes of the Konpro widget-session API and of the proxy contract that
 * mirrors it. Shared by the element (which reads proxy answers) and the
 * reference proxy (which reads vendor answers and writes proxy answers).
 */

export type SessionStatus = 'active' | 'terminated' | (string & {});

/** `GET /v1/widget/sessions/{id}` (vendor). */
export interface VendorSession {
  session_id: string;
  agentic_avatar_id: string;
  status: SessionStatus;
  created_at: string;
  expires_at: string;
}

/** `POST {proxy}` answer. */
export interface ProxyCreatedSession {
  session_id: string;
  widget_url: string;
  expires_at: string;
}

/** `GET {proxy}/{id}` answer. */
export interface ProxySessionStatus {
  session_id: string;
  status: SessionStatus;
  expires_at: string;
}

/** `DELETE` answer, vendor and proxy alike. */
export interface DeletedSession {
  message: string;
  session_id: string;
}

export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'INVALID_REQUEST'
  | 'INVALID_API_KEY'
  | 'INSUFFICIENT_PERMISSIONS'
  | 'RESOURCE_NOT_FOUND'
  | 'RATE_LIMIT_EXCEEDED'
  | 'PROCESSING_ERROR'
  | 'SERVICE_UNAVAILABLE'
  | (string & {});

/** The error schema of the vendor, which the proxy keeps. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
  request_id: string;
}

/** Header every guard request carries; the proxy refuses requests without it. */
export const GUARD_HEADER = 'X-Konpro-Guard';

/** `postMessage` type a widget frame sends when its session has ended. */
export const TERMINATED_MESSAGE_TYPE = 'konpro-session-terminated';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isErrorBody(value: unknown): value is ErrorBody {
  return (
    isRecord(value) &&
    isRecord(value.error) &&
    typeof value.error.code === 'string' &&
    typeof value.error.message === 'string'
  );
}

/** A body that reports one session's status: `{session_id, status, ...}`. */
export function isSessionStatusBody(
  value: unknown,
): value is { session_id: string; status: string; expires_at?: unknown } {
  return isRecord(value) && typeof value.session_id === 'string' && typeof value.status === 'string';
}

export function isCreatedSessionBody(value: unknown): value is ProxyCreatedSession {
  return (
    isRecord(value) &&
    typeof value.session_id === 'string' &&
    typeof value.widget_url === 'string' &&
    typeof value.expires_at === 'string'
  );
}

export { isRecord };

/**
 * `DELETE {proxy}/{id}` answer when the vendor had already ended the session:
 * still a success (deletes are idempotent), flagged so the guard can report
 * `already-gone` rather than `deleted`.
 */
export interface ProxyDeletedSession extends DeletedSession {
  already_terminated: true;
}
