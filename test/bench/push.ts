/**
 * Figures: push in a real Chromium page, through the reference proxy
 * (memoryStore(), a process of its own, in front of the fake vendor), with
 * the site's pages on the proxy's own origin (pages/registry.js: a guard
 * with `auto-start` that starts its session through the proxy).
 *
 * 1. `revokeUser` → the widget gone (its frame out of the DOM, as the page
 *    sees it), with the `push` attribute, against the same page without it,
 *    which learns of the revocation at its next status check
 *    (`check-interval` 30): those pages are revoked at a random point of
 *    their check interval, as revocations come. Clocks: the bench's and the
 *    page's `Date.now()` (one machine).
 * 2. The connections at the proxy with 5 tabs of one browser following the
 *    stream: the proxy's count of open `GET {proxy}/events` responses.
 *
 * Both need the element's push client. When the `push` attribute has no
 * effect in this build (no stream reaches the proxy within a few seconds of
 * a page with `push` showing its session), the rows say "not available" and
 * nothing else is measured.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { FakeVendor } from '../proxy/support/fake-vendor.js';
import { openPage } from './browser.js';
import { ms, type BenchOptions, type FigureResult, type Row } from './report.js';
import { sleep } from './server.js';
import { quantile, round, summarize } from './stats.js';
import { startRegistryServer } from './streams.js';

interface PageBench {
  sessionId?: string;
  goneAt?: number;
  reason?: string;
}

const CHECK_INTERVAL_S = 30;
const TABS = 5;

let users = 0;

export async function measurePush(browser: Browser, options: BenchOptions): Promise<FigureResult> {
  const vendor = new FakeVendor();
  await vendor.listen();
  const proxy = await startRegistryServer({ store: 'memory', vendorUrl: vendor.baseUrl });
  const { origin } = proxy.ready;
  const contexts: BrowserContext[] = [];
  const streams = () => proxy.call<number>('streams');

  /** A new browser profile of a new user, with one page of the site showing its own session. */
  const userPage = async (query: string): Promise<{ user: string; page: Page; context: BrowserContext }> => {
    const user = `push-${++users}`;
    const context = await browser.newContext();
    contexts.push(context);
    await context.addCookies([{ name: 'site_user', value: user, url: origin }]);
    const page = await openPage(context, `${origin}/pages/registry.html?${query}`);
    await started(page);
    return { user, page, context };
  };
  const started = (page: Page) =>
    page.waitForFunction(() => (window as unknown as { bench: PageBench }).bench.sessionId !== undefined);
  const goneAt = async (page: Page, timeoutMs: number) => {
    await page.waitForFunction(() => (window as unknown as { bench: PageBench }).bench.goneAt !== undefined, null, {
      timeout: timeoutMs,
      polling: 5,
    });
    return page.evaluate(() => (window as unknown as { bench: PageBench }).bench);
  };
  const untilStreams = async (count: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while ((await streams()) < count && Date.now() < deadline) await sleep(50);
    return streams();
  };
  const untilNoStreams = async () => {
    const deadline = Date.now() + 10_000;
    while ((await streams()) > 0) {
      if (Date.now() > deadline) throw new Error('the streams of closed browser profiles are still open at the proxy');
      await sleep(50);
    }
  };

  try {
    // Does the push attribute do anything in this build?
    const probe = await userPage('push&check-interval=30');
    const available = (await untilStreams(1, 5_000)) >= 1;
    await probe.context.close();
    // BENCH_PUSH=force measures anyway (to try the figure itself on a build without the push client).
    if (!available && process.env.BENCH_PUSH !== 'force') return notAvailable();
    await untilNoStreams();

    // 5 tabs of one browser: one stream.
    const tabsUser = `push-tabs-${++users}`;
    const tabsContext = await browser.newContext();
    contexts.push(tabsContext);
    await tabsContext.addCookies([{ name: 'site_user', value: tabsUser, url: origin }]);
    const tabs: Page[] = [];
    for (let i = 0; i < TABS; i++) {
      const tab = await openPage(tabsContext, `${origin}/pages/registry.html?push&check-interval=30`);
      await started(tab);
      tabs.push(tab);
    }
    await untilStreams(1, 5_000);
    await sleep(2_000);
    const connectionCounts: number[] = [];
    for (let i = 0; i < 5; i++) {
      connectionCounts.push(await streams());
      await sleep(200);
    }
    const connections = Math.max(...connectionCounts);
    await tabsContext.close();
    await untilNoStreams();

    // revokeUser → widget gone: with push (one page at a time), and without (pages revoked at a random
    // point of their check interval, meanwhile).
    const pushCount = options.quick ? 3 : 10;
    const baselineCount = options.quick ? 2 : 5;
    const withoutPush = Promise.all(
      Array.from({ length: baselineCount }, async () => {
        const { user, page } = await userPage(`check-interval=${CHECK_INTERVAL_S}`);
        await sleep(Math.random() * CHECK_INTERVAL_S * 1000);
        const revokedAt = Date.now();
        await proxy.call('revokeUser', user);
        const bench = await goneAt(page, (CHECK_INTERVAL_S + 15) * 1000);
        return { ms: bench.goneAt! - revokedAt, reason: bench.reason };
      }),
    );
    const withPush: Array<{ ms: number; reason?: string }> = [];
    for (let i = 0; i < pushCount; i++) {
      const before = await streams();
      const { user, page, context } = await userPage(`push&check-interval=${CHECK_INTERVAL_S}`);
      await untilStreams(before + 1, 5_000);
      await sleep(200);
      const revokedAt = Date.now();
      await proxy.call('revokeUser', user);
      const bench = await goneAt(page, (CHECK_INTERVAL_S + 15) * 1000);
      withPush.push({ ms: bench.goneAt! - revokedAt, reason: bench.reason });
      await context.close();
    }
    const without = await withoutPush;

    const push = withPush.map((sample) => sample.ms);
    const poll = without.map((sample) => sample.ms);
    const p50 = (values: number[]) => quantile(values, 0.5);
    const seconds = (value: number) => `${(value / 1000).toFixed(1)} s`;
    return {
      name: 'push',
      rows: [
        {
          figure: `revokeUser → widget gone in a real Chromium page, with push (n=${pushCount})`,
          value: `p50 ${ms(p50(push))}, max ${ms(Math.max(...push))}`,
          baseline: `p50 ${seconds(p50(poll))}, max ${seconds(Math.max(...poll))} without push (check-interval 30, n=${baselineCount})`,
          ratio: p50(push) / p50(poll),
          goal: '≤ 1 s',
          met: Math.max(...push) <= 1_000,
        },
        {
          figure: `connections at the proxy with ${TABS} tabs of one browser (push)`,
          value: `${connections}`,
          baseline: '—',
          goal: '1',
          met: connections === 1,
        },
      ],
      raw: {
        available: true,
        withPush: { ...summarize(push), reasons: withPush.map((sample) => sample.reason) },
        withoutPush: { ...summarize(poll), reasons: without.map((sample) => sample.reason) },
        connections: connectionCounts,
        samplesMs: { push: push.map((value) => round(value)), statusCheck: poll.map((value) => round(value)) },
      },
    };
  } finally {
    await Promise.all(contexts.map((context) => context.close().catch(() => undefined)));
    await proxy.stop();
    await vendor.close();
  }
}

function notAvailable(): FigureResult {
  const value = 'not available: the push attribute has no effect in this build';
  const rows: Row[] = [
    {
      figure: 'revokeUser → widget gone in a real Chromium page, with push',
      value,
      baseline: 'the same page without push',
      goal: '≤ 1 s',
      met: null,
    },
    {
      figure: `connections at the proxy with ${TABS} tabs of one browser (push)`,
      value,
      baseline: '—',
      goal: '1',
      met: null,
    },
  ];
  return { name: 'push', rows, raw: { available: false } };
}
