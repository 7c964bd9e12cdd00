/**
 * Figure: time from a terminated response reaching the page to the frame
 * leaving the DOM, the guard against a page that removes an equivalent frame
 * itself, rotated in one page (pages/teardown.js). A third series is the
 * floor the contract sets for any teardown (guarantee 1): the page's own
 * code pointing the frame at `about:blank`, then removing it.
 *
 * The response comes from a real local HTTP server (a 404 with the vendor's
 * error body, as the site's proxy answers for an ended session). "Reaching
 * the page" is when the browser's fetch settles, taken by a shim under the
 * guard's patch, so both sides start their clock at the same instant; "leaving
 * the DOM" is a MutationObserver's callback, the first moment any script of
 * the page can see it.
 */
import type { Browser } from 'playwright-core';
import { openPage } from './browser.js';
import { formatRatio, ms, percent, type BenchOptions, type FigureResult } from './report.js';
import { median, summarize } from './stats.js';

interface Sample {
  ms: number;
  sameTask: boolean;
  continuationSawGone: boolean;
}

export async function measureTeardown(browser: Browser, origin: string, options: BenchOptions): Promise<FigureResult> {
  const iterations = options.quick ? 20 : 200;
  const warmup = options.quick ? 3 : 20;
  const context = await browser.newContext();
  try {
    const page = await openPage(context, `${origin}/pages/teardown.html`);
    const functions = { guard: 'teardownGuard', baseline: 'teardownBaseline', blankFirst: 'teardownBlankFirst' };
    type Series = keyof typeof functions;
    const samples: Record<Series, Sample[]> = { guard: [], baseline: [], blankFirst: [] };
    const series = Object.keys(functions) as Series[];
    const run = (which: Series) =>
      page.evaluate((name) => (window as unknown as Record<string, () => Promise<Sample>>)[name](), functions[which]);
    for (let i = 0; i < warmup; i++) for (const which of series) await run(which);
    for (let i = 0; i < iterations; i++) {
      // Rotated: no series always goes first.
      for (let k = 0; k < series.length; k++) {
        const which = series[(i + k) % series.length];
        samples[which].push(await run(which));
      }
    }
    const { guard, baseline } = samples;
    const g = guard.map((s) => s.ms);
    const b = baseline.map((s) => s.ms);
    const f = samples.blankFirst.map((s) => s.ms);
    const fs = summarize(f);
    const sameTask = guard.filter((s) => s.sameTask).length;
    const sawGone = guard.filter((s) => s.continuationSawGone).length;
    const baselineSameTask = baseline.filter((s) => s.sameTask).length;
    const ratio = median(g) / median(b);
    const gs = summarize(g);
    const bs = summarize(b);
    return {
      name: 'teardown',
      rows: [
        {
          figure: `terminated response → frame gone, median (n=${iterations})`,
          value: ms(gs.median),
          baseline: `${ms(fs.median)} (page's own about:blank + remove(); ${formatRatio(fs.median / bs.median)} of a bare remove())`,
          ratio: gs.median / fs.median,
          goal: '≤ 1.1×',
          met: gs.median / fs.median <= 1.1,
        },
        {
          figure: '  against a bare iframe.remove() (no about:blank first)',
          value: ms(gs.median),
          baseline: `${ms(bs.median)} (bare iframe.remove())`,
          ratio,
          goal: '(reported)',
          met: null,
        },
        {
          figure: 'terminated response → frame gone, p95',
          value: ms(gs.p95),
          baseline: ms(bs.p95),
          ratio: gs.p95 / bs.p95,
          goal: '(reported)',
          met: null,
        },
        {
          figure: 'teardown in the task the response arrived in',
          value: `${sameTask}/${iterations} (${percent(sameTask, iterations)}); caller saw it gone ${sawGone}/${iterations}`,
          baseline: `${baselineSameTask}/${iterations}`,
          goal: 'same task',
          met: sameTask === iterations && sawGone === iterations,
        },
      ],
      raw: {
        iterations,
        guard: { ...gs, sameTask, continuationSawGone: sawGone },
        baseline: { ...bs, sameTask: baselineSameTask },
        blankFirst: fs,
        ratioOfMedians: ratio,
        ratioOverBlankFirst: gs.median / fs.median,
        samplesMs: { guard: g, baseline: b, blankFirst: f },
      },
    };
  } finally {
    await context.close();
  }
}
