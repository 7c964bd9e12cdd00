/**
 * A bounded load generator for the throughput-with-a-store figure, in a
 * process of its own: autocannon, `connections` connections for `seconds`,
 * each running the life of a session as a page's guard does, over and over:
 * `POST {proxy}` (a fresh user each time, no binding yet), `GET {proxy}/{id}`
 * with the binding cookie it got, `DELETE {proxy}/{id}`. Prints one JSON line:
 * requests, completed cycles (deletes answered 200), failures, latency.
 *
 * Usage: cycle-load.ts <proxy origin> <connections> <seconds>
 */
import { createRequire } from 'node:module';
import { BASE_PATH, SITE } from '../proxy/support/harness.js';

interface CycleContext {
  user?: string;
  sessionId?: string;
  cookie?: string;
}

interface CannonRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path?: string;
  setupRequest?: (request: { path: string; headers: Record<string, string> }, context: CycleContext) => unknown;
  onResponse?: (
    status: number,
    body: string,
    context: CycleContext,
    headers: Record<string, string | string[]>,
  ) => void;
}

interface CannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
  requests: CannonRequest[];
}) => Promise<CannonResult>;

export interface CycleLoad {
  requests: number;
  cycles: number;
  cyclesPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const [origin, connections, seconds] = process.argv.slice(2);
let cycles = 0;
let failures = 0;
const check = (expected: number) => (status: number) => {
  if (status !== expected) failures++;
};
const withBinding = (request: { path: string; headers: Record<string, string> }, context: CycleContext) => {
  if (!context.sessionId || !context.cookie) return undefined; // the create failed: start again
  request.path = `${BASE_PATH}/${context.sessionId}`;
  request.headers = { ...request.headers, cookie: `site_user=${context.user}; ${context.cookie}` };
  return request;
};
let users = 0;
const result = await autocannon({
  url: origin,
  connections: Number(connections),
  duration: Number(seconds),
  headers: { 'x-konpro-guard': '1', origin: SITE, 'sec-fetch-site': 'same-origin', accept: 'application/json' },
  requests: [
    {
      method: 'POST',
      path: BASE_PATH,
      setupRequest: (request, context) => {
        context.user = `cycle-${process.pid}-${++users}`;
        request.headers = { ...request.headers, cookie: `site_user=${context.user}` };
        return request;
      },
      onResponse: (status, body, context, headers) => {
        if (status !== 201) return void failures++;
        context.sessionId = (JSON.parse(body) as { session_id: string }).session_id;
        const setCookie = headers['set-cookie'];
        context.cookie = (Array.isArray(setCookie) ? setCookie[0] : setCookie)?.split(';')[0];
      },
    },
    { method: 'GET', setupRequest: withBinding, onResponse: check(200) },
    {
      method: 'DELETE',
      setupRequest: withBinding,
      onResponse: (status) => {
        if (status === 200) cycles++;
        else failures++;
      },
    },
  ],
});
const load: CycleLoad = {
  requests: result.requests.total,
  cycles,
  cyclesPerSecond: cycles / Number(seconds),
  p50: result.latency.p50,
  p99: result.latency.p99,
  failures: failures + result.errors + result.timeouts,
};
console.log(JSON.stringify(load));
