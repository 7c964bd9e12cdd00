// The README's server recipes, run as written (demo/recipes/*.js, whose readme regions the README
// quotes verbatim): the proxy and a server-side logout route on node:http, in Express, Hono and
// Fastify over real HTTP, and the Next.js App Router route modules called as Next calls them (with
// a Request; Next itself is not installed), against the vendor simulator. One scenario for all.
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
    HOST: '127.0.0.1',
  });
});
after(() => vendor.close());

/** A site under test: `send` is a request to it as a browser of {@link SITE_ORIGIN} makes it. */
interface Site {
  send(path: string, init: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Imports a server recipe afresh (each import starts its server) and talks to it over HTTP. */
async function serverRecipe(recipe: string): Promise<Site> {
  loads += 1;
  const module = (await import(`../../demo/recipes/${recipe}?load=${loads}`)) as { server: Server };
  const { server } = module;
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    send: (path, init) => fetch(`http://127.0.0.1:${port}${path}`, { ...init, redirect: 'manual' }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type RouteHandler = (request: Request) => Promise<Response>;

/** The Next.js recipe's route modules, routed and called as Next.js calls them: with the Request. */
async function nextRecipe(): Promise<Site> {
  loads += 1;
  const sessions = (await import(
    `../../demo/recipes/next/app/api/widget-sessions/[[...path]]/route.js?load=${loads}`
  )) as Record<string, RouteHandler | string>;
  const logout = (await import(`../../demo/recipes/next/app/logout/route.js?load=${loads}`)) as Record<
    string,
    RouteHandler
  >;
  assert.equal(sessions.dynamic, 'force-dynamic', 'never cached');
  return {
    send: async (path, init) => {
      const request = new Request(`${SITE_ORIGIN}${path}`, init);
      const module = path.startsWith('/api/widget-sessions') ? sessions : path === '/logout' ? logout : {};
      const handler = module[request.method];
      // What Next.js answers for a method the route does not export.
      if (typeof handler !== 'function') return new Response(null, { status: 405 });
      return handler(request);
    },
    close: () => Promise.resolve(),
  };
}

/** The guard's request, from a page of the site, with the cookies it has. */
function guardFetch(site: Site, method: string, path: string, cookies: string[]): Promise<Response> {
  return site.send(path, {
    method,
    headers: {
      'X-Konpro-Guard': '1',
      Origin: SITE_ORIGIN,
      'Sec-Fetch-Site': 'same-origin',
      Cookie: cookies.join('; '),
    },
  });
}

const cookiePairs = (response: Response) => response.headers.getSetCookie().map((c) => c.split(';')[0]);

const recipes: Array<[string, () => Promise<Site>]> = [
  ...['node-server.js', 'express-server.js', 'hono-server.js', 'fastify-server.js'].map(
    (file): [string, () => Promise<Site>] => [file, () => serverRecipe(file)],
  ),
  ['next/ (App Router route handlers)', nextRecipe],
];

for (const [recipe, start] of recipes) {
  void describe(`recipe ${recipe}`, () => {
    void it('creates, reads and (on the site’s logout route) ends the signed-in user’s sessions', async () => {
      const site = await start();
      try {
        const user = ['user=alice'];
        assert.equal((await guardFetch(site, 'POST', '/api/widget-sessions', [])).status, 401, 'nobody signed in');
        const created = await guardFetch(site, 'POST', '/api/widget-sessions', user);
        assert.equal(created.status, 201);
        const { session_id: sessionId, widget_url: widgetUrl } = (await created.json()) as {
          session_id: string;
          widget_url: string;
        };
        assert.equal(widgetUrl, `https://widget.konpro.ai/embed?session=${sessionId}`);
        const binding = cookiePairs(created);
        const status = await guardFetch(site, 'GET', `/api/widget-sessions/${sessionId}`, [...user, ...binding]);
        assert.equal(((await status.json()) as { status: string }).status, 'active');
        // A page of another site is refused, on every route the recipe wires.
        const foreign = await site.send(`/api/widget-sessions/${sessionId}`, {
          method: 'DELETE',
          headers: { 'X-Konpro-Guard': '1', Origin: 'https://evil.test', Cookie: [...user, ...binding].join('; ') },
        });
        assert.equal(foreign.status, 403);

        // The server-side logout: no guard header, no page JavaScript; just the browser's cookies.
        const logout = await site.send('/logout', {
          method: 'POST',
          headers: { Cookie: [...user, ...binding].join('; ') },
        });
        assert.equal(logout.status, 303);
        assert.equal(new URL(logout.headers.get('location')!, SITE_ORIGIN).pathname, '/');
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
      const site = await start();
      try {
        const user = ['user=alice'];
        const created = await guardFetch(site, 'POST', '/api/widget-sessions', user);
        const { session_id: sessionId } = (await created.json()) as { session_id: string };
        const binding = cookiePairs(created);
        for (const headers of [{ Origin: 'https://evil.example' }, { 'Sec-Fetch-Site': 'cross-site' }] as Array<
          Record<string, string>
        >) {
          const logout = await site.send('/logout', {
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
