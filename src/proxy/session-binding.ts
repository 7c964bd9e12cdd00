/**
 * Which user created which session, kept in the browser instead of a shared
 * store: one HMAC-signed, HttpOnly cookie per session, so any number of proxy
 * instances that share the secret agree, and concurrent creates from several
 * tabs never overwrite each other's binding.
 *
 * Cookie: `[__Host-]{prefix}{tag(session id)}={session id}.{expires, epoch s}.{user tag}.{mac}`
 * where the user tag is a keyed hash of the user id (the id itself is not in
 * the cookie) and the mac covers the three fields before it.
 *
 * Several secrets may verify (a rotation: the first signs, every one
 * verifies). A binding is authentic when its name is the session's name
 * under any of them and its mac is right under one; its user tag is then
 * compared under that same one.
 *
 * Cookies are `Secure` with the `__Host-` prefix (`__Secure-` when the path
 * is not `/`), so neither a network attacker on plain http nor a sibling
 * subdomain can plant or overwrite one; only a page on plain http on this
 * machine (a development server) gets them plain. Names with and without a
 * prefix are read alike, so bindings set before a change of mode still count.
 */
import { isValidSessionId } from '../shared/session-id.js';
import type { CookieOptions } from './options.js';
import { isPlainLoopback } from './request-checks.js';
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

/**
 * The most bindings one browser holds after a create, live and retired. The
 * longest binding (a 128-character id, a 40-character prefix, `__Host-`)
 * takes 272 bytes of the `Cookie` header, so ten take under 2.7 KB: far from
 * the 8 KB a reverse proxy's header buffer and the 16 KB Node allow, with
 * room for a few creates from several tabs at once.
 */
export const MAX_BINDINGS = 10;

/** What making room for one more binding needs: cookies to drop, or the reason it cannot be done now. */
export interface Room<F> {
  /** `Set-Cookie` values that remove the bindings given up. */
  setCookie: string[];
  /** Set when a session at the limit could not be ended now: its binding stays, and the create must wait. */
  failure?: F;
}

export interface Binding {
  sessionId: string;
  /** Epoch seconds after which the binding proves nothing. */
  expiresAt: number;
  userTag: string;
  /** The session was deleted: the binding only keeps a retried delete idempotent. */
  retired: boolean;
  /** The cookie's name, as the browser sent it. */
  name: string;
  /** Which secret's signer made the mac (the user tag was made with the same one). */
  signer: Signer;
}

const USER_TAG = /^[A-Za-z0-9_-]{22}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;
const EPOCH = /^\d{1,12}$/;

export class SessionBindings {
  /** The first signs; every one verifies. */
  readonly #signers: readonly [Signer, ...Signer[]];
  readonly #cookie: CookieOptions;
  readonly #now: () => number;

  constructor(signers: readonly [Signer, ...Signer[]], cookie: CookieOptions, now: () => number = () => Date.now()) {
    this.#signers = signers;
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
    name?: string,
  ): Promise<string> {
    const [signer] = this.#signers;
    const maxAge = Math.max(0, Math.ceil((sessionExpiresAtMs - this.#now()) / 1000)) + graceSeconds;
    const expiresAt = String(Math.ceil(this.#now() / 1000) + maxAge);
    const userTag = await userTagOf(signer, userId);
    const mac = await macOf(signer, sessionId, expiresAt, userTag, retired);
    const value = `${sessionId}.${expiresAt}.${userTag}.${mac}`;
    const cookieName = name ?? `${this.#hostPrefix(request)}${await this.#name(signer, sessionId)}`;
    return this.#setCookie(request, cookieName, value, maxAge);
  }

  /** Whether the request carries a live, authentic binding of `sessionId` to `userId`. */
  async isOwner(request: Request, sessionId: string, userId: string): Promise<boolean> {
    const names = await this.#names(sessionId);
    for (const [cookieName, value] of readCookies(request)) {
      if (!names.has(this.#unprefixed(cookieName))) continue;
      const binding = await this.#verify(cookieName, value);
      if (
        binding &&
        binding.sessionId === sessionId &&
        this.isLive(binding) &&
        timingSafeEqual(binding.userTag, await userTagOf(binding.signer, userId))
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
      if (!this.#unprefixed(name).startsWith(this.#cookie.namePrefix)) continue;
      const binding = await this.#verify(name, value);
      if (binding) authentic.set(name, binding);
      else unreadable.add(name);
    }
    return { authentic: [...authentic.values()], unreadable: [...unreadable].filter((name) => !authentic.has(name)) };
  }

  /**
   * Makes room in the request's browser for one more binding, so that its
   * binding cookies stay a few KB however many sessions it creates. Drops
   * what proves nothing (unreadable, expired) and, while more than
   * {@link MAX_BINDINGS} would remain, the cheapest first: bindings of
   * sessions past their expiry, then retired ones (neither names a session
   * that still runs), then live ones, oldest first. A live binding goes only
   * once `end(sessionId)` has ended its session at the vendor (resolves
   * `undefined`); a failure it resolves stops there, every binding left kept.
   */
  async makeRoom<F>(request: Request, end: (sessionId: string) => Promise<F | undefined>): Promise<Room<F>> {
    const { authentic, unreadable } = await this.readAll(request);
    const setCookie = unreadable.map((name) => this.clearByName(request, name));
    const live = authentic.filter((binding) => {
      if (this.isLive(binding)) return true;
      setCookie.push(this.clearByName(request, binding.name));
      return false;
    });
    const excess = live.length - (MAX_BINDINGS - 1);
    if (excess <= 0) return { setCookie };
    const nowSeconds = this.#now() / 1000;
    // 0: the session is past its expiry (the binding only waits for a late delete); 1: retired; 2: may still run.
    const cost = (binding: Binding) =>
      binding.retired ? 1 : binding.expiresAt - BINDING_GRACE_SECONDS <= nowSeconds ? 0 : 2;
    // Oldest first: bindings of one lifetime expire in the order they were made, and browsers send
    // cookies of one path in the order they were set, which breaks ties within a second.
    const victims = live
      .map((binding, index) => ({ binding, index }))
      .sort(
        (a, b) => cost(a.binding) - cost(b.binding) || a.binding.expiresAt - b.binding.expiresAt || a.index - b.index,
      )
      .slice(0, excess)
      .map(({ binding }) => binding);
    for (const victim of victims) {
      if (cost(victim) === 2) {
        const failure = await end(victim.sessionId);
        if (failure !== undefined) return { setCookie, failure };
      }
      setCookie.push(this.clearByName(request, victim.name));
    }
    return { setCookie };
  }

  isLive(binding: Binding): boolean {
    return binding.expiresAt * 1000 > this.#now();
  }

  /**
   * The `Set-Cookie` value that shortens the binding of a deleted session to
   * {@link RETIRED_BINDING_SECONDS}, under the name the browser holds it by
   * (which, after a rotation, is the previous secret's), so it replaces that cookie.
   */
  async retire(request: Request, sessionId: string, userId: string): Promise<string> {
    const names = await this.#names(sessionId);
    const held = readCookies(request).find(([name]) => names.has(this.#unprefixed(name)))?.[0];
    return this.issue(request, sessionId, userId, this.#now(), RETIRED_BINDING_SECONDS, true, held);
  }

  /** The `Set-Cookie` value that removes the binding of `sessionId` (under the name the browser holds it by). */
  async clear(request: Request, sessionId: string): Promise<string> {
    const names = await this.#names(sessionId);
    const held = readCookies(request).find(([name]) => names.has(this.#unprefixed(name)))?.[0];
    return this.clearByName(
      request,
      held ?? `${this.#hostPrefix(request)}${await this.#name(this.#signers[0], sessionId)}`,
    );
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
    if (!(await this.#names(sessionId)).has(this.#unprefixed(name))) return undefined;
    const binding = { sessionId, expiresAt: Number(expiresAt), userTag, name };
    // Under each secret, two domains, each compared in constant time: a live binding, or a retired one.
    for (const signer of this.#signers) {
      if (timingSafeEqual(mac, await macOf(signer, sessionId, expiresAt, userTag, false)))
        return { ...binding, retired: false, signer };
      if (timingSafeEqual(mac, await macOf(signer, sessionId, expiresAt, userTag, true)))
        return { ...binding, retired: true, signer };
    }
    return undefined;
  }

  async #name(signer: Signer, sessionId: string): Promise<string> {
    return `${this.#cookie.namePrefix}${await signer.tag('binding-name', [sessionId], 12)}`;
  }

  /** The names a binding of `sessionId` may have: one under each secret. */
  async #names(sessionId: string): Promise<Set<string>> {
    return new Set(await Promise.all(this.#signers.map((signer) => this.#name(signer, sessionId))));
  }

  /** Whether cookies for this request's browser are `Secure`: always, but for plain http on this machine. */
  #secure(request: Request): boolean {
    return this.#cookie.secure === 'auto' ? !isPlainLoopback(request) : this.#cookie.secure;
  }

  /** The prefix a new binding's name gets: `__Host-` (or `__Secure-` off `Path=/`) when `Secure`. */
  #hostPrefix(request: Request): string {
    if (this.#cookie.namePrefix.startsWith('__') || !this.#secure(request)) return '';
    return this.#cookie.path === '/' ? '__Host-' : '__Secure-';
  }

  /** A cookie name without the prefix this class may have put in front of `namePrefix`. */
  #unprefixed(name: string): string {
    if (this.#cookie.namePrefix.startsWith('__')) return name;
    for (const prefix of ['__Host-', '__Secure-']) if (name.startsWith(prefix)) return name.slice(prefix.length);
    return name;
  }

  #setCookie(request: Request, name: string, value: string, maxAge: number): string {
    // A prefixed name needs Secure wherever it is written (also when it is cleared); others follow the request.
    const secure = name.startsWith('__Host-') || name.startsWith('__Secure-') || this.#secure(request);
    const { path, sameSite } = this.#cookie;
    return `${name}=${value}; Max-Age=${maxAge}; Path=${path}; HttpOnly; SameSite=${sameSite}${secure ? '; Secure' : ''}`;
  }
}

function userTagOf(signer: Signer, userId: string): Promise<string> {
  return signer.tag('binding-user', [userId], 16);
}

function macOf(
  signer: Signer,
  sessionId: string,
  expiresAt: string,
  userTag: string,
  retired: boolean,
): Promise<string> {
  return signer.tag(retired ? 'binding-retired' : 'binding', [sessionId, expiresAt, userTag]);
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
