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
 * A page with `push` whose stream does not reach the proxy (within
 * STREAM_WAIT_MS of showing its session) fails the figure: measured anyway,
 * it would time the status check, or count no connection.
 */
import { setTimeout as wait } from 'node:timers/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { FakeVendor } from '../proxy/support/fake-vendor.js';
import { openPage } from './browser.js';
import { ms, type BenchOptions, type FigureResult } from './report.js';
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
/** How long a page with `push` may take to open its stream once it shows its session (generous: the bench runs loaded). */
const STREAM_WAIT_MS = 15_000;

let users = 0;

export async function measurePush(browser: Browser, options: BenchOptions): Promise<FigureResult> {
  const vendor = new FakeVendor();
  await vendor.listen();
  const proxy = await startRegistryServer({ store: 'memory', vendorUrl: vendor.baseUrl });
  const { origin } = proxy.ready;
  const contexts: BrowserContext[] = [];
  const streams = () => proxy.call<number>('streams');
  const closeContexts = () => Promise.all(contexts.map((context) => context.close().catch(() => undefined)));

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
    page.waitForFunction(() => (window as unknown as { bench: PageBench }).bench.sessionId !== undefined, null, {
      timeout: 60_000,
    });
  /** When the widget of `page` was gone (its frame out of the DOM), as the page saw it; `what` names the sample. */
  const goneAt = async (page: Page, timeoutMs: number, what: string) => {
    try {
      await page.waitForFunction(() => (window as unknown as { bench: PageBench }).bench.goneAt !== undefined, null, {
        timeout: timeoutMs,
        polling: 5,
      });
      return await page.evaluate(() => (window as unknown as { bench: PageBench }).bench);
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new Error(`${what}: the widget was not seen gone (${message})`, { cause: error });
    }
  };
  /** The one stream the page(s) of `user` open, at the proxy (none other is open meanwhile). */
  const oneStream = async (user: string) => {
    const deadline = Date.now() + STREAM_WAIT_MS;
    while ((await streams()) < 1) {
      if (Date.now() > deadline)
        throw new Error(
          `${user}: no event stream reached the proxy within ${STREAM_WAIT_MS} ms of a page with push showing its session`,
        );
      await sleep(50);
    }
  };
  const untilNoStreams = async () => {
    const deadline = Date.now() + 10_000;
    while ((await streams()) > 0) {
      if (Date.now() > deadline) throw new Error('the streams of closed browser profiles are still open at the proxy');
      await sleep(50);
    }
  };

  try {
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
    await oneStream(`${TABS} tabs of ${tabsUser}`);
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
    // point of their check interval, meanwhile). The two run side by side, so the first error of either
    // stops both: it closes the profiles (which ends their waits) and aborts the baseline's sleeps, and
    // nothing of this figure is still running, or rejecting, once it returns or throws.
    const pushCount = options.quick ? 3 : 10;
    const baselineCount = options.quick ? 2 : 5;
    const failed = new AbortController();
    failed.signal.addEventListener('abort', () => void closeContexts());
    const withoutPush = Promise.allSettled(
      Array.from({ length: baselineCount }, async () => {
        try {
          const { user, page } = await userPage(`check-interval=${CHECK_INTERVAL_S}`);
          await wait(Math.random() * CHECK_INTERVAL_S * 1000, undefined, { signal: failed.signal });
          const revokedAt = Date.now();
          await proxy.call('revokeUser', user);
          const bench = await goneAt(page, (CHECK_INTERVAL_S + 15) * 1000, `without push, ${user}`);
          return { ms: bench.goneAt! - revokedAt, reason: bench.reason };
        } catch (error) {
          failed.abort(error);
          throw error;
        }
      }),
    );
    const withPush: Array<{ ms: number; reason?: string }> = [];
    try {
      for (let i = 0; i < pushCount && !failed.signal.aborted; i++) {
        const { user, page, context } = await userPage(`push&check-interval=${CHECK_INTERVAL_S}`);
        await oneStream(user);
        await sleep(200);
        const revokedAt = Date.now();
        await proxy.call('revokeUser', user);
        const bench = await goneAt(page, (CHECK_INTERVAL_S + 15) * 1000, `with push, ${user}`);
        withPush.push({ ms: bench.goneAt! - revokedAt, reason: bench.reason });
        await context.close();
        // Its stream gone before the next page's is counted (the pages without push open none).
        await untilNoStreams();
      }
    } catch (error) {
      failed.abort(error);
    }
    const settled = await withoutPush;
    // The first error, not what it caused in the other samples (closed pages, aborted sleeps).
    if (failed.signal.aborted) throw failed.signal.reason;
    const without = settled.flatMap((sample) => (sample.status === 'fulfilled' ? [sample.value] : []));

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
        withPush: { ...summarize(push), reasons: withPush.map((sample) => sample.reason) },
        withoutPush: { ...summarize(poll), reasons: without.map((sample) => sample.reason) },
        connections: connectionCounts,
        samplesMs: { push: push.map((value) => round(value)), statusCheck: poll.map((value) => round(value)) },
      },
    };
  } finally {
    await closeContexts();
    await proxy.stop();
    await vendor.close();
  }
}
