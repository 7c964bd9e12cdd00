// The response watch (src/detection/response-watch.ts): the page's fetch and XHR, read before the caller.
import { expect } from '@esm-bundle/chai';
import { Verdict, type Classification } from '../../src/detection/classify-response.js';
import { isWatching, unwatchedFetch, watchResponses } from '../../src/detection/response-watch.js';
import { echoUrl, GONE } from '../support/helpers.js';

function watch(prefix = new URL('/test-api/echo', location.href).href) {
  const seen: Array<{ verdict: Verdict; body: unknown }> = [];
  const scope = new AbortController();
  watchResponses(
    { prefixes: [prefix], onResponse: (c: Classification, _url, body) => seen.push({ verdict: c.verdict, body }) },
    scope.signal,
  );
  return { seen, scope };
}

describe('response watch', () => {
  it('reads a watched fetch before the caller gets it: status first, then the body', async () => {
    const { seen, scope } = watch();
    const response = await fetch(GONE);
    expect(seen.map((s) => s.verdict)).to.deep.equal([Verdict.Ended, Verdict.Ended]);
    expect(seen[0].body).to.equal(undefined);
    expect((await response.json()).error.code, 'the caller still reads the body').to.equal('RESOURCE_NOT_FOUND');
    scope.abort();
  });

  it('reads XMLHttpRequest answers by the first readystatechange at DONE', async () => {
    const { seen, scope } = watch();
    const xhr = new XMLHttpRequest();
    const atLoad = new Promise<number>((resolve) => xhr.addEventListener('load', () => resolve(seen.length)));
    xhr.open('GET', GONE);
    xhr.send();
    expect(await atLoad).to.be.greaterThan(0);
    expect(seen.at(-1)!.verdict).to.equal(Verdict.Ended);
    scope.abort();
  });

  it('leaves requests outside every prefix alone, and its own requests unread', async () => {
    const { seen, scope } = watch(new URL('/test-api/echo?status=404', location.href).href);
    await fetch(echoUrl(200, { ok: true }));
    await unwatchedFetch()(echoUrl(404, { error: { code: 'RESOURCE_NOT_FOUND', message: 'm' }, request_id: 'r' }));
    expect(seen).to.deep.equal([]);
    scope.abort();
  });

  it('takes its patches away when the last watcher stops', () => {
    const before = window.fetch;
    const { scope } = watch();
    expect(isWatching()).to.equal(true);
    scope.abort();
    expect(isWatching()).to.equal(false);
    expect(window.fetch).to.equal(before);
  });
});
