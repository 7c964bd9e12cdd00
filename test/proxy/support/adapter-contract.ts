// One contract for every way a site serves the proxy (node:http, Express, Hono, Fastify): a real
// server on loopback, wired as the README's recipe for that framework wires it, must answer the
// guard exactly as the proxy does, pass everything else to the rest of the site, and keep every
// Set-Cookie. test/proxy/adapters.test.ts runs it for each framework.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WidgetSessionProxy } from '../../../src/proxy/index.js';
import type { FakeVendor } from './fake-vendor.js';
import { assertError, BASE_PATH, makeProxy, read, SITE, type Answer } from './harness.js';

export const REST_OF_THE_APP = 'the rest of the app';

/** A site serving `proxy` under BASE_PATH on loopback, with `POST /logout` and "the rest of the app". */
export interface MountedSite {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `proxy` as the framework's recipe does: its routes under `proxy.basePath`, a
 * `POST /logout` that sends `proxy.endSessions(...)`'s cookies with a 303 to `/`, and
 * {@link REST_OF_THE_APP} as plain text for anything else.
 */
export type MountSite = (proxy: WidgetSessionProxy) => Promise<MountedSite>;

/** The guard's request as a browser on {@link SITE} sends it (the site's server is at `url`). */
function guardFetch(url: string, method: string, path: string, cookies: string[] = [], init: RequestInit = {}) {
  const headers = {
    'x-konpro-guard': '1',
    origin: SITE,
    'sec-fetch-site': 'same-origin',
    cookie: ['site_user=alice', ...cookies].join('; '),
  };
  return fetch(`${url}${path}`, { method, headers, redirect: 'manual', ...init }).then(read);
}

/** A stand-in for the proxy under BASE_PATH that answers every request with `answer()`. */
function standIn(answer: () => Response): WidgetSessionProxy {
  // Only what the adapters use of a proxy: the handler, basePath, handles().
  return Object.assign(() => Promise.resolve(answer()), {
    basePath: BASE_PATH,
    handles: (input: Request | URL | string) => {
      const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url, 'http://localhost');
      return url.pathname === BASE_PATH || url.pathname.startsWith(`${BASE_PATH}/`);
    },
    endSessions: () => Promise.resolve({ ended: [], failed: [], setCookie: [] }),
  }) as unknown as WidgetSessionProxy; // (the registry's methods are never called by an adapter)
}

async function withSite<T>(mount: MountSite, proxy: WidgetSessionProxy, run: (url: string) => Promise<T>) {
  const site = await mount(proxy);
  try {
    return await run(site.url);
  } finally {
    await site.close();
  }
}

export function adapterContract(framework: string, mount: MountSite, vendor: FakeVendor): void {
  void describe(`the proxy served by ${framework}`, () => {
    void it('runs the whole create / read / delete cycle', async () => {
      const { proxy } = makeProxy(vendor);
      await withSite(mount, proxy, async (url) => {
        const created = await guardFetch(url, 'POST', BASE_PATH);
        assert.equal(created.status, 201, created.text);
        assert.equal(created.setCookie.length, 1);
        assert.match(created.setCookie[0], /HttpOnly/);
        // The page is https://site.test (its Origin) and this server plain http behind it, as behind a
        // TLS-terminating proxy: Secure by default since issue 13, item 4 (plain only for http pages on loopback).
        assert.ok(created.setCookie[0].includes('Secure'), 'an https page: Secure with secure: "auto"');
        assert.equal(created.headers.get('cache-control'), 'no-store');
        const { session_id: sessionId } = created.body;

        const status = await guardFetch(url, 'GET', `${BASE_PATH}/${sessionId}`, created.cookies);
        assert.equal(status.status, 200, status.text);
        assert.equal(status.body.status, 'active');

        const deleted = await guardFetch(url, 'DELETE', `${BASE_PATH}/${sessionId}`, created.cookies);
        assert.equal(deleted.status, 200);
        assert.match(deleted.setCookie[0], /Max-Age=600;/);
        assert.equal(vendor.sessions.size, 0);
      });
    });

    void it('answers a create that carries a body (the proxy reads none) as one without', async () => {
      const { proxy } = makeProxy(vendor);
      await withSite(mount, proxy, async (url) => {
        const created = await guardFetch(url, 'POST', BASE_PATH, [], {
          body: JSON.stringify({ ignored: true }),
          headers: {
            'x-konpro-guard': '1',
            origin: SITE,
            'content-type': 'application/json',
            cookie: 'site_user=alice',
          },
        });
        assert.equal(created.status, 201, created.text);
      });
    });

    void it('refuses a request from another origin, and a preflight, before the vendor', async () => {
      const { proxy } = makeProxy(vendor);
      await withSite(mount, proxy, async (url) => {
        const foreign = await fetch(`${url}${BASE_PATH}`, {
          method: 'POST',
          headers: { 'x-konpro-guard': '1', origin: 'https://evil.test', cookie: 'site_user=alice' },
        }).then(read);
        assertError(foreign, 403, 'CROSS_SITE_REQUEST_REFUSED');
        const preflight = await fetch(`${url}${BASE_PATH}`, {
          method: 'OPTIONS',
          headers: {
            origin: 'https://evil.test',
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'x-konpro-guard',
          },
        }).then(read);
        assert.ok(preflight.status >= 400, `preflight answered ${preflight.status}`);
        assert.equal(preflight.headers.get('access-control-allow-origin'), null);
        assert.equal(vendor.requests.length, 0);
      });
    });

    void it('refuses an id that is not one (an encoded slash included) before the vendor', async () => {
      const { proxy } = makeProxy(vendor);
      await withSite(mount, proxy, async (url) => {
        for (const id of ['a%2Fb', 'a%2F..%2F..%2Fother', 'x'.repeat(129)]) {
          assertError(await guardFetch(url, 'GET', `${BASE_PATH}/${id}`), 400, 'VALIDATION_ERROR');
        }
        assert.equal(vendor.requests.length, 0);
      });
    });

    void it('writes every Set-Cookie header', async () => {
      const twoCookies = standIn(() => {
        const headers = new Headers({ 'content-type': 'application/json' });
        headers.append('set-cookie', 'a=1; Path=/');
        headers.append('set-cookie', 'b=2; Path=/');
        return new Response('{}', { status: 200, headers });
      });
      await withSite(mount, twoCookies, async (url) => {
        const answer = await fetch(`${url}${BASE_PATH}/x`).then(read);
        assert.deepEqual(answer.setCookie, ['a=1; Path=/', 'b=2; Path=/']);
      });
    });

    void it('leaves every other path, look-alikes too, to the rest of the site', async () => {
      const { proxy } = makeProxy(vendor);
      await withSite(mount, proxy, async (url) => {
        for (const path of ['/about', `${BASE_PATH}-old/x`, '/api']) {
          const other: Answer = await fetch(`${url}${path}`).then(read);
          assert.equal(other.text, REST_OF_THE_APP, path);
        }
        assert.equal(vendor.requests.length, 0);
      });
    });

    void it('a logout route ends the sessions with endSessions', async () => {
      const { proxy } = makeProxy(vendor);
      await withSite(mount, proxy, async (url) => {
        const created = await guardFetch(url, 'POST', BASE_PATH);
        assert.equal(created.status, 201);
        const logout = await fetch(`${url}/logout`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: created.cookies[0] },
        }).then(read);
        assert.equal(logout.status, 303);
        assert.equal(logout.headers.get('location'), '/');
        assert.equal(logout.setCookie.length, 2);
        assert.ok(logout.setCookie[0].startsWith(`${created.cookies[0].split('=')[0]}=;`), 'the binding is cleared');
        assert.match(logout.setCookie[0], /Max-Age=0/);
        assert.equal(logout.setCookie[1], 'site_user=; Max-Age=0; Path=/');
        assert.equal(vendor.sessions.size, 0);
      });
    });
  });
}
