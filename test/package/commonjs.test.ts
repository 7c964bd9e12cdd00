// `require('konpro-widget-guard/proxy')` from a CommonJS file (Node 20.19+ loads ES modules with
// require()), run against the built package: it loads, and it creates a session at the vendor.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_KEY } from '../proxy/support/fake-vendor.js';
import { fakeVendorForFile, remember } from '../proxy/support/harness.js';
import { lastJsonLine, runFixture } from './support.js';

const vendor = fakeVendorForFile();

interface Answer {
  listener: string;
  status: number;
  body: { session_id: string; widget_url: string };
  setCookie: number;
}

void describe('konpro-widget-guard/proxy from CommonJS', () => {
  void it('require() gives the proxy, which creates a session', async () => {
    const run = await runFixture('require-proxy.cjs', { KONPRO_API_KEY: API_KEY, KONPRO_API_BASE: vendor.baseUrl });
    remember(run.stdout + run.stderr); // (the file's last check: the API key is never in anything said)
    assert.equal(run.timedOut, false, 'the CommonJS script did not finish');
    assert.equal(run.code, 0, run.stderr);
    // No "experimental" warning either: nothing a server log would have to explain.
    assert.equal(run.stderr, '');
    const answer = lastJsonLine<Answer>(run);
    assert.equal(answer.status, 201);
    assert.equal(answer.listener, 'function');
    assert.equal(answer.setCookie, 1);
    assert.equal(answer.body.widget_url, `https://widget.test/embed?session=${answer.body.session_id}`);
    assert.equal(vendor.sessions.size, 1);
    assert.equal(vendor.requests[0].apiKey, API_KEY);
  });
});
