import { expect } from '@esm-bundle/chai';
import {
  classifyResponse,
  codeNamesSession,
  sessionIdInUrl,
  urlHasPrefix,
  Verdict,
} from '../../src/detection/classify-response.js';
import { MALFORMED } from '../../src/shared/json-body.js';

const error = (code: string, details?: unknown) => ({
  error: { code, message: 'm', ...(details ? { details } : {}) },
  request_id: 'req_1',
});

describe('classifyResponse (guarantee 5)', () => {
  it('404 and 410 end the session, whatever the body', () => {
    for (const status of [404, 410]) {
      for (const body of [undefined, MALFORMED, error('RESOURCE_NOT_FOUND'), { anything: true }]) {
        expect(
          classifyResponse(status, body).verdict,
          `${status} ${typeof body === 'symbol' ? 'MALFORMED' : JSON.stringify(body)}`,
        ).to.equal(Verdict.Ended);
      }
    }
  });

  it('401/403 end it only when the error code names the session or token', () => {
    for (const status of [401, 403]) {
      for (const code of [
        'SESSION_TERMINATED',
        'SESSION_EXPIRED',
        'INVALID_SESSION',
        'TOKEN_EXPIRED',
        'invalid_token',
        'SESSION',
      ]) {
        expect(classifyResponse(status, error(code)).verdict, `${status} ${code}`).to.equal(Verdict.Ended);
      }
      for (const code of [
        'INVALID_API_KEY',
        'API_KEY_SESSION_LIMIT',
        'INSUFFICIENT_PERMISSIONS',
        'AUTHENTICATION_REQUIRED',
        'SESSIONS_LIMIT',
        'TOKENIZER',
      ]) {
        expect(classifyResponse(status, error(code)).verdict, `${status} ${code}`).to.equal(Verdict.Unknown);
      }
      for (const body of [undefined, MALFORMED, 'text', { error: 'SESSION_TERMINATED' }, { error: { code: 42 } }]) {
        expect(classifyResponse(status, body).verdict, `${status} ${JSON.stringify(body)}`).to.equal(Verdict.Unknown);
      }
    }
  });

  it('429, 5xx, time-outs and network errors are transient, whatever the body', () => {
    for (const status of [0, 408, 425, 429, 500, 502, 503, 504, 599]) {
      for (const body of [
        undefined,
        MALFORMED,
        error('SESSION_TERMINATED'),
        { session_id: 'a', status: 'terminated' },
      ]) {
        expect(classifyResponse(status, body).verdict, `${status}`).to.equal(Verdict.Transient);
      }
    }
  });

  it('a 2xx status body ends the session unless it says active', () => {
    expect(
      classifyResponse(200, { session_id: 'abc', status: 'active', expires_at: '2030-01-01T00:00:00Z' }),
    ).to.deep.equal({
      verdict: Verdict.Alive,
      sessionId: 'abc',
      expiresAt: '2030-01-01T00:00:00Z',
    });
    for (const status of ['terminated', 'expired', 'revoked', '']) {
      expect(classifyResponse(200, { session_id: 'abc', status })).to.deep.equal({
        verdict: Verdict.Ended,
        sessionId: 'abc',
      });
    }
  });

  it('2xx bodies that are not status bodies, and malformed bodies, say nothing', () => {
    for (const body of [
      undefined,
      MALFORMED,
      'ok',
      [],
      { status: 'terminated' },
      { session_id: 'abc' },
      { ok: true },
      null,
    ]) {
      expect(classifyResponse(200, body).verdict, JSON.stringify(body)).to.equal(Verdict.Unknown);
    }
    for (const status of [201, 204, 301, 302, 304, 400, 405, 409, 422]) {
      expect(classifyResponse(status, undefined).verdict, String(status)).to.equal(Verdict.Unknown);
    }
  });

  it('names the session the body names', () => {
    expect(classifyResponse(401, error('SESSION_TERMINATED', { session_id: 'ws_1' })).sessionId).to.equal('ws_1');
    expect(classifyResponse(404, { session_id: 'ws_2' }).sessionId).to.equal('ws_2');
    expect(classifyResponse(404, { session_id: '../x' }).sessionId).to.equal(undefined);
  });

  it('codeNamesSession reads whole words, never the API key', () => {
    expect(codeNamesSession('SESSION_TERMINATED')).to.equal(true);
    expect(codeNamesSession('INVALID_API_KEY')).to.equal(false);
    expect(codeNamesSession('SESSIONS')).to.equal(false);
  });
});

describe('sessionIdInUrl', () => {
  const proxy = new URL('https://site.test/api/widget-sessions');
  it('reads the segment after the proxy collection', () => {
    expect(sessionIdInUrl(new URL('https://site.test/api/widget-sessions/abc'), [proxy])).to.equal('abc');
    expect(sessionIdInUrl(new URL('https://site.test/api/widget-sessions'), [proxy])).to.equal(undefined);
  });
  it('reads the segment after "sessions", or a session_id parameter', () => {
    expect(sessionIdInUrl(new URL('https://api.konpro.ai/v1/widget/sessions/ws_9'))).to.equal('ws_9');
    expect(sessionIdInUrl(new URL('https://w.test/runtime/talk?session_id=ws_3'))).to.equal('ws_3');
    expect(sessionIdInUrl(new URL('https://w.test/runtime/talk'))).to.equal(undefined);
  });
});

describe('urlHasPrefix', () => {
  it('matches path prefixes, not look-alikes', () => {
    expect(urlHasPrefix('https://a.test/api/widget-sessions/x', 'https://a.test/api/widget-sessions')).to.equal(true);
    expect(urlHasPrefix('https://a.test/api/widget-sessions?x', 'https://a.test/api/widget-sessions')).to.equal(true);
    expect(urlHasPrefix('https://a.test/api/widget-sessions', 'https://a.test/api/widget-sessions')).to.equal(true);
    expect(urlHasPrefix('https://a.test/api/widget-sessions-old', 'https://a.test/api/widget-sessions')).to.equal(
      false,
    );
    expect(urlHasPrefix('https://api.konpro.ai/v1/x', 'https://api.konpro.ai/')).to.equal(true);
    expect(urlHasPrefix('https://api.konpro.ai.evil.test/v1', 'https://api.konpro.ai/')).to.equal(false);
  });
});
