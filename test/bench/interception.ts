/**
 * Figure: what the guard's fetch patch costs requests it does not watch.
 * One page with a live guard; request pairs go once through the page's
 * patched `fetch` and once through the browser's own (captured before the
 * guard loaded), in alternating order (A B, B A, …), each to a fresh URL of
 * a local server, timed from the call until the body is read
 * (pages/interception.js). Same page, same server, same moment: the only
 * difference is the guard's wrapper.
 */
import type { Browser } from 'playwright-core';
import { openPage } from './browser.js';
import { ms, type BenchOptions, type FigureResult } from './report.js';
import { median, sum, summarize } from './stats.js';

interface Series {
  total: number[];
  call: number[];
}

export async function measureInterception(
  browser: Browser,
  origin: string,
  options: BenchOptions,
): Promise<FigureResult> {
  const pairs = options.quick ? 200 : 2000;
  const chunk = 250;
  const context = await browser.newContext();
  try {
    const page = await openPage(context, `${origin}/pages/interception.html`);
    const run = (count: number, offset: number) =>
      page.evaluate(
        ([n, at]) =>
          (
            window as unknown as {
              runInterception(n: number, at: number): Promise<{ guard: Series; bare: Series; stillPatched: boolean }>;
            }
          ).runInterception(n, at),
        [count, offset] as const,
      );
    await run(100, 1_000_000); // warm-up: connections, JIT
    const guard: Series = { total: [], call: [] };
    const bare: Series = { total: [], call: [] };
    let patched = true;
    for (let done = 0; done < pairs; done += chunk) {
      const result = await run(Math.min(chunk, pairs - done), done);
      guard.total.push(...result.guard.total);
      guard.call.push(...result.guard.call);
      bare.total.push(...result.bare.total);
      bare.call.push(...result.bare.call);
      patched &&= result.stillPatched;
    }
    const gs = summarize(guard.total);
    const bs = summarize(bare.total);
    const ratio = gs.median / bs.median;
    const callRatio = median(guard.call) / median(bare.call);
    return {
      name: 'interception',
      rows: [
        {
          figure: `unrelated fetch through the guard's patch, median of ${pairs}`,
          value: ms(gs.median),
          baseline: `${ms(bs.median)} (no patch, alternated)`,
          ratio,
          goal: '≤ 1.05×',
          met: ratio <= 1.05,
        },
        {
          figure: 'synchronous cost of the fetch() call, median',
          value: ms(median(guard.call)),
          baseline: ms(median(bare.call)),
          ratio: callRatio,
          goal: '(reported)',
          met: null,
        },
      ],
      raw: {
        pairs,
        patchedThroughout: patched,
        guard: { ...gs, totalMs: sum(guard.total), call: summarize(guard.call) },
        bare: { ...bs, totalMs: sum(bare.total), call: summarize(bare.call) },
        ratioOfMedians: ratio,
        ratioOfTotals: sum(guard.total) / sum(bare.total),
        samplesMs: { guard: guard.total, bare: bare.total },
      },
    };
  } finally {
    await context.close();
  }
}
