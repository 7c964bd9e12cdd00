/**
 * Figure: JS heap and what is left (frames, listeners) after 1,000
 * mount/teardown cycles against the same page after 10 (pages/memory.js).
 *
 * Before each reading the page rests past the outbox's 10-second request
 * deadline (whose timers hold their signals until then), then garbage is
 * collected through DevTools until the heap stops shrinking. The heap is
 * `Runtime.getHeapUsage` (V8's used size), and a heap snapshot splits its
 * growth into compiled code (V8's JIT at work on hot functions) and data
 * (what a leak would be made of), and counts the session ids still
 * referenced. Listeners are read by DevTools on `window` and `document`;
 * frames are the page's child browsing contexts.
 */
import type { Browser, CDPSession, Page } from 'playwright-core';
import { heapComposition, listenersOn, openPage, settledHeap, type HeapComposition } from './browser.js';
import { kb, type BenchOptions, type FigureResult } from './report.js';
import { sleep } from './server.js';

interface Snapshot {
  heapBytes: number;
  composition: HeapComposition;
  frames: number;
  guards: number;
  windowListeners: string[];
  documentListeners: string[];
}

/** Session ids of pages/memory.js. */
const SESSION_ID = /^m_\d+_[a-z0-9]+$/;

async function snapshot(page: Page, cdp: CDPSession, restMs: number): Promise<Snapshot> {
  await sleep(restMs);
  const heapBytes = await settledHeap(cdp);
  const composition = await heapComposition(cdp, SESSION_ID);
  const { frames, guards } = await page.evaluate(() => ({
    frames: window.length,
    guards: document.querySelectorAll('konpro-widget-guard').length,
  }));
  return {
    heapBytes,
    composition,
    frames,
    guards,
    windowListeners: await listenersOn(cdp, 'window'),
    documentListeners: await listenersOn(cdp, 'document'),
  };
}

const listenerCount = (s: Snapshot) => s.windowListeners.length + s.documentListeners.length;

export async function measureMemory(browser: Browser, origin: string, options: BenchOptions): Promise<FigureResult> {
  const total = options.quick ? 60 : 1000;
  // Past the outbox's per-request deadline (10 s); --quick accepts the noise of live timers.
  const restMs = options.quick ? 1000 : 11_000;
  const context = await browser.newContext();
  try {
    const page = await openPage(context, `${origin}/pages/memory.html`);
    const cdp = await context.newCDPSession(page);
    const cycles = (from: number, to: number) =>
      page.evaluate(
        ([a, b]) => (window as unknown as { runCycles(a: number, b: number): Promise<unknown> }).runCycles(a, b),
        [from, to] as const,
      );
    const before = await snapshot(page, cdp, 500);
    await cycles(0, 10);
    const at10 = await snapshot(page, cdp, restMs);
    for (let done = 10; done < total; done += 100) await cycles(done, Math.min(total, done + 100));
    const atEnd = await snapshot(page, cdp, restMs);

    const heapRatio = atEnd.heapBytes / at10.heapBytes;
    const dataRatio = atEnd.composition.data / at10.composition.data;
    const codeGrowth = atEnd.composition.code - at10.composition.code;
    const dataGrowth = atEnd.composition.data - at10.composition.data;
    const leftListeners = listenerCount(atEnd) - listenerCount(at10);
    // What the contract lets a page keep: at most 1,000 ended ids (7 days), and a tombstone per delete for 15 minutes.
    const idBound = Math.min(total, 1000) + total;
    const sign = (n: number) => (n < 0 ? `−${kb(-n)}` : `+${kb(n)}`);
    return {
      name: 'memory',
      rows: [
        {
          figure: `JS heap after ${total} mount/teardown cycles (GC forced)`,
          value: kb(atEnd.heapBytes),
          baseline: `${kb(at10.heapBytes)} (after 10)`,
          ratio: heapRatio,
          goal: '(reported)',
          met: null,
        },
        {
          figure: '  growth: compiled code (JIT) / data; session ids still held',
          value: `${sign(codeGrowth)} code, ${sign(dataGrowth)} data; ${atEnd.composition.matchingStrings} ids`,
          baseline: `data ${kb(at10.composition.data)}; ${at10.composition.matchingStrings} ids`,
          ratio: dataRatio,
          goal: '(reported)',
          met: null,
        },
        {
          figure: `frames and window/document listeners left after ${total} cycles`,
          value: `${atEnd.frames} frames, ${listenerCount(atEnd)} listeners`,
          baseline: `${at10.frames} frames, ${listenerCount(at10)} listeners (after 10)`,
          goal: '0 frames, +0 listeners',
          met: atEnd.frames === 0 && atEnd.guards === 0 && leftListeners === 0,
        },
        {
          figure: `  session ids still held after ${total} cycles`,
          value: `${atEnd.composition.matchingStrings} ids (data ${sign(dataGrowth)}; JIT code apart: ${sign(codeGrowth)})`,
          baseline: `bound ${idBound}: the ended-id record (1,000) + this run's delete tombstones (15 min)`,
          goal: 'within the bound',
          met: atEnd.composition.matchingStrings <= idBound,
        },
      ],
      raw: {
        cycles: total,
        restMs,
        beforeAnyGuard: before,
        after10: at10,
        afterAll: atEnd,
        heapRatio,
        dataRatio,
        codeGrowthBytes: codeGrowth,
        dataGrowthBytes: dataGrowth,
        listenersAddedSince10: leftListeners,
        // What the page-wide services keep for the page's lifetime (not per cycle).
        listenersAddedByTheGuardOnce: diff(at10, before),
      },
    };
  } finally {
    await context.close();
  }
}

function diff(after: Snapshot, before: Snapshot): string[] {
  const remaining = [...before.windowListeners, ...before.documentListeners];
  const added: string[] = [];
  for (const type of [...after.windowListeners, ...after.documentListeners]) {
    const index = remaining.indexOf(type);
    if (index >= 0) remaining.splice(index, 1);
    else added.push(type);
  }
  return added;
}
