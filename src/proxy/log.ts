/**
 * What the proxy logs. Entries are structured and carry keyed hashes of the
 * session and user ids, never the ids themselves, and never the API key.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type ProxyLogEvent =
  | 'session-created'
  | 'session-read'
  | 'session-ended'
  | 'session-already-ended'
  | 'request-refused'
  | 'rate-limited'
  | 'vendor-not-found'
  | 'vendor-rejected'
  | 'vendor-rate-limited'
  | 'vendor-error'
  | 'vendor-key-refused'
  | 'vendor-malformed'
  | 'vendor-redirect'
  | 'vendor-timeout'
  | 'vendor-unreachable'
  | 'internal-error'
  | 'store-degraded'
  | 'store-recovered'
  | 'session-revoked'
  | 'session-orphaned'
  | 'delete-queued'
  | 'delete-confirmed'
  | 'delete-refused'
  | 'delete-expired';

export interface ProxyLogEntry {
  level: LogLevel;
  event: ProxyLogEvent;
  /** Keyed hash of the session id (stable across instances sharing a secret). */
  sessionHash?: string;
  /** Keyed hash of the user id. */
  userHash?: string;
  /** HTTP status the proxy answered. */
  status?: number;
  /** The `request_id` of the answer (the vendor's when there was one). */
  requestId?: string;
  /** A short explanation written by the proxy. */
  detail?: string;
  /** Vendor attempts a server-side delete has had so far. */
  attempts?: number;
  /** Why the server ended a session (`session-revoked`, `session-orphaned`, `delete-*`). */
  reason?: string;
}

export type ProxyLogger = (entry: ProxyLogEntry) => void;

/** Writes warnings and errors as one JSON line each; quieter levels are dropped. */
export function defaultLog(entry: ProxyLogEntry): void {
  if (entry.level !== 'warn' && entry.level !== 'error') return;
  const line = JSON.stringify({ source: 'konpro-widget-guard/proxy', time: new Date().toISOString(), ...entry });
  if (entry.level === 'error') console.error(line);
  else console.warn(line);
}
