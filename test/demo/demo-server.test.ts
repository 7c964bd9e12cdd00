// The demo server's wiring over plain HTTP: pages under a strict CSP, the
// name-only sign-in and its signed cookie, the proxy behind it, sign-out
// ending the user's sessions, the kiosk device cookie, and configuration
// errors that say what to set.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { DemoServer } from '../../demo/server.js';
import { startDemoServer } from '../../demo/server.js';
import { safeNext } from '../../demo/site/auth.js';
import { readConfig } from '../../demo/site/config.js';
import { BUNDLE_PATH } from '../../demo/site/pages.js';
import { requires } from '../support/prerequisites.js';
import { rawRequest } from './helpers.js';

let demo: DemoServer;
let origin: string;
before(async () => {
  demo = await startDemoServer({ port: 0, env: { DEMO_MAX_DURATION: '600' }, log: () => {} });
  origin = demo.origin;
});
after(() => demo.close());

const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  redirect: 'manual',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin, ...headers },
  body: new URLSearchParams(fields).toString(),
});

/** `name=value` pairs of the Set-Cookie headers, for a Cookie header. */
const cookiesOf = (response: Response): string =>
  response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');

async function signIn(name: string): Promise<string> {
  const response = await fetch(`${origin}/auth/signin`, form({ name, next: '/?embed=1' }));
  assert.equal(response.status, 303);
  assert.equal(response.headers.get('location'), '/?embed=1');
  const cookie = response.headers.getSetCookie()[0] ?? '';
  assert.match(cookie, /^demo_user=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
  return cookiesOf(response);
}

const whoIs = async (cookie: string) =>
  ((await (await fetch(`${origin}/auth/session`, { headers: { cookie } })).json()) as { user: unknown }).user;

void describe('demo server', () => {
  void it('serves the pages with a strict CSP and the values of the configuration', async () => {
    const response = await fetch(`${origin}/`);
    assert.equal(response.status, 200);
    assert.match(
      response.headers.get('content-security-policy') ?? '',
      /^default-src 'self'; script-src 'self'; style-src 'self';/,
    );
    const html = await response.text();
    assert.match(html, /proxy="\/api\/widget-sessions"/);
    assert.match(html, /watch="\/konpro\/v1\/ \/api\/widget-sessions"/);
    assert.match(html, /data-widget-src="\/konpro\/widget\/\?session_id=\{session_id\}"/);
    assert.doesNotMatch(html, /\{\{\w+\}\}/, 'every placeholder filled');
    assert.doesNotMatch(html, /<script>|<style>|style="/, 'no inline script or style');
    assert.equal(html.includes(demo.devApiKey ?? 'no key'), false, 'the API key never reaches a page');
    assert.equal((await fetch(`${origin}/nope`)).status, 404);
    assert.equal(
      (await fetch(`${origin}/assets/site.js`)).headers.get('content-type'),
      'text/javascript; charset=utf-8',
    );
    const traversal = await rawRequest(origin, 'GET', '/assets/..%2F..%2Fserver.ts');
    assert.ok(
      'status' in traversal && traversal.status === 404,
      'an encoded ../ path out of /assets/ was not refused with 404',
    );
  });

  void it(
    'serves the built element from dist/',
    { skip: requires(existsSync(BUNDLE_PATH) ? false : `no build at ${BUNDLE_PATH}: run npm run build first`) },
    async () => {
      const response = await fetch(`${origin}/dist/konpro-widget-guard.min.js`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal((await fetch(`${origin}/dist/konpro-widget-guard.min.js`, { method: 'PUT' })).status, 405);
    },
  );

  void it('signs in by name with a signed cookie; a forged or foreign one is refused', async () => {
    const cookie = await signIn('Ada');
    assert.deepEqual(await whoIs(cookie), { name: 'Ada', kind: 'person' });
    const [name, value = ''] = cookie.split('=');
    const [payload = '', signature = ''] = value.split('.');
    const forged = Buffer.from(JSON.stringify({ n: 'Mallory', k: 'p', exp: 9_999_999_999 })).toString('base64url');
    assert.equal(await whoIs(`${name}=${forged}.${signature}`), null);
    assert.equal(await whoIs(`${name}=${payload}.${signature.slice(1)}x`), null);
    assert.equal(await whoIs(''), null);

    const foreign = await fetch(`${origin}/auth/signin`, form({ name: 'Eve' }, { Origin: 'https://evil.example' }));
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.getSetCookie().length, 0);
    assert.equal(
      (await fetch(`${origin}/auth/signin`, form({ name: '   ' }))).headers.getSetCookie().length,
      0,
      'no name, no sign-in',
    );
  });

  void it('lets the signed-in user create a session through the proxy, and signing out ends it', async () => {
    const refused = await fetch(`${origin}/api/widget-sessions`, {
      method: 'POST',
      headers: { 'X-Konpro-Guard': '1', Origin: origin },
    });
    assert.equal(refused.status, 401, 'nobody signed in');

    const cookie = await signIn('Grace');
    const created = await fetch(`${origin}/api/widget-sessions`, {
      method: 'POST',
      headers: { 'X-Konpro-Guard': '1', Origin: origin, cookie },
    });
    assert.equal(created.status, 201);
    const body = (await created.json()) as { session_id: string; widget_url: string; expires_at: string };
    assert.equal(body.widget_url, `/konpro/widget/?session_id=${body.session_id}`);
    const record = demo.simulator!.store.get(body.session_id)!;
    assert.equal(record.expiresAt - record.createdAt, 600_000, 'DEMO_MAX_DURATION');

    const signedOut = await fetch(
      `${origin}/auth/signout`,
      form({ next: '/' }, { cookie: `${cookie}; ${cookiesOf(created)}` }),
    );
    assert.equal(signedOut.status, 303);
    assert.equal(demo.simulator!.store.endReason(record), 'deleted', 'the server-side logout ended the session');
    const cleared = signedOut.headers.getSetCookie();
    assert.ok(
      cleared.some((c) => /^demo_user=;.*Max-Age=0/.test(c)),
      'the site cookie is cleared',
    );
    assert.ok(
      cleared.some((c) => /^kwg_/.test(c) && /Max-Age=0/.test(c)),
      'the binding cookie is cleared',
    );
  });

  void it("refuses a sign-out from another site (the proxy's origin check) and ends nothing", async () => {
    const cookie = await signIn('Barbara');
    const created = await fetch(`${origin}/api/widget-sessions`, {
      method: 'POST',
      headers: { 'X-Konpro-Guard': '1', Origin: origin, cookie },
    });
    const { session_id: sessionId } = (await created.json()) as { session_id: string };
    const all = `${cookie}; ${cookiesOf(created)}`;
    const foreign: Array<Record<string, string>> = [
      { Origin: 'https://evil.example' },
      { Origin: 'null' },
      // A sibling subdomain (same site, another origin) is not one of the demo's pages either.
      { 'Sec-Fetch-Site': 'same-site' },
    ];
    for (const headers of foreign) {
      const init = form({ next: '/' }, { ...headers, cookie: all });
      if (!('Origin' in headers)) delete (init.headers as Record<string, string>).Origin;
      const refused = await fetch(`${origin}/auth/signout`, init);
      assert.equal(refused.status, 403, JSON.stringify(headers));
      assert.equal(refused.headers.getSetCookie().length, 0);
    }
    assert.equal(demo.simulator!.store.endReason(demo.simulator!.store.get(sessionId)!), null, 'still running');
    assert.deepEqual(await whoIs(cookie), { name: 'Barbara', kind: 'person' }, 'still signed in');
  });

  void it('signs a kiosk in as a device, once, without signing anyone out', async () => {
    const first = await fetch(`${origin}/kiosk`);
    const device = cookiesOf(first);
    assert.match(device, /^demo_kiosk=/);
    assert.deepEqual(await whoIs(device), { name: 'Kiosk', kind: 'kiosk' });
    assert.equal((await fetch(`${origin}/kiosk`, { headers: { cookie: device } })).headers.getSetCookie().length, 0);
    const person = await signIn('Linus');
    assert.deepEqual(await whoIs(`${device}; ${person}`), { name: 'Linus', kind: 'person' }, 'the person wins');
  });

  void it('only redirects within the site', () => {
    assert.equal(safeNext('/?embed=1&check-interval=1'), '/?embed=1&check-interval=1');
    for (const evil of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', null])
      assert.equal(safeNext(evil), '/');
  });
});

void describe('demo configuration', () => {
  void it('with KONPRO_API_BASE, names every missing setting of the real service', () => {
    assert.throws(
      () => readConfig({ KONPRO_API_BASE: 'https://api.konpro.ai' }),
      /KONPRO_API_KEY.*KONPRO_AVATAR_ID.*KONPRO_WIDGET_URL/,
    );
    const real = readConfig({
      KONPRO_API_BASE: 'https://api.konpro.ai/',
      KONPRO_API_KEY: 'kp_live_x',
      KONPRO_AVATAR_ID: 'av_1',
      KONPRO_WIDGET_URL: 'https://widget.example/?session_id={session_id}',
    });
    assert.deepEqual(real.vendor, {
      kind: 'konpro',
      apiBase: 'https://api.konpro.ai',
      apiKey: 'kp_live_x',
      widgetUrlTemplate: 'https://widget.example/?session_id={session_id}',
    });
  });

  void it('refuses settings it cannot use', () => {
    assert.throws(() => readConfig({ KONPRO_WIDGET_URL: 'https://widget.example/' }), /\{session_id\}/);
    assert.throws(() => readConfig({ DEMO_SECRET: 'short' }), /at least 32/);
    assert.throws(() => readConfig({ DEMO_MAX_DURATION: '0' }), /DEMO_MAX_DURATION/);
    assert.throws(() => readConfig({ DEMO_ORIGINS: 'https://ok.example/path' }), /exact origins/);
    assert.deepEqual(readConfig({ DEMO_ORIGINS: 'https://a.example, https://b.example' }).extraOrigins, [
      'https://a.example',
      'https://b.example',
    ]);
  });
});
