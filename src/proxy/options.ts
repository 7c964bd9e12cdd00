/**
 * Options of `createWidgetSessionProxy`, their defaults, and the checks that
 * make a misconfigured proxy fail at start-up rather than on a user's request.
 * Error messages say what to fix and never repeat a secret.
 */
import type { VendorSession } from '../shared/konpro-api.js';
import { defaultLog, type ProxyLogger } from './log.js';
import { isLoopbackHost } from './request-checks.js';
import { memoryStore } from './store/memory-store.js';
import { hasDefaultTransport } from './vendor-transport.js';
import type { WidgetSessionStore } from './store/store.js';

/** `settings` of the vendor's create call; merged over `{max_duration: 3600}`. */
export interface SessionSettings {
  /** Seconds until the vendor expires the session. */
  max_duration?: number;
  [setting: string]: unknown;
}

/**
 * A session as the vendor answered it. `session_id`, `status` and
 * `expires_at` are checked; other fields are passed on as the vendor sent them.
 */
export type VendorSessionAnswer = Pick<VendorSession, 'session_id' | 'status' | 'expires_at'> &
  Partial<Pick<VendorSession, 'agentic_avatar_id' | 'created_at'>> & { readonly [field: string]: unknown };

/**
 * Per-user limits, each a fixed window counted in the `store`: instances that
 * share it share the count. While the store does not answer, each instance
 * counts in its own memory.
 */
export interface RateLimitOptions {
  /** Creates (`POST`) a user may make per window. Default 10. */
  creates: number;
  /** Deletes (`DELETE`) a user may make per window. Default 30. */
  deletes: number;
  /**
   * Status checks (`GET {proxy}/{id}`) of a user that reach the vendor, per
   * window; answers from the status cache (`statusCacheMs`) do not count.
   * Past it the answer is `429` with `Retry-After`, which the guard reads as
   * "try again later", never as an ended session. Default 120.
   */
  reads: number;
  /** Window length in milliseconds. Default 60 000. */
  windowMs: number;
}

export interface CookieOptions {
  /**
   * Start of every binding cookie's name. Default `kwg_`. When the cookie is
   * `Secure`, `__Host-` is put in front (`__Secure-` when `path` is not `/`),
   * unless the prefix already starts with one of them.
   */
  namePrefix: string;
  /** `Path` of the binding cookies. Default `/`, so the site's logout route receives them. */
  path: string;
  /**
   * `'auto'` (default): `Secure` (and a `__Host-` name), also behind a
   * TLS-terminating proxy, except for a page on plain `http:` on this machine
   * (`localhost`, `127.0.0.0/8`, `[::1]`: a development server, the demo).
   * `false` leaves `Secure` off everywhere (not recommended).
   */
  secure: 'auto' | boolean;
  /**
   * Default `Strict`; keep it. `Lax` would send the bindings with cross-site
   * top-level navigations: end sessions from an identity provider server to
   * server (back-channel logout), not through a cross-site redirect.
   */
  sameSite: 'Strict' | 'Lax';
}

export interface WidgetSessionProxyOptions {
  /** Konpro API key. A server secret: sent to the vendor only. */
  apiKey: string;
  /** Vendor API origin (and optional path prefix). Default `https://api.konpro.ai`. */
  baseUrl?: string;
  /** Path the proxy answers under. Default `/api/widget-sessions`. */
  basePath?: string;
  /** The avatar every session is created for. */
  agenticAvatarId: string;
  /** Vendor session settings, merged over `{max_duration: 3600}`. */
  sessionSettings?: SessionSettings;
  /** The signed-in user of a request, or `null`. Only signed-in users get sessions. */
  authorize: (request: Request) => string | null | undefined | Promise<string | null | undefined>;
  /**
   * Signs the session bindings: at least 32 random characters, the same on
   * every instance that shares users. To rotate it, give a list: the first
   * signs, every one verifies (`[next, previous]`), so bindings made under the
   * previous secret still prove ownership until they expire.
   */
  secret: string | readonly string[];
  /** Exact origins (`scheme://host[:port]`) whose pages may call the proxy. */
  allowedOrigins: readonly string[];
  /** The URL of the avatar widget page for a new session (the element's `widget-src`). */
  widgetUrl: (session: VendorSessionAnswer) => string;
  /** Milliseconds to wait for the vendor before answering 504. Default 10 000. */
  timeoutMs?: number;
  /**
   * Fetch used for vendor calls. Default: on Node, `node:http`/`node:https`
   * with keep-alive connections (a fraction of the CPU time of Node's `fetch`
   * per call); elsewhere `globalThis.fetch`.
   */
  fetch?: typeof globalThis.fetch;
  /** Receives structured log entries. Default: warnings and errors as JSON lines on the console. */
  log?: ProxyLogger;
  /** Per-user limits on creates, deletes and status checks (counted in the `store`). */
  rateLimit?: Partial<RateLimitOptions>;
  /**
   * Milliseconds a vendor answer to a status check is reused for the same
   * session (by this instance), and checks of one session made at the same
   * time share one vendor call. A session ended through this proxy is
   * forgotten at once; one ended at the vendor directly can be reported
   * `active` this much longer. Default 2 000; `0` turns it off (every check
   * asks the vendor).
   */
  statusCacheMs?: number;
  /**
   * Most live sessions one user holds, on all devices together. At the cap a
   * create first ends the user's oldest session (deleted at the vendor; its
   * pages hear `revoked`) rather than refusing, so a kiosk that reloads an
   * `auto-start` page never locks itself out. Counted in the `store`.
   * Default 10.
   */
  maxSessionsPerUser?: number;
  /**
   * Most live sessions of the whole site (every user, and every instance
   * that shares the `store`). At the cap a create is refused with `429
   * CAPACITY_REACHED` and `Retry-After`, in the vendor error schema, before
   * the vendor is asked; a user at `maxSessionsPerUser` still replaces their
   * oldest. Default: no cap.
   */
  maxLiveSessions?: number;
  /** Binding cookie attributes. */
  cookie?: Partial<CookieOptions>;
  /**
   * Where the registry of live sessions, the queue of server-side deletes and
   * the revocation feed live. Default `memoryStore()` (this process only). A
   * store you pass is yours: `close()` does not close it.
   */
  store?: WidgetSessionStore;
  /**
   * Milliseconds after which a session no page has shown (no status check, no
   * event stream reporting it) is deleted at the vendor. Default 180 000;
   * `0` turns the sweep off. Keep it well above the element's `check-interval`
   * and above a minute (browsers run timers of hidden tabs once a minute).
   */
  orphanAfterMs?: number;
}

export interface ResolvedOptions {
  apiKey: string;
  /** `{baseUrl}/v1/widget/sessions`. */
  collectionUrl: string;
  basePath: string;
  agenticAvatarId: string;
  sessionSettings: SessionSettings;
  authorize: WidgetSessionProxyOptions['authorize'];
  /** The secret that signs (the first of `secrets`). */
  secret: string;
  /** Every secret that verifies, the signing one first. */
  secrets: readonly string[];
  allowedOrigins: ReadonlySet<string>;
  widgetUrl: WidgetSessionProxyOptions['widgetUrl'];
  timeoutMs: number;
  /** The `fetch` option; `undefined`: the default transport (see `vendor-transport.ts`). */
  fetch: typeof globalThis.fetch | undefined;
  log: ProxyLogger;
  rateLimit: RateLimitOptions;
  statusCacheMs: number;
  maxSessionsPerUser: number;
  /** `Infinity`: no cap. */
  maxLiveSessions: number;
  cookie: CookieOptions;
  store: WidgetSessionStore;
  /** Whether the proxy made the store (and so closes it). */
  ownsStore: boolean;
  orphanAfterMs: number;
}

const STORE_METHODS = [
  'register',
  'touch',
  'list',
  'count',
  'unregister',
  'stale',
  'enqueueDelete',
  'dueDeletes',
  'dequeueDelete',
  'lease',
  'release',
  'claimOnce',
  'hit',
  'publish',
  'readFeed',
  'follow',
  'health',
  'close',
] as const satisfies ReadonlyArray<keyof WidgetSessionStore>;

const MIN_SECRET_LENGTH = 32;
/** A random secret of 32 or more characters has far more (hex: about 14); fewer means a made-up one. */
const MIN_SECRET_VARIETY = 8;
const SECRET_ADVICE = 'use a random value, e.g. from `openssl rand -base64 32`, shared by every proxy instance';

const SEGMENT = /^[A-Za-z0-9._~-]+$/;
const COOKIE_PREFIX = /^[A-Za-z0-9_-]{1,40}$/;
const COOKIE_PATH = /^\/[A-Za-z0-9._~!$&'()*+,=:@%/-]*$/;

function fail(message: string): never {
  throw new TypeError(`konpro-widget-guard/proxy: ${message}`);
}

function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === 'function';
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    fail(`${name} must be a positive whole number, got ${typeof value === 'number' ? value : typeof value}`);
  }
  return value;
}

function resolveStore(value: unknown): WidgetSessionStore | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) fail('store must be a store such as memoryStore() or redisStore()');
  const missing = STORE_METHODS.filter((name) => !isFunction((value as Record<string, unknown>)[name]));
  if (missing.length > 0) fail(`store is missing ${missing.join(', ')} (see WidgetSessionStore)`);
  return value as WidgetSessionStore;
}

function nonNegativeInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(`${name} must be 0 or a positive whole number, got ${typeof value === 'number' ? value : typeof value}`);
  }
  return value;
}

function resolveOrphanAfter(value: unknown): number {
  if (value === undefined) return 180_000;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(
      `orphanAfterMs must be 0 (off) or a positive whole number of milliseconds, got ${typeof value === 'number' ? value : typeof value}`,
    );
  }
  return value;
}

function resolveBaseUrl(value: unknown): string {
  if (typeof value !== 'string' || !URL.canParse(value)) {
    fail('baseUrl must be an absolute URL such as "https://api.konpro.ai"');
  }
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    fail(`baseUrl must use https: (or http: for a local simulator), got ${url.protocol}`);
  if (url.username || url.password)
    fail('baseUrl must not contain a user name or password; the API key goes in apiKey');
  if (url.search || url.hash || value.includes('?') || value.includes('#'))
    fail('baseUrl must not have a query or fragment');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    fail(
      `baseUrl "${url.origin}" would send the API key unencrypted: use https:// (plain http: only for a simulator ` +
        'on this machine: localhost, 127.0.0.1 or [::1])',
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/v1/widget/sessions`;
}

function resolveBasePath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/'))
    fail('basePath must be a path starting with "/", such as "/api/widget-sessions"');
  const segments = value.replace(/\/+$/, '').split('/').slice(1);
  if (
    segments.length === 0 ||
    segments.some((segment) => !SEGMENT.test(segment) || segment === '.' || segment === '..')
  ) {
    fail(
      `basePath "${value}" must be one or more segments of A-Z a-z 0-9 . _ ~ - below "/", such as "/api/widget-sessions"`,
    );
  }
  return `/${segments.join('/')}`;
}

function resolveOrigins(value: unknown): ReadonlySet<string> {
  if (!Array.isArray(value) || value.length === 0) {
    fail('allowedOrigins must list the origins of your site, such as ["https://www.example.com"]');
  }
  return new Set(
    value.map((origin: unknown, index) => {
      const canonical = typeof origin === 'string' && URL.canParse(origin) ? new URL(origin).origin : 'null';
      if (canonical === 'null' || !/^https?:/.test(canonical)) {
        fail(`allowedOrigins[${index}] must be an http(s) origin such as "https://www.example.com"`);
      }
      if (origin !== canonical)
        fail(`allowedOrigins[${index}] "${String(origin)}" is not an exact origin: write it as "${canonical}"`);
      return canonical;
    }),
  );
}

function resolveSettings(value: unknown): SessionSettings {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    fail('sessionSettings must be an object such as {max_duration: 3600}');
  }
  const settings: SessionSettings = { ...(value as SessionSettings | undefined) };
  settings.max_duration = positiveInteger(settings.max_duration, 'sessionSettings.max_duration', 3600);
  return settings;
}

function resolveCookie(value: Partial<CookieOptions> | undefined): CookieOptions {
  const cookie: CookieOptions = { namePrefix: 'kwg_', path: '/', secure: 'auto', sameSite: 'Strict', ...value };
  if (!COOKIE_PREFIX.test(cookie.namePrefix)) fail('cookie.namePrefix must be 1-40 characters of A-Z a-z 0-9 _ -');
  if (!COOKIE_PATH.test(cookie.path)) fail('cookie.path must be a URL path starting with "/"');
  if (cookie.secure !== 'auto' && typeof cookie.secure !== 'boolean')
    fail('cookie.secure must be "auto", true or false');
  if (cookie.sameSite !== 'Strict' && cookie.sameSite !== 'Lax') fail('cookie.sameSite must be "Strict" or "Lax"');
  if (cookie.namePrefix.startsWith('__Host-') && (cookie.secure !== true || cookie.path !== '/')) {
    fail('a "__Host-" cookie.namePrefix needs cookie.secure: true and cookie.path: "/"');
  }
  if (cookie.namePrefix.startsWith('__Secure-') && cookie.secure !== true)
    fail('a "__Secure-" cookie.namePrefix needs cookie.secure: true');
  return cookie;
}

/** `secret` as a list, the signing one first, each checked (the message names which, never its value). */
function resolveSecrets(value: unknown, apiKey: string): string[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (Array.isArray(value) && value.length === 0) {
    fail('secret must be a string or a non-empty array of strings (the first signs, every one verifies)');
  }
  list.forEach((secret, index) => {
    const name = Array.isArray(value) ? `secret[${index}]` : 'secret';
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      fail(
        `${name} must be at least ${MIN_SECRET_LENGTH} characters (got ${typeof secret === 'string' ? secret.length : typeof secret}); ` +
          SECRET_ADVICE,
      );
    }
    const weakness = secretWeakness(secret, apiKey);
    if (weakness) fail(`${name} ${weakness}`);
  });
  return [...new Set(list as string[])];
}

/** What is wrong with a secret that is long enough but guessable, in words that never repeat it. */
function secretWeakness(secret: string, apiKey: string): string | undefined {
  if (secret === apiKey) return 'is the API key: use a value of its own (a leaked key must not also forge bindings)';
  if (secret.includes(apiKey)) return 'contains the API key: use a value of its own';
  const variety = new Set(secret).size;
  if (variety === 1) return `is one character repeated; ${SECRET_ADVICE}`;
  if (variety < MIN_SECRET_VARIETY) return `has only ${variety} different characters; ${SECRET_ADVICE}`;
  if (isRepetition(secret)) return `is a short run of characters repeated; ${SECRET_ADVICE}`;
  return undefined;
}

/** Whether `text` is one piece repeated (the last time perhaps in part), such as "abc1abc1abc1". */
function isRepetition(text: string): boolean {
  for (let period = 1; period <= text.length / 2; period++) {
    let repeats = true;
    for (let i = period; i < text.length && repeats; i++) repeats = text[i] === text[i - period];
    if (repeats) return true;
  }
  return false;
}

/** Checks every option and fills in defaults; throws a `TypeError` saying what to fix. */
export function resolveOptions(options: WidgetSessionProxyOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('createWidgetSessionProxy needs an options object');
  const { apiKey, secret } = options;
  if (typeof apiKey !== 'string' || apiKey.trim() === '') {
    fail('apiKey is missing: pass your Konpro API key from server configuration, e.g. process.env.KONPRO_API_KEY');
  }
  if (!/^[\x21-\x7e]+$/.test(apiKey))
    fail('apiKey contains spaces or characters that cannot be sent in a header; check how it is loaded');
  const secrets = resolveSecrets(secret, apiKey);
  if (typeof options.agenticAvatarId !== 'string' || options.agenticAvatarId === '')
    fail('agenticAvatarId must name the avatar to create sessions for');
  if (!isFunction(options.authorize)) fail('authorize must be a function (request) => userId | null');
  if (!isFunction(options.widgetUrl))
    fail('widgetUrl must be a function (session) => URL of the widget page for that session');
  if (options.fetch !== undefined && !isFunction(options.fetch)) fail('fetch must be a function like globalThis.fetch');
  if (options.fetch === undefined && !hasDefaultTransport()) fail('no fetch available: pass options.fetch');
  if (options.log !== undefined && !isFunction(options.log)) fail('log must be a function (entry) => void');
  const limits = options.rateLimit ?? {};
  const store = resolveStore(options.store);
  const orphanAfterMs = resolveOrphanAfter(options.orphanAfterMs);
  return {
    apiKey,
    collectionUrl: resolveBaseUrl(options.baseUrl ?? 'https://api.konpro.ai'),
    basePath: resolveBasePath(options.basePath ?? '/api/widget-sessions'),
    agenticAvatarId: options.agenticAvatarId,
    sessionSettings: resolveSettings(options.sessionSettings),
    authorize: options.authorize,
    secret: secrets[0],
    secrets,
    allowedOrigins: resolveOrigins(options.allowedOrigins),
    widgetUrl: options.widgetUrl,
    timeoutMs: positiveInteger(options.timeoutMs, 'timeoutMs', 10_000),
    fetch: options.fetch,
    log: options.log ?? defaultLog,
    rateLimit: {
      creates: positiveInteger(limits.creates, 'rateLimit.creates', 10),
      deletes: positiveInteger(limits.deletes, 'rateLimit.deletes', 30),
      reads: positiveInteger(limits.reads, 'rateLimit.reads', 120),
      windowMs: positiveInteger(limits.windowMs, 'rateLimit.windowMs', 60_000),
    },
    statusCacheMs: nonNegativeInteger(options.statusCacheMs, 'statusCacheMs', 2_000),
    maxSessionsPerUser: positiveInteger(options.maxSessionsPerUser, 'maxSessionsPerUser', 10),
    maxLiveSessions: positiveInteger(options.maxLiveSessions, 'maxLiveSessions', Infinity),
    cookie: resolveCookie(options.cookie),
    // Made last, once every other option passed: a misconfigured proxy leaves no store behind.
    store: store ?? memoryStore(),
    ownsStore: store === undefined,
    orphanAfterMs,
  };
}
