/**
 * Figure: logouts whose delete the server confirmed, under faults, through
 * the guard's real outbox in real pages of one origin, against a plain
 * `fetch(DELETE)` with no retry in the same conditions (pages/delivery-*.js).
 *
 * Both sides log out the same number of sessions in the same rounds, against
 * the same fault-injecting proxy (server.ts: 30% 5xx, 10% dropped
 * connections, half of them after the delete committed), through the same
 * offline windows and the same page losses: pages that navigate away in the
 * logout's own task, pages closed while requests are in flight, and every
 * round's pages closed when the next round starts. Guard pages that load
 * later replay what was left, as any page of a site with the guard does.
 * Each side has its own browser profile (context), so neither queues behind
 * the other's requests in the browser's six connections per host; offline
 * windows take both offline at once. The server's ledger is the truth: a
 * session counts as confirmed when one DELETE ended it; later ones are
 * answered "already gone" and counted as extra.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { openPage } from './browser.js';
import { percent, type BenchOptions, type FigureResult } from './report.js';
import { sleep, type BenchServer, type DeleteLedger } from './server.js';

type Scenario = 'steady' | 'navigate-away' | 'close-mid-request' | 'offline-window';
const SCENARIOS: readonly Scenario[] = ['steady', 'navigate-away', 'close-mid-request', 'offline-window'];

interface Side {
  confirmed: number;
  lost: number;
  requests: number;
  extraAfterCommit: number;
  maxConcurrentPerSession: number;
  serverErrors: number;
  droppedBeforeCommit: number;
  droppedAfterCommit: number;
  neverReachedServer: number;
}

function tally(ids: readonly string[], ledger: ReadonlyMap<string, DeleteLedger>): Side {
  const side: Side = {
    confirmed: 0,
    lost: 0,
    requests: 0,
    extraAfterCommit: 0,
    maxConcurrentPerSession: 0,
    serverErrors: 0,
    droppedBeforeCommit: 0,
    droppedAfterCommit: 0,
    neverReachedServer: 0,
  };
  for (const id of ids) {
    const entry = ledger.get(id);
    if (!entry) {
      side.lost += 1;
      side.neverReachedServer += 1;
      continue;
    }
    if (entry.commits > 0) side.confirmed += 1;
    else side.lost += 1;
    side.requests += entry.requests;
    side.extraAfterCommit += entry.afterCommit;
    side.maxConcurrentPerSession = Math.max(side.maxConcurrentPerSession, entry.maxInflight);
    side.serverErrors += entry.serverErrors;
    side.droppedBeforeCommit += entry.droppedBeforeCommit;
    side.droppedAfterCommit += entry.droppedAfterCommit;
  }
  return side;
}

const call = <T>(page: Page, name: string, ...args: unknown[]): Promise<T> =>
  page.evaluate(([fn, rest]) => (window as unknown as Record<string, (...a: unknown[]) => T>)[fn](...rest), [
    name,
    args,
  ] as const);

export async function measureDelivery(
  browser: Browser,
  server: BenchServer,
  options: BenchOptions,
): Promise<FigureResult> {
  const rounds = options.quick ? 4 : 20;
  const perRound = options.quick ? 10 : 25;
  // A page closed mid-request leaves its delete to the next page after the attempt's time limit (10 s).
  const drainLimitMs = options.quick ? 15_000 : 90_000;
  const [offlineMin, offlineMax] = options.quick ? [500, 1000] : [800, 2000];
  const tag = Date.now().toString(36);
  const guardUrl = `${server.origin}/pages/delivery-guard.html`;
  const baselineUrl = `${server.origin}/pages/delivery-baseline.html`;
  const guardIds: string[] = [];
  const baselineIds: string[] = [];
  const byScenario = new Map<Scenario, { guard: string[]; baseline: string[] }>(
    SCENARIOS.map((name) => [name, { guard: [], baseline: [] }]),
  );
  const counts = { offlineWindows: 0, pagesNavigatedAway: 0, pagesClosedMidRequest: 0, pagesClosedLater: 0 };
  const guardContext: BrowserContext = await browser.newContext();
  const baselineContext: BrowserContext = await browser.newContext();
  const setOffline = (offline: boolean) =>
    Promise.all([guardContext.setOffline(offline), baselineContext.setOffline(offline)]);
  // One page of the site stays open in each profile throughout. Without it, every page of a
  // profile is sometimes closed at once while keepalive requests are still in flight, and
  // headless Chromium may then hand the next new tab to the renderer it is shutting down:
  // the tab never opens ("Failed to open a new tab", or no answer at all).
  await Promise.all([
    openPage(guardContext, `${server.origin}/pages/anchor.html`),
    openPage(baselineContext, `${server.origin}/pages/anchor.html`),
  ]);
  server.faults.enabled = true;
  const started = Date.now();
  let drainMs: number;
  let outbox = { pending: Number.NaN, settled: Number.NaN, journal: Number.NaN };
  try {
    let previous: Page[] = [];
    for (let round = 0; round < rounds; round++) {
      const scenario = SCENARIOS[round % SCENARIOS.length];
      // The user moves on: last round's pages close, whatever they were still doing.
      for (const page of previous)
        if (!page.isClosed()) {
          await page.close();
          counts.pagesClosedLater += 1;
        }
      const [guardPage, baselinePage] = await Promise.all([
        openPage(guardContext, guardUrl),
        openPage(baselineContext, baselineUrl),
      ]);
      previous = [guardPage, baselinePage];
      const g = Array.from({ length: perRound }, (_, k) => `g_${tag}_${round}_${k}`);
      const b = Array.from({ length: perRound }, (_, k) => `b_${tag}_${round}_${k}`);
      guardIds.push(...g);
      baselineIds.push(...b);
      byScenario.get(scenario)!.guard.push(...g);
      byScenario.get(scenario)!.baseline.push(...b);
      await Promise.all([call(guardPage, 'mountSessions', g), call(baselinePage, 'mountSessions', b)]);

      const logout = (navigate: boolean) =>
        Promise.all([
          call(guardPage, 'logoutAll', navigate ? guardUrl : undefined),
          call(baselinePage, 'logoutAll', navigate ? baselineUrl : undefined),
        ]).catch(() => undefined); // a page that navigates away may not answer
      switch (scenario) {
        case 'steady':
          await logout(false);
          break;
        case 'navigate-away':
          // "Log out, then go to the sign-in page": the page unloads in the logout's own task.
          await logout(true);
          counts.pagesNavigatedAway += 2;
          break;
        case 'close-mid-request':
          await logout(false);
          await sleep(5 + Math.random() * 100);
          await Promise.all([guardPage.close(), baselinePage.close()]);
          counts.pagesClosedMidRequest += 2;
          break;
        case 'offline-window':
          await setOffline(true);
          counts.offlineWindows += 1;
          await logout(false);
          await sleep(offlineMin + Math.random() * (offlineMax - offlineMin));
          await setOffline(false);
          break;
      }
      await sleep(400);
    }
    for (const page of previous) if (!page.isClosed()) await page.close();

    // Someone comes back to the site: a page with the guard replays what is pending. The
    // faults stay on; short offline blips (network changes) fire `online`, as they do in life.
    // Done when the server ended every session and the outbox holds nothing unconfirmed.
    const stormEnded = Date.now();
    const drainPage = await openPage(guardContext, guardUrl);
    const done = async () => {
      outbox = await call(drainPage, 'pendingDeletes');
      return (
        outbox.pending === 0 &&
        outbox.journal === 0 &&
        guardIds.every((id) => (server.ledger.get(id)?.commits ?? 0) > 0)
      );
    };
    let lastBlip = Date.now();
    while (!(await done()) && Date.now() - stormEnded < drainLimitMs) {
      await sleep(250);
      if (Date.now() - lastBlip < 3000) continue;
      await setOffline(true);
      await sleep(100);
      await setOffline(false);
      counts.offlineWindows += 1;
      lastBlip = Date.now();
    }
    drainMs = Date.now() - stormEnded;
    // Let whatever is still in flight land before counting.
    await sleep(500);
    outbox = await call(drainPage, 'pendingDeletes');
  } finally {
    server.faults.enabled = false;
    // A context the browser already dropped must not hide the error that brought us here.
    await Promise.all([guardContext.close().catch(() => undefined), baselineContext.close().catch(() => undefined)]);
  }

  const guard = tally(guardIds, server.ledger);
  const baseline = tally(baselineIds, server.ledger);
  const total = guardIds.length;
  return {
    name: 'delivery',
    rows: [
      {
        figure: `logouts confirmed by the server, of ${total} under faults`,
        value: `${guard.confirmed}/${total} (${percent(guard.confirmed, total)})`,
        baseline: `${baseline.confirmed}/${total} (${percent(baseline.confirmed, total)}) with a plain fetch(DELETE): lost ${baseline.lost} (${baseline.serverErrors} to 5xx, ${baseline.droppedBeforeCommit} to drops, ${baseline.neverReachedServer} never sent: offline or page gone)`,
        goal: '100%',
        met: guard.confirmed === total,
      },
      {
        figure: '  exactly once: ended once; extra DELETEs; most at a time per session',
        value: `${guard.extraAfterCommit} extra, ${guard.maxConcurrentPerSession} at a time; ${outbox.pending} left in outbox`,
        baseline: `${baseline.extraAfterCommit} extra, ${baseline.maxConcurrentPerSession} at a time`,
        goal: '(reported)',
        met: null,
      },
    ],
    raw: {
      sessionsPerSide: total,
      rounds,
      scenarios: SCENARIOS,
      faults: { ...server.faults, enabled: true },
      conditions: counts,
      guard: { ...guard, requestsPerSession: guard.requests / total, outboxAtEnd: outbox },
      baseline,
      confirmedByScenario: Object.fromEntries(
        [...byScenario].map(([name, ids]) => [
          name,
          {
            sessions: ids.guard.length,
            guard: tally(ids.guard, server.ledger).confirmed,
            baseline: tally(ids.baseline, server.ledger).confirmed,
          },
        ]),
      ),
      stormMs: Date.now() - started - drainMs,
      drainMs,
    },
  };
}
