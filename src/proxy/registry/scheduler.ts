/**
 * Every timer of one proxy: the periodic sweep, queued-delete retries and
 * stream heartbeats. Timers are unref'd (a proxy never keeps a process alive
 * on its own) and `close()` stops them all, so tests and graceful shutdown
 * end every piece of background work in one call.
 */

type Task = () => void | Promise<void>;

type Timer = ReturnType<typeof setTimeout>;

function unref(timer: Timer): Timer {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

export class Scheduler {
  readonly #timers = new Set<Timer>();
  readonly #onError: (error: unknown) => void;
  #closed = false;

  /** `onError` hears what a task threw or rejected with; the schedule goes on. */
  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `task` every `intervalMs`; a run still going when the next is due is not overlapped. */
  every(intervalMs: number, task: Task): void {
    if (this.#closed) return;
    let running = false;
    const timer = unref(
      setInterval(() => {
        if (running) return;
        running = true;
        void this.#run(task).finally(() => (running = false));
      }, intervalMs),
    );
    this.#timers.add(timer);
  }

  /** Runs `task` once after `delayMs`; returns a function that cancels it. */
  after(delayMs: number, task: Task): () => void {
    if (this.#closed) return () => undefined;
    const timer = unref(
      setTimeout(
        () => {
          this.#timers.delete(timer);
          void this.#run(task);
        },
        Math.max(0, delayMs),
      ),
    );
    this.#timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.#timers.delete(timer);
    };
  }

  /** Stops every timer; nothing is scheduled after this. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  async #run(task: Task): Promise<void> {
    if (this.#closed) return;
    try {
      await task();
    } catch (error) {
      this.#onError(error);
    }
  }
}
