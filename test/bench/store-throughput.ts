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
 * fixed time, and the runs alternate (a b c, c b a…). On a machine with fewer
 * cores than processes the proxy's CPU time per cycle says where the
 * difference goes, so it is reported too.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RedisServer } from '../proxy/support/redis-server.js';
import { Child } from './children.js';
import type { CycleLoad } from './cycle-load.js';
import type { RegistryServerReady } from './registry-server.js';
import { ms, type BenchOptions, type FigureResult } from './report.js';
import { median, round } from './stats.js';
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
  const seconds = options.quick ? 2 : 5;
  const rounds = options.quick ? 1 : 3;
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
    for (let i = 0; i < rounds; i++) {
      for (const setup of i % 2 === 0 ? setups : [...setups].reverse()) {
        const proxy = proxies.get(setup)!;
        const before = await proxy.call<number>('cpu');
        const result = await load(proxy.ready.origin, connections, seconds);
        const after = await proxy.call<number>('cpu');
        loads[setup].push(result);
        cpu[setup].push((after - before) / Math.max(1, result.cycles));
      }
    }
    const rate = (setup: Setup) => median(loads[setup].map((l) => l.cyclesPerSecond));
    const p99 = (setup: Setup) => median(loads[setup].map((l) => l.p99));
    const cpuOf = (setup: Setup) => round(median(cpu[setup]), 0);
    const failures = Object.values(loads)
      .flat()
      .reduce((total, l) => total + l.failures, 0);
    const row = (setup: 'memory' | 'redis', name: string) => {
      const ratio = rate(setup) / rate('none');
      return {
        figure: `create/status/delete cycles per second, ${name} (${connections} connections, ${rounds}×${seconds} s)`,
        value: `${Math.round(rate(setup))}/s (p99 ${ms(p99(setup))}; proxy CPU ${cpuOf(setup)} µs a cycle)`,
        baseline: `${Math.round(rate('none'))}/s (p99 ${ms(p99('none'))}; ${cpuOf('none')} µs) without a store`,
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
        ratios: { memory: rate('memory') / rate('none'), redis: rate('redis') / rate('none') },
        failures,
      },
    };
  } finally {
    await Promise.all([...proxies.values()].map((proxy) => proxy.stop()));
    await vendor.stop();
    await redis.stop();
  }
}
