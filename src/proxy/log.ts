/**
 * What the proxy logs. Entries are structured and carry keyed hashes of the
 * session and user ids, never the ids themselves, and never the API key.
 */
import { AuthorizeFailure } from './errors.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type ProxyLogEvent =
  | 'session-created'
  | 'session-read'
  | 'session-ended'
  | 'session-already-ended'
  | 'session-evicted'
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
  | 'authorize-failed'
  | 'internal-error'
  // createBackChannelLogout: a valid logout token revoked its user; a token was refused; the logout failed.
  | 'back-channel-logout'
  | 'back-channel-logout-refused'
  | 'back-channel-logout-failed'
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
  /** The vendor's own error text (code, message, details), the API key taken out; it never reaches a browser. */
  vendorText?: string;
  /** The class of an error a site callback threw (`authorize-failed`); never its message. */
  errorClass?: string;
  /** How many entries like this one (same event, status and code) were dropped since the last one logged. */
  dropped?: number;
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

/**
 * Bounds log lines that anyone can provoke (refusals): at most `perWindow`
 * per key and window. The next line logged for a key carries the count of
 * those dropped before it, so nothing goes unaccounted for. Keys are the
 * proxy's own event, status and code, so memory stays a few entries.
 */
export class LogSampler {
  readonly #keys = new Map<string, { windowEnd: number; logged: number; dropped: number }>();
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(perWindow = 10, windowMs = 60_000, now: () => number = () => Date.now()) {
    this.#perWindow = perWindow;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** `undefined`: drop this line. Else log it, with this many dropped since the last one logged. */
  admit(key: string): number | undefined {
    const now = this.#now();
    let state = this.#keys.get(key);
    if (!state) {
      state = { windowEnd: 0, logged: 0, dropped: 0 };
      this.#keys.set(key, state);
    }
    if (now >= state.windowEnd) {
      state.windowEnd = now + this.#windowMs;
      state.logged = 0;
    }
    if (state.logged >= this.#perWindow) {
      state.dropped++;
      return undefined;
    }
    state.logged++;
    const dropped = state.dropped;
    state.dropped = 0;
    return dropped;
  }
}

/** The shortest run of a secret's characters that is taken out of logged text. */
const MIN_REDACTED_RUN = 8;

/**
 * `text` with every secret taken out, and every run of 8 or more characters
 * of one: an answer that echoes part of a key ("kp_live_7f3c…") loses that part too.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let safe = text;
  for (const secret of secrets) {
    if (secret === '') continue;
    if (secret.length < MIN_REDACTED_RUN) {
      safe = safe.replaceAll(secret, '[redacted]');
      continue;
    }
    /** How many characters from `start` are a run of the secret (0 when fewer than the minimum). */
    const runAt = (start: number): number => {
      if (start + MIN_REDACTED_RUN > safe.length || !secret.includes(safe.slice(start, start + MIN_REDACTED_RUN)))
        return 0;
      let length = MIN_REDACTED_RUN;
      while (start + length < safe.length && secret.includes(safe.slice(start, start + length + 1))) length++;
      return length;
    };
    let out = '';
    for (let i = 0; i < safe.length;) {
      const run = runAt(i);
      out += run > 0 ? '[redacted]' : safe.charAt(i);
      i += Math.max(run, 1);
    }
    safe = out;
  }
  return safe;
}

/**
 * What the log says about an exception in the proxy: for `authorize` (site
 * code, whose messages carry e-mail addresses and tokens) only the class and
 * a fixed code; for the proxy's own errors their words, secrets taken out.
 */
export function describeFailure(
  thrown: unknown,
  secrets: readonly string[],
): Pick<ProxyLogEntry, 'event' | 'detail' | 'errorClass'> {
  if (thrown instanceof AuthorizeFailure)
    return { event: 'authorize-failed', detail: thrown.code, errorClass: thrown.errorClass };
  const text = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : `thrown ${typeof thrown}`;
  return { event: 'internal-error', detail: redactSecrets(text, secrets) };
}
