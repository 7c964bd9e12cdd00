/**
 * `npm run bench`: every figure of issues 8 and 18, each beside its baseline measured
 * in the same run, printed as a table and written to bench-results.json.
 *
 *   npm run bench                      the full run (under 15 minutes on two cores)
 *   npm run bench -- --quick           fewer iterations, for development (indicative only)
 *   npm run bench -- --only=teardown   some figures (size, teardown, second-tab, interception,
 *                                      delivery, memory, proxy, fanout, streams, orphans, store, push)
 *   npm run bench -- --markdown        also print the table as Markdown (for the README)
 *   BENCH_BUNDLE=path/to/other.min.js  measure a candidate build against the same baselines
 *
 * Timing figures are reported, never enforced: the exit code only says
 * whether every measurement ran.
 */
import { writeFile } from 'node:fs/promises';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './browser.js';
import { measureDelivery } from './delivery.js';
import { measureFanout } from './fanout.js';
import { measureInterception } from './interception.js';
import { measureMemory } from './memory.js';
import { measureOrphans } from './orphans.js';
import { measureProxyThroughput } from './proxy-throughput.js';
import { measurePush } from './push.js';
import { formatMarkdown, formatTable, type BenchOptions, type FigureResult, type Row } from './report.js';
import { measureSecondTab } from './second-tab.js';
import { BUNDLE_FILE, startBenchServer, type BenchServer } from './server.js';
import { measureSize } from './size.js';
import { measureStoreThroughput } from './store-throughput.js';
import { measureStreams } from './streams.js';
import { measureTeardown } from './teardown.js';

const RESULTS = fileURLToPath(new URL('../../bench-results.json', import.meta.url));

interface Figure {
  key: string;
  browser: boolean;
  run(context: { browser: Browser; server: BenchServer; options: BenchOptions }): Promise<FigureResult>;
}

const FIGURES: Figure[] = [
  { key: 'size', browser: false, run: ({ options }) => measureSize(options) },
  {
    key: 'teardown',
    browser: true,
    run: ({ browser, server, options }) => measureTeardown(browser, server.origin, options),
  },
  {
    key: 'second-tab',
    browser: true,
    run: ({ browser, server, options }) => measureSecondTab(browser, server.origin, options),
  },
  {
    key: 'interception',
    browser: true,
    run: ({ browser, server, options }) => measureInterception(browser, server.origin, options),
  },
  { key: 'delivery', browser: true, run: ({ browser, server, options }) => measureDelivery(browser, server, options) },
  {
    key: 'memory',
    browser: true,
    run: ({ browser, server, options }) => measureMemory(browser, server.origin, options),
  },
  { key: 'proxy', browser: false, run: ({ options }) => measureProxyThroughput(options) },
  { key: 'fanout', browser: false, run: ({ options }) => measureFanout(options) },
  { key: 'streams', browser: false, run: ({ options }) => measureStreams(options) },
  { key: 'orphans', browser: false, run: ({ options }) => measureOrphans(options) },
  { key: 'store', browser: false, run: ({ options }) => measureStoreThroughput(options) },
  { key: 'push', browser: true, run: ({ browser, options }) => measurePush(browser, options) },
];

function parseArgs(argv: readonly string[]): {
  options: BenchOptions;
  only: Set<string> | undefined;
  markdown: boolean;
} {
  const only = argv.find((arg) => arg.startsWith('--only='));
  const keys = only ? new Set(only.slice('--only='.length).split(',')) : undefined;
  const unknown = keys ? [...keys].filter((key) => !FIGURES.some((figure) => figure.key === key)) : [];
  if (unknown.length > 0)
    throw new Error(`unknown figure(s): ${unknown.join(', ')}; known: ${FIGURES.map((f) => f.key).join(', ')}`);
  return { options: { quick: argv.includes('--quick') }, only: keys, markdown: argv.includes('--markdown') };
}

async function main(): Promise<number> {
  const { options, only, markdown } = parseArgs(process.argv.slice(2));
  const figures = FIGURES.filter((figure) => !only || only.has(figure.key));
  const started = Date.now();
  const server = await startBenchServer();
  const browser = figures.some((figure) => figure.browser) ? await launchBrowser() : undefined;
  const results: FigureResult[] = [];
  const timings: Record<string, number> = {};
  const failures: Record<string, string> = {};
  try {
    for (const figure of figures) {
      const at = Date.now();
      process.stderr.write(`bench: ${figure.key}${options.quick ? ' (quick)' : ''}… `);
      try {
        // Browser figures are skipped above when no figure needs one.
        results.push(await figure.run({ browser: browser!, server, options }));
        timings[figure.key] = (Date.now() - at) / 1000;
        process.stderr.write(`${timings[figure.key].toFixed(1)} s\n`);
      } catch (error) {
        failures[figure.key] = error instanceof Error ? (error.stack ?? error.message) : String(error);
        process.stderr.write(`failed\n${failures[figure.key]}\n`);
      }
    }
  } finally {
    await browser?.close();
    await server.close();
  }

  const rows: Row[] = results.flatMap((result) => result.rows);
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    chromium: browser?.version() ?? null,
  };
  const header = [
    `konpro-widget-guard bench, ${new Date().toISOString()}${options.quick ? ' (--quick: indicative only)' : ''}`,
    `${machine.cpu} × ${machine.cores}, ${machine.memoryGB} GB, ${machine.os}; Node ${machine.node}${machine.chromium ? `, Chromium ${machine.chromium}` : ''}`,
    process.env.BENCH_BUNDLE ? `bundle: ${BUNDLE_FILE} (BENCH_BUNDLE)` : '',
    'Each figure is measured beside its baseline in the same run; on a noisy machine, the ratios are what count.',
  ].filter(Boolean);
  console.log(`\n${header.join('\n')}\n\n${formatTable(rows)}\n`);
  if (markdown) console.log(`${formatMarkdown(rows)}\n`);
  await writeFile(
    RESULTS,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        quick: options.quick,
        bundle: BUNDLE_FILE,
        machine,
        seconds: { total: (Date.now() - started) / 1000, ...timings },
        table: rows,
        figures: Object.fromEntries(results.map((result) => [result.name, result.raw])),
        failures,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`Figures written to ${RESULTS} (${((Date.now() - started) / 1000).toFixed(0)} s).`);
  if (Object.keys(failures).length > 0)
    console.error(`bench: ${Object.keys(failures).join(', ')} could not be measured (see above)`);
  return Object.keys(failures).length > 0 ? 1 : 0;
}

process.exitCode = await main();
