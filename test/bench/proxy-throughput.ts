/**
 * Figure: requests per second and added p99 latency of the reference proxy
 * in front of the vendor simulator on loopback, against the simulator alone.
 *
 * (a) `GET /konpro/v1/widget/sessions/{id}` with the API key, to the
 *     simulator; (b) `GET /api/widget-sessions/{id}` with a valid binding
 *     cookie, the guard header and an allowed Origin, to the proxy, which
 *     asks the simulator the same question. Same session, same connections
 *     and duration, in many short rounds of one run of each (the order
 *     rotating), each ratio the median of the rounds' own ratios (runs
 *     seconds apart share this machine's drifting speed; see
 *     store-throughput.ts); autocannon runs in a
 *     process of its own, and so do the proxy and the simulator. (c) is the
 *     floor for any proxy here: a bare fetch-and-forward server in front of
 *     the same simulator. Each server's CPU time per request is recorded
 *     too: on a machine with fewer cores than processes, that is what
 *     throughput is divided by.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { formatRatio, ms, type BenchOptions, type FigureResult } from './report.js';
import { BENCH_API_KEY, BENCH_SITE_ORIGIN, type ChildCpu, type ChildReady } from './proxy-servers.js';
import { median, quantile, round } from './stats.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./proxy-servers.ts', import.meta.url));
const AUTOCANNON = fileURLToPath(new URL('../../node_modules/autocannon/autocannon.js', import.meta.url));

interface Child {
  process: ChildProcess;
  ready: ChildReady;
  cpuMicros(): Promise<number>;
}

async function startChild(args: string[]): Promise<Child> {
  const child = fork(CHILD, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ready = await new Promise<ChildReady>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}) before it was ready`)));
    child.on('message', (message: ChildReady | ChildCpu) => message.kind === 'ready' && resolve(message));
  });
  return {
    process: child,
    ready,
    cpuMicros: () =>
      new Promise((resolve) => {
        const onMessage = (message: ChildReady | ChildCpu) => {
          if (message.kind !== 'cpu') return;
          child.off('message', onMessage);
          resolve(message.micros);
        };
        child.on('message', onMessage);
        child.send('cpu');
      }),
  };
}

interface Load {
  requestsPerSecond: number;
  requests: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function autocannon(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  connections: number,
): Promise<Load> {
  const args = [AUTOCANNON, '-j', '-n', '-c', String(connections), '-d', String(seconds)];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}=${value}`);
  args.push(url);
  const { stdout } = await run(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
  const result = JSON.parse(stdout) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  };
  return {
    requestsPerSecond: result.requests.average,
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

type Target = 'alone' | 'floor' | 'proxy';

export async function measureProxyThroughput(options: BenchOptions): Promise<FigureResult> {
  const seconds = options.quick ? 1 : 2;
  const rounds = options.quick ? 2 : 12;
  const connections = 10;
  const simulator = await startChild(['simulator']);
  const proxy = await startChild(['proxy', simulator.ready.baseUrl]);
  const passthrough = await startChild(['passthrough', simulator.ready.baseUrl]);
  try {
    // One session, created through the proxy as a signed-in user's page would: its binding cookie comes back.
    const siteHeaders = { 'x-konpro-guard': '1', origin: BENCH_SITE_ORIGIN };
    const created = await fetch(`${proxy.ready.origin}/api/widget-sessions`, { method: 'POST', headers: siteHeaders });
    if (created.status !== 201)
      throw new Error(`the proxy did not create a session: HTTP ${created.status} ${await created.text()}`);
    const { session_id: sessionId } = (await created.json()) as { session_id: string };
    const cookie = created.headers
      .getSetCookie()
      .map((value) => value.split(';')[0])
      .join('; ');

    const targets: Record<Target, { url: string; headers: Record<string, string> }> = {
      alone: {
        url: `${simulator.ready.baseUrl}/v1/widget/sessions/${sessionId}`,
        headers: { 'x-api-key': BENCH_API_KEY, accept: 'application/json' },
      },
      floor: {
        url: `${passthrough.ready.origin}/api/widget-sessions/${sessionId}`,
        headers: { accept: 'application/json' },
      },
      proxy: {
        url: `${proxy.ready.origin}/api/widget-sessions/${sessionId}`,
        headers: { ...siteHeaders, cookie, accept: 'application/json', 'sec-fetch-site': 'same-origin' },
      },
    };
    for (const target of Object.values(targets)) {
      const check = await fetch(target.url, { headers: target.headers });
      if (check.status !== 200) throw new Error(`${target.url} answered ${check.status}: ${await check.text()}`);
      // Warm-up: JIT, and the proxies' connection pools to the simulator.
      if (!options.quick) await autocannon(target.url, target.headers, 1, connections);
    }

    const loads: Record<Target, Load[]> = { alone: [], floor: [], proxy: [] };
    const cpu = {
      simulatorAlone: [] as number[],
      simulatorBehindProxy: [] as number[],
      proxy: [] as number[],
      passthrough: [] as number[],
    };
    const order: Target[] = ['alone', 'proxy', 'floor'];
    /** Per round: the proxy's req/s over the simulator's and the floor's, its CPU per request over the floor's. */
    const perRound = {
      rps: [] as number[],
      floorRps: [] as number[],
      proxyOverFloorRps: [] as number[],
      cpu: [] as number[],
    };
    for (let i = 0; i < rounds; i++) {
      // Rotated: each target goes first, second and last equally often.
      const rates = {} as Record<Target, number>;
      for (const which of order.map((_, k) => order[(i + k) % order.length])) {
        const before = await Promise.all([simulator.cpuMicros(), proxy.cpuMicros(), passthrough.cpuMicros()]);
        const load = await autocannon(targets[which].url, targets[which].headers, seconds, connections);
        const after = await Promise.all([simulator.cpuMicros(), proxy.cpuMicros(), passthrough.cpuMicros()]);
        const perRequest = (k: number) => (after[k] - before[k]) / load.requests;
        loads[which].push(load);
        rates[which] = load.requestsPerSecond;
        if (which === 'alone') cpu.simulatorAlone.push(perRequest(0));
        if (which === 'proxy') {
          cpu.simulatorBehindProxy.push(perRequest(0));
          cpu.proxy.push(perRequest(1));
        }
        if (which === 'floor') cpu.passthrough.push(perRequest(2));
      }
      perRound.rps.push(rates.proxy / rates.alone);
      perRound.floorRps.push(rates.floor / rates.alone);
      perRound.proxyOverFloorRps.push(rates.proxy / rates.floor);
      perRound.cpu.push(cpu.proxy[i] / cpu.passthrough[i]);
    }
    const rps = (which: Target) => median(loads[which].map((l) => l.requestsPerSecond));
    const p99 = (which: Target) => median(loads[which].map((l) => l.p99));
    const ratio = median(perRound.rps);
    const floorRatio = median(perRound.floorRps);
    const cpuRatio = median(perRound.cpu);
    const failures = Object.values(loads)
      .flat()
      .reduce((sum, l) => sum + l.non2xx + l.errors, 0);
    const cpuPerRequest = {
      simulatorAloneMicros: round(median(cpu.simulatorAlone), 1),
      simulatorBehindProxyMicros: round(median(cpu.simulatorBehindProxy), 1),
      proxyMicros: round(median(cpu.proxy), 1),
      passthroughMicros: round(median(cpu.passthrough), 1),
    };
    return {
      name: 'proxyThroughput',
      rows: [
        {
          figure: `reference proxy in front of the simulator, req/s (${connections} connections, ${rounds} rounds of ${seconds} s)`,
          value: `${Math.round(rps('proxy'))} req/s`,
          baseline: `${Math.round(rps('alone'))} req/s (simulator alone)`,
          ratio,
          goal: '(reported)',
          met: null,
        },
        {
          figure: '  added p99 latency',
          value: `+${ms(p99('proxy') - p99('alone'))} (p99 ${ms(p99('proxy'))})`,
          baseline: `p99 ${ms(p99('alone'))}`,
          goal: '(reported)',
          met: null,
        },
        {
          figure: '  floor: a bare fetch-and-forward proxy, req/s',
          value: `${Math.round(rps('floor'))} req/s (reference proxy: ${formatRatio(median(perRound.proxyOverFloorRps))} of it)`,
          baseline: `${Math.round(rps('alone'))} req/s`,
          ratio: floorRatio,
          goal: '(reported)',
          met: null,
        },
        {
          figure: 'reference proxy, server CPU per request (status check)',
          value: `${cpuPerRequest.proxyMicros} µs (+ simulator ${cpuPerRequest.simulatorBehindProxyMicros} µs)`,
          baseline: `${cpuPerRequest.passthroughMicros} µs a bare fetch-and-forward proxy (simulator alone ${cpuPerRequest.simulatorAloneMicros} µs); rounds' middle half ${formatRatio(quantile(perRound.cpu, 0.25))}–${formatRatio(quantile(perRound.cpu, 0.75))}`,
          ratio: cpuRatio,
          goal: '≤ 1.2×',
          met: cpuRatio <= 1.2 && failures === 0,
        },
      ],
      raw: {
        connections,
        seconds,
        rounds,
        cores: cpus().length,
        loads,
        requestsPerSecondRatio: ratio,
        floorRatio,
        proxyOverFloor: median(perRound.proxyOverFloorRps),
        perRound,
        addedP99Ms: p99('proxy') - p99('alone'),
        cpuPerRequest,
        failedRequests: failures,
      },
    };
  } finally {
    for (const child of [proxy, passthrough, simulator]) child.process.kill();
  }
}
