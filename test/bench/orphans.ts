/**
 * Figure: a vanished page → its session deleted at the vendor, against
 * `orphanAfterMs`. One proxy instance (memoryStore(), its own process) with
 * `orphanAfterMs` of 10 s and the orphan sweep at its default interval
 * (10 s), in front of the fake vendor, which the bench watches for each
 * session's `DELETE`.
 *
 * What vanishes: a real Chromium (launched as a server by playwright-core,
 * its process killed with SIGKILL) with pages of the site whose guards started
 * their sessions through the proxy and keep showing them (status checks every
 * 2 s, and `push` where the element has it); and processes that hold event
 * streams reporting their sessions, killed the same way. The kills are spread
 * over one sweep interval, so the figure sees the sweep at several phases.
 * Sessions whose page stays (one Chromium page, one stream process) must not
 * be deleted meanwhile.
 *
 * The time runs from the kill to the vendor receiving the `DELETE` (the bench
 * looks every 10 ms). Its bound by design is `orphanAfterMs` after the page
 * last showed the session, plus one sweep interval.
 */
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserServer } from 'playwright-core';
import { chromiumArgs, executablePath, missingBrowser } from '../support/chromium.mjs';
import { FakeVendor } from '../proxy/support/fake-vendor.js';
import { Child } from './children.js';
import { openPage } from './browser.js';
import { sleep } from './server.js';
import type { HolderReady } from './stream-holder.js';
import { startRegistryServer } from './streams.js';
import { type BenchOptions, type FigureResult } from './report.js';
import { round, summarize } from './stats.js';

const HOLDER = fileURLToPath(new URL('./stream-holder.ts', import.meta.url));
const ORPHAN_AFTER_MS = 10_000;
/** The proxy's default sweep interval, which the goal's 10 s of slack is. */
const SWEEP_MS = 10_000;
const CHROMIUM_PAGES = 3;
const HOLDERS = 3;
const STREAMS_PER_HOLDER = 2;

interface Vanished {
  kind: 'chromium' | 'stream';
  sessionId: string;
  killedAt: number;
  deletedAt?: number;
}

const seconds = (value: number) => `${(value / 1000).toFixed(1)} s`;

export async function measureOrphans(options: BenchOptions): Promise<FigureResult> {
  if (missingBrowser) throw new Error(missingBrowser);
  const vendor = new FakeVendor();
  await vendor.listen();
  const proxy = await startRegistryServer({
    store: 'memory',
    vendorUrl: vendor.baseUrl,
    orphanAfterMs: ORPHAN_AFTER_MS,
    sweepIntervalMs: SWEEP_MS,
  });
  const { origin } = proxy.ready;
  let server: BrowserServer | undefined;
  let browser: Browser | undefined;
  let survivorBrowser: Browser | undefined;
  const holders: Array<Child<HolderReady>> = [];
  try {
    // A browser to kill, and one that stays.
    [server, survivorBrowser] = await Promise.all([
      chromium.launchServer({ executablePath, args: [...chromiumArgs] }),
      chromium.launch({ executablePath, args: [...chromiumArgs] }),
    ]);
    browser = await chromium.connect(server.wsEndpoint());
    const pageSessions = async (target: Browser, user: string) => {
      const context = await target.newContext();
      await context.addCookies([{ name: 'site_user', value: user, url: origin }]);
      const page = await openPage(context, `${origin}/pages/registry.html?check-interval=2&push`);
      await page.waitForFunction(() => (window as unknown as { bench: { sessionId?: string } }).bench.sessionId);
      return page.evaluate(() => (window as unknown as { bench: { sessionId: string } }).bench.sessionId);
    };
    const doomedPages: string[] = [];
    for (let i = 0; i < CHROMIUM_PAGES; i++) doomedPages.push(await pageSessions(browser, `orphan-page-${i}`));
    const survivorPage = await pageSessions(survivorBrowser, 'orphan-page-stays');

    // The last holder stays.
    holders.push(
      ...(await Promise.all(
        Array.from({ length: HOLDERS + 1 }, (_, h) =>
          Child.start<HolderReady>(HOLDER, [
            origin,
            JSON.stringify(Array.from({ length: STREAMS_PER_HOLDER }, (_, s) => `orphan-stream-${h}-${s}`)),
          ]),
        ),
      )),
    );
    const holderSessions = holders.map((holder) => holder.ready.sessions.map((session) => session.sessionId));
    const survivorStreams = holderSessions[HOLDERS];
    // Let every page show its session at least once more, then start killing.
    await sleep(2_500);
    const live = new Set(
      (await proxy.call<Array<{ sessionId: string }>>('listSessions')).map((session) => session.sessionId),
    );
    const unshown = [...doomedPages, survivorPage, ...holderSessions.flat()].filter((id) => !live.has(id));
    if (unshown.length > 0)
      throw new Error(`sessions orphaned before any kill (setup too slow?): ${unshown.join(', ')}`);

    const vanished: Vanished[] = [];
    const watch = setInterval(() => {
      for (const entry of vanished) {
        if (entry.deletedAt !== undefined) continue;
        const url = `/v1/widget/sessions/${entry.sessionId}`;
        if (vendor.requests.some((request) => request.method === 'DELETE' && request.url === url))
          entry.deletedAt = Date.now();
      }
    }, 10);
    try {
      const browserProcess = server.process();
      const killedAt = Date.now();
      browserProcess.kill('SIGKILL');
      for (const sessionId of doomedPages) vanished.push({ kind: 'chromium', sessionId, killedAt });
      for (let h = 0; h < HOLDERS; h++) {
        await sleep(SWEEP_MS / (HOLDERS + 1));
        const at = Date.now();
        await holders[h].kill();
        for (const sessionId of holderSessions[h]) vanished.push({ kind: 'stream', sessionId, killedAt: at });
      }
      const deadline = Date.now() + ORPHAN_AFTER_MS + SWEEP_MS + 20_000;
      while (vanished.some((entry) => entry.deletedAt === undefined) && Date.now() < deadline) await sleep(100);
    } finally {
      clearInterval(watch);
    }
    const missing = vanished.filter((entry) => entry.deletedAt === undefined);
    if (missing.length > 0)
      throw new Error(`no vendor DELETE for ${missing.map((entry) => entry.sessionId).join(', ')}`);
    const deletedByMistake = [survivorPage, ...survivorStreams].filter((sessionId) =>
      vendor.requests.some((request) => request.method === 'DELETE' && request.url.endsWith(`/${sessionId}`)),
    );
    const delays = vanished.map((entry) => entry.deletedAt! - entry.killedAt);
    const ofKind = (kind: Vanished['kind']) =>
      vanished.filter((entry) => entry.kind === kind).map((entry) => entry.deletedAt! - entry.killedAt);
    const worst = Math.max(...delays);
    const summary = summarize(delays);
    return {
      name: 'orphans',
      rows: [
        {
          figure: `a killed browser → its vendor delete (n=${vanished.length}: ${CHROMIUM_PAGES} Chromium pages, ${HOLDERS * STREAMS_PER_HOLDER} streams of killed processes)`,
          value: `median ${seconds(summary.median)}, max ${seconds(worst)}; pages that stayed: ${deletedByMistake.length} deleted`,
          baseline: `orphanAfterMs ${seconds(ORPHAN_AFTER_MS)} (sweep every ${seconds(SWEEP_MS)})`,
          ratio: worst / ORPHAN_AFTER_MS,
          goal: '≤ orphanAfterMs + 10 s',
          met: worst <= ORPHAN_AFTER_MS + 10_000 && deletedByMistake.length === 0,
        },
      ],
      raw: {
        orphanAfterMs: ORPHAN_AFTER_MS,
        sweepIntervalMs: SWEEP_MS,
        quick: options.quick,
        all: summary,
        chromium: summarize(ofKind('chromium')),
        streams: summarize(ofKind('stream')),
        deletedByMistake,
        delaysMs: vanished.map((entry) => ({ kind: entry.kind, ms: round(entry.deletedAt! - entry.killedAt) })),
      },
    };
  } finally {
    await Promise.all(holders.map((holder) => holder.kill()));
    await browser?.close().catch(() => undefined);
    await server?.kill().catch(() => undefined);
    await survivorBrowser?.close();
    await proxy.stop();
    await vendor.close();
  }
}
