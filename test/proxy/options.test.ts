// Missing or weak options throw at creation, with a message that says what
// to fix and never repeats a secret.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createWidgetSessionProxy, type WidgetSessionProxyOptions } from '../../src/proxy/index.js';
import { API_KEY } from './support/fake-vendor.js';
import { assertSecretsNeverSaid, remember, SECRET } from './support/harness.js';

const valid: WidgetSessionProxyOptions = {
  apiKey: API_KEY,
  agenticAvatarId: 'avatar-1',
  secret: SECRET,
  allowedOrigins: ['https://site.test'],
  authorize: () => null,
  widgetUrl: (session) => `https://widget.test/?s=${session.session_id}`,
};

after(() => assertSecretsNeverSaid());

/** Creating with `changes` throws a TypeError whose message matches `fix`. */
function rejects(changes: Record<string, unknown>, fix: RegExp): void {
  assert.throws(
    () => createWidgetSessionProxy({ ...valid, ...changes }),
    (error: unknown) => {
      assert.ok(error instanceof TypeError, 'a bad option threw something other than a TypeError');
      remember(error.message);
      assert.match(error.message, /^konpro-widget-guard\/proxy: /);
      assert.match(error.message, fix);
      return true;
    },
  );
}

void describe('createWidgetSessionProxy(options)', () => {
  void it('accepts the minimal options and fills in defaults', () => {
    const proxy = createWidgetSessionProxy(valid);
    assert.equal(proxy.basePath, '/api/widget-sessions');
    assert.equal(typeof proxy, 'function');
    assert.equal(typeof proxy.endSessions, 'function');
  });

  void it('refuses a missing or unusable API key', () => {
    rejects({ apiKey: undefined }, /apiKey is missing.*KONPRO_API_KEY/);
    rejects({ apiKey: '   ' }, /apiKey is missing/);
    rejects({ apiKey: `${API_KEY}\n` }, /apiKey contains spaces or characters/);
  });

  void it('refuses a missing or short secret', () => {
    rejects({ secret: undefined }, /secret must be at least 32 characters \(got undefined\).*openssl rand/);
    rejects({ secret: 'short-secret' }, /secret must be at least 32 characters \(got 12\)/);
  });

  void it('refuses a secret with too little variety, or the API key as the secret', () => {
    rejects({ secret: 'a'.repeat(40) }, /secret is one character repeated; use a random value.*openssl rand/);
    rejects(
      { secret: 'abababababababababababababababab' },
      /secret has only 2 different characters; use a random value/,
    );
    rejects({ secret: 'abcd1234'.repeat(5) }, /secret is a short run of characters repeated; use a random value/);
    rejects({ secret: API_KEY }, /secret is the API key: use a value of its own/);
    rejects({ secret: `prefix-${API_KEY}` }, /secret contains the API key: use a value of its own/);
    // What `openssl rand -hex 16` and `-base64 32` print passes.
    createWidgetSessionProxy({ ...valid, secret: '9f86d081884c7d659a2feaa0c55ad015' });
    createWidgetSessionProxy({ ...valid, secret: 'q1+9vRkL0c3TzN2bWm5yXa8hJf4uEo6sDg7pIt0='.slice(0, 44) });
  });

  void it('refuses a base URL that would send the API key in clear to another host', () => {
    for (const baseUrl of [
      'http://api.konpro.ai',
      'http://10.0.0.5:8080',
      'http://simulator/konpro',
      'http://localhost.evil.test',
    ]) {
      rejects(
        { baseUrl },
        /baseUrl .* would send the API key unencrypted: use https:\/\/ \(plain http: only for a simulator on this machine/,
      );
    }
    for (const baseUrl of [
      'http://127.0.0.1:9000',
      'http://localhost:8000/konpro',
      'http://[::1]:8000',
      'http://127.1.2.3',
      'https://api.konpro.ai',
    ]) {
      createWidgetSessionProxy({ ...valid, baseUrl });
    }
  });

  void it('refuses a malformed base URL', () => {
    rejects({ baseUrl: 'api.konpro.ai' }, /baseUrl must be an absolute URL such as "https:\/\/api.konpro.ai"/);
    rejects({ baseUrl: 'ftp://api.konpro.ai' }, /baseUrl must use https:/);
    rejects({ baseUrl: 'https://user:pw@api.konpro.ai' }, /must not contain a user name or password/);
    rejects({ baseUrl: 'https://api.konpro.ai/?x=1' }, /must not have a query or fragment/);
    rejects({ baseUrl: 'https://api.konpro.ai/#x' }, /must not have a query or fragment/);
  });

  void it('refuses allowed origins that are not exact origins', () => {
    rejects({ allowedOrigins: [] }, /allowedOrigins must list the origins of your site/);
    rejects({ allowedOrigins: 'https://site.test' }, /allowedOrigins must list/);
    rejects({ allowedOrigins: ['site.test'] }, /allowedOrigins\[0\] must be an http\(s\) origin/);
    rejects(
      { allowedOrigins: ['https://site.test', 'https://site.test/app'] },
      /allowedOrigins\[1\] "https:\/\/site.test\/app" is not an exact origin: write it as "https:\/\/site.test"/,
    );
    rejects({ allowedOrigins: ['https://Site.Test'] }, /write it as "https:\/\/site.test"/);
    rejects({ allowedOrigins: ['https://site.test:443'] }, /write it as "https:\/\/site.test"/);
    rejects({ allowedOrigins: ['*'] }, /allowedOrigins\[0\] must be an http\(s\) origin/);
  });

  void it('refuses a bad base path', () => {
    rejects({ basePath: 'api/widget' }, /basePath must be a path starting with "\/"/);
    rejects({ basePath: '/' }, /basePath "\/" must be one or more segments/);
    rejects({ basePath: '/api/../x' }, /basePath/);
    rejects({ basePath: '/api?x' }, /basePath/);
    assert.equal(createWidgetSessionProxy({ ...valid, basePath: '/w/s/' }).basePath, '/w/s');
  });

  void it('refuses missing callbacks and ids', () => {
    rejects({ authorize: undefined }, /authorize must be a function/);
    rejects({ widgetUrl: 'https://widget.test' }, /widgetUrl must be a function/);
    rejects({ agenticAvatarId: '' }, /agenticAvatarId must name the avatar/);
    rejects({ log: 'console' }, /log must be a function/);
  });

  void it('refuses bad numbers', () => {
    rejects({ timeoutMs: 0 }, /timeoutMs must be a positive whole number, got 0/);
    rejects({ timeoutMs: '5000' }, /timeoutMs must be a positive whole number, got string/);
    rejects({ rateLimit: { creates: -1 } }, /rateLimit.creates must be a positive whole number/);
    rejects({ rateLimit: { windowMs: 1.5 } }, /rateLimit.windowMs/);
    rejects({ sessionSettings: { max_duration: 0 } }, /sessionSettings.max_duration must be a positive whole number/);
    rejects({ sessionSettings: 'long' }, /sessionSettings must be an object/);
  });

  void it('refuses inconsistent cookie options', () => {
    rejects({ cookie: { namePrefix: 'bad prefix' } }, /cookie.namePrefix must be 1-40 characters/);
    rejects({ cookie: { path: 'x' } }, /cookie.path must be a URL path/);
    rejects({ cookie: { secure: 'yes' } }, /cookie.secure must be "auto", true or false/);
    rejects({ cookie: { sameSite: 'None' } }, /cookie.sameSite must be "Strict" or "Lax"/);
    rejects({ cookie: { namePrefix: '__Host-w' } }, /"__Host-" cookie.namePrefix needs cookie.secure: true/);
    rejects({ cookie: { namePrefix: '__Secure-w' } }, /"__Secure-" cookie.namePrefix needs cookie.secure: true/);
  });
});
