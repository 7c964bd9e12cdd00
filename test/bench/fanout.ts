/**
 * Figure: revocation fan-out. How long from `revokeUser` on one proxy
 * instance until a page's event stream on another instance has the `ended`
 * event, through Redis (two instances, separate processes, one
 * redis-server started for the figure) — beside the same on one instance
 * with `memoryStore()`, where the event never leaves the process.
 *
 * Each sample: a fresh user creates a session through instance A, a page
 * follows `GET /events` on instance B (on the memory instance itself for the
 * baseline), then A is told to revoke the user (over its IPC channel, as a
 * site's own server code would call it) and the clock stops when the event
 * is parsed from the stream. Samples alternate between the two setups; the
 * fake vendor answers on loopback. The IPC hop and the vendor's DELETE are in
 * both figures alike.
 */
import { performance } from 'node:perf_hooks';
import { openStream, type OpenStream } from '../proxy/support/event-stream.js';
import { FakeVendor } from '../proxy/support/fake-vendor.js';
import { BASE_PATH, SITE } from '../proxy/support/harness.js';
import { ProxyInstance } from '../proxy/support/proxy-instances.js';
import { RedisServer } from '../proxy/support/redis-server.js';
import { ms, type BenchOptions, type FigureResult } from './report.js';
import { quantile, summarize } from './stats.js';

interface Setup {
  /** Where the revocation is made. */
  revokeOn: ProxyInstance;
  /** Where the page streams from. */
  streamOn: ProxyInstance;
  samples: number[];
}

let users = 0;

async function sample(setup: Setup): Promise<number> {
  const user = `fanout-${++users}`;
  const created = await fetch(`${setup.revokeOn.url}${BASE_PATH}`, {
    method: 'POST',
    headers: { 'x-konpro-guard': '1', origin: SITE, 'sec-fetch-site': 'same-origin', cookie: `site_user=${user}` },
  });
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${await created.text()}`);
  const { session_id: sessionId } = (await created.json()) as { session_id: string };
  const cookie = created.headers.getSetCookie()[0].split(';')[0];
  const stream: OpenStream = await openStream(setup.streamOn.url, { user, cookies: [cookie], sessions: [sessionId] });
  if (stream.status !== 200) throw new Error(`the stream answered ${stream.status}: ${stream.text}`);
  try {
    await stream.waitForComments(1, 5_000);
    const arrived = new Promise<number>((resolve, reject) => {
      const deadline = performance.now() + 5_000;
      const check = () => {
        if (stream.events.some((event) => event.event === 'ended')) return resolve(performance.now());
        if (performance.now() > deadline) return reject(new Error('no ended event within 5 s'));
        setImmediate(check);
      };
      check();
    });
    const start = performance.now();
    await Promise.all([setup.revokeOn.call('revokeUser', user), arrived]);
    return (await arrived) - start;
  } finally {
    stream.close();
  }
}

export async function measureFanout(options: BenchOptions): Promise<FigureResult> {
  const count = options.quick ? 8 : 40;
  const redis = new RedisServer();
  const vendor = new FakeVendor();
  await Promise.all([redis.start(), vendor.listen()]);
  const instances: ProxyInstance[] = [];
  try {
    const common = {
      redisUrl: redis.url,
      prefix: 'bench-fanout:',
      vendorUrl: vendor.baseUrl,
      sweepIntervalMs: 600_000,
    };
    instances.push(
      ...(await Promise.all([
        ProxyInstance.start(common),
        ProxyInstance.start(common),
        ProxyInstance.start({ ...common, store: 'memory' }),
      ])),
    );
    const [a, b, alone] = instances as [ProxyInstance, ProxyInstance, ProxyInstance];
    const redisSetup: Setup = { revokeOn: a, streamOn: b, samples: [] };
    const memorySetup: Setup = { revokeOn: alone, streamOn: alone, samples: [] };
    // Warm-up (JIT, connection pools, the Lua scripts loaded), not counted.
    for (const setup of [redisSetup, memorySetup]) await sample(setup);
    for (let i = 0; i < count; i++) {
      for (const setup of i % 2 === 0 ? [redisSetup, memorySetup] : [memorySetup, redisSetup]) {
        setup.samples.push(await sample(setup));
      }
    }
    const p50 = (values: number[]) => quantile(values, 0.5);
    const p99 = (values: number[]) => quantile(values, 0.99);
    const across = redisSetup.samples;
    const one = memorySetup.samples;
    return {
      name: 'revocationFanout',
      rows: [
        {
          figure: `revocation fan-out, revokeUser on A → ended on B's stream, two instances on Redis (n=${count})`,
          value: `p50 ${ms(p50(across))}, p99 ${ms(p99(across))}`,
          baseline: `p50 ${ms(p50(one))}, p99 ${ms(p99(one))} (one instance, memoryStore())`,
          ratio: p50(across) / p50(one),
          goal: 'p99 ≤ 500 ms',
          met: p99(across) <= 500,
        },
      ],
      raw: { count, redis: summarize(across), memory: summarize(one), samplesMs: { redis: across, memory: one } },
    };
  } finally {
    await Promise.all(instances.map((instance) => instance.stop()));
    await vendor.close();
    await redis.stop();
  }
}
