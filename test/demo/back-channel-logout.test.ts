// The demo's identity provider and back-channel logout URI over real HTTP: "Sign out at the identity
// provider" (POST /idp/sign-out) signs a logout token and posts it to /auth/backchannel-logout, which
// answers 200 and ends the person's sessions at the simulator on every device; a forged token (another
// key, another issuer, a replay) is 400 and ends nothing; the provider's JWKS and discovery document are
// what the endpoint is configured with.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import type { DemoServer } from '../../demo/server.js';
import { startDemoServer } from '../../demo/server.js';
import {
  BACK_CHANNEL_LOGOUT_PATH,
  DEMO_CLIENT_ID,
  DISCOVERY_PATH,
  IDP_SIGN_OUT_PATH,
  JWKS_PATH,
} from '../../demo/site/identity-provider.js';
import { BACK_CHANNEL_LOGOUT_EVENT, type ProxyLogEntry } from '../../src/proxy/index.js';

let demo: DemoServer;
let origin: string;
const logged: ProxyLogEntry[] = [];
before(async () => {
  demo = await startDemoServer({ port: 0, env: { DEMO_MAX_DURATION: '600' }, log: (entry) => logged.push(entry) });
  origin = demo.origin;
});
after(() => demo.close());

let people = 0;
/** A name no other test here signs in with. */
const someone = () => `Idp ${++people} ${randomUUID().slice(0, 6)}`;

const cookiesOf = (response: Response): string[] => response.headers.getSetCookie().map((c) => c.split(';')[0]);

async function signIn(name: string): Promise<string> {
  const response = await fetch(`${origin}/auth/signin`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin },
    body: new URLSearchParams({ name, next: '/' }).toString(),
  });
  assert.equal(response.status, 303);
  return cookiesOf(response).join('; ');
}

/** A widget session for the signed-in person, as a guard on another device creates it (no binding shared). */
async function createSession(cookie: string): Promise<string> {
  const response = await fetch(`${origin}/api/widget-sessions`, {
    method: 'POST',
    headers: { 'X-Konpro-Guard': '1', Origin: origin, 'Sec-Fetch-Site': 'same-origin', Cookie: cookie },
  });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { session_id: string }).session_id;
}

/** `active` or `terminated` at the simulator (the vendor). */
function vendorStatus(sessionId: string): string {
  const { store } = demo.simulator!;
  const record = store.get(sessionId);
  assert.ok(record, `the simulator knows ${sessionId}`);
  return store.endReason(record) === null ? 'active' : 'terminated';
}

function pressSignOutAtIdentityProvider(cookie: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${origin}${IDP_SIGN_OUT_PATH}`, {
    method: 'POST',
    headers: { Origin: origin, 'Sec-Fetch-Site': 'same-origin', Cookie: cookie, ...headers },
  });
}

/** What a provider sends to the site's back-channel logout URI. */
function postLogoutToken(token: string): Promise<Response> {
  return fetch(`${origin}${BACK_CHANNEL_LOGOUT_PATH}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }).toString(),
  });
}

/** A logout token with every claim right, signed by a key the demo provider never published. */
async function forgedToken(sub: string): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: demo.identityProvider.issuer,
    aud: DEMO_CLIENT_ID,
    iat: now,
    exp: now + 120,
    jti: randomUUID(),
    sub,
    events: { [BACK_CHANNEL_LOGOUT_EVENT]: {} },
  })
    .setProtectedHeader({ alg: 'ES256', kid: demo.identityProvider.jwks.keys[0].kid, typ: 'logout+jwt' })
    .sign(privateKey);
}

async function assertRefused(response: Response, description: RegExp): Promise<void> {
  assert.equal(response.status, 400);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await response.json()) as { error: string; error_description: string };
  assert.equal(body.error, 'invalid_request');
  assert.match(body.error_description, description);
}

void describe('demo: sign out at the identity provider (OpenID Connect Back-Channel Logout)', () => {
  void it('publishes its discovery document and JWK Set (public key only)', async () => {
    const discovery = (await (await fetch(`${origin}${DISCOVERY_PATH}`)).json()) as Record<string, unknown>;
    assert.equal(discovery.issuer, demo.identityProvider.issuer);
    assert.equal(discovery.backchannel_logout_supported, true);
    assert.equal(discovery.jwks_uri, `${origin}${JWKS_PATH}`);
    const response = await fetch(`${origin}${JWKS_PATH}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/jwk-set+json');
    const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };
    assert.equal(keys.length, 1);
    assert.deepEqual(
      { kty: keys[0].kty, crv: keys[0].crv, alg: keys[0].alg, use: keys[0].use },
      {
        kty: 'EC',
        crv: 'P-256',
        alg: 'ES256',
        use: 'sig',
      },
    );
    assert.equal('d' in keys[0], false, 'no private part');
  });

  void it('the button signs a token, posts it to the back-channel URI (200), and the person’s sessions on every device are deleted at the vendor', async () => {
    const name = someone();
    const phone = await signIn(name);
    const laptop = await signIn(name);
    const sessions = [await createSession(phone), await createSession(laptop)];
    const bystander = await createSession(await signIn(someone()));
    assert.equal((await demo.proxy.listSessions({ userId: `person:${name}` })).length, 2);

    const response = await pressSignOutAtIdentityProvider(phone);
    assert.equal(response.status, 200);
    const answer = (await response.json()) as {
      logout_token: { header: Record<string, unknown>; claims: Record<string, unknown> };
      back_channel_logout: { url: string; status: number; cache_control: string | null; body: unknown };
    };
    assert.deepEqual(answer.back_channel_logout, {
      url: BACK_CHANNEL_LOGOUT_PATH,
      status: 200,
      cache_control: 'no-store',
      body: null,
    });
    assert.equal(answer.logout_token.header.typ, 'logout+jwt');
    assert.equal(answer.logout_token.header.alg, 'ES256');
    const { claims } = answer.logout_token;
    assert.equal(claims.sub, name);
    assert.equal(claims.iss, demo.identityProvider.issuer);
    assert.equal(claims.aud, DEMO_CLIENT_ID);
    assert.deepEqual(claims.events, { [BACK_CHANNEL_LOGOUT_EVENT]: {} });
    assert.equal(typeof claims.jti, 'string');
    assert.doesNotMatch(JSON.stringify(answer), /eyJ[\w-]+\.eyJ/, 'the page never gets the token itself');

    for (const sessionId of sessions) assert.equal(vendorStatus(sessionId), 'terminated');
    assert.deepEqual(await demo.proxy.listSessions({ userId: `person:${name}` }), []);
    assert.equal(vendorStatus(bystander), 'active', 'another person’s session is left alone');
    const done = logged.find((entry) => entry.event === 'back-channel-logout' && entry.status === 200);
    assert.match(done?.detail ?? '', /ended 2 widget session/);
    assert.equal(
      logged.some((entry) => /eyJ/.test(JSON.stringify(entry))),
      false,
      'no token in the log',
    );
  });

  void it('a token signed by another key is 400 and ends nothing; so are another issuer and a replay', async () => {
    const name = someone();
    const cookie = await signIn(name);
    const sessionId = await createSession(cookie);

    await assertRefused(await postLogoutToken(await forgedToken(name)), /signature does not verify/);
    const otherIssuer = await demo.identityProvider.signLogoutToken(name, { iss: 'https://idp.example.com' });
    await assertRefused(await postLogoutToken(otherIssuer.token), /iss is not the configured issuer/);
    const otherAudience = await demo.identityProvider.signLogoutToken(name, { aud: 'someone-else' });
    await assertRefused(await postLogoutToken(otherAudience.token), /aud does not contain/);
    assert.equal(vendorStatus(sessionId), 'active', 'nothing ended');
    assert.equal((await demo.proxy.listSessions({ userId: `person:${name}` })).length, 1);

    // The provider's own token is accepted once; the same token again is a replay.
    const { token } = await demo.identityProvider.signLogoutToken(name);
    assert.equal((await postLogoutToken(token)).status, 200);
    assert.equal(vendorStatus(sessionId), 'terminated');
    const again = await createSession(cookie);
    await assertRefused(await postLogoutToken(token), /jti was seen before/);
    assert.equal(vendorStatus(again), 'active', 'a replay ends nothing');
  });

  void it('the button needs a signed-in person and the site’s own page', async () => {
    assert.equal((await pressSignOutAtIdentityProvider('')).status, 401);
    const cookie = await signIn(someone());
    const sessionId = await createSession(cookie);
    const crossSite = await pressSignOutAtIdentityProvider(cookie, {
      Origin: 'https://evil.example',
      'Sec-Fetch-Site': 'cross-site',
    });
    assert.equal(crossSite.status, 403);
    assert.equal(vendorStatus(sessionId), 'active');
    assert.equal((await fetch(`${origin}${IDP_SIGN_OUT_PATH}`, { headers: { Cookie: cookie } })).status, 405);
  });
});
