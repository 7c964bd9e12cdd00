// The reference proxy itself (src/proxy), for the browser tests of push: one real proxy per namespace
// at /test-api/push/{ns}/proxy, on the fake vendor of the proxy tests (a real HTTP server on loopback),
// reached from the page over real HTTP. test-backend.mjs bundles this file with esbuild on first use.
//
// - `/test-api/push/{ns}/proxy[/...]`: the proxy. The signed-in user is the `push_user_{ns}` cookie.
//   Requests to its `/events` are logged (sessions reported, Last-Event-ID) and counted while open;
//   faults act on them first: `{status, retryAfter?, times?}` answers instead, `{hold: true}` waits
//   for `release`.
// - `/test-api/push/{ns}/control/{command}`: `setup` `{orphanAfterMs?, heartbeatMs?, sweepIntervalMs?}`
//   (a fresh proxy), `sign-in` `{user}` (sets the cookie), `revoke-user` `{user, reason?}`,
//   `revoke-session` `{sessionId}`, `sweep`, `sessions` (listSessions), `streams` (`{open, log}`),
//   `drop` (cuts every open stream, as a network would), `faults`, `release`, `vendor` (the vendor's
//   log of requests).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createProxy } from '../../src/proxy/create-proxy.js';
import { toNodeListener, type WidgetSessionProxy } from '../../src/proxy/index.js';
import { API_KEY, FakeVendor } from '../proxy/support/fake-vendor.js';

/** The part of Koa's context this uses. */
interface Ctx {
  path: string;
  method: string;
  req: IncomingMessage;
  res: ServerResponse;
  respond?: boolean;
  status: number;
  body: unknown;
  type: string;
  get(name: string): string;
  set(name: string, value: string): void;
}

interface StreamFault {
  status?: number;
  retryAfter?: string;
  hold?: boolean;
  times?: number;
}

interface StreamRequest {
  at: number;
  sessions: string[];
  lastEventId: string | null;
  outcome: string;
}

interface Namespace {
  proxy: WidgetSessionProxy;
  listener: ReturnType<typeof toNodeListener>;
  open: Set<ServerResponse>;
  log: StreamRequest[];
  faults: StreamFault[];
  held: Set<() => void>;
}

const SECRET = 'push-backend-secret-0123456789-abcdefghijkl';
const vendor = new FakeVendor();
const listening = vendor.listen().then(() => {
  // Ids unique across test runs of one browser profile.
  const run = Date.now().toString(36);
  vendor.idOf = (n) => `push_${run}_${n}`;
});
const namespaces = new Map<string, Namespace>();

function make(ns: string, origin: string, options: Record<string, number> = {}): Namespace {
  const basePath = `/test-api/push/${ns}/proxy`;
  const cookie = new RegExp(`(?:^|;\\s*)push_user_${ns}=([^;]+)`);
  const proxy = createProxy(
    {
      apiKey: API_KEY,
      baseUrl: vendor.baseUrl,
      basePath,
      agenticAvatarId: 'avatar-1',
      secret: SECRET,
      allowedOrigins: [origin],
      authorize: (request) => cookie.exec(request.headers.get('cookie') ?? '')?.[1] ?? null,
      widgetUrl: (session) => `/test/fixtures/widget.html?session_id=${session.session_id}`,
      timeoutMs: 2_000,
      rateLimit: { creates: 1000, deletes: 1000 },
      log: () => {},
      ...(options.orphanAfterMs !== undefined ? { orphanAfterMs: options.orphanAfterMs } : {}),
    },
    {
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      ...(options.sweepIntervalMs !== undefined ? { sweepIntervalMs: options.sweepIntervalMs } : {}),
    },
  );
  return { proxy, listener: toNodeListener(proxy), open: new Set(), log: [], faults: [], held: new Set() };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function json(ctx: Ctx, status: number, body: unknown, headers: Record<string, string> = {}): void {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(body);
  for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
}

function releaseAll(space: Namespace): void {
  for (const release of [...space.held]) release();
}

async function events(ctx: Ctx, space: Namespace): Promise<boolean> {
  const url = new URL(ctx.req.url ?? '', 'http://x');
  const entry: StreamRequest = {
    at: Date.now(),
    sessions: url.searchParams.getAll('session'),
    lastEventId: ctx.get('last-event-id') || null,
    outcome: 'open',
  };
  space.log.push(entry);
  const fault = space.faults[0];
  if (fault) {
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) space.faults.shift();
    if (fault.hold) {
      await new Promise<void>((resolve) => {
        const release = () => {
          space.held.delete(release);
          resolve();
        };
        space.held.add(release);
      });
    } else {
      entry.outcome = `fault ${fault.status}`;
      json(
        ctx,
        fault.status ?? 500,
        { error: { code: 'INJECTED', message: `injected ${fault.status}` }, request_id: 'push-backend' },
        fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter },
      );
      return true;
    }
  }
  const { res } = ctx;
  space.open.add(res);
  res.on('close', () => {
    space.open.delete(res);
    entry.outcome = 'closed';
  });
  return false;
}

async function control(ctx: Ctx, ns: string, command: string, origin: string): Promise<void> {
  let space = namespaces.get(ns);
  const body = ctx.method === 'POST' ? await readJson(ctx.req) : {};
  if (command === 'setup') {
    if (space) {
      releaseAll(space);
      await space.proxy.close();
    }
    namespaces.set(ns, make(ns, origin, body as Record<string, number>));
    return json(ctx, 200, { ok: true });
  }
  if (command === 'sign-in') {
    return json(
      ctx,
      200,
      { ok: true },
      { 'set-cookie': `push_user_${ns}=${String(body.user)}; Path=/; SameSite=Strict` },
    );
  }
  if (command === 'vendor')
    return json(
      ctx,
      200,
      vendor.requests.map(({ method, url }) => ({ method, url })),
    );
  if (!space) namespaces.set(ns, (space = make(ns, origin)));
  switch (command) {
    case 'revoke-user':
      return json(
        ctx,
        200,
        await space.proxy.revokeUser(
          String(body.user),
          typeof body.reason === 'string' ? { reason: body.reason as 'revoked' } : {},
        ),
      );
    case 'revoke-session':
      return json(ctx, 200, await space.proxy.revokeSession(String(body.sessionId)));
    case 'sweep':
      return json(ctx, 200, await space.proxy.sweep());
    case 'sessions':
      return json(ctx, 200, await space.proxy.listSessions());
    case 'streams':
      return json(ctx, 200, { open: space.open.size, log: space.log });
    case 'drop':
      for (const res of space.open) res.socket?.destroy();
      return json(ctx, 200, { ok: true });
    case 'faults':
      space.faults.push(...((Array.isArray(body) ? body : [body]) as StreamFault[]));
      return json(ctx, 200, { ok: true });
    case 'release':
      releaseAll(space);
      return json(ctx, 200, { ok: true });
    default:
      return json(ctx, 404, { error: `unknown control command ${command}` });
  }
}

/** Answers `/test-api/push/...` (and resolves true), or leaves the request alone (false). */
export async function handlePush(ctx: Ctx): Promise<boolean> {
  const match = /^\/test-api\/push\/([\w-]+)\/(proxy(?:\/.*)?|control\/([\w-]+))$/.exec(ctx.path);
  if (!match) return false;
  await listening;
  const [, ns, route, command] = match;
  const origin = `http://${ctx.get('host')}`;
  if (command !== undefined) {
    await control(ctx, ns, command, origin);
    return true;
  }
  let space = namespaces.get(ns);
  if (!space) namespaces.set(ns, (space = make(ns, origin)));
  if (route === 'proxy/events' && (await events(ctx, space))) return true;
  // The proxy answers on the raw response; the status is for the dev server's log (else it says 404).
  ctx.status = 200;
  ctx.respond = false;
  space.listener(ctx.req, ctx.res);
  return true;
}
