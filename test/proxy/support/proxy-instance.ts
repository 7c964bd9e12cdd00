// One proxy instance as a process of its own, for the multi-instance tests: the reference proxy on
// redisStore in front of the fake vendor, served by node:http on a free loopback port. The parent
// (test/proxy/support/proxy-instances.ts) forks it, talks to it over HTTP as pages do, and drives
// what a site's own server code would call (revokeUser, sweep, health…) over the IPC channel.
//
// Configuration, from the environment: KWG_REDIS_URL, KWG_PREFIX, KWG_VENDOR_URL, KWG_API_KEY,
// KWG_SECRET, KWG_SITE, and optionally KWG_TIMEOUT_MS, KWG_ORPHAN_AFTER_MS, KWG_SWEEP_MS, KWG_HEARTBEAT_MS,
// KWG_STORE=memory (memoryStore() instead of Redis: the one-instance baseline of the bench), and
// KWG_PROXY_OPTIONS: more proxy options as JSON (limits and caps).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxy } from '../../../src/proxy/create-proxy.js';
import { memoryStore, toNodeListener, type WidgetSessionProxyOptions } from '../../../src/proxy/index.js';
import { redisStore } from '../../../src/proxy/redis.js';

/** A request from the parent: one of the proxy's server-side methods. */
export interface InstanceCall {
  id: number;
  op: 'revokeUser' | 'revokeSession' | 'listSessions' | 'sweep' | 'health' | 'close';
  args: unknown[];
}

/** What the instance sends its parent. */
export type InstanceMessage =
  | { type: 'ready'; url: string }
  | { type: 'log'; entry: unknown }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`proxy-instance: ${name} is not set`);
  return value;
}

function optionalNumber(name: string): number | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : Number(value);
}

function send(message: InstanceMessage): void {
  process.send?.(message);
}

const store =
  process.env.KWG_STORE === 'memory'
    ? memoryStore()
    : redisStore({ url: required('KWG_REDIS_URL'), prefix: required('KWG_PREFIX') });
const sweepIntervalMs = optionalNumber('KWG_SWEEP_MS');
const heartbeatMs = optionalNumber('KWG_HEARTBEAT_MS');
const orphanAfterMs = optionalNumber('KWG_ORPHAN_AFTER_MS');
const proxy = createProxy(
  {
    apiKey: required('KWG_API_KEY'),
    baseUrl: required('KWG_VENDOR_URL'),
    agenticAvatarId: 'avatar-1',
    secret: required('KWG_SECRET'),
    allowedOrigins: [required('KWG_SITE')],
    authorize: (request) => /(?:^|;\s*)site_user=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1] ?? null,
    widgetUrl: (session) => `https://widget.test/embed?session=${session.session_id}`,
    timeoutMs: optionalNumber('KWG_TIMEOUT_MS') ?? 2_000,
    ...(orphanAfterMs === undefined ? {} : { orphanAfterMs }),
    store,
    log: (entry) => send({ type: 'log', entry }),
    ...(JSON.parse(process.env.KWG_PROXY_OPTIONS || '{}') as Partial<WidgetSessionProxyOptions>),
  },
  {
    ...(sweepIntervalMs === undefined ? {} : { sweepIntervalMs }),
    ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
  },
);

const server = createServer(toNodeListener(proxy));
server.listen(0, '127.0.0.1', () => {
  send({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});

async function shutdown(): Promise<void> {
  await proxy.close();
  await store.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const operations: Record<InstanceCall['op'], (...args: never[]) => Promise<unknown>> = {
  revokeUser: (userId: string) => proxy.revokeUser(userId),
  revokeSession: (sessionId: string) => proxy.revokeSession(sessionId),
  listSessions: (filter?: { userId?: string }) => proxy.listSessions(filter),
  sweep: () => proxy.sweep(),
  health: () => proxy.health(),
  close: shutdown,
};

process.on('message', (message: InstanceCall) => {
  const operation = operations[message.op] as (...args: unknown[]) => Promise<unknown>;
  operation(...message.args).then(
    (value) => {
      send({ type: 'reply', id: message.id, ok: true, value });
      if (message.op === 'close') process.disconnect();
    },
    (error: unknown) =>
      send({ type: 'reply', id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
});
// The test runner went away (or was killed): so does this instance, never an orphan process.
process.on('disconnect', () => process.exit(0));
