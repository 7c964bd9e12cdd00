/**
 * A faithful simulator of the Konpro AI widget-session API and of the
 * vendor's avatar widget, so the demo and the tests run without the real
 * service (contract: "Demo and simulator").
 *
 * It is a Node request handler rather than a Fetch-API one because faults
 * need the raw socket ("offline" destroys the connection):
 *
 * ```ts
 * const simulator = createKonproSimulator({ devApiKey: process.env.KONPRO_API_KEY });
 * createServer(async (req, res) => {
 *   if (await simulator.handle(req, res)) return;
 *   // ...the rest of the site
 * });
 * ```
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { handleConsoleApi, CONSOLE_API_PATH } from './console-api.js';
import { FaultInjector } from './faults.js';
import { randomToken, sendError, splitUrl } from './http.js';
import { handleRuntimeApi, RUNTIME_PATH } from './runtime-api.js';
import { SessionStore } from './sessions.js';
import { sendNotFound, serveFile } from '../static.js';
import { handleVendorApi } from './vendor-api.js';
import { RequestLog } from './request-log.js';

export type { FaultPatch, FaultSettings, FaultState, FaultTarget } from './faults.js';
export { FaultInjector, FaultPatchError } from './faults.js';
export type { EndReason, NewSession, SessionRecord } from './sessions.js';
export { SessionStore } from './sessions.js';
export type { ConsoleSession } from './console-api.js';
export type { RuntimeReply, RuntimeSession } from './runtime-api.js';
export { MAX_DURATION } from './vendor-api.js';
export type { LoggedRequest } from './request-log.js';
export { RequestLog } from './request-log.js';

export interface KonproSimulatorOptions {
  /** URL path the simulator answers under (default `/konpro`); `''` mounts it at the root. */
  mountPath?: string;
  /** API key → account id. Sessions belong to the account of the key that created them. */
  apiKeys?: Record<string, string>;
  /** The key the demo's proxy sends (`KONPRO_API_KEY`); added for account `acct_dev` when missing from `apiKeys`. Generated when neither is given. */
  devApiKey?: string;
  /** Clock for `created_at`, `expires_at` and expiry (tests move time forward). */
  now?: () => number;
  /** Decides which requests an error-rate fault fails (tests pass a fixed one). */
  random?: () => number;
  /** Absolute base (e.g. `http://127.0.0.1:8001`) to build widget URLs on, to serve the widget from another origin than the site. */
  widgetOrigin?: string;
  /** Where the server reaches its own vendor API for console calls (default: the local address of the connection). Needed behind TLS. */
  selfUrl?: string;
  /** `agentic_avatar_id` of sessions the console creates (default `avatar_demo`). */
  defaultAvatarId?: string;
}

export interface KonproSimulator {
  /** Answers a simulator URL and resolves `true`; resolves `false` (having sent nothing) for any other URL. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Shared with the demo server, which applies `'proxy'` faults before its proxy. */
  readonly faults: FaultInjector;
  readonly store: SessionStore;
  /** Calls received on the documented session API, with their statuses. */
  readonly requests: RequestLog;
  /** The dev key: accepted by the simulator, sent by the demo's proxy. */
  readonly apiKey: string;
  /** API key → account id. */
  readonly accounts: ReadonlyMap<string, string>;
  /** Normalised: no trailing slash. */
  readonly mountPath: string;
  /** Base URL the vendor API is mounted at on `origin`, e.g. `http://127.0.0.1:8000/konpro`: the proxy's `baseUrl`. */
  apiBase(origin: string): string;
  /** URL of the iframe widget page for a session (absolute with `widgetOrigin`, else root-relative). */
  widgetUrl(sessionId: string): string;
  /** URL of the in-page embed script (`<script type="module">` defining `<konpro-avatar>`). */
  readonly embedScriptUrl: string;
}

const WIDGET_DIR = fileURLToPath(new URL('../widget/', import.meta.url));
const CONSOLE_DIR = fileURLToPath(new URL('../console/', import.meta.url));

/** Widget files are loaded cross-origin (the embed's module graph needs CORS) and carry a session id in their URL. */
const WIDGET_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'Referrer-Policy': 'no-referrer',
};
const CONSOLE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
};

export function createKonproSimulator(options: KonproSimulatorOptions = {}): KonproSimulator {
  const mountPath = (options.mountPath ?? '/konpro').replace(/\/+$/, '');
  if (mountPath !== '' && !/^\/[A-Za-z0-9._~\-/]*$/.test(mountPath)) {
    throw new TypeError(
      `createKonproSimulator: mountPath must be a URL path like "/konpro", got ${JSON.stringify(options.mountPath)}`,
    );
  }
  const accounts = new Map(Object.entries(options.apiKeys ?? {}));
  const apiKey = options.devApiKey ?? accounts.keys().next().value ?? `kp_dev_${randomToken(32)}`;
  if (!accounts.has(apiKey)) accounts.set(apiKey, 'acct_dev');

  const now = options.now ?? Date.now;
  const store = new SessionStore(now);
  const faults = new FaultInjector(options.random);
  const requests = new RequestLog(now);
  const widgetBase = options.widgetOrigin
    ? new URL(`${mountPath}/widget/`, options.widgetOrigin).href
    : `${mountPath}/widget/`;
  const widgetUrl = (sessionId: string): string => `${widgetBase}?session_id=${encodeURIComponent(sessionId)}`;
  const consoleContext = {
    store,
    faults,
    requests,
    accounts,
    apiKey,
    mountPath,
    selfUrl: options.selfUrl,
    widgetUrl,
    defaultAvatarId: options.defaultAvatarId ?? 'avatar_demo',
  };

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    sub: string,
    query: URLSearchParams,
  ): Promise<boolean> {
    if (sub.startsWith('/v1/')) {
      // Logged before faults apply: a call that a fault dropped still reached the vendor's door.
      if (RequestLog.covers(sub)) requests.record(req, res, sub);
      // Preflights are the browser's, not the service's: faulting them would only double the latency.
      if (req.method !== 'OPTIONS' && (await faults.apply(req, res, 'vendor')) === 'handled') return true;
      if (sub.startsWith(`${RUNTIME_PATH}/`)) await handleRuntimeApi(req, res, sub, { store });
      else await handleVendorApi(req, res, sub, { store, accounts, mountPath });
      return true;
    }
    if (sub === CONSOLE_API_PATH || sub.startsWith(`${CONSOLE_API_PATH}/`)) {
      await handleConsoleApi(req, res, sub, consoleContext);
      return true;
    }
    for (const [prefix, dir, index, headers] of [
      ['/widget', WIDGET_DIR, 'widget.html', WIDGET_HEADERS],
      ['/console', CONSOLE_DIR, 'console.html', CONSOLE_HEADERS],
    ] as const) {
      if (sub === prefix) {
        // Pages are served from a directory URL so their relative module and style URLs resolve below it.
        const search = query.toString() === '' ? '' : `?${query.toString()}`;
        redirect(res, `${mountPath}${prefix}/${search}`);
        return true;
      }
      if (sub.startsWith(`${prefix}/`)) {
        const file = sub.slice(prefix.length + 1) || index;
        if (!(await serveFile(req, res, dir, file, headers))) sendNotFound(res);
        return true;
      }
    }
    if (mountPath === '') return false;
    if (sub === '/') redirect(res, `${mountPath}/console/`);
    else sendError(res, 'RESOURCE_NOT_FOUND', `No endpoint ${req.method ?? 'GET'} ${sub}`);
    return true;
  }

  return {
    faults,
    store,
    requests,
    apiKey,
    accounts,
    mountPath,
    widgetUrl,
    embedScriptUrl: `${widgetBase}embed.js`,
    apiBase: (origin) => new URL(mountPath || '/', origin).href.replace(/\/+$/, ''),
    async handle(req, res) {
      const { path, query } = splitUrl(req.url);
      if (mountPath !== '' && path !== mountPath && !path.startsWith(`${mountPath}/`)) return false;
      try {
        return await route(req, res, path.slice(mountPath.length) || '/', query);
      } catch (error) {
        // A bug in the simulator must look like a vendor outage, not hang the request.
        console.error('konpro simulator:', error);
        if (!res.headersSent)
          sendError(res, 'PROCESSING_ERROR', 'An internal error occurred while processing the request.');
        else res.destroy();
        return true;
      }
    },
  };
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { Location: location, 'Cache-Control': 'no-store' });
  res.end();
}

export interface RunningSimulator {
  simulator: KonproSimulator;
  server: Server;
  /** `http://127.0.0.1:{port}` */
  origin: string;
  /** The vendor API base: `{origin}{mountPath}`. */
  baseUrl: string;
  close(): Promise<void>;
}

/** The simulator alone on a loopback port (0 = any free one): for tests and benchmarks. */
export async function startSimulatorServer(
  options: KonproSimulatorOptions & { port?: number; host?: string } = {},
): Promise<RunningSimulator> {
  const simulator = createKonproSimulator(options);
  const server = createServer((req, res) => {
    void simulator.handle(req, res).then((handled) => {
      if (!handled) sendNotFound(res);
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    simulator,
    server,
    origin,
    baseUrl: simulator.apiBase(origin),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
