/**
 * Retry timing, shared by the delete outbox and the status checks.
 * Exponential backoff with full jitter: spreads retries of many clients
 * evenly instead of letting them arrive in waves.
 */

export interface BackoffOptions {
  /** Delay ceiling before jitter for the first retry. */
  baseMs: number;
  /** No delay exceeds this. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 60_000 };

/**
 * Delay before retry number `attempt` (1 for the first retry): uniformly
 * random in `[0, min(cap, base * 2^(attempt-1))]`, but never less than what
 * the server asked for with `Retry-After` (itself capped at ten times `cap`).
 */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** exponent);
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, cappedRetryAfter(retryAfterMs, options));
}

/** How long a server's `Retry-After` is honoured: at most ten times the backoff cap. */
export function cappedRetryAfter(retryAfterMs: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.min(retryAfterMs, options.capMs * 10);
}

/**
 * `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP date.
 * `undefined` when missing or unreadable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
