// The backend the browser tests talk to, as @web/test-runner middleware (Koa).
//
// - `/test-api/echo?status=&body=&type=&delay=` answers what it is told.
// - `/test-api/proxy/{ns}` is a guard proxy (the contract's "Proxy HTTP contract"),
//   one independent instance per namespace `ns` so test files never share state.
// - `/test-api/control/{ns}` scripts that proxy: faults, session states, and
//   a log of every request it received (logged on arrival, before any fault:
//   a `hold` fault keeps the request waiting until `release`). A `GET` of an id starting `marker_`
//   is logged and answered 204, and nothing else (FakeProxy.requestsArrived).
// - For the README recipes: `/api/widget-sessions` is that proxy too (namespace
//   "recipes"), `/node_modules/konpro-widget-guard/...` is this package, and
//   `/test-api/bundle/{name}.js` bundles test/fixtures/{name}.jsx|js with esbuild
//   (React and Vue ship no browser ESM; Vue files are compiled with vue/compiler-sfc);
//   `?react=18` bundles it with React 18 instead of 19.
// - `/test-api/ssr-page.html` is a page whose guards the server rendered with @lit-labs/ssr.
// - `/test-api/push/{ns}/...` is the reference proxy itself (src/proxy) on a fake vendor, with its
//   event stream, registry and revocation (test/support/push-backend.ts, bundled on first use).
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const namespaces = new Map();

function namespace(name) {
  let ns = namespaces.get(name);
  if (!ns) {
    ns = {
      sessions: new Map(),
      faults: [],
      log: [],
      held: new Set(),
      expiresInMs: 3_600_000,
      deletesInFlight: new Map(),
      mostDeletesInFlight: {},
    };
    namespaces.set(name, ns);
  }
  return ns;
}

function json(ctx, status, body, headers = {}) {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(body);
  for (const [k, v] of Object.entries(headers)) ctx.set(k, String(v));
}

function vendorError(ctx, status, code, message, headers) {
  json(ctx, status, { error: { code, message }, request_id: randomUUID() }, headers);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request held by a `hold` fault waits here until `release` (or a reset), at most ten seconds. */
function hold(ns) {
  return new Promise((resolve) => {
    const release = () => {
      clearTimeout(timer);
      ns.held.delete(release);
      resolve();
    };
    const timer = setTimeout(release, 10_000);
    ns.held.add(release);
  });
}

function releaseAll(ns) {
  for (const release of [...ns.held]) release();
}

async function readJson(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

/** The first fault that matches this request, consuming one of its `times`. */
function takeFault(ns, method, id) {
  const index = ns.faults.findIndex(
    (f) => (!f.method || f.method === method) && (!f.id || f.id === id) && (f.times ?? 1) > 0,
  );
  if (index < 0) return undefined;
  const fault = ns.faults[index];
  fault.times = (fault.times ?? 1) - 1;
  if (fault.times <= 0) ns.faults.splice(index, 1);
  return fault;
}

async function proxy(ctx, ns, id) {
  const method = ctx.method;
  const entry = {
    method,
    id: id ?? null,
    at: Date.now(),
    guardHeader: ctx.get('x-konpro-guard'),
    credentialsCookie: ctx.get('cookie') ? true : false,
    secFetchMode: ctx.get('sec-fetch-mode'),
    outcome: null,
  };
  ns.log.push(entry);
  if (method === 'DELETE' && id) countInFlight(ns, id, ctx.res);
  if (method === 'GET' && id?.startsWith('marker_')) {
    // FakeProxy.requestsArrived(): only its arrival counts (and it takes no fault).
    entry.outcome = 'marker';
    ctx.status = 204;
    return;
  }

  const fault = takeFault(ns, method, id);
  if (fault?.hold) await hold(ns);
  if (fault?.delayMs) await sleep(fault.delayMs);
  if (fault?.drop) {
    entry.outcome = 'dropped';
    ctx.req.socket.destroy();
    ctx.respond = false;
    return;
  }
  if (fault?.status) {
    entry.outcome = `fault ${fault.status}`;
    const headers = fault.retryAfter !== undefined ? { 'Retry-After': fault.retryAfter } : {};
    if (fault.body !== undefined) {
      ctx.status = fault.status;
      ctx.type = fault.type ?? 'application/json';
      ctx.body = typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body);
      for (const [k, v] of Object.entries(headers)) ctx.set(k, String(v));
      return;
    }
    const code =
      {
        400: 'INVALID_REQUEST',
        401: 'AUTHENTICATION_REQUIRED',
        403: 'INSUFFICIENT_PERMISSIONS',
        404: 'RESOURCE_NOT_FOUND',
        429: 'RATE_LIMIT_EXCEEDED',
        503: 'SERVICE_UNAVAILABLE',
      }[fault.status] ?? 'PROCESSING_ERROR';
    vendorError(ctx, fault.status, code, `injected ${fault.status}`, headers);
    return;
  }
  if (entry.guardHeader !== '1') {
    entry.outcome = 'refused';
    vendorError(ctx, 403, 'INSUFFICIENT_PERMISSIONS', 'missing X-Konpro-Guard header');
    return;
  }

  if (method === 'POST' && id === undefined) {
    const sessionId = `s_${randomUUID().replaceAll('-', '')}`;
    const expiresAt = new Date(Date.now() + ns.expiresInMs).toISOString();
    ns.sessions.set(sessionId, { status: 'active', expiresAt });
    entry.outcome = 'created';
    entry.id = sessionId;
    json(ctx, 201, {
      session_id: sessionId,
      widget_url: `/test/fixtures/widget.html?session_id=${sessionId}`,
      expires_at: expiresAt,
    });
    return;
  }
  if (id === undefined) {
    vendorError(ctx, 400, 'INVALID_REQUEST', `${method} is not allowed on the collection`);
    return;
  }
  const session = ns.sessions.get(id);
  if (method === 'GET') {
    if (!session) {
      entry.outcome = 'not-found';
      vendorError(ctx, 404, 'RESOURCE_NOT_FOUND', 'session not found');
      return;
    }
    entry.outcome = session.status;
    json(ctx, 200, { session_id: id, status: session.status, expires_at: session.expiresAt });
    return;
  }
  if (method === 'DELETE') {
    if (session && session.status === 'active') {
      session.status = 'terminated';
      entry.outcome = 'deleted';
    } else {
      entry.outcome = 'already-gone';
    }
    json(ctx, 200, { message: 'Session terminated successfully', session_id: id });
    return;
  }
  vendorError(ctx, 400, 'INVALID_REQUEST', `${method} is not allowed`);
}

/**
 * DELETEs of one session in flight at once, the most seen: from arrival until the answer is sent or
 * the browser hangs up (a request it timed out is no longer its own in flight; one whose page has
 * gone away, kept alive by `keepalive`, is until it is answered).
 */
function countInFlight(ns, id, res) {
  const now = (ns.deletesInFlight.get(id) ?? 0) + 1;
  ns.deletesInFlight.set(id, now);
  ns.mostDeletesInFlight[id] = Math.max(ns.mostDeletesInFlight[id] ?? 0, now);
  res.once('close', () => ns.deletesInFlight.set(id, ns.deletesInFlight.get(id) - 1));
}

async function control(ctx, ns, rest) {
  if (ctx.method === 'GET' && rest === 'log') return json(ctx, 200, ns.log);
  if (ctx.method === 'GET' && rest === 'deletes-in-flight') return json(ctx, 200, ns.mostDeletesInFlight);
  if (ctx.method === 'GET' && rest === 'deletes-in-flight-now') {
    return json(
      ctx,
      200,
      [...ns.deletesInFlight.values()].reduce((sum, n) => sum + n, 0),
    );
  }
  if (ctx.method === 'POST' && rest === 'release') {
    releaseAll(ns);
    return json(ctx, 200, { ok: true });
  }
  if (ctx.method === 'POST' && rest === 'reset') {
    releaseAll(ns);
    ns.sessions.clear();
    ns.faults.length = 0;
    ns.log.length = 0;
    ns.expiresInMs = 3_600_000;
    ns.deletesInFlight.clear();
    ns.mostDeletesInFlight = {};
    return json(ctx, 200, { ok: true });
  }
  if (ctx.method === 'POST' && rest === 'faults') {
    const body = await readJson(ctx);
    ns.faults.push(...(Array.isArray(body) ? body : [body]));
    return json(ctx, 200, { ok: true });
  }
  if (ctx.method === 'POST' && rest === 'sessions') {
    // {id, status?, expiresAt?}: create or change a session directly.
    const body = await readJson(ctx);
    const current = ns.sessions.get(body.id) ?? {
      status: 'active',
      expiresAt: new Date(Date.now() + ns.expiresInMs).toISOString(),
    };
    ns.sessions.set(body.id, {
      ...current,
      ...(body.status ? { status: body.status } : {}),
      ...(body.expiresAt ? { expiresAt: body.expiresAt } : {}),
    });
    return json(ctx, 200, ns.sessions.get(body.id));
  }
  if (ctx.method === 'POST' && rest === 'expires-in') {
    ns.expiresInMs = (await readJson(ctx)).ms;
    return json(ctx, 200, { ok: true });
  }
  return json(ctx, 404, { error: 'unknown control route' });
}

async function echo(ctx) {
  const q = ctx.query;
  if (q.delay) await sleep(Number(q.delay));
  if (q.drop) {
    ctx.req.socket.destroy();
    ctx.respond = false;
    return;
  }
  ctx.status = Number(q.status ?? 200);
  ctx.type = q.type ?? 'application/json';
  ctx.body = q.body ?? '';
  if (q.retryAfter) ctx.set('Retry-After', q.retryAfter);
  if (q.bodyDelay) {
    // Headers now, the body later (a slow or long answer), past Koa and the dev server's
    // middleware, which would wait for the whole body.
    ctx.respond = false;
    ctx.res.writeHead(ctx.status, { 'content-type': ctx.type, 'cache-control': 'no-store' });
    ctx.res.flushHeaders();
    setTimeout(() => ctx.res.end(q.body ?? ''), Number(q.bodyDelay));
  }
}

/** Compiles a Vue single-file component with the recipe's compiler options. */
const vuePlugin = {
  name: 'vue-sfc',
  setup(build) {
    build.onLoad({ filter: /\.vue$/ }, async (args) => {
      const { parse, compileScript } = await import('vue/compiler-sfc');
      const { compilerOptions } = await import(pathToFileURL(resolve('demo/recipes/vue-compiler-options.js')).href);
      const { descriptor } = parse(await readFile(args.path, 'utf8'), { filename: args.path });
      const script = compileScript(descriptor, {
        id: 'recipe',
        inlineTemplate: true,
        templateOptions: { compilerOptions },
      });
      return { contents: script.content, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

async function bundle(ctx, name) {
  const { build } = await import('esbuild');
  const candidates = [`test/fixtures/${name}.jsx`, `test/fixtures/${name}.js`];
  const entry = (
    await Promise.all(
      candidates.map((f) =>
        readFile(f).then(
          () => f,
          () => null,
        ),
      ),
    )
  ).find(Boolean);
  if (!entry) return json(ctx, 404, { error: `no fixture ${name}` });
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    jsx: 'automatic',
    target: 'es2022',
    define: {
      'process.env.NODE_ENV': '"production"',
      __VUE_OPTIONS_API__: 'true',
      __VUE_PROD_DEVTOOLS__: 'false',
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    },
    alias: {
      'konpro-widget-guard': resolve('dist/index.js'),
      'konpro-widget-guard/react': resolve('dist/react.js'),
      // ?react=18: React 18 from its workspace (test/react18), where npm keeps it beside React 19.
      ...(ctx.query.react === '18'
        ? {
            react: resolve('test/react18/node_modules/react'),
            'react-dom': resolve('test/react18/node_modules/react-dom'),
          }
        : {}),
    },
    plugins: [vuePlugin],
    logLevel: 'silent',
  });
  ctx.type = 'application/javascript';
  ctx.body = result.outputFiles[0].text;
}

let pushBackend;

/** test/support/push-backend.ts, bundled for Node (this file runs without a TypeScript loader). */
function loadPushBackend() {
  pushBackend ??= (async () => {
    const { build } = await import('esbuild');
    const outfile = resolve('.tmp/push-backend.mjs');
    await build({
      entryPoints: ['test/support/push-backend.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile,
      logLevel: 'silent',
    });
    return import(`${pathToFileURL(outfile).href}?${Date.now()}`);
  })();
  return pushBackend;
}

/** The page's origin with the other loopback name (localhost ↔ 127.0.0.1): same server, another origin. */
function otherLoopbackOrigin(ctx) {
  const host = ctx.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
  return `${ctx.protocol}://${host}:${new URL(ctx.origin).port}`;
}

export function testBackend() {
  return async function testBackendMiddleware(ctx, next) {
    const path = ctx.path;
    if (path.startsWith('/node_modules/konpro-widget-guard/')) {
      ctx.path = path.slice('/node_modules/konpro-widget-guard'.length);
      return next();
    }
    const recipe = /^\/api\/widget-sessions(?:\/([^/]*))?$/.exec(path);
    if (recipe)
      return proxy(ctx, namespace('recipes'), recipe[1] === undefined ? undefined : decodeURIComponent(recipe[1]));
    const bundled = /^\/test-api\/bundle\/([\w-]+)\.js$/.exec(path);
    if (bundled) return bundle(ctx, bundled[1]);
    if (path === '/test-api/ssr-page.html') {
      const { renderSsrPage } = await import('./ssr-page.mjs');
      ctx.type = 'text/html';
      ctx.body = await renderSsrPage(ctx.query);
      return;
    }
    if (path === '/test/fixtures/csp-page.html') {
      await next();
      // Exactly the README's policy (demo/recipes/content-security-policy.js), the widget on the
      // other loopback name, so that frame-src names a foreign origin, not 'self'.
      const { guardPagePolicy } = await import('../../demo/recipes/content-security-policy.js');
      ctx.set('Content-Security-Policy', guardPagePolicy({ widgetOrigin: otherLoopbackOrigin(ctx) }));
      return;
    }
    if (path === '/test-api/echo' || path.startsWith('/test-api/echo/')) return echo(ctx);
    if (path.startsWith('/test-api/push/') && (await (await loadPushBackend()).handlePush(ctx))) return;
    let match = /^\/test-api\/proxy\/([\w-]+)(?:\/([^/]*))?$/.exec(path);
    if (match)
      return proxy(ctx, namespace(match[1]), match[2] === undefined ? undefined : decodeURIComponent(match[2]));
    match = /^\/test-api\/control\/([\w-]+)\/([\w-]+)$/.exec(path);
    if (match) return control(ctx, namespace(match[1]), match[2]);
    return next();
  };
}
