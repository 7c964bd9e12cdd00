/**
 * The servers of the proxy figure, each in a child process of its own (so
 * the load generator, the proxy and the simulator do not share an event
 * loop): `simulator` runs the vendor simulator alone; `proxy <baseUrl>` runs
 * the reference proxy, through `toNodeListener`, in front of it;
 * `passthrough <baseUrl>` runs the least a proxy can be (for the floor).
 * Each tells its parent its origin, and answers "cpu" with its CPU time so far.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { startSimulatorServer } from '../../demo/simulator/index.js';
import { createWidgetSessionProxy, toNodeListener } from '../../src/proxy/index.js';

export const BENCH_API_KEY = 'kp_bench_0123456789abcdefghijklmnopqrstuv';
export const BENCH_SITE_ORIGIN = 'http://bench-site.test';

export interface ChildReady {
  kind: 'ready';
  origin: string;
  baseUrl: string;
}

export interface ChildCpu {
  kind: 'cpu';
  micros: number;
}

function tell(message: ChildReady | ChildCpu): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const [role, baseUrl] = process.argv.slice(2);
  if (role === 'simulator') {
    const running = await startSimulatorServer({ devApiKey: BENCH_API_KEY });
    tell({ kind: 'ready', origin: running.origin, baseUrl: running.baseUrl });
  } else if (role === 'proxy' && baseUrl) {
    const proxy = createWidgetSessionProxy({
      apiKey: BENCH_API_KEY,
      baseUrl,
      agenticAvatarId: 'avatar_bench',
      authorize: () => 'bench-user',
      secret: 'bench-secret-bench-secret-bench-secret-0123',
      allowedOrigins: [BENCH_SITE_ORIGIN],
      widgetUrl: (session) => `${baseUrl}/widget/?session_id=${session.session_id}`,
      // The bench is one user: its limits and its live-session cap stay out of the way, and every
      // status check goes to the vendor (no status cache), so the figures measure the forward path.
      rateLimit: { creates: 1_000_000, deletes: 1_000_000, reads: 1_000_000 },
      maxSessionsPerUser: 1_000_000,
      statusCacheMs: 0,
    });
    const server = createServer(toNodeListener(proxy));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    tell({ kind: 'ready', origin: `http://127.0.0.1:${port}`, baseUrl });
  } else if (role === 'passthrough' && baseUrl) {
    // The least any proxy in Node must do: take the request, ask the vendor with the same
    // fetch the reference proxy uses, send the answer back. No checks, no cookies, no crypto.
    const prefix = '/api/widget-sessions/';
    const server = createServer((req, res) => {
      void (async () => {
        req.resume();
        const id = (req.url ?? '').startsWith(prefix) ? (req.url ?? '').slice(prefix.length) : '';
        const upstream = await fetch(`${baseUrl}/v1/widget/sessions/${id}`, {
          headers: { 'x-api-key': BENCH_API_KEY, accept: 'application/json' },
        });
        const body = Buffer.from(await upstream.arrayBuffer());
        res.writeHead(upstream.status, {
          'content-type': 'application/json',
          'content-length': body.length,
          'cache-control': 'no-store',
        });
        res.end(body);
      })().catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    tell({ kind: 'ready', origin: `http://127.0.0.1:${port}`, baseUrl });
  } else {
    throw new Error(
      'usage: proxy-servers.ts simulator | proxy <simulator base URL> | passthrough <simulator base URL>',
    );
  }
  process.on('message', (message) => {
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      tell({ kind: 'cpu', micros: user + system });
    }
  });
  // The parent going away takes the server with it.
  process.on('disconnect', () => process.exit(0));
}

// Only as a child's entry point: the parent imports this file for its constants.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
