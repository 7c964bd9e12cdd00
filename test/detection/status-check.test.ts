// Status checks (src/detection/status-check.ts) against the test backend's fake proxy.
import { expect } from '@esm-bundle/chai';
import { Verdict, type Classification } from '../../src/detection/classify-response.js';
import { watchStatus } from '../../src/detection/status-check.js';
import { FakeProxy, uniqueId, until } from '../support/helpers.js';

async function session(proxy: FakeProxy) {
  const id = uniqueId();
  await proxy.session(id);
  return { id, url: new URL(`${proxy.url}/${id}`, location.href).href };
}

describe('status checks', () => {
  it('asks every interval and reports what the proxy says', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await session(proxy);
    const scope = new AbortController();
    const answers: Classification[] = [];
    watchStatus({ url, intervalMs: 80, onAnswer: (c) => answers.push(c) }, scope.signal);
    await until(() => answers.length >= 2, 'two answers');
    expect(answers[0].verdict).to.equal(Verdict.Alive);
    expect(answers[0].sessionId).to.equal(id);
    await proxy.session(id, { status: 'terminated' });
    await until(() => answers.at(-1)!.verdict === Verdict.Ended, 'the end is reported');
    scope.abort();
  });

  it('a 5xx is transient: reported as such, and the checks back off instead of ending anything', async () => {
    const proxy = new FakeProxy();
    const { url } = await session(proxy);
    await proxy.faults({ method: 'GET', status: 503, times: 1 });
    const scope = new AbortController();
    const answers: Classification[] = [];
    watchStatus({ url, intervalMs: 50, onAnswer: (c) => answers.push(c) }, scope.signal);
    await until(() => answers.length >= 1, 'first answer');
    expect(answers[0].verdict).to.equal(Verdict.Transient);
    await until(() => answers.length >= 2, 'checks go on after the backoff', 5000);
    expect(answers[1].verdict).to.equal(Verdict.Alive);
    scope.abort();
  });

  it('checkNow asks at once; nothing is asked once the scope ends', async () => {
    const proxy = new FakeProxy();
    const { url } = await session(proxy);
    const scope = new AbortController();
    let answers = 0;
    const check = watchStatus({ url, intervalMs: 60_000, onAnswer: () => answers++ }, scope.signal);
    check.checkNow();
    await until(() => answers === 1, 'checked now');
    scope.abort();
    check.checkNow();
    // A check would have gone out in that call: a request made after it reaches the proxy after it.
    await proxy.requestsArrived();
    expect(answers).to.equal(1);
    expect((await proxy.gets()).length).to.equal(1);
  });
});
