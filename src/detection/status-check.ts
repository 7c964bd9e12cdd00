/**
 * Asks the proxy how the session is, every `intervalMs`, and at once when the
 * page becomes visible or comes back online. A hidden page asks too, at most
 * {@link HIDDEN_INTERVAL_MS} apart: the checks are how the proxy knows a page
 * still shows the session (else it is an orphan, and deleted), and Chrome
 * runs a hidden tab's timers once a minute at best. Errors back off (with
 * jitter) and never end anything by themselves: only the caller, reading
 * the classification, decides.
 */
import { DEFAULT_BACKOFF, retryDelay } from '../shared/backoff.js';
import { classifyResponse, Verdict, type Classification } from './classify-response.js';
import { callProxy, type ProxyAnswer } from '../net/proxy-client.js';
import { onPage } from '../platform/page-lifecycle.js';

/** Under a minute: a throttled hidden tab still checks once a minute, well inside the proxy's `orphanAfterMs` (3 min). */
export const HIDDEN_INTERVAL_MS = 45_000;

export interface StatusCheckOptions {
  /** `GET {proxy}/{id}`. */
  url: string;
  intervalMs: number;
  onAnswer(classification: Classification): void;
  request?: (url: string, signal: AbortSignal) => Promise<ProxyAnswer>;
}

export interface StatusCheck {
  /** Checks now, unless a check is already under way. */
  checkNow(): void;
}

const defaultRequest = (url: string, signal: AbortSignal) => callProxy('GET', url, { signal });

export function watchStatus(options: StatusCheckOptions, signal: AbortSignal): StatusCheck {
  const request = options.request ?? defaultRequest;
  let timer: number | undefined;
  let inflight = false;
  let failures = 0;

  const interval = () =>
    document.visibilityState === 'visible' ? options.intervalMs : Math.min(options.intervalMs, HIDDEN_INTERVAL_MS);
  const schedule = (delay: number) => {
    window.clearTimeout(timer);
    if (signal.aborted || options.intervalMs <= 0) return;
    timer = window.setTimeout(checkNow, delay);
  };

  const checkNow = () => {
    if (inflight || signal.aborted || options.intervalMs <= 0) return;
    inflight = true;
    window.clearTimeout(timer);
    request(options.url, signal)
      .then((answer) => {
        if (signal.aborted) return;
        const classification = classifyResponse(answer.status, answer.body);
        failures = classification.verdict === Verdict.Transient ? failures + 1 : 0;
        options.onAnswer(classification);
        const backoff = failures > 0 ? retryDelay(failures, answer.retryAfterMs, DEFAULT_BACKOFF) : 0;
        schedule(Math.max(interval(), backoff));
      })
      .catch(() => {
        // Aborted with the session: nothing to do. Anything else must not end the checks.
        if (!signal.aborted) schedule(Math.max(interval(), retryDelay(++failures, undefined, DEFAULT_BACKOFF)));
      })
      .finally(() => {
        inflight = false;
      });
  };

  onPage(
    {
      visible: checkNow,
      // A long interval is cut to the hidden one (unless the checks are backing off).
      hidden: () => !inflight && failures === 0 && schedule(interval()),
      online: () => document.visibilityState === 'visible' && checkNow(),
    },
    signal,
  );
  signal.addEventListener('abort', () => window.clearTimeout(timer), { once: true });
  schedule(options.intervalMs);
  return { checkNow };
}
