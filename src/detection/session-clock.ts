/**
 * Wall-clock time for a session: its expiry, and noticing that the machine
 * slept. Timers run on a clock that can stand still while a machine sleeps
 * and are throttled in hidden tabs, so the deadline is also compared with
 * `Date.now()` on a coarse heartbeat and whenever the page becomes visible.
 */
import { onPage } from '../platform/page-lifecycle.js';

export interface ClockOptions {
  /** Wall-clock deadline (ms since the epoch), looked up each time; undefined: none. */
  deadline(): number | undefined;
  onDeadline(): void;
  /** The clock jumped: the machine slept, or the tab was frozen. */
  onWake(): void;
  heartbeatMs?: number;
  now?: () => number;
}

export interface SessionClock {
  /** The deadline changed: re-arm the precise timer. */
  rearm(): void;
  /** Compares the deadline with the clock now. */
  check(): void;
}

export function watchClock(options: ClockOptions, signal: AbortSignal): SessionClock {
  const now = options.now ?? (() => Date.now());
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  let timer: number | undefined;
  let last = now();

  const check = () => {
    if (signal.aborted) return;
    const deadline = options.deadline();
    if (deadline !== undefined && now() >= deadline) options.onDeadline();
  };
  const rearm = () => {
    window.clearTimeout(timer);
    const deadline = options.deadline();
    if (deadline === undefined || signal.aborted) return;
    // setTimeout's limit is 2^31-1 ms; the heartbeat covers longer waits.
    timer = window.setTimeout(check, Math.min(Math.max(0, deadline - now()), 2 ** 31 - 1));
  };
  const heartbeat = window.setInterval(() => {
    const current = now();
    const jumped = current - last > heartbeatMs * 2 + 1_000;
    last = current;
    check();
    if (jumped && !signal.aborted) options.onWake();
  }, heartbeatMs);
  onPage({ visible: check }, signal);
  signal.addEventListener(
    'abort',
    () => {
      window.clearTimeout(timer);
      window.clearInterval(heartbeat);
    },
    { once: true },
  );
  rearm();
  check();
  return { rearm, check };
}
