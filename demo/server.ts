/**
 * The demo: one `node:http` server with
 *
 * - `/konpro/`              the Konpro simulator (vendor API, avatar widget, console)
 * - `/api/widget-sessions`  the reference proxy, wired to the simulator (or the real service)
 * - `/auth/*`               a name-only sign-in with a signed session cookie, and the back-channel logout URI
 * - `/idp/*`                a demo identity provider that signs OpenID Connect logout tokens (site/identity-provider.ts)
 * - `/`, `/kiosk`           the pages, `/assets/*` their files, `/dist/*` the built element
 *
 * `npm start` builds and runs this file; tests call `startDemoServer({port: 0})`.
 * Environment: PORT, HOST, KONPRO_API_BASE, KONPRO_API_KEY, KONPRO_AVATAR_ID,
 * KONPRO_WIDGET_URL, DEMO_MAX_DURATION, DEMO_SECRET, DEMO_ORIGINS, REDIS_URL, REDIS_PREFIX (see the README).
 */
import { existsSync, realpathSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { ProxyLogger, WidgetSessionProxy, WidgetSessionStore } from '../src/proxy/index.js';
import { createWidgetSessionProxy, memoryStore, toNodeListener } from '../src/proxy/index.js';
import type { KonproSimulator } from './simulator/index.js';
import { createKonproSimulator } from './simulator/index.js';
import { splitUrl } from './http.js';
import { SiteAuth } from './site/auth.js';
import type { DemoConfig, DemoEnv } from './site/config.js';
import { readConfig } from './site/config.js';
import type { PageOptions } from './site/pages.js';
import { BUNDLE_PATH, sendPage, serveAsset, serveDist } from './site/pages.js';
import { DemoIdentityProvider } from './site/identity-provider.js';
import { handleRegistryAdmin } from './site/registry-admin.js';

export const PROXY_PATH = '/api/widget-sessions';

export interface DemoServerOptions {
  /** Default: `PORT` from `env`, else 8000; 0 picks a free port. */
  port?: number;
  /** Default: `HOST` from `env`, else `127.0.0.1` (the demo is for this machine). */
  host?: string;
  /** Default: `process.env`. Tests pass their own. */
  env?: DemoEnv;
  /** The proxy's log. Default: its warnings and errors as JSON lines on the console. */
  log?: ProxyLogger;
  /** The proxy's `orphanAfterMs` (default its own, three minutes); tests shorten it. */
  orphanAfterMs?: number;
}

export interface DemoServer {
  /** The bound address, e.g. `http://127.0.0.1:8000`. */
  origin: string;
  /** What to open: `localhost` URLs when bound to loopback. */
  urls: { site: string; kiosk: string; console: string | undefined };
  /** `undefined` when the demo runs against the real service. */
  simulator: KonproSimulator | undefined;
  proxy: WidgetSessionProxy;
  /** The demo identity provider, and the site's back-channel logout endpoint configured for it. */
  identityProvider: DemoIdentityProvider;
  /** The simulator's dev key (printed at start); `undefined` with the real service, whose key is never shown. */
  devApiKey: string | undefined;
  /** Where the proxy's vendor calls go (the simulator's API here, or `KONPRO_API_BASE`). */
  vendorBase: string;
  /** With `REDIS_URL`: where the store is, in words (never the URL's credentials). */
  storeDescription: string | undefined;
  server: Server;
  close(): Promise<void>;
}

export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const env = options.env ?? process.env;
  const config = readConfig(env);

  const server = createServer();
  const host = options.host ?? env.HOST ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? Number(env.PORT ?? 8000), host, () => resolve());
  });
  let store: WidgetSessionStore | undefined;
  try {
    store = await openStore(config);
    return await wire(server, config, options, store);
  } catch (error) {
    await store?.close();
    server.close();
    throw error;
  }
}

/**
 * The registry of live sessions, the retry queue and the revocation feed: in this process, or with
 * `REDIS_URL` in Redis, shared with every demo process that uses it (the `redis` client is loaded only then).
 */
async function openStore(config: DemoConfig): Promise<WidgetSessionStore> {
  if (!config.redis) return memoryStore();
  const { redisStore } = await import('../src/proxy/redis.js');
  return redisStore(config.redis);
}

/** Everything that needs the port: the proxy's origins, its way to the simulator, the identity provider's issuer. */
async function wire(
  server: Server,
  config: DemoConfig,
  options: DemoServerOptions,
  store: WidgetSessionStore,
): Promise<DemoServer> {
  const address = server.address() as AddressInfo;
  const { port } = address;
  const origin = `http://${urlHost(address.address)}:${port}`;
  const loopback = `http://${urlHost(reachable(address.address))}:${port}`;
  const allowedOrigins = new Set([
    `http://localhost:${port}`,
    `http://127.0.0.1:${port}`,
    `http://[::1]:${port}`,
    origin,
    ...config.extraOrigins,
  ]);
  const auth = new SiteAuth(config.secret);

  const { simulator, upstream } = connectVendor(config, loopback);
  const proxy = createWidgetSessionProxy({
    store,
    apiKey: upstream.apiKey,
    baseUrl: upstream.baseUrl,
    basePath: PROXY_PATH,
    agenticAvatarId: config.avatarId,
    sessionSettings: { max_duration: config.maxDuration },
    authorize: async (request) => (await auth.userOf(request.headers.get('cookie')))?.id ?? null,
    secret: config.secret,
    allowedOrigins: [...allowedOrigins],
    widgetUrl: (session) => upstream.widgetTemplate.replaceAll('{session_id}', encodeURIComponent(session.session_id)),
    ...(options.log ? { log: options.log } : {}),
    ...(options.orphanAfterMs !== undefined ? { orphanAfterMs: options.orphanAfterMs } : {}),
  });
  const proxyListener = toNodeListener(proxy);
  const identityProvider = await DemoIdentityProvider.create({
    loopback,
    proxy,
    auth,
    ...(options.log ? { log: options.log } : {}),
  });

  const pageOptions: PageOptions = {
    values: {
      proxy: PROXY_PATH,
      // The guard reads these prefixes' answers for "session terminated": the widget runtime (in-page embed) and the proxy.
      watch: `${upstream.runtimePrefix} ${PROXY_PATH}`,
      widgetSrc: upstream.widgetTemplate,
      embedScript: simulator?.embedScriptUrl ?? '',
      avatarApiBase: simulator ? `${simulator.mountPath}/` : '',
      consoleUrl: simulator ? `${simulator.mountPath}/console/` : '',
      simulator: simulator ? 'on' : 'off',
    },
    frameOrigins: absoluteOrigins([upstream.widgetTemplate.replace('{session_id}', 'x')]),
    connectOrigins: simulator ? [] : absoluteOrigins([upstream.baseUrl]),
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (simulator && (await simulator.handle(req, res))) return;
    const { path } = splitUrl(req.url);
    if (proxy.handles(path)) {
      // The console's "Proxy" faults act here, in front of the proxy, as a failing network or backend would.
      if (simulator && (await simulator.faults.apply(req, res, 'proxy')) === 'handled') return;
      return proxyListener(req, res);
    }
    if (await identityProvider.handle(req, res)) return;
    if (await auth.handle(req, res, proxy)) return;
    // The console's registry view: only beside the simulator, whose console can revoke anything anyway.
    if (simulator && (await handleRegistryAdmin(req, res, proxy))) return;
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (read && path === '/') return sendPage(res, 'index', pageOptions);
    if (read && (path === '/kiosk' || path === '/kiosk/')) {
      // A kiosk signs itself in as a device, so its guard can start sessions with nobody at the keyboard.
      const cookie = await auth.kioskCookie(req);
      return sendPage(res, 'kiosk', pageOptions, 200, cookie ? { 'Set-Cookie': cookie } : {});
    }
    if (path.startsWith('/assets/') && (await serveAsset(req, res, path.slice('/assets/'.length)))) return;
    if (path.startsWith('/dist/') && (await serveDist(req, res, path.slice('/dist/'.length)))) return;
    return sendPage(res, 'not-found', pageOptions, 404);
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((error: unknown) => {
      console.error('demo server:', error);
      if (!res.headersSent)
        res
          .writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' })
          .end('The demo server failed; see its log.\n');
      else res.destroy();
    });
  });

  const friendly = isLoopback(address.address) ? `http://localhost:${port}` : origin;
  return {
    origin,
    urls: {
      site: `${friendly}/`,
      kiosk: `${friendly}/kiosk`,
      console: simulator ? `${friendly}${simulator.mountPath}/console/` : undefined,
    },
    simulator,
    proxy,
    identityProvider,
    devApiKey: simulator?.apiKey,
    vendorBase: upstream.baseUrl,
    storeDescription: config.redis ? describeRedis(config.redis) : undefined,
    server,
    close: async () => {
      // Open event streams end first, so the server is not left waiting for them.
      await proxy.close();
      await store.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/** What the proxy talks to, and what the pages need to know of it. */
interface Upstream {
  apiKey: string;
  baseUrl: string;
  /** Widget page URL with `{session_id}`. */
  widgetTemplate: string;
  /** Where the in-page widget's runtime calls go: the guard watches their answers. */
  runtimePrefix: string;
}

function connectVendor(config: DemoConfig, loopback: string): { simulator?: KonproSimulator; upstream: Upstream } {
  const { vendor } = config;
  if (vendor.kind === 'konpro') {
    return {
      upstream: {
        apiKey: vendor.apiKey,
        baseUrl: vendor.apiBase,
        widgetTemplate: vendor.widgetUrlTemplate,
        runtimePrefix: `${vendor.apiBase}/`,
      },
    };
  }
  const simulator = createKonproSimulator({ devApiKey: vendor.apiKey, defaultAvatarId: config.avatarId });
  return {
    simulator,
    upstream: {
      apiKey: simulator.apiKey,
      // Reached over HTTP like the real vendor, through this very server.
      baseUrl: simulator.apiBase(loopback),
      widgetTemplate: vendor.widgetUrlTemplate ?? simulator.widgetUrl('SESSION').replace('SESSION', '{session_id}'),
      runtimePrefix: `${simulator.mountPath}/v1/`,
    },
  };
}

/** `Redis at host:port (prefix …), shared…`: the URL without its user and password. */
function describeRedis(redis: { url: string; prefix: string }): string {
  const where = URL.canParse(redis.url) ? new URL(redis.url).host || 'localhost' : 'REDIS_URL';
  return `Redis at ${where} (prefix ${redis.prefix}), shared with every demo process that uses it`;
}

function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** Where this process reaches its own listener: loopback for a wildcard address. */
function reachable(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  return address;
}

function isLoopback(address: string): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '0.0.0.0' || address === '::';
}

function absoluteOrigins(urls: Array<string | undefined>): string[] {
  return urls.flatMap((url) =>
    url !== undefined && /^https?:\/\//.test(url) && URL.canParse(url) ? [new URL(url).origin] : [],
  );
}

async function main(): Promise<void> {
  if (!existsSync(BUNDLE_PATH))
    console.warn('demo: dist/konpro-widget-guard.min.js is missing; run `npm run build` (npm start does).');
  let demo: DemoServer;
  try {
    demo = await startDemoServer();
  } catch (error) {
    const inUse = error instanceof Error && 'code' in error && error.code === 'EADDRINUSE';
    console.error(
      `demo: ${inUse ? `port ${process.env.PORT ?? 8000} is in use; start with another, e.g. PORT=8001 npm start` : error instanceof Error ? error.message : String(error)}`,
    );
    process.exitCode = 1;
    return;
  }
  const lines = [
    '',
    '  konpro-widget-guard demo',
    '',
    `  Site     ${demo.urls.site}`,
    `  Kiosk    ${demo.urls.kiosk}`,
    demo.urls.console
      ? `  Console  ${demo.urls.console}  (simulator: revoke sessions, inject faults)`
      : `  Vendor   ${demo.vendorBase} (KONPRO_API_BASE); no simulator, no console here`,
    demo.storeDescription ? `  Store    ${demo.storeDescription}` : '',
    demo.devApiKey
      ? `  Dev API key  ${demo.devApiKey}  (the simulator accepts it, the proxy sends it; no browser ever sees it)`
      : '',
    '',
    '  Ctrl+C to stop.',
    '',
  ];
  console.log(lines.filter((line, i) => line !== '' || lines[i - 1] !== '').join('\n'));
  const stop = () => void demo.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) void main();
