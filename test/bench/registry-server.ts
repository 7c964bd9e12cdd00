/**
 * One reference proxy with its registry, as a process of its own, for the
 * registry figures: `createProxy` through `toNodeListener` on `node:http`
 * (loopback, a free port), in front of a vendor at `vendorUrl`, on
 * `memoryStore()`, on `redisStore()`, or on no store at all (`none`: a store
 * that keeps nothing, which is the proxy as it was before it had a registry:
 * the bindings alone).
 *
 * The same origin also serves the bench pages and the built bundle, so a
 * Chromium page there uses the proxy as a site's page would (same origin,
 * its cookies). It counts the event-stream responses it has open (what the
 * "connections at the proxy" figure reads), and answers the parent's calls:
 * `revokeUser`, `memory` (after forced garbage collection: run it with
 * `--expose-gc`), `cpu`, `streams`, `close`.
 *
 * Usage: registry-server.ts '<JSON RegistryServerConfig>'
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProxy } from '../../src/proxy/create-proxy.js';
import { memoryStore, toNodeListener, type WidgetSessionStore } from '../../src/proxy/index.js';
import { redisStore } from '../../src/proxy/redis.js';
import { API_KEY } from '../proxy/support/fake-vendor.js';
import { SECRET, SITE } from '../proxy/support/harness.js';
import { cpuMicros, serveParent } from './children.js';

export interface RegistryServerConfig {
  store: 'memory' | 'redis' | 'none';
  vendorUrl: string;
  /** The key the vendor accepts (default: the fake vendor's). */
  apiKey?: string;
  redisUrl?: string;
  prefix?: string;
  orphanAfterMs?: number;
  sweepIntervalMs?: number;
  heartbeatMs?: number;
}

export interface RegistryServerReady {
  origin: string;
}

export interface MemoryReading {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export const BENCH_PAGES_DIR = fileURLToPath(new URL('./pages/', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../dist/konpro-widget-guard.min.js', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

/** A store that keeps nothing: every write is dropped, every read is empty. The proxy without a registry. */
function noStore(): WidgetSessionStore {
  let seq = 0;
  const nothing = () => Promise.resolve();
  return {
    register: nothing,
    touch: nothing,
    list: () => Promise.resolve([]),
    count: () => Promise.resolve(0),
    unregister: () => Promise.resolve(undefined),
    stale: () => Promise.resolve([]),
    enqueueDelete: nothing,
    dueDeletes: () => Promise.resolve([]),
    dequeueDelete: nothing,
    lease: () => Promise.resolve(true),
    release: nothing,
    claimOnce: () => Promise.resolve(true),
    hit: (_key, windowMs) => Promise.resolve({ count: 1, resetAt: Date.now() + windowMs }),
    publish: () => Promise.resolve(`${Date.now()}-${seq++}`),
    readFeed: () => Promise.resolve([]),
    follow: nothing,
    health: () => Promise.resolve({ ok: true }),
    close: nothing,
  };
}

function storeOf(config: RegistryServerConfig): WidgetSessionStore {
  if (config.store === 'none') return noStore();
  if (config.store === 'memory') return memoryStore();
  if (!config.redisUrl) throw new Error('registry-server: the redis store needs redisUrl');
  return redisStore({ url: config.redisUrl, prefix: config.prefix ?? 'bench:' });
}

async function serveStatic(res: ServerResponse, path: string): Promise<void> {
  const name = path === '/dist/konpro-widget-guard.min.js' ? BUNDLE : undefined;
  const relative = path.startsWith('/pages/') ? path.slice('/pages/'.length) : undefined;
  const type = TYPES[extname(path)];
  const file = name ?? (relative && /^[\w.-]+$/.test(relative) ? join(BENCH_PAGES_DIR, relative) : undefined);
  if (!file || !type) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  try {
    const content = await readFile(file);
    res.writeHead(200, { 'content-type': type, 'content-length': content.length, 'cache-control': 'no-store' });
    res.end(content);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as RegistryServerConfig;
  const store = storeOf(config);
  // Set once the proxy exists: it needs this server's origin first.
  const proxied: { listener?: ReturnType<typeof toNodeListener> } = {};
  let openStreams = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path.startsWith('/pages/') || path.startsWith('/dist/')) {
      req.resume();
      void serveStatic(res, path);
      return;
    }
    if (path.endsWith('/events')) {
      openStreams++;
      res.once('close', () => openStreams--);
    }
    proxied.listener?.(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const proxy = createProxy(
    {
      apiKey: config.apiKey ?? API_KEY,
      baseUrl: config.vendorUrl,
      agenticAvatarId: 'avatar-1',
      secret: SECRET,
      // The bench's Node clients say they are the site; its Chromium pages are on this origin.
      allowedOrigins: [SITE, origin],
      authorize: (request) => /(?:^|;\s*)site_user=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1] ?? null,
      widgetUrl: (session) => `/pages/widget.html?session_id=${session.session_id}`,
      timeoutMs: 10_000,
      // One bench user makes thousands of creates and deletes; the limits are not what is measured.
      rateLimit: { creates: 1_000_000, deletes: 1_000_000 },
      ...(config.orphanAfterMs === undefined ? {} : { orphanAfterMs: config.orphanAfterMs }),
      store,
      // BENCH_PROXY_LOG=1 prints every log entry of the bench's proxies (for diagnosis).
      ...(process.env.BENCH_PROXY_LOG
        ? { log: (entry) => console.error(`proxy ${new Date().toISOString()} ${JSON.stringify(entry)}`) }
        : {}),
    },
    {
      ...(config.sweepIntervalMs === undefined ? {} : { sweepIntervalMs: config.sweepIntervalMs }),
      ...(config.heartbeatMs === undefined ? {} : { heartbeatMs: config.heartbeatMs }),
    },
  );
  proxied.listener = toNodeListener(proxy);

  const gc = (globalThis as { gc?: () => void }).gc;
  serveParent({ origin } satisfies RegistryServerReady, {
    revokeUser: (userId: string) => proxy.revokeUser(userId),
    listSessions: (userId?: string) => proxy.listSessions(userId === undefined ? {} : { userId }),
    streams: () => openStreams,
    cpu: () => cpuMicros(),
    memory: async (): Promise<MemoryReading> => {
      if (!gc) throw new Error('registry-server: memory() needs --expose-gc');
      // Until nothing more is freed: finalizers and weak references settle over a few rounds.
      for (let round = 0; round < 6; round++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
      return { rss, heapUsed, external, arrayBuffers };
    },
    close: async () => {
      await proxy.close();
      await store.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

await main();
