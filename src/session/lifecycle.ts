/**
 * The session lifecycle of one guard, as data: which states exist and which
 * events move between them. Pure (no DOM, no timers, no I/O): the session
 * controller reports what happened, `transition` says where that leads, and
 * the controller acts on the difference (mount, tear down, delete). What a
 * guard may do with a session id is decided here, so the rules read in one place:
 *
 * - one session at a time is held (being mounted, or active);
 * - an id that ended here is not mounted again by setting it again;
 * - a logout deletes the session that was shown (held, else the last one held
 *   or created), and a logout while a session is being created makes sure
 *   that session is never mounted (the start's epoch moves on).
 *
 *     idle ──start──▶ starting (creating) ──start-failed──▶ starting (retrying) │ error
 *       │                 │ logout, nothing held: epoch + 1 ──▶ terminated
 *       └──mount(id)──▶ starting (held) ──active──▶ active
 *                         │ refused │ ended │ logout ──▶ terminated
 *                         └ released (another id, or the element left the page) ──▶ idle
 *     any ──reset──▶ idle          any ──failed──▶ error
 */

/**
 * The states of a guard, as its reflected `state` attribute says them. What `starting` is
 * waiting for the lifecycle record tells: a `POST {proxy}` (`creating`), a retry of an
 * auto-start (neither), or the check and placement of the `held` session.
 */
export const GuardState = {
  /** No session, none coming. */
  Idle: 'idle',
  /** A session is being created, retried, or mounted. */
  Starting: 'starting',
  Active: 'active',
  /** The session ended (or a start was logged out); the terminated panel shows. */
  Terminated: 'terminated',
  /** Misconfiguration, or a start that failed: nothing can be shown. */
  Error: 'error',
} as const;
export type GuardState = (typeof GuardState)[keyof typeof GuardState];

export interface Lifecycle {
  readonly state: GuardState;
  /** The session held: being mounted or active. Never more than one. */
  readonly held?: string;
  /** The session a logout deletes when none is held: the last one held, or created and abandoned. */
  readonly shown?: string;
  /** The session that ended here last. */
  readonly ended?: string;
  /** A `POST {proxy}` is in flight (its answer brings a session, or not). */
  readonly creating: boolean;
  /** Moves on with a logout during a start: the session that start brings belongs to an old epoch. */
  readonly epoch: number;
}

export type LifecycleEvent =
  /** A `POST {proxy}` goes out (`start()`, an auto-start attempt). */
  | { type: 'start' }
  /** It failed; `retrying`: an auto-start tries again. Stale (an old epoch): changes nothing but `creating`. */
  | { type: 'start-failed'; epoch: number; retrying: boolean }
  /** It brought `sessionId`. Of an old epoch: never mounted, only remembered for the logout's delete. */
  | { type: 'created'; epoch: number; sessionId: string }
  | { type: 'logout' }
  /** The host (or a start) names a valid session id to show. */
  | { type: 'mount'; sessionId: string }
  /** The held id is known to have ended already. */
  | { type: 'refused' }
  /** The held session's widget is in place and watched. */
  | { type: 'active' }
  /** The held session ended (terminated, expired, other tab, idle, reset). */
  | { type: 'ended' }
  /** The held session goes without ending: another id was set, or the element left the page. */
  | { type: 'released' }
  /** No session id is set, and none is held. */
  | { type: 'unset' }
  | { type: 'reset' }
  /** Misconfiguration (no proxy, an invalid id, an unusable widget source): the held session, if any, goes. */
  | { type: 'failed' };

export const INITIAL: Lifecycle = { state: GuardState.Idle, creating: false, epoch: 0 };

/** Where `event` leads from `life`; the very same object when it changes nothing. */
export function transition(life: Lifecycle, event: LifecycleEvent): Lifecycle {
  const { held, creating, epoch } = life;
  switch (event.type) {
    case 'start':
      return held === undefined ? { ...life, state: GuardState.Starting, creating: true } : life;
    case 'start-failed':
      // Logged out meanwhile, or a session was mounted meanwhile: nothing to show, nothing to hide.
      if (event.epoch !== epoch || held !== undefined) return { ...life, creating: false };
      return { ...life, creating: false, state: event.retrying ? GuardState.Starting : GuardState.Error };
    case 'created':
      // Of an old epoch: deleted at once, never mounted; what a later logout deletes, unless one is held.
      return event.epoch === epoch
        ? { ...life, creating: false }
        : { ...life, creating: false, shown: held ?? event.sessionId, ended: event.sessionId };
    case 'logout':
      if (held !== undefined) return ended(life);
      return creating ? { ...life, state: GuardState.Terminated, epoch: epoch + 1 } : life;
    case 'mount':
      if (isSettled(life, event.sessionId)) return life;
      return { ...life, state: GuardState.Starting, held: event.sessionId, shown: event.sessionId };
    case 'refused':
    case 'ended':
      return held === undefined ? life : ended(life);
    case 'active':
      return held === undefined || life.state !== GuardState.Starting ? life : { ...life, state: GuardState.Active };
    case 'released':
      return held === undefined ? life : { ...life, state: GuardState.Idle, held: undefined };
    case 'unset':
      // An ended session keeps its panel, and a start under way keeps its `starting`.
      return held !== undefined || life.state === GuardState.Terminated || creating || life.state === GuardState.Idle
        ? life
        : { ...life, state: GuardState.Idle };
    case 'reset':
      return { ...life, state: GuardState.Idle, held: undefined };
    case 'failed':
      return { ...life, state: GuardState.Error, held: undefined };
  }
}

function ended(life: Lifecycle): Lifecycle {
  return { ...life, state: GuardState.Terminated, held: undefined, ended: life.held };
}

/**
 * Whether setting `sessionId` changes nothing: it is the session held, or the one that ended
 * here (the element was moved, or auto-start toggled), which is neither refused nor reported again.
 */
export function isSettled(life: Lifecycle, sessionId: string | null): boolean {
  if (life.held !== undefined) return life.held === sessionId;
  return sessionId !== null && sessionId === life.ended && life.state === GuardState.Terminated;
}

/** The session `logout()` deletes: the one held, else the last one shown. */
export function sessionToDelete(life: Lifecycle): string | undefined {
  return life.held ?? life.shown;
}
