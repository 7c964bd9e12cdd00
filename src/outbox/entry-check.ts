/**
 * What a stored delete may do when a page replays it. Storage is the
 * origin's, so anything that ran on the origin once (an injected script, say)
 * could have written an entry: a replay sends it with the user's credentials
 * and the guard header, on every load. So a stored delete is sent only to the
 * proxy resource URL of its own session ({@link sessionResourceUrl}, the
 * builder the logout itself uses) under a proxy a guard of this page uses, on
 * the page's origin; its dates are clamped, so it expires like any other.
 */
import { isRecord } from '../shared/konpro-api.js';
import { isValidSessionId, sessionResourceUrl } from '../shared/session-id.js';
import type { OutboxEntry } from './store.js';

const NUMBERS = ['createdAt', 'attempts', 'nextAttemptAt', 'notBefore', 'failed', 'settled'] as const;

/** Why a stored value must be dropped; `undefined` when it is a well-formed delete on `origin`. */
export function malformedDelete(value: unknown, origin: string): string | undefined {
  if (!isRecord(value) || !isValidSessionId(value.sessionId)) return 'not a delete record';
  for (const [i, field] of NUMBERS.entries()) {
    const given = value[field];
    // The first three are always there; the dates of `failed` and `settled` are their `at`.
    if ((i < 3 || given !== undefined) && !Number.isFinite(isRecord(given) ? given.at : given)) return `bad ${field}`;
  }
  const proxy = proxyOf(String(value.url), value.sessionId);
  // Exactly what a logout builds: no fragment, credentials or unnormalised segments.
  if (!proxy || sessionResourceUrl(proxy, value.sessionId) !== value.url)
    return 'its URL is not the resource URL of its session';
  if (!proxy.startsWith(origin + '/')) return 'its URL is on another origin';
  return undefined;
}

/** The collection URL `url` is the resource URL of `sessionId` under, if it is one. */
export function proxyOf(url: string, sessionId: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.pathname.endsWith(`/${sessionId}`))
      return parsed.origin + parsed.pathname.slice(0, -sessionId.length - 1) + parsed.search;
  } catch {
    // Not a URL.
  }
  return undefined;
}

/** Whether `entry` goes to the resource URL of its session under one of `proxies` (collection URLs). */
export function underProxy(entry: OutboxEntry, proxies: Iterable<string>): boolean {
  for (const proxy of proxies) if (sessionResourceUrl(proxy, entry.sessionId) === entry.url) return true;
  return false;
}

/**
 * Clamps, in place, every date of `entry` that is later than the outbox
 * itself would set: created (refused, confirmed) no later than now, the next
 * attempt within `maxWaitMs`. Whether anything changed.
 */
export function clampDates(entry: OutboxEntry, now: number, maxWaitMs: number): boolean {
  const before = JSON.stringify(entry);
  entry.createdAt = Math.min(entry.createdAt, now);
  entry.nextAttemptAt = Math.min(entry.nextAttemptAt, now + maxWaitMs);
  if (entry.notBefore !== undefined) entry.notBefore = Math.min(entry.notBefore, now + maxWaitMs);
  for (const mark of [entry.failed, entry.settled]) if (mark) mark.at = Math.min(mark.at, now);
  return JSON.stringify(entry) !== before;
}
