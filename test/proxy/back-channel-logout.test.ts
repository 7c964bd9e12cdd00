// createBackChannelLogout over real HTTP: a provider's JWK Set on loopback,
// logout tokens signed with keys the test made (RS256, ES256) and forged in
// every way OpenID Connect Back-Channel Logout 1.0 (§2.4, §2.6) forbids.
// A valid token revokes its user once and answers 200; anything else is 400,
// names what failed, revokes nothing, and no log line ever holds a token.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request as httpRequest, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import express from 'express';
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import {
  BACK_CHANNEL_LOGOUT_EVENT,
  createBackChannelLogout,
  memoryStore,
  toNodeListener,
  type BackChannelLogoutOptions,
  type BackChannelLogoutTarget,
  type ProxyLogEntry,
  type ServerEndReason,
  type WidgetSessionStore,
} from '../../src/proxy/index.js';
import {
  CLIENT_ID,
  ISSUER,
  JwksServer,
  logoutClaims,
  signingKey,
  signLogoutToken,
  unsignedLogoutToken,
  type SigningKey,
} from './support/identity-provider.js';

/**
 * The proxy's side as `createBackChannelLogout` uses it: `revokeUser` records
 * its calls (until the registry lands in the proxy itself); `store` is the
 * real memory store, with the TTL of each claim noted.
 */
class RecordingProxy implements BackChannelLogoutTarget {
  readonly revoked: Array<{ userId: string; reason: string | undefined }> = [];
  /** Sessions the next revocations report as not confirmed by the vendor (queued for retry). */
  failing: string[] = [];
  /** Makes revokeUser throw, as a store that is down would. */
  broken = false;
  readonly ttls = new Map<string, number>();
  readonly store: Pick<WidgetSessionStore, 'claimOnce'>;

  constructor(readonly shared: WidgetSessionStore = openStore()) {
    this.store = {
      claimOnce: (key, ttlMs) => {
        this.ttls.set(key, ttlMs);
        return shared.claimOnce(key, ttlMs);
      },
    };
  }

  revokeUser(userId: string, options?: { reason?: ServerEndReason }) {
    this.revoked.push({ userId, reason: options?.reason });
    if (this.broken) return Promise.reject(new Error('the session store is unreachable'));
    return Promise.resolve({ ended: [`sess-of-${userId}`], failed: this.failing });
  }
}

const stores: WidgetSessionStore[] = [];
function openStore(): WidgetSessionStore {
  const store = memoryStore();
  stores.push(store);
  return store;
}

const jwks = new JwksServer();
const servers: Server[] = [];
const logs: ProxyLogEntry[] = [];
/** Every token this file sent: none may appear in a log line. */
const sentTokens: string[] = [];
let rsa: SigningKey;
let ec: SigningKey;
/** Not published: signs under rsa's kid. */
let impostor: SigningKey;

before(async () => {
  [rsa, ec, impostor] = await Promise.all([
    signingKey('RS256', 'rsa-1'),
    signingKey('ES256', 'ec-1'),
    signingKey('RS256', 'rsa-1'),
  ]);
  await jwks.listen();
});
beforeEach(() => {
  jwks.published = [rsa.publicJwk, ec.publicJwk];
  jwks.down = false;
});
after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  await jwks.close();
  await Promise.all(stores.map((store) => store.close()));
  const said = JSON.stringify(logs);
  assert.ok(sentTokens.length > 20 && logs.length > 20, 'the file sent tokens and logged');
  for (const token of sentTokens) {
    assert.ok(!said.includes(token), 'a token appeared in the log');
    for (const part of token.split('.').filter((p) => p.length > 16))
      assert.ok(!said.includes(part), 'a part of a token appeared in the log');
  }
});

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel-logout`;
}

interface Endpoint {
  url: string;
  proxy: RecordingProxy;
}

/** The endpoint on node:http, for a fresh recording proxy, with the provider's JWK Set by URL. */
async function endpoint(
  overrides: Partial<BackChannelLogoutOptions> = {},
  proxy = new RecordingProxy(),
): Promise<Endpoint> {
  const handler = createBackChannelLogout({
    issuer: ISSUER,
    audience: CLIENT_ID,
    jwks: jwks.url,
    userId: (claims) => (claims.sub === undefined ? null : `site:${claims.sub}`),
    proxy,
    log: (entry) => logs.push(entry),
    ...overrides,
  });
  return { url: await serve(toNodeListener(handler)), proxy };
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answer bodies freely
  body: any;
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** POSTs the form the provider sends: `logout_token=...`. */
function postToken(url: string, token: string): Promise<Answer> {
  sentTokens.push(token);
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }).toString(),
  }).then(answerOf);
}

function assertAccepted(answer: Answer): void {
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  assert.equal(answer.text, '');
}

function assertRefused(answer: Answer, description: RegExp, error = 'invalid_request'): void {
  assert.equal(answer.status, 400, answer.text);
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(answer.body).sort(), ['error', 'error_description']);
  assert.equal(answer.body.error, error);
  assert.match(answer.body.error_description, description);
  // RFC 6749 §5.2: the characters an error_description may hold.
  assert.match(answer.body.error_description, /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
}

void describe('a valid logout token', () => {
  void it('RS256: revokes the user it names once, answers 200 with no-store and no body', async () => {
    const { url, proxy } = await endpoint();
    const logged = logs.length;
    assertAccepted(await postToken(url, await signLogoutToken(rsa, { claims: { sub: 'alice' } })));
    assert.deepEqual(proxy.revoked, [{ userId: 'site:alice', reason: 'revoked' }]);
    const entry = logs.slice(logged).find((e) => e.event === 'back-channel-logout');
    assert.deepEqual(entry, {
      level: 'info',
      event: 'back-channel-logout',
      status: 200,
      detail: 'ended 1 widget session(s)',
    });
  });

  void it('ES256, an aud array that contains the client, a sid-only token, typ application/logout+jwt or no typ', async () => {
    const { url, proxy } = await endpoint({ userId: (claims) => `site:${claims.sub ?? claims.sid}` });
    assertAccepted(await postToken(url, await signLogoutToken(ec)));
    assertAccepted(await postToken(url, await signLogoutToken(rsa, { claims: { aud: ['other', CLIENT_ID] } })));
    assertAccepted(await postToken(url, await signLogoutToken(rsa, { claims: { sub: undefined, sid: 's-9' } })));
    assertAccepted(await postToken(url, await signLogoutToken(rsa, { header: { typ: 'application/logout+jwt' } })));
    assertAccepted(await postToken(url, await signLogoutToken(rsa, { header: { typ: undefined } })));
    assert.deepEqual(
      proxy.revoked.map((r) => r.userId),
      ['site:user-1', 'site:user-1', 'site:s-9', 'site:user-1', 'site:user-1'],
    );
  });

  void it('typ: ["logout+jwt", "JWT"] also takes a provider that types its logout tokens JWT (Auth0, older Keycloak)', async () => {
    const { url, proxy } = await endpoint({ typ: ['logout+jwt', 'JWT'] });
    assertAccepted(await postToken(url, await signLogoutToken(rsa, { header: { typ: 'JWT' } })));
    assertAccepted(await postToken(url, await signLogoutToken(rsa)));
    assertRefused(await postToken(url, await signLogoutToken(rsa, { header: { typ: 'at+jwt' } })), /typ 'at\+jwt'/);
    assert.equal(proxy.revoked.length, 2);
  });

  void it('without exp: accepted while iat is recent; other claims it does not know are ignored', async () => {
    const { url, proxy } = await endpoint();
    const token = await signLogoutToken(rsa, { claims: { exp: undefined, acr: 'x', extra: { a: 1 } } });
    assertAccepted(await postToken(url, token));
    assert.equal(proxy.revoked.length, 1);
  });

  void it('passes userId the verified claims', async () => {
    let seen: unknown;
    const { url } = await endpoint({ userId: (claims) => ((seen = claims), 'u') });
    const claims = { ...logoutClaims('bob'), sid: 'sid-7' };
    assertAccepted(await postToken(url, await signLogoutToken(rsa, { claims })));
    assert.deepEqual(seen, claims);
  });

  void it('still 200 when the vendor could not confirm some deletes now (the proxy queued them)', async () => {
    const { url, proxy } = await endpoint();
    proxy.failing = ['sess-x'];
    const logged = logs.length;
    assertAccepted(await postToken(url, await signLogoutToken(rsa)));
    assert.match(logs.slice(logged).at(-1)?.detail ?? '', /1 delete\(s\) queued for retry/);
  });

  void it('for a user userId does not know (null): 200, nothing revoked, a warning', async () => {
    const { url, proxy } = await endpoint({ userId: () => null });
    const logged = logs.length;
    assertAccepted(await postToken(url, await signLogoutToken(rsa)));
    assert.deepEqual(proxy.revoked, []);
    assert.equal(logs.slice(logged).at(-1)?.level, 'warn');
    assert.match(logs.slice(logged).at(-1)?.detail ?? '', /named nobody/);
  });

  void it('keeps its jti in the store for as long as the token could be accepted', async () => {
    const { url, proxy } = await endpoint();
    const claims = { ...logoutClaims(), jti: 'jti-ttl', exp: Math.floor(Date.now() / 1000) + 30 };
    assertAccepted(await postToken(url, await signLogoutToken(rsa, { claims })));
    const ttl = proxy.ttls.get(`bcl-jti:${ISSUER}:jti-ttl`);
    // exp + 60 s clock tolerance, from now.
    assert.ok(ttl !== undefined && ttl > 85_000 && ttl <= 91_000, `ttl ${ttl}`);
  });
});

void describe('a forged or broken logout token: 400, nothing revoked', () => {
  const seconds = () => Math.floor(Date.now() / 1000);
  const cases: Array<[string, () => Promise<string> | string, RegExp]> = [
    [
      'wrong issuer',
      () => signLogoutToken(rsa, { claims: { iss: 'https://evil.test' } }),
      /iss is not the configured issuer/,
    ],
    ['no issuer', () => signLogoutToken(rsa, { claims: { iss: undefined } }), /the iss claim is missing/],
    ['wrong audience', () => signLogoutToken(rsa, { claims: { aud: 'another-client' } }), /aud does not contain/],
    ['no events claim', () => signLogoutToken(rsa, { claims: { events: undefined } }), /the events claim is missing/],
    [
      'events without the back-channel member',
      () => signLogoutToken(rsa, { claims: { events: { 'https://other/event': {} } } }),
      /events claim has no http:\/\/schemas.openid.net\/event\/backchannel-logout member/,
    ],
    [
      'the member is not an object',
      () => signLogoutToken(rsa, { claims: { events: { [BACK_CHANNEL_LOGOUT_EVENT]: true } } }),
      /member of events is not a JSON object/,
    ],
    [
      'events is an array',
      () => signLogoutToken(rsa, { claims: { events: [BACK_CHANNEL_LOGOUT_EVENT] } }),
      /events claim is missing or not a JSON object/,
    ],
    ['with a nonce (an ID token)', () => signLogoutToken(rsa, { claims: { nonce: 'n-1' } }), /nonce/],
    [
      'neither sub nor sid',
      () => signLogoutToken(rsa, { claims: { sub: undefined, sid: undefined } }),
      /neither a sub nor a sid/,
    ],
    [
      'sub not a string',
      () => signLogoutToken(rsa, { claims: { sub: 42 } }),
      /the sub claim is not a non-empty string/,
    ],
    ['expired', () => signLogoutToken(rsa, { claims: { iat: seconds() - 100, exp: seconds() - 61 } }), /has expired/],
    [
      'iat far in the future',
      () => signLogoutToken(rsa, { claims: { iat: seconds() + 3600, exp: seconds() + 7200 } }),
      /iat is in the future/,
    ],
    [
      'iat far in the past',
      () => signLogoutToken(rsa, { claims: { iat: seconds() - 3600, exp: seconds() + 60 } }),
      /too old/,
    ],
    ['no iat', () => signLogoutToken(rsa, { claims: { iat: undefined } }), /the iat claim is missing/],
    ['iat not a number', () => signLogoutToken(rsa, { claims: { iat: 'now' } }), /the iat claim is not a number/],
    ['no jti', () => signLogoutToken(rsa, { claims: { jti: undefined } }), /the jti claim is missing/],
    [
      'jti not a string',
      () => signLogoutToken(rsa, { claims: { jti: 7 } }),
      /jti claim is missing or not a non-empty string/,
    ],
    ['signed with another key', () => signLogoutToken(impostor), /signature does not verify/],
    ['alg none, unsigned', () => unsignedLogoutToken(), /not signed/],
    ['unknown kid', () => signLogoutToken(rsa, { header: { kid: 'nobody' } }), /no RS256 key with kid 'nobody'/],
    ['typ JWT', () => signLogoutToken(rsa, { header: { typ: 'JWT' } }), /typ 'JWT' is not logout\+jwt/],
    ['typ of an access token', () => signLogoutToken(rsa, { header: { typ: 'at+jwt' } }), /typ 'at\+jwt'/],
    ['not a JWT', () => 'not-a-jwt', /not a JWT in compact serialization/],
    ['encrypted (JWE)', () => 'a.b.c.d.e', /encrypted \(JWE\)/],
    ['a broken header', () => '!!!.e30.sig', /no readable JOSE header/],
    [
      'an alg it does not allow (HS256)',
      () =>
        new SignJWT(logoutClaims()).setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' }).sign(new Uint8Array(32)),
      /alg 'HS256' is not allowed/,
    ],
  ];
  for (const [name, forge, description] of cases) {
    void it(name, async () => {
      const { url, proxy } = await endpoint();
      const logged = logs.length;
      assertRefused(await postToken(url, await forge()), description);
      assert.deepEqual(proxy.revoked, []);
      const entry = logs.slice(logged).find((e) => e.event === 'back-channel-logout-refused');
      assert.equal(entry?.level, 'warn');
      assert.equal(entry?.status, 400);
      assert.match(entry?.detail ?? '', description);
    });
  }

  void it('a replayed jti, also at another instance that shares the store', async () => {
    const proxy = new RecordingProxy();
    const one = await endpoint({}, proxy);
    const two = await endpoint({}, new RecordingProxy(proxy.shared));
    const token = await signLogoutToken(rsa);
    assertAccepted(await postToken(one.url, token));
    assertRefused(await postToken(one.url, token), /jti was seen before/);
    assertRefused(await postToken(two.url, token), /jti was seen before/);
    // Another token for the same user, a new jti: accepted.
    assertAccepted(await postToken(two.url, await signLogoutToken(rsa)));
    assert.equal(proxy.revoked.length, 1);
    assert.equal(two.proxy.revoked.length, 1);
  });
});

void describe('the request', () => {
  const send = (url: string, init: RequestInit) => fetch(url, init).then(answerOf);

  void it('refuses another content type, no token, two tokens, an empty body', async () => {
    const { url, proxy } = await endpoint();
    const token = await signLogoutToken(rsa);
    sentTokens.push(token);
    const json = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ logout_token: token }),
    };
    assertRefused(await send(url, json), /must be application\/x-www-form-urlencoded, not 'application\/json'/);
    const form = (body: string) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    assertRefused(await send(url, form('state=1')), /has no logout_token/);
    assertRefused(await send(url, form('logout_token=')), /has no logout_token/);
    assertRefused(await send(url, form(`logout_token=${token}&logout_token=${token}`)), /more than one logout_token/);
    assertRefused(await send(url, { method: 'POST' }), /without a Content-Type/);
    assert.deepEqual(proxy.revoked, []);
    // The token itself was fine all along.
    assertAccepted(await send(url, form(`logout_token=${token}`)));
  });

  void it('accepts a charset parameter on the content type', async () => {
    const { url } = await endpoint();
    const token = await signLogoutToken(rsa);
    sentTokens.push(token);
    const init = {
      method: 'POST',
      headers: { 'content-type': 'Application/X-WWW-Form-Urlencoded; charset=UTF-8' },
      body: `logout_token=${token}`,
    };
    assertAccepted(await send(url, init));
  });

  void it('refuses an oversized body, by Content-Length or streamed without one', async () => {
    const { url, proxy } = await endpoint({ maxBodyBytes: 4096 });
    const big = `logout_token=${'a'.repeat(5000)}`;
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    assertRefused(await send(url, { method: 'POST', headers, body: big }), /larger than 4096 bytes/);
    // Chunked, no Content-Length: the endpoint stops reading past the limit.
    const streamed = await new Promise<Answer>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: new Headers(res.headers as Record<string, string>),
            text,
            body: JSON.parse(text),
          }),
        );
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('a'.repeat(1000));
      req.end();
    });
    assertRefused(streamed, /larger than 4096 bytes/);
    assert.deepEqual(proxy.revoked, []);
  });

  void it('answers 405 with Allow: POST to any other method', async () => {
    const { url, proxy } = await endpoint();
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const answer = await send(url, { method });
      assert.equal(answer.status, 405);
      assert.equal(answer.headers.get('allow'), 'POST');
      assert.equal(answer.body.error, 'invalid_request');
    }
    assert.deepEqual(proxy.revoked, []);
  });

  void it('works behind Express, also after express.urlencoded() read the body', async () => {
    const proxy = new RecordingProxy();
    const handler = createBackChannelLogout({
      issuer: ISSUER,
      audience: CLIENT_ID,
      jwks: jwks.url,
      userId: (c) => c.sub,
      proxy,
      log: (e) => logs.push(e),
    });
    const app = express();
    app.post('/raw/backchannel-logout', toNodeListener(handler));
    app.use(express.urlencoded({ extended: false }));
    app.post('/parsed/backchannel-logout', toNodeListener(handler));
    const base = (await serve(app)).replace('/backchannel-logout', '');
    assertAccepted(
      await postToken(`${base}/raw/backchannel-logout`, await signLogoutToken(rsa, { claims: { sub: 'a' } })),
    );
    assertAccepted(
      await postToken(`${base}/parsed/backchannel-logout`, await signLogoutToken(rsa, { claims: { sub: 'b' } })),
    );
    assert.deepEqual(
      proxy.revoked.map((r) => r.userId),
      ['a', 'b'],
    );
  });
});

void describe('the provider key set', () => {
  void it('is fetched once and cached; unknown kids within the cooldown do not fetch it again', async () => {
    const { url } = await endpoint();
    const before = jwks.fetches;
    assertAccepted(await postToken(url, await signLogoutToken(rsa)));
    assertAccepted(await postToken(url, await signLogoutToken(ec)));
    for (let i = 0; i < 5; i++)
      assertRefused(
        await postToken(url, await signLogoutToken(rsa, { header: { kid: `forged-${i}` } })),
        /no RS256 key/,
      );
    assert.equal(jwks.fetches - before, 1);
  });

  void it('is fetched again for an unknown kid after the cooldown, so a rotated key works', async () => {
    const { url, proxy } = await endpoint({ remoteJwks: { cooldownMs: 0 } });
    assertAccepted(await postToken(url, await signLogoutToken(rsa)));
    const rotated = await signingKey('RS256', 'rsa-2');
    jwks.published = [rotated.publicJwk];
    const before = jwks.fetches;
    assertAccepted(await postToken(url, await signLogoutToken(rotated)));
    assert.equal(jwks.fetches - before, 1);
    // The retired key is gone from the set now.
    assertRefused(await postToken(url, await signLogoutToken(rsa)), /no RS256 key with kid 'rsa-1'/);
    assert.equal(proxy.revoked.length, 2);
  });

  void it('that cannot be read: 400 temporarily_unavailable, logged as an error, and the token passes later', async () => {
    const { url, proxy } = await endpoint();
    jwks.down = true;
    const token = await signLogoutToken(rsa);
    const logged = logs.length;
    assertRefused(await postToken(url, token), /key set could not be read/, 'temporarily_unavailable');
    assert.equal(logs.slice(logged).at(-1)?.level, 'error');
    assert.deepEqual(proxy.revoked, []);
    jwks.down = false;
    assertAccepted(await postToken(url, token));
  });

  void it('given in configuration: a JWK Set, one JWK, a CryptoKey', async () => {
    const publicKey = (await importJWK(rsa.publicJwk, 'RS256')) as CryptoKey;
    for (const keys of [{ keys: [rsa.publicJwk, ec.publicJwk] }, rsa.publicJwk, publicKey]) {
      const { url, proxy } = await endpoint({ jwks: keys });
      const before = jwks.fetches;
      assertAccepted(await postToken(url, await signLogoutToken(rsa)));
      assertRefused(await postToken(url, await signLogoutToken(impostor)), /signature does not verify/);
      assert.equal(proxy.revoked.length, 1);
      assert.equal(jwks.fetches, before, 'no fetch for a key given in configuration');
    }
  });

  void it('several keys without kids: the one that verifies is used', async () => {
    const other = await signingKey('RS256', 'x');
    const strip = ({ kid: _kid, ...jwk }: Record<string, unknown>) => jwk;
    const { url } = await endpoint({ jwks: { keys: [strip(other.publicJwk), strip(rsa.publicJwk)] } });
    assertAccepted(await postToken(url, await signLogoutToken(rsa, { header: { kid: undefined } })));
    assertRefused(await postToken(url, await signLogoutToken(impostor, { header: { kid: undefined } })), /signature/);
  });

  void it('restricts algorithms as configured', async () => {
    const { url } = await endpoint({ algorithms: ['ES256'] });
    assertRefused(await postToken(url, await signLogoutToken(rsa)), /alg 'RS256' is not allowed \(allowed: ES256\)/);
    assertAccepted(await postToken(url, await signLogoutToken(ec)));
  });

  void it('a shared secret verifies HS256 when configured so', async () => {
    const secret = new Uint8Array(32).fill(7);
    const { url } = await endpoint({ jwks: secret, algorithms: ['HS256'] });
    const sign = (key: Uint8Array) =>
      new SignJWT(logoutClaims()).setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' }).sign(key);
    assertAccepted(await postToken(url, await sign(secret)));
    assertRefused(await postToken(url, await sign(new Uint8Array(32).fill(8))), /signature does not verify/);
  });
});

void describe('when this server fails', () => {
  void it('revokeUser throws: 400 server_error, logged as an error', async () => {
    const { url, proxy } = await endpoint();
    proxy.broken = true;
    const logged = logs.length;
    assertRefused(
      await postToken(url, await signLogoutToken(rsa)),
      /the logout failed on this server \(revokeUser\)/,
      'server_error',
    );
    const entry = logs.slice(logged).at(-1);
    assert.equal(entry?.level, 'error');
    assert.equal(entry?.event, 'back-channel-logout-failed');
    assert.match(entry?.detail ?? '', /the session store is unreachable/);
  });

  void it('userId throws: 400 server_error, and the same token is accepted once userId works', async () => {
    let broken = true;
    const { url, proxy } = await endpoint({
      userId: (claims) => {
        if (broken) throw new Error('user directory down');
        return claims.sub;
      },
    });
    const token = await signLogoutToken(rsa);
    assertRefused(await postToken(url, token), /userId\(claims\)/, 'server_error');
    broken = false;
    assertAccepted(await postToken(url, token));
    assert.equal(proxy.revoked.length, 1);
  });

  void it('userId returns something that is not a string: 400 server_error', async () => {
    const { url, proxy } = await endpoint({ userId: () => 42 as unknown as string });
    assertRefused(await postToken(url, await signLogoutToken(rsa)), /userId/, 'server_error');
    assert.deepEqual(proxy.revoked, []);
  });

  void it('the store cannot keep the jti: the logout still happens, and the error is logged', async () => {
    const { url, proxy } = await endpoint();
    await proxy.shared.close(); // a closed store rejects every call, as one that is down does
    const logged = logs.length;
    assertAccepted(await postToken(url, await signLogoutToken(rsa)));
    assert.equal(proxy.revoked.length, 1);
    assert.equal(logs.slice(logged)[0]?.level, 'error');
    assert.match(logs.slice(logged)[0]?.detail ?? '', /without replay check/);
  });

  void it('a logger that throws changes nothing', async () => {
    const { url, proxy } = await endpoint({
      log: () => {
        throw new Error('disk full');
      },
    });
    assertAccepted(await postToken(url, await signLogoutToken(rsa)));
    assertRefused(await postToken(url, unsignedLogoutToken()), /not signed/);
    assert.equal(proxy.revoked.length, 1);
  });
});

void describe('options', () => {
  const proxy = new RecordingProxy();
  const base: BackChannelLogoutOptions = {
    issuer: ISSUER,
    audience: CLIENT_ID,
    jwks: 'https://idp.test/jwks',
    userId: () => null,
    proxy,
  };
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['issuer over http', { issuer: 'http://idp.example.com' }, /issuer must be an https: URL/],
    ['issuer not a URL', { issuer: 'idp' }, /issuer must be an absolute URL/],
    ['issuer with a query', { issuer: 'https://idp.test/?x=1' }, /no query or fragment|must not have a query/],
    ['no audience', { audience: '' }, /audience must be your client id/],
    ['empty audience list', { audience: [] }, /audience/],
    ['jwks over http', { jwks: 'http://idp.example.com/jwks' }, /jwks must be an https: URL/],
    ['jwks missing', { jwks: undefined }, /jwks must be the URL/],
    ['jwks a private key', { jwks: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' } }, /private key/],
    ['jwks a symmetric JWK', { jwks: { keys: [{ kty: 'oct', k: 'abc' }] } }, /symmetric key/],
    ['jwks an empty set', { jwks: { keys: [] } }, /non-empty array/],
    ['userId missing', { userId: 'sub' }, /userId must be a function/],
    ['proxy without revokeUser', { proxy: { store: proxy.shared } }, /no revokeUser/],
    [
      'proxy without a store',
      { proxy: { revokeUser: () => Promise.resolve({ ended: [], failed: [] }) } },
      /no store with claimOnce/,
    ],
    ['alg none allowed', { algorithms: ['RS256', 'none'] }, /must not include "none"/],
    ['an unknown alg', { algorithms: ['RS257'] }, /unknown alg "RS257"/],
    ['HS256 with a key set', { algorithms: ['HS256'] }, /shared secret/],
    ['a short secret', { jwks: new Uint8Array(8), algorithms: ['HS256'] }, /at least 32 bytes/],
    ['a negative tolerance', { clockToleranceSeconds: -1 }, /clockToleranceSeconds must be a whole number/],
    ['a tiny body limit', { maxBodyBytes: 10 }, /at least 1024/],
    ['an empty typ list', { typ: [] }, /typ must list/],
  ];
  for (const [name, change, message] of bad) {
    void it(`throws a TypeError for ${name}`, () => {
      assert.throws(
        () => createBackChannelLogout({ ...base, ...change }),
        (error: unknown) =>
          error instanceof TypeError &&
          message.test(error.message) &&
          error.message.startsWith('konpro-widget-guard/proxy: createBackChannelLogout: '),
      );
    });
  }

  void it('accepts http on loopback, an issuer with a path, an audience list, a URL object', () => {
    for (const change of [
      { issuer: 'http://127.0.0.1:8080/realms/x', jwks: 'http://localhost:8080/certs' },
      { issuer: 'https://idp.test/oauth2/default/', audience: ['a', 'b'], jwks: new URL('https://idp.test/k') },
    ])
      assert.equal(typeof createBackChannelLogout({ ...base, ...change }), 'function');
  });

  void it('fits a jose key resolver, and a KeyObject-less runtime key (CryptoKey) as jwks', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    assert.equal(typeof createBackChannelLogout({ ...base, jwks: publicKey }), 'function');
    assert.equal(typeof createBackChannelLogout({ ...base, jwks: await exportJWK(publicKey) }), 'function');
    const { privateKey } = await generateKeyPair('ES256');
    assert.throws(() => createBackChannelLogout({ ...base, jwks: privateKey }), /private CryptoKey/);
  });
});
