// The browser tests' handle on a real reference proxy at /test-api/push/{ns} (test/support/push-backend.ts).
import { uniqueId, until } from './helpers.js';

export interface StreamRequest {
  at: number;
  sessions: string[];
  lastEventId: string | null;
  /** `open` while the stream is open, `closed` after, `fault <status>` when a fault answered. */
  outcome: string;
}

export interface ListedSession {
  sessionId: string;
  userId: string;
  lastSeenAt: number;
  pages: number;
}

/** One namespace: its own proxy instance, registry and signed-in user cookie. */
export class PushProxy {
  readonly ns = uniqueId('push').replaceAll('_', '-');
  readonly url = `/test-api/push/${this.ns}/proxy`;

  async #control<T = unknown>(command: string, body?: unknown): Promise<T> {
    const response = await fetch(`/test-api/push/${this.ns}/control/${command}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`control ${command}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** A fresh proxy; `orphanAfterMs`, and the heartbeat and sweep intervals, shortened for a test. */
  setup(options: { orphanAfterMs?: number; heartbeatMs?: number; sweepIntervalMs?: number } = {}): Promise<unknown> {
    return this.#control('setup', options);
  }
  /** Signs this browser in as `user` (a cookie of this namespace). */
  signIn(user: string): Promise<unknown> {
    return this.#control('sign-in', { user });
  }
  revokeUser(user: string, reason?: string): Promise<{ ended: string[]; failed: string[] }> {
    return this.#control('revoke-user', { user, ...(reason ? { reason } : {}) });
  }
  revokeSession(sessionId: string): Promise<{ ended: string[]; failed: string[] }> {
    return this.#control('revoke-session', { sessionId });
  }
  sweep(): Promise<{ orphaned: string[] }> {
    return this.#control('sweep', {});
  }
  sessions(): Promise<ListedSession[]> {
    return this.#control('sessions');
  }
  streams(): Promise<{ open: number; log: StreamRequest[] }> {
    return this.#control('streams');
  }
  /** Cuts every open stream, as a network would. */
  drop(): Promise<unknown> {
    return this.#control('drop', {});
  }
  /** For the next `/events` requests: `{status, retryAfter?, times?}` answers instead; `{hold: true}` waits for release(). */
  faults(...faults: Array<Record<string, unknown>>): Promise<unknown> {
    return this.#control('faults', faults);
  }
  release(): Promise<unknown> {
    return this.#control('release', {});
  }
  /** The vendor's DELETEs, by session id. */
  async vendorDeletes(): Promise<string[]> {
    const requests = await this.#control<Array<{ method: string; url: string }>>('vendor');
    return requests.filter((r) => r.method === 'DELETE').map((r) => r.url.split('/').pop()!);
  }

  /** Waits until exactly one stream is open and it reports exactly `sessionIds`; returns that request. */
  async streaming(sessionIds: readonly string[], timeoutMs = 5000): Promise<StreamRequest> {
    const want = [...sessionIds].sort().join();
    let found: StreamRequest | undefined;
    await until(
      async () => {
        const { open, log } = await this.streams();
        const live = log.filter((r) => r.outcome === 'open');
        found = live.length === 1 && open === 1 ? live[0] : undefined;
        return found !== undefined && [...found.sessions].sort().join() === want;
      },
      `one open stream reporting ${want}`,
      timeoutMs,
    );
    return found!;
  }
}
