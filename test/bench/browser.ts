/**
 * Headless Chromium for the bench: Debian's binary (or CHROME_PATH) through
 * playwright-core, never a downloaded one.
 */
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { chromiumArgs, executablePath, missingBrowser } from '../support/chromium.mjs';

export async function launchBrowser(): Promise<Browser> {
  if (missingBrowser) throw new Error(missingBrowser);
  return chromium.launch({ executablePath, args: [...chromiumArgs, '--js-flags=--expose-gc'] });
}

/** Opens `url` and waits until the page's script says it is ready (`window.benchReady`). */
export async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await newPage(context);
  page.on('pageerror', (error) => console.error(`  page error on ${page.url()}: ${error.message}`));
  page.on('crash', () => console.error(`  page crashed: ${page.url()}`));
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { benchReady?: boolean }).benchReady === true);
  return page;
}

/**
 * A new tab. Headless Chromium now and then refuses one ("Failed to open a new
 * tab") while other tabs of the profile are closing; a moment later it works.
 */
async function newPage(context: BrowserContext): Promise<Page> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await context.newPage();
    } catch (error) {
      if (attempt >= 5 || !String(error).includes('Failed to open a new tab')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

/** Collects garbage until the heap stops shrinking, then reads it (bytes). */
export async function settledHeap(cdp: CDPSession): Promise<number> {
  let last = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 6; round++) {
    await cdp.send('HeapProfiler.collectGarbage');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    if (usedSize >= last * 0.999) return Math.min(usedSize, last);
    last = usedSize;
  }
  return last;
}

/** Event listener types on a page global (`window` or `document`), as DevTools sees them. */
export async function listenersOn(cdp: CDPSession, expression: 'window' | 'document'): Promise<string[]> {
  const { result } = await cdp.send('Runtime.evaluate', { expression });
  const objectId = result.objectId;
  if (objectId === undefined) throw new Error(`no object for ${expression}`);
  try {
    const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId });
    return listeners.map((listener) => listener.type).sort();
  } finally {
    await cdp.send('Runtime.releaseObject', { objectId });
  }
}

/** A heap snapshot, summed by kind of node: what the heap holds, not just how much. */
export interface HeapComposition {
  /** Compiled code, bytecode and feedback (V8's JIT): grows as functions get hot, not with retained data. */
  code: number;
  /** Objects, strings, arrays, closures, numbers and their shapes: what a leak would be made of. */
  data: number;
  /** Strings that match the pattern given (e.g. session ids still referenced). */
  matchingStrings: number;
}

export async function heapComposition(cdp: CDPSession, pattern: RegExp): Promise<HeapComposition> {
  const chunks: string[] = [];
  const onChunk = ({ chunk }: { chunk: string }) => void chunks.push(chunk);
  cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  try {
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
  }
  const snapshot = JSON.parse(chunks.join('')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [
    number,
    number,
    number,
  ];
  // Native nodes are the embedder's (DOM, DevTools' own records), not the JS heap; synthetic ones are roots.
  const dataTypes = new Set([
    'hidden',
    'array',
    'string',
    'object',
    'closure',
    'regexp',
    'number',
    'concatenated string',
    'sliced string',
    'symbol',
    'bigint',
    'object shape',
  ]);
  const result: HeapComposition = { code: 0, data: 0, matchingStrings: 0 };
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const type = types[snapshot.nodes[i + typeAt]];
    const size = snapshot.nodes[i + sizeAt];
    if (type === 'code') result.code += size;
    else if (dataTypes.has(type)) result.data += size;
    if (type === 'string' && pattern.test(snapshot.strings[snapshot.nodes[i + nameAt]])) result.matchingStrings += 1;
  }
  return result;
}
