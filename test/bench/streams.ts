/**
 * Figures: push at scale on one proxy instance (memoryStore()), in a
 * process of its own, in front of the fake vendor on loopback.
 *
 * 1. `revokeUser` → `ended` event with 1,000 event streams open. Every
 *    stream is one user's browser (its own connection), reporting its
 *    session. Each sample revokes one of those users (over the instance's
 *    IPC channel, as a site's server code would call it) and stops the clock
 *    when the event block is parsed from that user's stream; samples are
 *    spaced 50–150 ms apart, so heartbeats (every 15 s, to every stream) fall
 *    among them as they would. The baseline is how long the same revocation
 *    takes to reach a page without push: at its next status check. A page's
 *    check timer runs from its own mount, so the next check falls at a
 *    uniformly random point of its `check-interval` (30 s): each baseline
 *    page is revoked, then makes that next check for real at that point
 *    (with the 1,000 streams still open), and the figure is the time from
 *    the revocation until the check's answer says the session ended.
 *
 * 2. Memory each idle stream costs the proxy: `heapUsed + external` of the
 *    instance after forced garbage collection with the 1,000 streams open,
 *    less the same with none (after the same sessions were created and a few
 *    streams opened and closed, so that code and pools are warm), divided by
 *    the streams. RSS is reported beside it (it also counts memory V8 keeps
 *    but does not use).
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { FakeVendor } from '../proxy/support/fake-vendor.js';
import { Child } from './children.js';
import type { MemoryReading, RegistryServerConfig, RegistryServerReady } from './registry-server.js';
import { kb, ms, type BenchOptions, type FigureResult } from './report.js';
import { sleep } from './server.js';
import {
  checkStatus,
  createSession,
  forEachLimited,
  openSse,
  type CreatedSession,
  type SseStream,
} from './sse-client.js';
import { quantile, round, summarize } from './stats.js';

const SERVER = fileURLToPath(new URL('./registry-server.ts', import.meta.url));

/** The guard's default `check-interval`, in ms. */
const CHECK_INTERVAL_MS = 30_000;
/** The goal's bound on one idle stream. */
const STREAM_BUDGET_BYTES = 16 * 1024;

export function startRegistryServer(
  config: RegistryServerConfig,
  execArgv: string[] = [],
): Promise<Child<RegistryServerReady>> {
  return Child.start<RegistryServerReady>(SERVER, [JSON.stringify(config)], { execArgv });
}

const heapAndExternal = (reading: MemoryReading) => reading.heapUsed + reading.external;

export async function measureStreams(options: BenchOptions): Promise<FigureResult> {
  const streamCount = options.quick ? 200 : 1000;
  const sampleCount = options.quick ? 30 : 200;
  const baselineCount = options.quick ? 20 : 100;
  const vendor = new FakeVendor();
  await vendor.listen();
  const proxy = await startRegistryServer({ store: 'memory', vendorUrl: vendor.baseUrl }, ['--expose-gc']);
  const { origin } = proxy.ready;
  const streams: SseStream[] = [];
  try {
    // One user per browser: streamCount with a stream, baselineCount (pages without push) without.
    const users = Array.from({ length: streamCount + baselineCount }, (_, i) => `streams-${i}`);
    const sessions: CreatedSession[] = new Array<CreatedSession>(users.length);
    await forEachLimited(users, 16, async (user, i) => {
      sessions[i] = await createSession(origin, user);
    });
    const streamed = sessions.slice(0, streamCount);
    const baselinePages = sessions.slice(streamCount);

    const open = async (session: CreatedSession) => {
      const stream = openSse(origin, { user: session.user, cookies: [session.cookie], sessions: [session.sessionId] });
      const status = await stream.opened;
      if (status !== 200) throw new Error(`the stream of ${session.user} answered ${status}`);
      return stream;
    };
    // Warm-up, not counted: code compiled, pools and maps grown once.
    const warm = await Promise.all(streamed.slice(0, 20).map(open));
    for (const stream of warm) stream.close();
    await Promise.all(warm.map((stream) => stream.closed));
    await sleep(500);
    const none = await proxy.call<MemoryReading>('memory');
    await forEachLimited(streamed, 50, async (session, i) => {
      streams[i] = await open(session);
    });
    await sleep(1_000);
    const openAtProxy = await proxy.call<number>('streams');
    if (openAtProxy !== streamCount) throw new Error(`the proxy has ${openAtProxy} streams open, not ${streamCount}`);
    const all = await proxy.call<MemoryReading>('memory');
    const perStream = (heapAndExternal(all) - heapAndExternal(none)) / streamCount;
    const rssPerStream = (all.rss - none.rss) / streamCount;

    // Revocations, one user at a time, with the other streams idle.
    const samples: number[] = [];
    for (let i = 0; i < sampleCount; i++) {
      const stream = streams[i];
      const session = streamed[i];
      await sleep(50 + Math.random() * 100);
      const arrived = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ended event for ${session.user} within 10 s`)), 10_000);
        stream.onEvent = (event) => {
          if (event.event !== 'ended') return;
          clearTimeout(timer);
          resolve(performance.now());
        };
      });
      const start = performance.now();
      const [result] = await Promise.all([
        proxy.call<{ ended: string[]; failed: string[] }>('revokeUser', session.user),
        arrived,
      ]);
      if (!result.ended.includes(session.sessionId)) throw new Error(`revokeUser did not end ${session.sessionId}`);
      samples.push((await arrived) - start);
    }

    // The baseline: the same revocation, learnt at the next status check (check-interval 30).
    const baseline: number[] = [];
    const roundTrips: number[] = [];
    await Promise.all(
      baselinePages.map(async (session) => {
        // Revocations spread over the first second, as they come; each page's next check anywhere in its interval.
        await sleep(Math.random() * 1_000);
        const revokedAt = performance.now();
        await proxy.call('revokeUser', session.user);
        const nextCheck = revokedAt + Math.random() * CHECK_INTERVAL_MS;
        for (let check = nextCheck; ; check += CHECK_INTERVAL_MS) {
          await sleep(Math.max(0, check - performance.now()));
          const sent = performance.now();
          const answer = await checkStatus(origin, session);
          roundTrips.push(performance.now() - sent);
          if (!answer.active) {
            baseline.push(performance.now() - revokedAt);
            return;
          }
        }
      }),
    );

    const p50 = (values: number[]) => quantile(values, 0.5);
    const p99 = (values: number[]) => quantile(values, 0.99);
    const seconds = (value: number) => `${(value / 1000).toFixed(1)} s`;
    return {
      name: 'streams',
      rows: [
        {
          figure: `revokeUser → ended event, ${streamCount} open streams on one instance (n=${sampleCount})`,
          value: `p50 ${ms(p50(samples))}, p99 ${ms(p99(samples))}`,
          baseline: `p50 ${seconds(p50(baseline))}, p99 ${seconds(p99(baseline))} (next status check at check-interval 30, n=${baselineCount})`,
          ratio: p99(samples) / p99(baseline),
          goal: 'p99 ≤ 250 ms',
          met: p99(samples) <= 250,
        },
        {
          figure: `memory of the proxy per idle stream (${streamCount} streams, GC forced)`,
          value: `${kb(perStream)} heap + external each; RSS +${kb(rssPerStream)} each`,
          baseline: `${kb(heapAndExternal(none))} heap + external, RSS ${kb(none.rss)} (the proxy with none)`,
          ratio: heapAndExternal(all) / heapAndExternal(none),
          goal: '≤ 16 KB each',
          met: perStream <= STREAM_BUDGET_BYTES,
        },
      ],
      raw: {
        streams: streamCount,
        revocation: summarize(samples),
        revocationP99: round(p99(samples)),
        statusCheckBaseline: { ...summarize(baseline), p99: round(p99(baseline)), roundTrip: summarize(roundTrips) },
        memory: {
          none,
          all,
          perStreamBytes: Math.round(perStream),
          rssPerStreamBytes: Math.round(rssPerStream),
        },
        samplesMs: { push: samples.map((value) => round(value)), statusCheck: baseline.map((value) => round(value)) },
      },
    };
  } finally {
    for (const stream of streams) stream?.close();
    await proxy.stop();
    await vendor.close();
  }
}
