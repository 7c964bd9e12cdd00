// A test identity provider on loopback: signing keys the test generates
// (RS256 and ES256), their JWK Set served over real HTTP (what is published
// can change, for key rotation; fetches are counted), and logout tokens
// signed as a provider would, or forged in any way a test asks.
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { BACK_CHANNEL_LOGOUT_EVENT } from '../../../src/proxy/index.js';

export const ISSUER = 'https://idp.test/realms/site';
export const CLIENT_ID = 'site-client';

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function signingKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** Claims to put in a token; `undefined` leaves a claim out. */
export type Claims = Record<string, unknown>;

export interface TokenOptions {
  /** Replaces or (with `undefined`) removes default claims. */
  claims?: Claims;
  /** Replaces or (with `undefined`) removes header parameters. */
  header?: Record<string, unknown>;
}

const now = () => Math.floor(Date.now() / 1000);

/** The claims of a valid logout token for `sub`, fresh `jti` and `iat`. */
export function logoutClaims(sub = 'user-1'): Claims {
  return {
    iss: ISSUER,
    aud: CLIENT_ID,
    iat: now(),
    exp: now() + 120,
    jti: randomUUID(),
    sub,
    sid: `sid-${sub}`,
    events: { [BACK_CHANNEL_LOGOUT_EVENT]: {} },
  };
}

function merge(base: Record<string, unknown>, changes: Record<string, unknown> = {}): Record<string, unknown> {
  const out = { ...base, ...changes };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete out[name];
  return out;
}

/** A logout token signed with `key` (valid unless `options` break it). */
export async function signLogoutToken(key: SigningKey, options: TokenOptions = {}): Promise<string> {
  const header = merge({ alg: key.alg, kid: key.kid, typ: 'logout+jwt' }, options.header);
  return new SignJWT(merge(logoutClaims(), options.claims))
    .setProtectedHeader(header as { alg: string })
    .sign(key.privateKey);
}

/** An unsigned JWT (`alg: none`), built by hand: jose will not make one. */
export function unsignedLogoutToken(claims: Claims = {}): string {
  const part = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${part({ alg: 'none', typ: 'logout+jwt' })}.${part(merge(logoutClaims(), claims))}.`;
}

/** The provider's JWK Set endpoint on 127.0.0.1. */
export class JwksServer {
  /** What `GET /jwks.json` publishes now. */
  published: JWK[] = [];
  /** How many times the key set was fetched. */
  fetches = 0;
  /** Answer 503 instead of the key set. */
  down = false;
  readonly #server: Server;

  constructor() {
    this.#server = createServer((req, res) => {
      if (req.url !== '/jwks.json') return void res.writeHead(404).end();
      this.fetches += 1;
      if (this.down) return void res.writeHead(503, { 'content-type': 'text/plain' }).end('down');
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: this.published }));
    });
  }

  async listen(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/jwks.json`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}
