/**
 * The vendor's documented shapes, as the simulator speaks them, written out
 * here on purpose rather than imported from the library: the simulator plays
 * the vendor, so a disagreement between the guard and the vendor's documents
 * shows up as a failing test instead of being shared by both sides.
 */

/** `GET /v1/widget/sessions/{id}` and the create answer. */
export interface VendorSession {
  session_id: string;
  agentic_avatar_id: string;
  status: 'active' | 'terminated' | (string & {});
  created_at: string;
  expires_at: string;
}

/** `DELETE /v1/widget/sessions/{id}` answer. */
export interface DeletedSession {
  message: string;
  session_id: string;
}

/** The vendor's error schema. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
  request_id: string;
}

/**
 * The ids this simulator issues and accepts: 1–128 of `A-Z a-z 0-9 _ -`
 * (the vendor documents a string path segment, and issues ids like
 * `session-789`); anything else cannot name one of its sessions.
 */
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
