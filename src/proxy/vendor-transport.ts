/**
 * How the vendor client sends one request: with the Fetch API (any runtime,
 * or the `fetch` option), or on Node with `node:http`/`node:https` and
 * keep-alive agents, which costs a fraction of the CPU time of Node's `fetch`
 * per call (no WHATWG streams, Request or Response objects). Node's modules
 * are taken with `process.getBuiltinModule` when it exists (Node 20.16+):
 * nothing imports them, so the proxy still bundles and type-checks for any
 * Fetch-API runtime.
 *
 * Both transports never follow a redirect, read at most a given number of
 * bytes of a body, and stop when the caller aborts the request (its
 * deadline). Aborting is a method of the request sent, not an AbortSignal:
 * on `node:http` a signal per call (and the listener Node puts on it) is a
 * measurable part of a status check's CPU time, and nothing else needs one.
 */

import { readTextCapped } from '../shared/json-body.js';

export interface TransportRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** A request on its way: its answer, and how to stop it (before or while its body is read). */
export interface SentRequest {
  /** Rejects when the request could not be made (unreachable, dropped, aborted). */
  answer: Promise<TransportAnswer>;
  /** Stops the request: a pending `answer` or `text()` rejects. */
  abort(): void;
}

export interface TransportAnswer {
  status: number;
  /** A redirect, which the proxy does not follow (a 3xx, or Fetch's opaque redirect). */
  redirect: boolean;
  header(name: string): string | null;
  /** The body as text; `undefined` when there is none or it passes `maxBytes`. Rejects when reading fails or the request is aborted. */
  text(maxBytes: number): Promise<string | undefined>;
  /** Drops the body unread. */
  discard(): void;
}

export type VendorTransport = (request: TransportRequest) => SentRequest;

/** `fetch` when the site gave one; else `node:http` on Node; else the runtime's `fetch`. */
export function vendorTransport(fetchOption: typeof globalThis.fetch | undefined): VendorTransport {
  if (fetchOption) return fetchTransport(fetchOption);
  return nodeTransport() ?? fetchTransport(globalThis.fetch);
}

/** Whether vendor calls can be made without a `fetch` option. */
export function hasDefaultTransport(): boolean {
  return nodeModules() !== undefined || typeof globalThis.fetch === 'function';
}

function fetchTransport(fetchImpl: typeof globalThis.fetch): VendorTransport {
  return ({ method, url, headers, body }) => {
    const controller = new AbortController();
    const answer = (async (): Promise<TransportAnswer> => {
      const response = await fetchImpl(url, { method, headers, body, redirect: 'manual', signal: controller.signal });
      return {
        status: response.status,
        redirect: response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400),
        header: (name) => response.headers.get(name),
        text: (maxBytes) => (response.body ? readTextCapped(response.body, maxBytes) : Promise.resolve(undefined)),
        discard: () => void response.body?.cancel().catch(() => undefined),
      };
    })();
    return { answer, abort: () => controller.abort() };
  };
}

// What is used of node:http and node:https, declared here so that the package needs no Node types.

interface NodeIncoming {
  statusCode?: number;
  headers: Record<string, string | string[] | undefined>;
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'end' | 'aborted' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  complete: boolean;
  resume(): unknown;
  destroy(): unknown;
}

interface NodeOutgoing {
  on(event: 'error', listener: (error: unknown) => void): unknown;
  end(body?: string): unknown;
  destroy(error?: Error): unknown;
}

interface NodeHttpModule {
  Agent: new (options: { keepAlive: boolean; timeout: number }) => object;
  request(
    url: string,
    options: { method: string; headers: Record<string, string>; agent: object },
    onResponse: (res: NodeIncoming) => void,
  ): NodeOutgoing;
}

interface NodeModules {
  http: NodeHttpModule;
  https: NodeHttpModule;
}

/**
 * Idle kept-alive connections are closed after this long (undici's default too), or sooner when the
 * vendor's `Keep-Alive: timeout=` says so (Node's agent reads it), before the vendor drops them.
 */
const IDLE_MS = 4_000;

let modules: NodeModules | null | undefined;

function nodeModules(): NodeModules | undefined {
  if (modules === undefined) {
    const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const load = runtime?.getBuiltinModule;
    modules =
      typeof load === 'function'
        ? {
            http: load.call(runtime, 'node:http') as NodeHttpModule,
            https: load.call(runtime, 'node:https') as NodeHttpModule,
          }
        : null;
  }
  return modules ?? undefined;
}

function nodeTransport(): VendorTransport | undefined {
  const node = nodeModules();
  if (!node) return undefined;
  const agents = {
    'http:': { module: node.http, agent: new node.http.Agent({ keepAlive: true, timeout: IDLE_MS }) },
    'https:': { module: node.https, agent: new node.https.Agent({ keepAlive: true, timeout: IDLE_MS }) },
  };
  return (request) => {
    const { module, agent } = agents[request.url.startsWith('https:') ? 'https:' : 'http:'];
    const headers =
      request.body === undefined
        ? request.headers
        : { ...request.headers, 'content-length': String(new TextEncoder().encode(request.body).byteLength) };
    let outgoing: NodeOutgoing | undefined;
    let incoming: NodeIncoming | undefined;
    let aborted = false;
    const answer = new Promise<TransportAnswer>((resolve, reject) => {
      outgoing = module.request(request.url, { method: request.method, headers, agent }, (res) => {
        incoming = res;
        if (aborted) res.destroy();
        resolve(answerOf(res));
      });
      // As with fetch, a request is never sent twice: a connection dropped is an unreachable vendor.
      outgoing.on('error', (error) => reject(error instanceof Error ? error : new Error('the vendor request failed')));
      outgoing.end(request.body);
    });
    return {
      answer,
      abort: () => {
        if (aborted) return;
        aborted = true;
        // The request's 'error' rejects a pending answer; a body being read ends cut off.
        outgoing?.destroy(new Error('the vendor request was aborted'));
        incoming?.destroy();
      },
    };
  };
}

function answerOf(res: NodeIncoming): TransportAnswer {
  const status = res.statusCode ?? 0;
  return {
    status,
    redirect: status >= 300 && status < 400,
    header: (name) => {
      const value = res.headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
    text: (maxBytes) =>
      new Promise<string | undefined>((resolve, reject) => {
        const decoder = new TextDecoder();
        let text = '';
        let size = 0;
        let settled = false;
        const settle = (value: string | undefined, error?: unknown) => {
          if (settled) return;
          settled = true;
          if (error === undefined) resolve(value);
          else reject(error instanceof Error ? error : new Error('reading the vendor answer failed'));
        };
        res.on('data', (chunk) => {
          size += chunk.byteLength;
          if (size > maxBytes) {
            res.destroy();
            return settle(undefined);
          }
          text += decoder.decode(chunk, { stream: true });
        });
        res.on('end', () => settle(text + decoder.decode()));
        res.on('error', (error) => settle(undefined, error));
        res.on('aborted', () => settle(undefined, new Error('the vendor answer was cut off')));
        res.on('close', () => {
          if (!res.complete) settle(undefined, new Error('the vendor answer was cut off'));
        });
      }),
    discard: () => void res.resume(),
  };
}
