// A browser's cookie jar for one site, as strict as the strictest browser about what it keeps: a
// `Secure` cookie only from an https: page, `__Host-` only with Secure, Path=/ and no Domain,
// `__Secure-` only with Secure; Max-Age=0 removes. It sends what it holds, like a browser would.

export interface StoredCookie {
  value: string;
  expiresAt: number;
  secure: boolean;
  path: string;
}

export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>();
  readonly #secureOrigin: boolean;
  readonly #now: () => number;
  /** Set-Cookie values the jar refused, as a browser silently would. */
  readonly refused: string[] = [];

  /** A jar for pages of `origin` (its scheme decides whether `Secure` cookies may be set). */
  constructor(origin: string, now: () => number = () => Date.now()) {
    this.#secureOrigin = new URL(origin).protocol === 'https:';
    this.#now = now;
  }

  /** Takes in an answer's `Set-Cookie` values. */
  store(setCookie: readonly string[]): void {
    for (const line of setCookie) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const at = pair.indexOf('=');
      if (at <= 0) continue;
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const attribute = (key: string) =>
        attributes.find((a) => a.toLowerCase().startsWith(`${key.toLowerCase()}=`))?.slice(key.length + 1);
      const secure = attributes.some((a) => a.toLowerCase() === 'secure');
      const path = attribute('Path') ?? '/';
      const domain = attribute('Domain');
      const refuse =
        (secure && !this.#secureOrigin) ||
        (name.startsWith('__Host-') && (!secure || path !== '/' || domain !== undefined)) ||
        (name.startsWith('__Secure-') && !secure);
      if (refuse) {
        this.refused.push(line);
        continue;
      }
      const maxAge = Number(attribute('Max-Age') ?? NaN);
      if (!Number.isNaN(maxAge) && maxAge <= 0) {
        this.#cookies.delete(name);
        continue;
      }
      const expiresAt = Number.isNaN(maxAge) ? Infinity : this.#now() + maxAge * 1000;
      this.#cookies.set(name, { value, expiresAt, secure, path });
    }
  }

  /** Adds a cookie as if an earlier version of the site had set it. */
  put(name: string, value: string, maxAgeSeconds = 3600): void {
    this.#cookies.set(name, { value, expiresAt: this.#now() + maxAgeSeconds * 1000, secure: false, path: '/' });
  }

  /** `name=value` of every cookie the browser would send now. */
  pairs(): string[] {
    const now = this.#now();
    const pairs: string[] = [];
    for (const [name, cookie] of this.#cookies) {
      if (cookie.expiresAt <= now) this.#cookies.delete(name);
      else pairs.push(`${name}=${cookie.value}`);
    }
    return pairs;
  }

  /** The `Cookie` header the browser would send, or `''`. */
  header(): string {
    return this.pairs().join('; ');
  }

  names(): string[] {
    return this.pairs().map((pair) => pair.slice(0, pair.indexOf('=')));
  }

  get(name: string): StoredCookie | undefined {
    return this.#cookies.get(name);
  }
}
