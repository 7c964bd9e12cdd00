/**
 * Fault injection for the two network paths of the demo: the vendor API
 * (the simulator's `/v1/...` routes, widget runtime included) and the site's
 * proxy (the demo server calls `apply(req, res, 'proxy')` before handing a
 * request to the proxy). One injector serves both so the console shows and
 * edits them together.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRecord } from './schema.js';
import { sendError, sleep } from './http.js';

export const FAULT_TARGETS = ['vendor', 'proxy'] as const;
export type FaultTarget = (typeof FAULT_TARGETS)[number];

export interface FaultSettings {
  /** Added before every answer, in milliseconds (0–60000). */
  latencyMs: number;
  /** Share of requests answered 503 `SERVICE_UNAVAILABLE` or 500 `PROCESSING_ERROR` (0–1). */
  errorRate: number;
  /** No answer at all: the connection is destroyed, as when the network is down. */
  offline: boolean;
  /** Requests per minute before 429 `RATE_LIMIT_EXCEEDED` with `Retry-After`; 0 = no limit. */
  rateLimitPerMinute: number;
}

export type FaultState = Record<FaultTarget, FaultSettings>;
export type FaultPatch = { [T in FaultTarget]?: Partial<FaultSettings> };

const NO_FAULTS: FaultSettings = { latencyMs: 0, errorRate: 0, offline: false, rateLimitPerMinute: 0 };
const RATE_WINDOW_MS = 60_000;

/** A fault patch the injector refuses, with one message per bad field. */
export class FaultPatchError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid fault settings: ${problems.join('; ')}`);
    this.name = 'FaultPatchError';
  }
}

/** Checks a patch as received from JSON: known targets and fields only, each in range. */
export function parseFaultPatch(value: unknown): FaultPatch {
  if (!isRecord(value)) throw new FaultPatchError(['body must be an object like {"vendor": {"latencyMs": 500}}']);
  const problems: string[] = [];
  const patch: FaultPatch = {};
  for (const [target, fields] of Object.entries(value)) {
    if (!FAULT_TARGETS.includes(target as FaultTarget)) {
      problems.push(`unknown target "${target}" (expected ${FAULT_TARGETS.join(' or ')})`);
      continue;
    }
    if (!isRecord(fields)) {
      problems.push(`${target} must be an object`);
      continue;
    }
    const settings: Partial<FaultSettings> = {};
    for (const [field, raw] of Object.entries(fields)) {
      const at = `${target}.${field}`;
      switch (field) {
        case 'latencyMs':
        case 'rateLimitPerMinute': {
          const max = field === 'latencyMs' ? 60_000 : 1_000_000;
          if (!Number.isInteger(raw) || (raw as number) < 0 || (raw as number) > max)
            problems.push(`${at} must be an integer from 0 to ${max}`);
          else settings[field] = raw as number;
          break;
        }
        case 'errorRate':
          if (typeof raw !== 'number' || !(raw >= 0 && raw <= 1)) problems.push(`${at} must be a number from 0 to 1`);
          else settings.errorRate = raw;
          break;
        case 'offline':
          if (typeof raw !== 'boolean') problems.push(`${at} must be true or false`);
          else settings.offline = raw;
          break;
        default:
          problems.push(`unknown field ${at}`);
      }
    }
    patch[target as FaultTarget] = settings;
  }
  if (problems.length > 0) throw new FaultPatchError(problems);
  return patch;
}

export class FaultInjector {
  #state: FaultState = { vendor: { ...NO_FAULTS }, proxy: { ...NO_FAULTS } };
  readonly #windows: Record<FaultTarget, { startedAt: number; count: number }> = {
    vendor: { startedAt: 0, count: 0 },
    proxy: { startedAt: 0, count: 0 },
  };

  /** `random` decides which requests fail (tests pass a fixed one); `now` drives the rate-limit window. */
  constructor(
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {}

  /** A copy: changing it changes nothing. */
  get state(): FaultState {
    return { vendor: { ...this.#state.vendor }, proxy: { ...this.#state.proxy } };
  }

  /** Merges a patch (validated with {@link parseFaultPatch}; throws {@link FaultPatchError}). */
  update(patch: unknown): FaultState {
    const parsed = parseFaultPatch(patch);
    for (const target of FAULT_TARGETS) {
      const fields = parsed[target];
      if (!fields) continue;
      this.#state[target] = { ...this.#state[target], ...fields };
      if (fields.rateLimitPerMinute !== undefined) this.#windows[target] = { startedAt: 0, count: 0 };
    }
    return this.state;
  }

  reset(): FaultState {
    this.#state = { vendor: { ...NO_FAULTS }, proxy: { ...NO_FAULTS } };
    for (const target of FAULT_TARGETS) this.#windows[target] = { startedAt: 0, count: 0 };
    return this.state;
  }

  /**
   * Applies the target's faults to one request, in the order a real outage
   * shows them: no network at all, then a slow network, then the service
   * refusing (rate limit) or failing (5xx). `'handled'` means the request has
   * been answered (or its connection destroyed) and the caller must stop.
   */
  async apply(req: IncomingMessage, res: ServerResponse, target: FaultTarget): Promise<'continue' | 'handled'> {
    const faults = this.#state[target];
    if (faults.offline) {
      req.socket.destroy();
      return 'handled';
    }
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (faults.rateLimitPerMinute > 0) {
      const retryAfterMs = this.#countRequest(target, faults.rateLimitPerMinute);
      if (retryAfterMs !== undefined) {
        const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
        sendError(
          res,
          'RATE_LIMIT_EXCEEDED',
          `Rate limit of ${faults.rateLimitPerMinute} requests per minute exceeded. Retry after ${retryAfter} s.`,
          {
            details: {
              limit: faults.rateLimitPerMinute,
              window_seconds: RATE_WINDOW_MS / 1000,
              retry_after_seconds: retryAfter,
            },
            headers: { 'Retry-After': retryAfter, 'x-konpro-simulated-fault': 'rate-limit' },
          },
        );
        return 'handled';
      }
    }
    if (faults.errorRate > 0 && this.random() < faults.errorRate) {
      const headers = { 'x-konpro-simulated-fault': 'error-rate' };
      if (this.random() < 0.5) {
        sendError(res, 'SERVICE_UNAVAILABLE', 'The service is temporarily unavailable. Please retry shortly.', {
          headers: { ...headers, 'Retry-After': 1 },
        });
      } else {
        sendError(res, 'PROCESSING_ERROR', 'An internal error occurred while processing the request.', { headers });
      }
      return 'handled';
    }
    return 'continue';
  }

  /** Counts a request in the current fixed window; returns the wait when it is over the limit. */
  #countRequest(target: FaultTarget, limit: number): number | undefined {
    const window = this.#windows[target];
    const now = this.now();
    if (now - window.startedAt >= RATE_WINDOW_MS) {
      window.startedAt = now;
      window.count = 0;
    }
    window.count += 1;
    return window.count > limit ? window.startedAt + RATE_WINDOW_MS - now : undefined;
  }
}
