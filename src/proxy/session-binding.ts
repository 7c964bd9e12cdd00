/**
 * Which user created which session, kept in the browser instead of a shared
 * store: one HMAC-signed, HttpOnly cookie per session, so any number of proxy
 * instances that share the secret agree, and concurrent creates from several
 * tabs never overwrite each other's binding.
 *
 * Cookie: `{prefix}{tag(session id)}={session id}.{expires, epoch s}.{user tag}.{mac}`
 * where the user tag is a keyed hash of the user id (the id itself is not in
 * the cookie) and the mac covers the three fields before it.
 */
import { isValidSessionId } from '../shared/session-id.js';
import type { CookieOptions } from './options.js';
import { timingSafeEqual, type Signer } from './signing.js';

/**
 * How long a binding outlives its session: a delete the browser's outbox
 * sends late (after a night offline, say) still proves ownership.
 */
const BINDING_GRACE_SECONDS = 86_400;

/**
 * How long a binding lives on after its session was deleted: long enough
 * that a retried delete (whose first answer was lost) is still answered
 * "already terminated", short enough that bindings do not pile up on every
 * request of a busy kiosk.
 */
const RETIRED_BINDING_SECONDS = 600;

export interface Binding {
  sessionId: string;
  /** Epoch seconds after which the binding proves nothing. */
  expiresAt: number;
  userTag: string;
  /** The session was deleted: the binding only keeps a retried delete idempotent. */
  retired: boolean;
}

const USER_TAG = /^[A-Za-z0-9_-]{22}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;
const EPOCH = /^\d{1,12}$/;

export class SessionBindings {
  readonly #signer: Signer;
  readonly #cookie: CookieOptions;
  readonly #now: () => number;

  constructor(signer: Signer, cookie: CookieOptions, now: () => number = () => Date.now()) {
    this.#signer = signer;
    this.#cookie = cookie;
    this.#now = now;
  }

  /** The `Set-Cookie` value that binds `sessionId` to `userId`. */
  async issue(
    request: Request,
    sessionId: string,
    userId: string,
    sessionExpiresAtMs: number,
    graceSeconds: number = BINDING_GRACE_SECONDS,
    retired = false,
  ): Promise<string> {
    const maxAge = Math.max(0, Math.ceil((sessionExpiresAtMs - this.#now()) / 1000)) + graceSeconds;
    const expiresAt = String(Math.ceil(this.#now() / 1000) + maxAge);
    const userTag = await this.#userTag(userId);
    const mac = await this.#mac(sessionId, expiresAt, userTag, retired);
    return this.#setCookie(request, await this.#name(sessionId), `${sessionId}.${expiresAt}.${userTag}.${mac}`, maxAge);
  }

  /** Whether the request carries a live, authentic binding of `sessionId` to `userId`. */
  async isOwner(request: Request, sessionId: string, userId: string): Promise<boolean> {
    const name = await this.#name(sessionId);
    const userTag = await this.#userTag(userId);
    for (const [cookieName, value] of readCookies(request)) {
      if (cookieName !== name) continue;
      const binding = await this.#verify(cookieName, value);
      if (
        binding &&
        binding.sessionId === sessionId &&
        this.isLive(binding) &&
        timingSafeEqual(binding.userTag, userTag)
      ) {
        return true;
      }
    }
    return false;
  }

  /**
   * Every binding cookie of the request: the authentic ones, and the names of
   * the others (forged, damaged or from another secret), whoever the user is.
   */
  async readAll(request: Request): Promise<{ authentic: Binding[]; unreadable: string[] }> {
    const authentic = new Map<string, Binding>();
    const unreadable = new Set<string>();
    for (const [name, value] of readCookies(request)) {
      if (!name.startsWith(this.#cookie.namePrefix)) continue;
      const binding = await this.#verify(name, value);
      if (binding) authentic.set(name, binding);
      else unreadable.add(name);
    }
    return { authentic: [...authentic.values()], unreadable: [...unreadable].filter((name) => !authentic.has(name)) };
  }

  isLive(binding: Binding): boolean {
    return binding.expiresAt * 1000 > this.#now();
  }

  /** The `Set-Cookie` value that shortens the binding of a deleted session to {@link RETIRED_BINDING_SECONDS}. */
  retire(request: Request, sessionId: string, userId: string): Promise<string> {
    return this.issue(request, sessionId, userId, this.#now(), RETIRED_BINDING_SECONDS, true);
  }

  /** The `Set-Cookie` value that removes the binding of `sessionId`. */
  async clear(request: Request, sessionId: string): Promise<string> {
    return this.clearByName(request, await this.#name(sessionId));
  }

  clearByName(request: Request, name: string): string {
    return this.#setCookie(request, name, '', 0);
  }

  async #verify(name: string, value: string): Promise<Binding | undefined> {
    const parts = value.split('.');
    if (parts.length !== 4) return undefined;
    const [sessionId, expiresAt, userTag, mac] = parts as [string, string, string, string];
    if (!isValidSessionId(sessionId) || !EPOCH.test(expiresAt) || !USER_TAG.test(userTag) || !MAC.test(mac))
      return undefined;
    if (name !== (await this.#name(sessionId))) return undefined;
    const binding = { sessionId, expiresAt: Number(expiresAt), userTag };
    // Two domains, each compared in constant time: a live binding, or a retired one.
    if (timingSafeEqual(mac, await this.#mac(sessionId, expiresAt, userTag, false)))
      return { ...binding, retired: false };
    if (timingSafeEqual(mac, await this.#mac(sessionId, expiresAt, userTag, true)))
      return { ...binding, retired: true };
    return undefined;
  }

  async #name(sessionId: string): Promise<string> {
    return `${this.#cookie.namePrefix}${await this.#signer.tag('binding-name', [sessionId], 12)}`;
  }

  #userTag(userId: string): Promise<string> {
    return this.#signer.tag('binding-user', [userId], 16);
  }

  #mac(sessionId: string, expiresAt: string, userTag: string, retired: boolean): Promise<string> {
    return this.#signer.tag(retired ? 'binding-retired' : 'binding', [sessionId, expiresAt, userTag]);
  }

  #setCookie(request: Request, name: string, value: string, maxAge: number): string {
    const secure = this.#cookie.secure === 'auto' ? new URL(request.url).protocol === 'https:' : this.#cookie.secure;
    const { path, sameSite } = this.#cookie;
    return `${name}=${value}; Max-Age=${maxAge}; Path=${path}; HttpOnly; SameSite=${sameSite}${secure ? '; Secure' : ''}`;
  }
}

/** The request's cookies as name/value pairs, duplicates kept (browsers send one per path). */
function readCookies(request: Request): Array<[string, string]> {
  const header = request.headers.get('cookie');
  if (!header) return [];
  const pairs: Array<[string, string]> = [];
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0) pairs.push([part.slice(0, index).trim(), part.slice(index + 1).trim()]);
  }
  return pairs;
}
