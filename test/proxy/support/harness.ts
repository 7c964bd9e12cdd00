// Builds proxies against a fake vendor, sends them guard-like requests, and
// remembers everything the proxies said (responses and log lines) so each
// test file can assert at the end that the API key never appeared in any.
import assert from 'node:assert/strict';
import { after, before, beforeEach } from 'node:test';
import { createProxy, type ProxyTimings } from '../../../src/proxy/create-proxy.js';
import {
  type ProxyLogEntry,
  type WidgetSessionProxy,
  type WidgetSessionProxyOptions,
} from '../../../src/proxy/index.js';
import { API_KEY, FakeVendor } from './fake-vendor.js';

export const SITE = 'https://site.test';
export const BASE_PATH = '/api/widget-sessions';
export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';

/** Everything a proxy said during this test file: response heads and bodies, log lines. */
const said: string[] = [];

export function remember(text: string): void {
  said.push(text);
}

export function assertSecretsNeverSaid(): void {
  assert.ok(said.length > 0, 'nothing was recorded');
  for (const text of said) {
    assert.ok(!text.includes(API_KEY), `the API key leaked: ${text}`);
    assert.ok(!text.includes(SECRET), `the secret leaked: ${text}`);
  }
}

/**
 * The fake vendor of a test file: listening before its tests, emptied before
 * each, closed after them, when the file also checks that no secret was said.
 */
export function fakeVendorForFile(prefix = ''): FakeVendor {
  const vendor = new FakeVendor(prefix);
  before(() => vendor.listen());
  beforeEach(() => vendor.reset());
  after(async () => {
    await vendor.close();
    assertSecretsNeverSaid();
  });
  return vendor;
}

export interface TestProxy {
  proxy: WidgetSessionProxy;
  logs: ProxyLogEntry[];
}

/**
 * A proxy for the fake vendor; the signed-in user is the `site_user` cookie (the site's own session).
 * `timings` shortens the proxy's heartbeat and sweep intervals.
 */
export function makeProxy(
  vendor: FakeVendor,
  overrides: Partial<WidgetSessionProxyOptions> = {},
  timings: Partial<ProxyTimings> = {},
): TestProxy {
  const logs: ProxyLogEntry[] = [];
  const proxy = createProxy(
    {
      apiKey: API_KEY,
      baseUrl: vendor.baseUrl,
      agenticAvatarId: 'avatar-1',
      secret: SECRET,
      allowedOrigins: [SITE],
      authorize: (request) => /(?:^|;\s*)site_user=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1] ?? null,
      widgetUrl: (session) => `https://widget.test/embed?session=${session.session_id}`,
      timeoutMs: 2_000,
      log: (entry) => {
        logs.push(entry);
        remember(JSON.stringify(entry));
      },
      ...overrides,
    },
    timings,
  );
  return { proxy, logs };
}

export interface RequestOptions {
  /** The signed-in user (sent as the site's own `site_user` cookie). */
  user?: string;
  /** Binding cookies, as `name=value`. */
  cookies?: readonly string[];
  /** `null` leaves the header out. */
  origin?: string | null;
  secFetchSite?: string | null;
  guardHeader?: string | null;
  headers?: Record<string, string>;
}

/** A request as the guard in a page of {@link SITE} sends it. */
export function guardRequest(method: string, path: string, options: RequestOptions = {}): Request {
  const headers = new Headers(options.headers);
  const put = (name: string, value: string | null | undefined, fallback: string) => {
    if (value !== null) headers.set(name, value ?? fallback);
  };
  put('x-konpro-guard', options.guardHeader, '1');
  put('origin', options.origin, SITE);
  put('sec-fetch-site', options.secFetchSite, 'same-origin');
  const cookies = [...(options.user ? [`site_user=${options.user}`] : []), ...(options.cookies ?? [])];
  if (cookies.length > 0) headers.set('cookie', cookies.join('; '));
  return new Request(`${SITE}${path}`, { method, headers });
}

export interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answer bodies freely
  body: any;
  text: string;
  /** `Set-Cookie` values. */
  setCookie: string[];
  /** The `name=value` part of each `Set-Cookie`. */
  cookies: string[];
}

export async function read(response: Response): Promise<Answer> {
  const text = await response.text();
  const setCookie = response.headers.getSetCookie();
  remember(`${response.status} ${JSON.stringify([...response.headers])} ${JSON.stringify(setCookie)} ${text}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return {
    status: response.status,
    headers: response.headers,
    body,
    text,
    setCookie,
    cookies: setCookie.map((value) => value.split(';')[0]),
  };
}

export async function send(proxy: WidgetSessionProxy, request: Request): Promise<Answer> {
  return read(await proxy(request));
}

/** Creates a session as `user` and returns its id and binding cookie. */
export async function createSession(
  proxy: WidgetSessionProxy,
  user: string,
): Promise<{ sessionId: string; cookie: string; answer: Answer }> {
  const answer = await send(proxy, guardRequest('POST', BASE_PATH, { user }));
  assert.equal(answer.status, 201, answer.text);
  return { sessionId: answer.body.session_id, cookie: answer.cookies[0], answer };
}

/** Asserts an error in the vendor schema with this status and code. */
export function assertError(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.body?.error?.code, code, answer.text);
  assert.equal(typeof answer.body.error.message, 'string');
  assert.equal(typeof answer.body.request_id, 'string');
}
