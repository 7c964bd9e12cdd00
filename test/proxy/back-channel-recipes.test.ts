// The README's back-channel logout recipes, run as written (demo/recipes/back-channel-logout*.js and the
// Next.js route, whose readme regions the README quotes verbatim): on node:http, in Express (with
// express.urlencoded() in front), in Hono, in Fastify (a form parser that leaves the body to the handler)
// over real HTTP, and the Next.js route module called with a Request. A provider's token (a JWK Set served by the test, by URL as the recipe configures it) ends the
// user's session at the vendor simulator; one signed with another key is 400 and ends nothing.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startSimulatorServer, type RunningSimulator } from '../../demo/simulator/index.js';
import {
  CLIENT_ID,
  ISSUER,
  JwksServer,
  signingKey,
  signLogoutToken,
  type SigningKey,
} from './support/identity-provider.js';

const SITE_ORIGIN = 'http://site.test';
let vendor: RunningSimulator;
const jwks = new JwksServer();
let key: SigningKey;
let stranger: SigningKey;
let loads = 0;

before(async () => {
  vendor = await startSimulatorServer();
  await jwks.listen();
  key = await signingKey('RS256', 'provider-key');
  stranger = await signingKey('RS256', 'provider-key'); // the same kid, another key: a forgery
  jwks.published = [key.publicJwk];
  Object.assign(process.env, {
    KONPRO_API_KEY: vendor.simulator.apiKey,
    KONPRO_API_BASE: vendor.baseUrl,
    KONPRO_AVATAR_ID: 'avatar_recipes',
    WIDGET_PROXY_SECRET: 'recipes-7Hq2vXz9Lr4mKc1Tn8bWp3sYd6Gf0Ja5',
    SITE_ORIGIN,
    OIDC_ISSUER: ISSUER,
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_JWKS_URI: jwks.url,
    PORT: '0',
  });
});
after(async () => {
  await jwks.close();
  await vendor.close();
});

type Send = (path: string, init: RequestInit) => Promise<Response>;

interface Site {
  send: Send;
  close(): Promise<void>;
}

async function serverRecipe(file: string): Promise<Site> {
  loads += 1;
  const { server } = (await import(`../../demo/recipes/${file}?load=${loads}`)) as { server: Server };
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

/** The Next.js routes (the proxy's and the back-channel logout's), called as Next.js calls them. */
async function nextRecipe(): Promise<Site> {
  loads += 1;
  const sessions = (await import(
    `../../demo/recipes/next/app/api/widget-sessions/[[...path]]/route.js?load=${loads}`
  )) as Record<string, RouteHandler | string>;
  const logout = (await import(`../../demo/recipes/next/app/backchannel-logout/route.js?load=${loads}`)) as Record<
    string,
    RouteHandler | string
  >;
  assert.equal(logout.dynamic, 'force-dynamic', 'never cached');
  return {
    send: async (path, init) => {
      const request = new Request(`${SITE_ORIGIN}${path}`, init);
      const module = path.startsWith('/api/widget-sessions') ? sessions : path === '/backchannel-logout' ? logout : {};
      const handler = module[request.method];
      if (typeof handler !== 'function') return new Response(null, { status: 405 });
      return handler(request);
    },
    close: () => Promise.resolve(),
  };
}

/** A widget session for `user`, created as the guard creates it. */
async function createSession(send: Send, user: string): Promise<string> {
  const created = await send('/api/widget-sessions', {
    method: 'POST',
    headers: { 'X-Konpro-Guard': '1', Origin: SITE_ORIGIN, 'Sec-Fetch-Site': 'same-origin', Cookie: `user=${user}` },
  });
  assert.equal(created.status, 201, await created.clone().text());
  return ((await created.json()) as { session_id: string }).session_id;
}

/** The provider's POST to the site's back-channel logout URI. */
function postLogoutToken(send: Send, token: string): Promise<Response> {
  return send('/backchannel-logout', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }).toString(),
  });
}

const deletedAtVendor = (sessionId: string) => (vendor.simulator.store.get(sessionId)?.deletedAt ?? null) !== null;

const recipes: Array<[string, () => Promise<Site>]> = [
  ...[
    'back-channel-logout-node.js',
    'back-channel-logout-express.js',
    'back-channel-logout-hono.js',
    'back-channel-logout-fastify.js',
  ].map((file): [string, () => Promise<Site>] => [file, () => serverRecipe(file)]),
  ['next/app/backchannel-logout/route.js', nextRecipe],
];

let users = 0;

for (const [recipe, start] of recipes) {
  void describe(`recipe ${recipe}`, () => {
    void it('a provider’s logout token ends the user’s session at the vendor (200, no-store); a forged one is 400 and ends nothing', async () => {
      const site = await start();
      try {
        const user = `u${++users}`;
        const first = await createSession(site.send, user);
        const second = await createSession(site.send, user);

        const forged = await postLogoutToken(site.send, await signLogoutToken(stranger, { claims: { sub: user } }));
        assert.equal(forged.status, 400);
        assert.equal(((await forged.json()) as { error: string }).error, 'invalid_request');
        assert.equal(deletedAtVendor(first) || deletedAtVendor(second), false, 'a forgery ends nothing');

        const valid = await postLogoutToken(site.send, await signLogoutToken(key, { claims: { sub: user } }));
        assert.equal(valid.status, 200, await valid.clone().text());
        assert.equal(valid.headers.get('cache-control'), 'no-store');
        assert.equal(deletedAtVendor(first) && deletedAtVendor(second), true, 'both sessions deleted at the vendor');
      } finally {
        await site.close();
      }
    });
  });
}
