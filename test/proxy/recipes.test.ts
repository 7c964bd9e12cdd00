// The README's server recipes, run as written (demo/recipes/*.js, whose readme regions the README
// quotes verbatim): the proxy and a server-side logout route, on node:http and in Express, against
// the vendor simulator.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startSimulatorServer, type RunningSimulator } from '../../demo/simulator/index.js';

const SITE_ORIGIN = 'http://site.test';
let vendor: RunningSimulator;
let loads = 0;

before(async () => {
  vendor = await startSimulatorServer();
  Object.assign(process.env, {
    KONPRO_API_KEY: vendor.simulator.apiKey,
    KONPRO_API_BASE: vendor.baseUrl,
    KONPRO_AVATAR_ID: 'avatar_recipes',
    WIDGET_PROXY_SECRET: 'recipes-7Hq2vXz9Lr4mKc1Tn8bWp3sYd6Gf0Ja5',
    SITE_ORIGIN,
    PORT: '0',
  });
});
after(() => vendor.close());

/** Imports a recipe afresh (each import starts its server) and returns its origin. */
async function run(recipe: string): Promise<{ origin: string; close(): Promise<void> }> {
  loads += 1;
  const module = (await import(`../../demo/recipes/${recipe}?load=${loads}`)) as { server: Server };
  const { server } = module;
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The guard's request, from a page of the site, with the cookies it has. */
function guardFetch(origin: string, method: string, path: string, cookies: string[]): Promise<Response> {
  return fetch(`${origin}${path}`, {
    method,
    headers: {
      'X-Konpro-Guard': '1',
      Origin: SITE_ORIGIN,
      'Sec-Fetch-Site': 'same-origin',
      Cookie: cookies.join('; '),
    },
    redirect: 'manual',
  });
}

const cookiePairs = (response: Response) => response.headers.getSetCookie().map((c) => c.split(';')[0]);

for (const recipe of ['node-server.js', 'express-server.js']) {
  void describe(`recipe ${recipe}`, () => {
    void it('creates, reads and (on the site’s logout route) ends the signed-in user’s sessions', async () => {
      const site = await run(recipe);
      try {
        const user = ['user=alice'];
        assert.equal(
          (await guardFetch(site.origin, 'POST', '/api/widget-sessions', [])).status,
          401,
          'nobody signed in',
        );
        const created = await guardFetch(site.origin, 'POST', '/api/widget-sessions', user);
        assert.equal(created.status, 201);
        const { session_id: sessionId, widget_url: widgetUrl } = (await created.json()) as {
          session_id: string;
          widget_url: string;
        };
        assert.equal(widgetUrl, `https://widget.konpro.ai/embed?session=${sessionId}`);
        const binding = cookiePairs(created);
        const status = await guardFetch(site.origin, 'GET', `/api/widget-sessions/${sessionId}`, [...user, ...binding]);
        assert.equal(((await status.json()) as { status: string }).status, 'active');

        // The server-side logout: no guard header, no page JavaScript; just the browser's cookies.
        const logout = await fetch(`${site.origin}/logout`, {
          method: 'POST',
          headers: { Cookie: [...user, ...binding].join('; ') },
          redirect: 'manual',
        });
        assert.equal(logout.status, 303);
        const cleared = logout.headers.getSetCookie();
        assert.ok(
          cleared.some((c) => c.startsWith(`${binding[0].split('=')[0]}=;`) && /Max-Age=0/.test(c)),
          'binding cleared',
        );
        assert.ok(
          cleared.some((c) => c.startsWith('user=;')),
          'signed out of the site',
        );
        assert.notEqual(vendor.simulator.store.get(sessionId)?.deletedAt ?? null, null, 'deleted at the vendor');
      } finally {
        await site.close();
      }
    });

    void it('refuses a logout posted from another site, and ends nothing', async () => {
      const site = await run(recipe);
      try {
        const user = ['user=alice'];
        const created = await guardFetch(site.origin, 'POST', '/api/widget-sessions', user);
        const { session_id: sessionId } = (await created.json()) as { session_id: string };
        const binding = cookiePairs(created);
        for (const headers of [{ Origin: 'https://evil.example' }, { 'Sec-Fetch-Site': 'cross-site' }] as Array<
          Record<string, string>
        >) {
          const logout = await fetch(`${site.origin}/logout`, {
            method: 'POST',
            headers: { ...headers, Cookie: [...user, ...binding].join('; ') },
            redirect: 'manual',
          });
          assert.equal(logout.status, 403);
          assert.deepEqual(logout.headers.getSetCookie(), [], 'nobody signed out');
        }
        assert.equal(vendor.simulator.store.get(sessionId)?.deletedAt ?? null, null, 'the session still runs');
      } finally {
        await site.close();
      }
    });
  });
}
