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
 * answered "already gone" and counted as extra. An extra DELETE is forced
 * when no page kept the answer to the one before (dropped, or its page gone
 * before it arrived or was stored); one that arrived after the outbox had
 * stored the session's confirmation (its tombstone) was avoidable.
 *
 * The logouts are split into separate runs (fresh profiles, one round of
 * each scenario, drained before the next), so "100%" and "never two at
 * once" hold over several runs, not one.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { openPage } from './browser.js';
import { percent, type BenchOptions, type FigureResult } from './report.js';
import { sleep, type BenchServer, type DeleteLedger } from './server.js';

type Scenario = 'steady' | 'navigate-away' | 'close-mid-request' | 'offline-window';
const SCENARIOS: readonly Scenario[] = ['steady', 'navigate-away', 'close-mid-request', 'offline-window'];

interface Side {
  confirmed: number;
  /** Extra DELETEs that arrived after the outbox had stored the session's confirmation. */
  avoidable: number;
  lost: number;
  requests: number;
  extraAfterCommit: number;
  maxConcurrentPerSession: number;
  serverErrors: number;
  droppedBeforeCommit: number;
  droppedAfterCommit: number;
  neverReachedServer: number;
}

function tally(
  ids: readonly string[],
  ledger: ReadonlyMap<string, DeleteLedger>,
  confirmedAt: Readonly<Record<string, number>> = {},
): Side {
  const side: Side = {
    confirmed: 0,
    avoidable: 0,
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
    const stored = confirmedAt[id];
    if (stored !== undefined) side.avoidable += entry.afterCommitAt.filter((at) => at > stored).length;
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

interface RunParams {
  rounds: number;
  perRound: number;
  drainLimitMs: number;
  offline: readonly [number, number];
}

interface Run {
  guardIds: string[];
  baselineIds: string[];
  byScenario: Map<Scenario, { guard: string[]; baseline: string[] }>;
  counts: {
    offlineWindows: number;
    pagesNavigatedAway: number;
    pagesClosedMidRequest: number;
    pagesClosedLater: number;
  };
  outbox: { pending: number; settled: number; journal: number };
  /** When the guard profile's outbox stored each confirmation. */
  confirmedAt: Record<string, number>;
  stormMs: number;
  drainMs: number;
}

/** One run: fresh profiles, `rounds` rounds through the scenarios, then a page that drains what is left. */
async function deliveryRun(browser: Browser, server: BenchServer, params: RunParams, run: number): Promise<Run> {
  const { rounds, perRound, drainLimitMs } = params;
  const [offlineMin, offlineMax] = params.offline;
  const tag = `${Date.now().toString(36)}_${run}`;
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
  let confirmedAt: Record<string, number>;
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
    confirmedAt = await call(drainPage, 'confirmedAt');
  } finally {
    server.faults.enabled = false;
    // A context the browser already dropped must not hide the error that brought us here.
    await Promise.all([guardContext.close().catch(() => undefined), baselineContext.close().catch(() => undefined)]);
  }
  return {
    guardIds,
    baselineIds,
    byScenario,
    counts,
    outbox,
    confirmedAt,
    stormMs: Date.now() - started - drainMs,
    drainMs,
  };
}

export async function measureDelivery(
  browser: Browser,
  server: BenchServer,
  options: BenchOptions,
): Promise<FigureResult> {
  const runCount = options.quick ? 1 : 5;
  const params: RunParams = {
    rounds: SCENARIOS.length,
    perRound: options.quick ? 10 : 25,
    // A page closed mid-request leaves its delete to the next page after 1.5x the attempt's limit (15 s).
    drainLimitMs: options.quick ? 40_000 : 90_000,
    offline: options.quick ? [500, 1000] : [800, 2000],
  };
  const runs: Run[] = [];
  for (let run = 0; run < runCount; run++) runs.push(await deliveryRun(browser, server, params, run));

  const perRun = runs.map((run) => ({
    guard: tally(run.guardIds, server.ledger, run.confirmedAt),
    baseline: tally(run.baselineIds, server.ledger),
    sessions: run.guardIds.length,
  }));
  const guardIds = runs.flatMap((run) => run.guardIds);
  const baselineIds = runs.flatMap((run) => run.baselineIds);
  const confirmedAt = Object.assign({}, ...runs.map((run) => run.confirmedAt)) as Record<string, number>;
  const guard = tally(guardIds, server.ledger, confirmedAt);
  const baseline = tally(baselineIds, server.ledger);
  const total = guardIds.length;
  const everyRun = perRun.map((run) => `${run.guard.confirmed}/${run.sessions}`).join(', ');
  const pending = runs.reduce((sum, run) => sum + run.outbox.pending, 0);
  const forced = guard.extraAfterCommit - guard.avoidable;
  return {
    name: 'delivery',
    rows: [
      {
        figure: `logouts confirmed by the server, of ${total} under faults, over ${runCount} run${runCount === 1 ? '' : 's'}`,
        value: `${guard.confirmed}/${total} (${percent(guard.confirmed, total)}; ${everyRun})`,
        baseline: `${baseline.confirmed}/${total} (${percent(baseline.confirmed, total)}) with a plain fetch(DELETE): lost ${baseline.lost} (${baseline.serverErrors} to 5xx, ${baseline.droppedBeforeCommit} to drops, ${baseline.neverReachedServer} never sent: offline or page gone)`,
        goal: '100%',
        met: guard.confirmed === total,
      },
      {
        figure: '  exactly once: most DELETEs of one session at a time; extra DELETEs',
        value: `${guard.maxConcurrentPerSession} at a time; ${guard.extraAfterCommit} extra (${guard.avoidable} after the outbox had stored the confirmation, ${forced} where no page kept the answer before: ${guard.droppedAfterCommit} answers dropped, the rest pages gone); ${pending} left in outbox`,
        baseline: `${baseline.extraAfterCommit} extra, ${baseline.maxConcurrentPerSession} at a time`,
        goal: 'never 2 at once; no avoidable extra',
        met: guard.maxConcurrentPerSession <= 1 && guard.avoidable === 0,
      },
    ],
    raw: {
      sessionsPerSide: total,
      runs: runCount,
      roundsPerRun: params.rounds,
      perRound: params.perRound,
      scenarios: SCENARIOS,
      faults: { ...server.faults, enabled: true },
      perRun: perRun.map((run, index) => ({
        ...run,
        conditions: runs[index].counts,
        outboxAtEnd: runs[index].outbox,
        stormMs: runs[index].stormMs,
        drainMs: runs[index].drainMs,
      })),
      guard: { ...guard, requestsPerSession: guard.requests / total },
      // Any session of which two DELETEs were in flight at once, for diagnosis.
      overlapping: guardIds
        .map((id) => ({ id, ...server.ledger.get(id) }))
        .filter((entry) => (entry.maxInflight ?? 0) > 1)
        .map(({ id, history, timeline }) => ({ id, history, timeline, confirmedAt: confirmedAt[id] })),
      baseline,
      confirmedByScenario: Object.fromEntries(
        SCENARIOS.map((name) => {
          const ids = {
            guard: runs.flatMap((run) => run.byScenario.get(name)!.guard),
            baseline: runs.flatMap((run) => run.byScenario.get(name)!.baseline),
          };
          return [
            name,
            {
              sessions: ids.guard.length,
              guard: tally(ids.guard, server.ledger).confirmed,
              baseline: tally(ids.baseline, server.ledger).confirmed,
            },
          ];
        }),
      ),
    },
  };
}
