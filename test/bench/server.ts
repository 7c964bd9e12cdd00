/**
 * The bench's own HTTP server, started in-process on loopback: the bench
 * pages, the built bundle, a widget page to frame, and the backend answers the
 * figures need (a terminated session, unrelated requests, a guard proxy that
 * always works, and one that injects faults and keeps a ledger of deletes).
 *
 * Every answer is cross-origin isolated (COOP + COEP), which gives the pages
 * `performance.now()` at 5 µs instead of 100 µs: the teardown figures are
 * fractions of a millisecond.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PAGES_DIR = fileURLToPath(new URL('./pages/', import.meta.url));
const DIST_DIR = fileURLToPath(new URL('../../dist/', import.meta.url));

/**
 * The bundle the pages load and the size figure reads: dist/, or a candidate
 * build given in BENCH_BUNDLE (to measure a change against the same baselines
 * without touching dist/).
 */
export const BUNDLE_FILE = process.env.BENCH_BUNDLE
  ? resolve(process.env.BENCH_BUNDLE)
  : join(DIST_DIR, 'konpro-widget-guard.min.js');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** What the fault-injecting proxy does to a DELETE, drawn per request. */
export interface FaultPlan {
  enabled: boolean;
  /** Share of requests answered 500/503 without deleting. */
  serverErrorRate: number;
  /** Share of requests whose connection is dropped; half before the delete commits, half after. */
  dropRate: number;
  /** Server-side latency before the outcome, as a real proxy waits for the vendor (ms, uniform). */
  latencyMs: readonly [number, number];
}

/** What the fault-injecting proxy saw of one session's deletes. */
export interface DeleteLedger {
  /** DELETE requests that reached the server. */
  requests: number;
  /** Deletes that ended the live session: 0 or 1 by construction (the vendor's delete is permanent). */
  commits: number;
  /** DELETEs after the commit, answered "already gone". */
  afterCommit: number;
  /** When each of those arrived (ms since the epoch). */
  afterCommitAt: number[];
  serverErrors: number;
  droppedBeforeCommit: number;
  droppedAfterCommit: number;
  inflight: number;
  /** What happened to each DELETE, in order (for diagnosis): `500`, `drop`, `commit+drop`, `commit`, `gone`. */
  history: string[];
  /** Most DELETEs of this session the server was working on at the same time. */
  maxInflight: number;
  /** Each DELETE's arrival and end (ms since the epoch), in arrival order, beside `history`. */
  timeline: Array<[arrived: number, ended: number]>;
}

export interface BenchServer {
  origin: string;
  server: Server;
  faults: FaultPlan;
  ledger: Map<string, DeleteLedger>;
  close(): Promise<void>;
}

export async function startBenchServer(random: () => number = Math.random): Promise<BenchServer> {
  const faults: FaultPlan = { enabled: false, serverErrorRate: 0.3, dropRate: 0.1, latencyMs: [10, 60] };
  const ledger = new Map<string, DeleteLedger>();

  const entryOf = (id: string): DeleteLedger => {
    let entry = ledger.get(id);
    if (!entry) {
      entry = {
        requests: 0,
        commits: 0,
        afterCommit: 0,
        afterCommitAt: [],
        serverErrors: 0,
        droppedBeforeCommit: 0,
        droppedAfterCommit: 0,
        inflight: 0,
        maxInflight: 0,
        history: [],
        timeline: [],
      };
      ledger.set(id, entry);
    }
    return entry;
  };

  async function faultyDelete(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const entry = entryOf(id);
    const arrived = Date.now();
    entry.requests += 1;
    entry.inflight += 1;
    entry.maxInflight = Math.max(entry.maxInflight, entry.inflight);
    try {
      if (!faults.enabled) return commit(res, id, entry, arrived);
      const [low, high] = faults.latencyMs;
      // The proxy is waiting for the vendor. A client that goes away meanwhile does not
      // cancel that call (the reference proxy does not either): the delete still commits.
      await sleep(low + random() * (high - low));
      const draw = random();
      if (draw < faults.serverErrorRate) {
        entry.serverErrors += 1;
        entry.history.push('5xx');
        const status = draw < faults.serverErrorRate / 2 ? 500 : 503;
        return json(res, status, {
          error: { code: status === 500 ? 'PROCESSING_ERROR' : 'SERVICE_UNAVAILABLE', message: 'injected' },
          request_id: 'req_bench',
        });
      }
      if (draw < faults.serverErrorRate + faults.dropRate / 2) {
        entry.droppedBeforeCommit += 1;
        entry.history.push('drop');
        req.socket.destroy();
        return;
      }
      if (draw < faults.serverErrorRate + faults.dropRate) {
        // The vendor ended the session, but the answer never reaches the browser.
        if (entry.commits === 0) entry.commits = 1;
        else {
          entry.afterCommit += 1;
          entry.afterCommitAt.push(arrived);
        }
        entry.droppedAfterCommit += 1;
        entry.history.push('commit+drop');
        req.socket.destroy();
        return;
      }
      return commit(res, id, entry, arrived);
    } finally {
      entry.inflight -= 1;
      entry.timeline.push([arrived, Date.now()]);
    }
  }

  function commit(res: ServerResponse, id: string, entry: DeleteLedger, arrived: number): void {
    entry.history.push(entry.commits === 0 ? 'commit' : 'gone');
    if (entry.commits === 0) {
      entry.commits = 1;
      json(res, 200, { message: 'Session terminated successfully', session_id: id });
    } else {
      entry.afterCommit += 1;
      entry.afterCommitAt.push(arrived);
      json(res, 200, { message: 'Session already terminated', session_id: id, already_terminated: true });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://bench.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    // Bodies are never needed; reading them lets a kept-alive connection carry on.
    req.resume();
    if (path.startsWith('/pages/')) return serveFrom(res, PAGES_DIR, path.slice('/pages/'.length));
    if (path === '/dist/konpro-widget-guard.min.js') return serveFile(res, BUNDLE_FILE, TYPES['.js']);
    if (path.startsWith('/dist/')) return serveFrom(res, DIST_DIR, path.slice('/dist/'.length));
    const [, area, kind, id] = path.split('/');
    if (area !== 'bench') return text(res, 404, 'not found');
    switch (kind) {
      case 'ended':
        // What the site's proxy answers once the vendor has ended the session.
        return json(res, 404, {
          error: { code: 'RESOURCE_NOT_FOUND', message: 'Session not found', details: { session_id: id } },
          request_id: 'req_bench',
        });
      case 'unrelated':
        return json(res, 200, { ok: true, item: id ?? null });
      case 'proxy':
      case 'faulty':
        if (id === undefined || id === '')
          return json(res, 201, {
            session_id: `s_${Date.now()}`,
            widget_url: '/pages/widget.html',
            expires_at: inAnHour(),
          });
        if (method === 'GET') return json(res, 200, { session_id: id, status: 'active', expires_at: inAnHour() });
        if (method !== 'DELETE') return text(res, 405, 'method not allowed');
        if (kind === 'faulty') return faultyDelete(req, res, id);
        return json(res, 200, { message: 'Session terminated successfully', session_id: id });
      default:
        return text(res, 404, 'not found');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('bench server:', error);
      if (!res.headersSent) text(res, 500, 'bench server error');
    });
  });
  // The bench opens many connections in bursts; the default backlog is plenty, keep-alive is not a concern.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    server,
    faults,
    ledger,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serveFrom(res: ServerResponse, dir: string, relative: string): Promise<void> {
  // Only plain file names of known types: the bench serves its own files and nothing else.
  const type = TYPES[extname(relative)];
  if (!/^[\w.-]+$/.test(relative) || relative.startsWith('.') || type === undefined) return text(res, 404, 'not found');
  return serveFile(res, join(dir, relative), type);
}

async function serveFile(res: ServerResponse, file: string, type: string): Promise<void> {
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch {
    return text(res, 404, 'not found');
  }
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': content.length, ...ISOLATION });
  res.end(content);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    ...ISOLATION,
  });
  res.end(payload);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...ISOLATION });
  res.end(body);
}

function inAnHour(): string {
  return new Date(Date.now() + 3_600_000).toISOString();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
