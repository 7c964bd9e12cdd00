/**
 * Figure: what the registry costs the requests every page makes. The life of
 * a session as a guard drives it (`POST`, a status check, `DELETE`), in
 * cycles per second through the reference proxy on `memoryStore()` and on
 * `redisStore()` (a redis-server started for the figure), against the same
 * proxy without a store (one that keeps nothing: the bindings alone, as the
 * proxy was before it had a registry).
 *
 * Each proxy, the fake vendor and each load run are processes of their own;
 * the load is autocannon on loopback, a fixed number of connections for a
 * fixed time. The runs are short and many, in rounds of one run of each
 * proxy back to back (the order rotating from round to round), and the ratio
 * is the median of each round's own ratio: this machine's speed drifts by a
 * fifth from one half-minute to the next, which a ratio of two runs seconds
 * apart cancels and a ratio of medians over the whole figure does not. On a
 * machine with fewer cores than processes the proxy's CPU time per cycle
 * says where the difference goes, so it is reported too.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RedisServer } from '../proxy/support/redis-server.js';
import { Child } from './children.js';
import type { CycleLoad } from './cycle-load.js';
import type { RegistryServerReady } from './registry-server.js';
import { formatRatio, ms, type BenchOptions, type FigureResult } from './report.js';
import { median, quantile, round } from './stats.js';
import { startRegistryServer } from './streams.js';
import type { VendorReady } from './vendor-server.js';

const run = promisify(execFile);
const LOAD = fileURLToPath(new URL('./cycle-load.ts', import.meta.url));
const VENDOR = fileURLToPath(new URL('./vendor-server.ts', import.meta.url));

type Setup = 'none' | 'memory' | 'redis';

async function load(origin: string, connections: number, seconds: number): Promise<CycleLoad> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', LOAD, origin, String(connections), String(seconds)],
    {
      maxBuffer: 1024 * 1024,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as CycleLoad;
}

export async function measureStoreThroughput(options: BenchOptions): Promise<FigureResult> {
  const seconds = options.quick ? 1 : 2;
  const rounds = options.quick ? 2 : 12;
  const connections = 10;
  const redis = new RedisServer();
  await redis.start();
  const vendor = await Child.start<VendorReady>(VENDOR, []);
  const proxies = new Map<Setup, Child<RegistryServerReady>>();
  try {
    const { baseUrl } = vendor.ready;
    const started = await Promise.all([
      startRegistryServer({ store: 'none', vendorUrl: baseUrl }),
      startRegistryServer({ store: 'memory', vendorUrl: baseUrl }),
      startRegistryServer({ store: 'redis', vendorUrl: baseUrl, redisUrl: redis.url, prefix: 'bench-tp:' }),
    ]);
    const setups: Setup[] = ['none', 'memory', 'redis'];
    setups.forEach((setup, i) => proxies.set(setup, started[i]));
    // Warm-up: JIT, connection pools, the Redis scripts loaded.
    for (const setup of setups) await load(proxies.get(setup)!.ready.origin, connections, options.quick ? 1 : 2);

    const loads: Record<Setup, CycleLoad[]> = { none: [], memory: [], redis: [] };
    const cpu: Record<Setup, number[]> = { none: [], memory: [], redis: [] };
    /** Each round's rate with a store over its rate without one, runs seconds apart. */
    const roundRatios: Record<'memory' | 'redis', number[]> = { memory: [], redis: [] };
    for (let i = 0; i < rounds; i++) {
      // Rotated: each proxy goes first, second and last equally often.
      const order = setups.map((_, k) => setups[(i + k) % setups.length]);
      const rates = {} as Record<Setup, number>;
      for (const setup of order) {
        const proxy = proxies.get(setup)!;
        const before = await proxy.call<number>('cpu');
        const result = await load(proxy.ready.origin, connections, seconds);
        const after = await proxy.call<number>('cpu');
        loads[setup].push(result);
        cpu[setup].push((after - before) / Math.max(1, result.cycles));
        rates[setup] = result.cyclesPerSecond;
      }
      for (const setup of ['memory', 'redis'] as const) roundRatios[setup].push(rates[setup] / rates.none);
    }
    const rate = (setup: Setup) => median(loads[setup].map((l) => l.cyclesPerSecond));
    const p99 = (setup: Setup) => median(loads[setup].map((l) => l.p99));
    const cpuOf = (setup: Setup) => round(median(cpu[setup]), 0);
    const failures = Object.values(loads)
      .flat()
      .reduce((total, l) => total + l.failures, 0);
    const ratioOf = (setup: 'memory' | 'redis') => median(roundRatios[setup]);
    const row = (setup: 'memory' | 'redis', name: string) => {
      const ratio = ratioOf(setup);
      const spread = `rounds' middle half ${formatRatio(quantile(roundRatios[setup], 0.25))}–${formatRatio(quantile(roundRatios[setup], 0.75))}`;
      return {
        figure: `create/status/delete cycles per second, ${name} (${connections} connections, ${rounds} rounds of ${seconds} s)`,
        value: `${Math.round(rate(setup))}/s (p99 ${ms(p99(setup))}; proxy CPU ${cpuOf(setup)} µs a cycle)`,
        baseline: `${Math.round(rate('none'))}/s (p99 ${ms(p99('none'))}; ${cpuOf('none')} µs) without a store; ${spread}`,
        ratio,
        goal: '≥ 0.9×',
        met: ratio >= 0.9 && failures === 0,
      };
    };
    return {
      name: 'storeThroughput',
      rows: [row('memory', 'memoryStore()'), row('redis', 'redisStore() (one redis-server)')],
      raw: {
        connections,
        seconds,
        rounds,
        loads,
        proxyCpuMicrosPerCycle: cpu,
        roundRatios,
        ratios: { memory: ratioOf('memory'), redis: ratioOf('redis') },
        failures,
      },
    };
  } finally {
    await Promise.all([...proxies.values()].map((proxy) => proxy.stop()));
    await vendor.stop();
    await redis.stop();
  }
}
