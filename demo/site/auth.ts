/**
 * The demo site's sign-in: a name is enough (it is a demo), kept in an
 * HMAC-signed, HttpOnly, SameSite=Lax cookie. A kiosk is signed in as a
 * device by visiting `/kiosk`, in a cookie of its own, so it never signs out
 * the person using the site in the same browser.
 *
 * Routes (the two forms are POST only, and only from the site's own pages:
 * the proxy's `isSameOrigin`):
 * - `POST /auth/signin`  (`name`, `next`): sets the cookie, 303 to `next`
 * - `POST /auth/signout` (`next`, `everywhere`): ends the user's avatar sessions through
 *   the proxy's `endSessions` (the server-side half of logout), clears the
 *   cookie, 303 to `next`. With `everywhere=1` ("Sign out everywhere") it
 *   first revokes every session of the user on every device (`revokeUser`)
 * - `GET  /auth/session`: `{user: {name, kind} | null}` for the pages
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WidgetSessionProxy } from '../../src/proxy/index.js';
import { toFetchRequest } from '../../src/proxy/index.js';
// The proxy's own signer: one HMAC implementation in the repository, with a purpose of its own here.
import { Signer, timingSafeEqual } from '../../src/proxy/signing.js';
import { BodyError, readBody, sendJson, splitUrl } from '../http.js';

export interface SiteUser {
  /** What the proxy binds sessions to: `person:<name>` or `kiosk:<device>`. */
  id: string;
  name: string;
  kind: 'person' | 'kiosk';
}

const PERSON_COOKIE = 'demo_user';
const KIOSK_COOKIE = 'demo_kiosk';
const PERSON_MAX_AGE_S = 12 * 3600;
const KIOSK_MAX_AGE_S = 30 * 24 * 3600;
const MAX_NAME_LENGTH = 40;

interface Claims {
  /** Name (person) or device id (kiosk). */
  n: string;
  k: 'p' | 'k';
  /** Expiry, seconds since the epoch: a stolen old cookie stops working even if the browser kept it. */
  exp: number;
}

export class SiteAuth {
  readonly #signer: Signer;

  constructor(
    secret: string,
    private readonly now: () => number = Date.now,
  ) {
    // A purpose (domain) of its own, so a site cookie can never pass for a proxy binding or the other way round.
    this.#signer = new Signer(secret);
  }

  /** The signed-in person, else the kiosk device, else `null`. */
  async userOf(cookieHeader: string | null | undefined): Promise<SiteUser | null> {
    const cookies = parseCookies(cookieHeader);
    for (const name of [PERSON_COOKIE, KIOSK_COOKIE]) {
      const claims = await this.#verify(cookies.get(name));
      if (claims && (claims.k === 'p') === (name === PERSON_COOKIE)) {
        return claims.k === 'p'
          ? { id: `person:${claims.n}`, name: claims.n, kind: 'person' }
          : { id: `kiosk:${claims.n}`, name: 'Kiosk', kind: 'kiosk' };
      }
    }
    return null;
  }

  /** `Set-Cookie` for a new kiosk device when the request has no valid one. */
  async kioskCookie(req: IncomingMessage): Promise<string | undefined> {
    if ((await this.#verify(parseCookies(req.headers.cookie).get(KIOSK_COOKIE)))?.k === 'k') return undefined;
    return this.#cookie(
      req,
      KIOSK_COOKIE,
      { n: randomBytes(9).toString('base64url'), k: 'k', exp: this.#inSeconds(KIOSK_MAX_AGE_S) },
      KIOSK_MAX_AGE_S,
    );
  }

  /** Answers `/auth/*` and resolves `true`; `false` (nothing sent) for other paths. */
  async handle(req: IncomingMessage, res: ServerResponse, proxy: WidgetSessionProxy): Promise<boolean> {
    const { path } = splitUrl(req.url);
    if (path === '/auth/session' && (req.method === 'GET' || req.method === 'HEAD')) {
      const user = await this.userOf(req.headers.cookie);
      sendJson(res, 200, { user: user && { name: user.name, kind: user.kind } });
      return true;
    }
    if (path !== '/auth/signin' && path !== '/auth/signout') return false;
    if (req.method !== 'POST') {
      res
        .writeHead(405, { Allow: 'POST', 'Content-Type': 'text/plain; charset=utf-8' })
        .end('Use the form on the page.\n');
      return true;
    }
    let form: URLSearchParams;
    try {
      form = new URLSearchParams((await readBody(req, 4096)).toString('utf8'));
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      res.writeHead(413, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Too much form data.\n');
      return true;
    }
    // A cross-site form must not sign anyone in or out: the proxy's own origin check, on its allowed origins.
    const request = toFetchRequest(req);
    if (!proxy.isSameOrigin(request)) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Cross-site form posts are refused.\n');
      return true;
    }
    const next = safeNext(form.get('next'));
    if (path === '/auth/signin') {
      const name = cleanName(form.get('name'));
      const cookies =
        name === undefined
          ? []
          : [
              await this.#cookie(
                req,
                PERSON_COOKIE,
                { n: name, k: 'p', exp: this.#inSeconds(PERSON_MAX_AGE_S) },
                PERSON_MAX_AGE_S,
              ),
            ];
      redirect(res, next, cookies);
      return true;
    }
    if (form.get('everywhere') === '1') {
      const user = await this.userOf(req.headers.cookie);
      // Every device of this user: their pages tear their widgets down through the event stream.
      if (user?.kind === 'person')
        await proxy.revokeUser(user.id).catch((error: unknown) => console.error('demo: revokeUser:', error));
    }
    // Ends whatever avatar sessions this browser still holds: the page's guard
    // has usually deleted its session already, which cleared that binding.
    const ended = await proxy.endSessions(request);
    redirect(res, next, [...ended.setCookie, this.#clearCookie(req, PERSON_COOKIE)]);
    return true;
  }

  #inSeconds(seconds: number): number {
    return Math.floor(this.now() / 1000) + seconds;
  }

  #sign(payload: string): Promise<string> {
    return this.#signer.tag('demo-site-cookie', [payload]);
  }

  async #verify(value: string | undefined): Promise<Claims | undefined> {
    const [payload, signature, extra] = value?.split('.') ?? [];
    if (payload === undefined || signature === undefined || extra !== undefined) return undefined;
    if (!timingSafeEqual(await this.#sign(payload), signature)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<Claims>;
      if (typeof claims.n !== 'string' || (claims.k !== 'p' && claims.k !== 'k') || typeof claims.exp !== 'number')
        return undefined;
      return claims.exp * 1000 > this.now() ? (claims as Claims) : undefined;
    } catch {
      return undefined;
    }
  }

  async #cookie(req: IncomingMessage, name: string, claims: Claims, maxAge: number): Promise<string> {
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${name}=${payload}.${await this.#sign(payload)}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${isTls(req) ? '; Secure' : ''}`;
  }

  #clearCookie(req: IncomingMessage, name: string): string {
    return `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${isTls(req) ? '; Secure' : ''}`;
  }
}

function parseCookies(header: string | null | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) cookies.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return cookies;
}

/** A display name: trimmed, control characters out, 1–40 characters; `undefined` when nothing is left. */
export function cleanName(value: string | null): string | undefined {
  const name = (value ?? '')
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, MAX_NAME_LENGTH);
  return name === '' ? undefined : name;
}

/** Where to go after a form: a path of this site only, never `//elsewhere` or a scheme. */
export function safeNext(value: string | null): string {
  return value !== null && /^\/(?![/\\])[^\s\\]*$/.test(value) ? value : '/';
}

function redirect(res: ServerResponse, location: string, cookies: string[]): void {
  res.writeHead(303, {
    Location: location,
    'Cache-Control': 'no-store',
    ...(cookies.length > 0 ? { 'Set-Cookie': cookies } : {}),
  });
  res.end();
}

function isTls(req: IncomingMessage): boolean {
  return 'encrypted' in req.socket && req.socket.encrypted === true;
}
