// The binding cookie's attributes by default: Secure and the __Host- prefix, also behind a
// TLS-terminating proxy (where the proxy itself sees plain http); plain only for http on this machine
// (localhost, 127.0.0.1, [::1]), so the demo works. Each answer goes through a browser-like jar that
// drops what a browser would drop.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { toNodeListener } from '../../src/proxy/index.js';
import { CookieJar } from './support/cookie-jar.js';
import { BASE_PATH, fakeVendorForFile, makeProxy, read, remember, send, SITE } from './support/harness.js';

const vendor = fakeVendorForFile();
const LOOPBACK_PAGES = ['http://localhost:8000', 'http://127.0.0.1:8000', 'http://[::1]:8000'];

/** A create as the guard sends it: to `url` (what the proxy sees), from a page of `origin` (what the browser is on). */
function create(url: string, origin: string | null, cookie = 'site_user=alice'): Request {
  const headers: Record<string, string> = { 'x-konpro-guard': '1', cookie };
  if (origin !== null) headers.origin = origin;
  return new Request(`${url}${BASE_PATH}`, { method: 'POST', headers });
}

const proxyFor = (overrides = {}) =>
  makeProxy(vendor, { allowedOrigins: [SITE, 'http://site.test', ...LOOPBACK_PAGES], ...overrides }).proxy;

const attributes = (setCookie: string) => setCookie.split('; ').slice(1);

void describe('binding cookie defaults', () => {
  void it('are Secure with the __Host- prefix on https', async () => {
    const answer = await send(proxyFor(), create(SITE, SITE));
    assert.equal(answer.status, 201);
    assert.match(answer.setCookie[0], /^__Host-kwg_[A-Za-z0-9_-]{16}=/);
    assert.deepEqual(attributes(answer.setCookie[0]).slice(1), ['Path=/', 'HttpOnly', 'SameSite=Strict', 'Secure']);
    const jar = new CookieJar(SITE);
    jar.store(answer.setCookie);
    assert.deepEqual(jar.refused, [], 'a browser keeps it');
  });

  void it('are Secure with __Host- behind a TLS-terminating proxy, where the request arrives as plain http', async () => {
    const proxy = proxyFor();
    // The Host is the public one ...
    const publicHost = await send(proxy, create('http://site.test', SITE));
    // ... or, with nginx's default proxy_pass, the upstream's loopback address: the Origin still says https.
    const upstreamHost = await send(proxy, create('http://127.0.0.1:3000', SITE));
    for (const answer of [publicHost, upstreamHost]) {
      assert.equal(answer.status, 201, answer.text);
      assert.match(answer.setCookie[0], /^__Host-kwg_/);
      assert.ok(
        attributes(answer.setCookie[0]).includes('Secure'),
        'the session cookie for an https page is not Secure',
      );
    }
  });

  void it('are Secure on plain http to a host that is not this machine', async () => {
    const answer = await send(proxyFor(), create('http://site.test', 'http://site.test'));
    assert.match(answer.setCookie[0], /^__Host-kwg_.*; Secure$/);
  });

  void it('fall back to a plain, non-Secure cookie only for http on loopback, which a browser there keeps', async () => {
    const proxy = proxyFor();
    for (const page of LOOPBACK_PAGES) {
      for (const origin of [page, null]) {
        const answer = await send(proxy, create(page, origin));
        assert.equal(answer.status, 201, answer.text);
        assert.match(answer.setCookie[0], /^kwg_[A-Za-z0-9_-]{16}=/, `${page}, Origin ${origin}`);
        assert.ok(
          !answer.setCookie[0].includes('Secure'),
          `${page}, Origin ${origin}: the cookie is Secure, so a browser on http drops it`,
        );
        const jar = new CookieJar(page);
        jar.store(answer.setCookie);
        assert.equal(jar.names().length, 1, 'a browser on http://localhost keeps it');
      }
    }
  });

  void it('use __Secure- when cookie.path is not "/" (where __Host- is not allowed)', async () => {
    const answer = await send(proxyFor({ cookie: { path: '/app' } }), create(SITE, SITE));
    assert.match(
      answer.setCookie[0],
      /^__Secure-kwg_[A-Za-z0-9_-]{16}=.*; Path=\/app; HttpOnly; SameSite=Strict; Secure$/,
    );
  });

  void it('are plain with cookie.secure: false (an explicit choice)', async () => {
    const answer = await send(proxyFor({ cookie: { secure: false } }), create(SITE, SITE));
    assert.match(answer.setCookie[0], /^kwg_/);
    assert.ok(!answer.setCookie[0].includes('Secure'), 'cookie.secure: false still set a Secure cookie');
  });

  void it('still honour, and clear, a binding a browser got before the default changed (kwg_, no Secure)', async () => {
    const legacy = proxyFor({ cookie: { secure: false } });
    const created = await send(legacy, create(SITE, SITE));
    const [pair] = created.cookies;
    const { session_id: sessionId } = created.body;
    const proxy = proxyFor();
    const status = await send(
      proxy,
      new Request(`${SITE}${BASE_PATH}/${sessionId}`, {
        headers: { 'x-konpro-guard': '1', origin: SITE, cookie: `site_user=alice; ${pair}` },
      }),
    );
    assert.equal(status.status, 200, status.text);
    const logout = await proxy.endSessions(
      new Request(`${SITE}/logout`, { method: 'POST', headers: { cookie: pair } }),
    );
    remember(JSON.stringify(logout));
    assert.deepEqual(logout.ended, [sessionId]);
    assert.match(
      logout.setCookie[0],
      new RegExp(`^${pair.split('=')[0]}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict; Secure$`),
    );
    assert.equal(vendor.sessions.has(sessionId), false);
  });
});

void describe('binding cookie defaults over node:http', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((server) => (server.closeAllConnections(), server.close())));

  void it('the demo case: a page on http://127.0.0.1 gets a cookie its browser keeps, and every route works with it', async () => {
    const server = createServer();
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on('request', toNodeListener(makeProxy(vendor, { allowedOrigins: [origin] }).proxy));
    const jar = new CookieJar(origin);
    const call = async (method: string, path: string) => {
      const answer = await fetch(`${origin}${path}`, {
        method,
        headers: { 'x-konpro-guard': '1', origin, cookie: ['site_user=alice', ...jar.pairs()].join('; ') },
      }).then(read);
      jar.store(answer.setCookie);
      return answer;
    };
    const created = await call('POST', BASE_PATH);
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(jar.refused, []);
    const { session_id: sessionId } = created.body;
    assert.equal((await call('GET', `${BASE_PATH}/${sessionId}`)).status, 200);
    assert.equal((await call('DELETE', `${BASE_PATH}/${sessionId}`)).status, 200);
    assert.equal(vendor.sessions.has(sessionId), false);
  });
});
