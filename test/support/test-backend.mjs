// The backend the browser tests talk to, as @web/test-runner middleware (Koa).
//
// - `/test-api/echo?status=&body=&type=&delay=` answers what it is told.
// - `/test-api/proxy/{ns}` is a guard proxy (the contract's "Proxy HTTP contract"),
//   one independent instance per namespace `ns` so test files never share state.
// - `/test-api/control/{ns}` scripts that proxy: faults, session states, and
//   a log of every request it received.
import { randomUUID } from 'node:crypto';

const namespaces = new Map();

function namespace(name) {
  let ns = namespaces.get(name);
  if (!ns) {
    ns = { sessions: new Map(), faults: [], log: [], expiresInMs: 3_600_000 };
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

  const fault = takeFault(ns, method, id);
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
    const code = { 400: 'INVALID_REQUEST', 401: 'AUTHENTICATION_REQUIRED', 403: 'INSUFFICIENT_PERMISSIONS', 404: 'RESOURCE_NOT_FOUND', 429: 'RATE_LIMIT_EXCEEDED', 503: 'SERVICE_UNAVAILABLE' }[fault.status] ?? 'PROCESSING_ERROR';
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

async function control(ctx, ns, rest) {
  if (ctx.method === 'GET' && rest === 'log') return json(ctx, 200, ns.log);
  if (ctx.method === 'POST' && rest === 'reset') {
    ns.sessions.clear();
    ns.faults.length = 0;
    ns.log.length = 0;
    ns.expiresInMs = 3_600_000;
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
    const current = ns.sessions.get(body.id) ?? { status: 'active', expiresAt: new Date(Date.now() + ns.expiresInMs).toISOString() };
    ns.sessions.set(body.id, { ...current, ...(body.status ? { status: body.status } : {}), ...(body.expiresAt ? { expiresAt: body.expiresAt } : {}) });
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
}

export function testBackend() {
  return async function testBackendMiddleware(ctx, next) {
    const path = ctx.path;
    if (path === '/test-api/echo' || path.startsWith('/test-api/echo/')) return echo(ctx);
    let match = /^\/test-api\/proxy\/([\w-]+)(?:\/([^/]*))?$/.exec(path);
    if (match) return proxy(ctx, namespace(match[1]), match[2] === undefined ? undefined : decodeURIComponent(match[2]));
    match = /^\/test-api\/control\/([\w-]+)\/([\w-]+)$/.exec(path);
    if (match) return control(ctx, namespace(match[1]), match[2]);
    return next();
  };
}
