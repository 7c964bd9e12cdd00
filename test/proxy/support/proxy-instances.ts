// Proxy instances as separate processes (test/proxy/support/proxy-instance.ts), sharing one Redis:
// started, called, killed with SIGKILL (a crash) and stopped by the tests. Every log line an
// instance writes is kept, and remembered for the file's no-secret-was-said check.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { InstanceCall, InstanceMessage } from './proxy-instance.js';
import type { WidgetSessionProxyOptions } from '../../../src/proxy/index.js';
import { API_KEY } from './fake-vendor.js';
import { remember, SECRET, SITE } from './harness.js';

const SCRIPT = fileURLToPath(new URL('./proxy-instance.ts', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const CALL_TIMEOUT_MS = 20_000;

export interface InstanceOptions {
  /** Default `redis`; `memory` runs it on memoryStore() (redisUrl and prefix are then unused). */
  store?: 'redis' | 'memory';
  redisUrl: string;
  prefix: string;
  vendorUrl: string;
  timeoutMs?: number;
  orphanAfterMs?: number;
  sweepIntervalMs?: number;
  heartbeatMs?: number;
  /** More proxy options (JSON-serialisable: limits, caps). */
  proxyOptions?: Partial<Omit<WidgetSessionProxyOptions, 'authorize' | 'widgetUrl' | 'fetch' | 'log' | 'store'>>;
}

export interface LogEntry {
  level: string;
  event: string;
  detail?: string;
  [field: string]: unknown;
}

export class ProxyInstance {
  readonly url: string;
  readonly logs: LogEntry[];
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #next = 0;
  #exited = false;

  private constructor(child: ChildProcess, url: string, logs: LogEntry[]) {
    this.#child = child;
    this.url = url;
    this.logs = logs;
    child.on('message', (message: InstanceMessage) => {
      if (message.type === 'log') {
        logs.push(message.entry as LogEntry);
        remember(JSON.stringify(message.entry));
      } else if (message.type === 'reply') {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.ok) pending?.resolve(message.value);
        else pending?.reject(new Error(message.error));
      }
    });
    child.once('exit', () => {
      this.#exited = true;
      for (const { reject } of this.#pending.values()) reject(new Error('the proxy instance exited'));
      this.#pending.clear();
    });
  }

  /** Forks an instance and waits until it listens. */
  static async start(options: InstanceOptions): Promise<ProxyInstance> {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      KWG_REDIS_URL: options.redisUrl,
      KWG_PREFIX: options.prefix,
      KWG_VENDOR_URL: options.vendorUrl,
      KWG_API_KEY: API_KEY,
      KWG_SECRET: SECRET,
      KWG_SITE: SITE,
      KWG_STORE: options.store ?? 'redis',
    };
    const optional: Array<[string, number | undefined]> = [
      ['KWG_TIMEOUT_MS', options.timeoutMs],
      ['KWG_ORPHAN_AFTER_MS', options.orphanAfterMs],
      ['KWG_SWEEP_MS', options.sweepIntervalMs],
      ['KWG_HEARTBEAT_MS', options.heartbeatMs],
    ];
    for (const [name, value] of optional) if (value !== undefined) env[name] = String(value);
    if (options.proxyOptions) env.KWG_PROXY_OPTIONS = JSON.stringify(options.proxyOptions);
    const child = fork(SCRIPT, [], {
      execArgv: ['--import', 'tsx'],
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const logs: LogEntry[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the proxy instance did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      const onMessage = (message: InstanceMessage) => {
        if (message.type === 'log') logs.push(message.entry as LogEntry);
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message.url);
      };
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`the proxy instance exited (code ${code}) before it listened`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    return new ProxyInstance(child, url, logs);
  }

  /** Calls one of the proxy's server-side methods in the instance. */
  call<T = unknown>(op: InstanceCall['op'], ...args: unknown[]): Promise<T> {
    if (this.#exited) return Promise.reject(new Error('the proxy instance has exited'));
    const id = ++this.#next;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${op} got no answer from the proxy instance within ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.#child.send({ id, op, args } satisfies InstanceCall);
    });
  }

  /** Kills the process at once (SIGKILL): no close, no lease released, as a crash would. */
  async kill(): Promise<void> {
    if (this.#exited) return;
    const exited = once(this.#child, 'exit');
    this.#child.kill('SIGKILL');
    await exited;
  }

  /** Closes the proxy and its store, then the process ends; killed if it does not within a few seconds. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = once(this.#child, 'exit');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
    await this.call('close').catch(() => this.#child.kill('SIGKILL'));
    await exited;
    clearTimeout(timer);
  }
}
