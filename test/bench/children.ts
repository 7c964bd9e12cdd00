/**
 * The bench's servers and load generators as child processes of their own
 * (so the measuring process, the proxy, the vendor and the load do not share
 * an event loop), with a small request/answer protocol over the IPC channel:
 * the child says `ready` once, then answers `{id, op, args}` calls.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** What a child sends its parent. */
export type ChildMessage =
  | { kind: 'ready'; value: unknown }
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string };

/** What a parent sends a child. */
export interface ChildCall {
  id: number;
  op: string;
  args: unknown[];
}

const START_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 120_000;

export interface StartOptions {
  /** Node flags besides tsx (e.g. `--expose-gc`). */
  execArgv?: string[];
  env?: Record<string, string>;
}

export class Child<Ready> {
  readonly ready: Ready;
  readonly process: ChildProcess;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #next = 0;
  #exited = false;

  private constructor(child: ChildProcess, ready: Ready) {
    this.process = child;
    this.ready = ready;
    child.on('message', (message: ChildMessage) => {
      if (message.kind !== 'reply') return;
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.ok) pending?.resolve(message.value);
      else pending?.reject(new Error(message.error));
    });
    child.once('exit', () => {
      this.#exited = true;
      for (const { reject } of this.#pending.values()) reject(new Error('the child process exited'));
      this.#pending.clear();
    });
  }

  /** Forks `script` (run through tsx) with `args` and waits for its `ready`. */
  static async start<Ready>(script: string, args: string[], options: StartOptions = {}): Promise<Child<Ready>> {
    const child = fork(script, args, {
      execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${script} was not ready within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`${script} ${args.join(' ')} exited (code ${code}) before it was ready`));
      };
      child.once('exit', onExit);
      child.once('error', onExit);
      const onMessage = (message: ChildMessage) => {
        if (message.kind !== 'ready') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message.value as Ready);
      };
      child.on('message', onMessage);
    });
    return new Child<Ready>(child, ready);
  }

  get exited(): boolean {
    return this.#exited;
  }

  call<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.#exited) return Promise.reject(new Error(`the child has exited (${op})`));
    const id = ++this.#next;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${op}: no answer from the child within ${CALL_TIMEOUT_MS} ms`));
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
      this.process.send({ id, op, args } satisfies ChildCall);
    });
  }

  /** SIGKILL, at once: no shutdown, as a crash. */
  async kill(): Promise<void> {
    if (this.#exited) return;
    const exited = once(this.process, 'exit');
    this.process.kill('SIGKILL');
    await exited;
  }

  /** Asks the child to `close` (when it has that operation), then makes sure it is gone. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = once(this.process, 'exit');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5_000);
    await this.call('close').catch(() => undefined);
    this.process.disconnect();
    await exited;
    clearTimeout(timer);
  }
}

/**
 * The child's side: tells the parent it is ready with `ready`, then answers
 * calls with `operations`. `close` (when present) runs before the process
 * ends; the parent going away ends it too, so no child outlives the bench.
 */
export function serveParent(ready: unknown, operations: Record<string, (...args: never[]) => unknown>): void {
  process.on('message', (message: ChildCall) => {
    const operation = operations[message.op] as ((...args: unknown[]) => unknown) | undefined;
    if (!operation) {
      process.send?.({ kind: 'reply', id: message.id, ok: false, error: `no operation ${message.op}` });
      return;
    }
    Promise.resolve()
      .then(() => operation(...message.args))
      .then(
        (value) => process.send?.({ kind: 'reply', id: message.id, ok: true, value } satisfies ChildMessage),
        (error: unknown) =>
          process.send?.({
            kind: 'reply',
            id: message.id,
            ok: false,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          } satisfies ChildMessage),
      );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ kind: 'ready', value: ready } satisfies ChildMessage);
}

/** CPU time this process has used so far (user + system), in microseconds. */
export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
