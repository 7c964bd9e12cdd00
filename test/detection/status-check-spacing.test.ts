// How far apart the status checks are while the proxy is in trouble: they back off (exponential,
// full jitter) on 429 and 5xx, never come sooner than a Retry-After, and return to the interval
// once the proxy answers. Measured where a person would notice it: the arrival times of the
// checks at the proxy.
//
// Full jitter draws each wait uniformly from [0, ceiling], so a wait has no lower bound of its
// own; these tests fix the draw (Math.random) to make the backoff's waits exact lower bounds.
// A timer never fires early, so every gap between two arrivals is at least the wait between them.
import { expect } from '@esm-bundle/chai';
import type { KonproWidgetGuard } from '../../src/index.js';
import { FakeProxy, fixture, fixtureCleanup, html, uniqueId, until } from '../support/helpers.js';

/** 50 ms: far below every backoff step here, so a longer gap is the backoff's doing. */
const INTERVAL_S = '0.05';
/** Date.now() at the proxy rounds to the millisecond. */
const CLOCK_SLACK_MS = 5;

let restoreRandom: (() => void) | undefined;
afterEach(() => {
  restoreRandom?.();
  restoreRandom = undefined;
  fixtureCleanup();
});

/** Every jitter draws `fraction` of its range (until the test ends). */
function drawJitterAt(fraction: number): void {
  const real = Math.random;
  Math.random = () => fraction;
  restoreRandom = () => (Math.random = real);
}

/** A guard on a proxy whose first status checks get `faults`, checking every INTERVAL_S. */
async function checkedGuard(proxy: FakeProxy, ...faults: Array<Record<string, unknown>>): Promise<KonproWidgetGuard> {
  const id = uniqueId();
  await proxy.session(id);
  await proxy.faults(...faults.map((fault) => ({ method: 'GET', id, times: 1, ...fault })));
  const el = await fixture<KonproWidgetGuard>(html`
    <konpro-widget-guard
      proxy=${proxy.url}
      check-interval=${INTERVAL_S}
      widget-src="/test/fixtures/widget.html?session_id={session_id}"
      session-id=${id}
    ></konpro-widget-guard>
  `);
  await until(() => el.state === 'active', 'active');
  return el;
}

/** The first `count` status checks at the proxy: what each got, and the gaps between them (ms). */
async function checks(proxy: FakeProxy, count: number): Promise<{ outcomes: string[]; gaps: number[] }> {
  const gets = async () => (await proxy.log()).filter((entry) => entry.method === 'GET');
  await until(async () => (await gets()).length >= count, `${count} status checks`, 10_000);
  const first = (await gets()).slice(0, count);
  return {
    outcomes: first.map((entry) => entry.outcome ?? ''),
    gaps: first.slice(1).map((entry, i) => entry.at - first[i].at),
  };
}

/** Asserts each gap is at least its wait; names the check on failure. */
function expectAtLeast(gaps: number[], waits: number[]): void {
  waits.forEach((wait, i) => {
    expect(gaps[i], `gap before check ${i + 2} (gaps ${gaps.join(', ')} ms)`).to.be.at.least(wait - CLOCK_SLACK_MS);
  });
}

describe('status check spacing', () => {
  it('429 without Retry-After: each wait doubles, and the interval returns once the proxy answers', async () => {
    const proxy = new FakeProxy();
    // The backoff's ceilings are 1 s, 2 s, 4 s...: a quarter of each.
    drawJitterAt(0.25);
    const el = await checkedGuard(proxy, { status: 429 }, { status: 429 }, { status: 429 });
    const { outcomes, gaps } = await checks(proxy, 5);
    expect(outcomes).to.deep.equal(['fault 429', 'fault 429', 'fault 429', 'active', 'active']);
    expectAtLeast(gaps, [250, 500, 1000]);
    // Had the failures not been forgotten, this wait would be the next step: 2 s.
    expect(gaps[3], `back to the 50 ms interval (gaps ${gaps.join(', ')} ms)`).to.be.below(1000);
    expect(el.state).to.equal('active');
  });

  it('429 with Retry-After: no check before the time the proxy asked for, whatever the jitter', async () => {
    const proxy = new FakeProxy();
    // No jitter at all: without Retry-After the next check would come after the interval.
    drawJitterAt(0);
    const el = await checkedGuard(proxy, { status: 429, retryAfter: 1 });
    const { outcomes, gaps } = await checks(proxy, 2);
    expect(outcomes).to.deep.equal(['fault 429', 'active']);
    expectAtLeast(gaps, [1000]);
    expect(el.state).to.equal('active');
  });

  it('5xx back off the same way, and a 503’s Retry-After is honoured too', async () => {
    const proxy = new FakeProxy();
    drawJitterAt(0.25);
    const el = await checkedGuard(proxy, { status: 503, retryAfter: 1 }, { status: 500 }, { status: 502 });
    const { outcomes, gaps } = await checks(proxy, 4);
    expect(outcomes).to.deep.equal(['fault 503', 'fault 500', 'fault 502', 'active']);
    // The first wait is the Retry-After (1 s, more than the jitter's 250 ms); then 500 ms, 1 s.
    expectAtLeast(gaps, [1000, 500, 1000]);
    expect(el.state).to.equal('active');
  });
});
