/**
 * The guard's events, typed in one place. Every event is a `CustomEvent`
 * that bubbles and crosses shadow roots, so a listener on `document` hears
 * every guard on the page.
 */

import type { DeleteOutcomeKind, EndReason } from '../shared/end-reasons.js';

export type { DeleteOutcomeKind, EndReason };

/** How a logout's delete settled. `queued`: it will be retried; it is not lost. */
export interface DeleteOutcome {
  sessionId: string;
  outcome: DeleteOutcomeKind;
  /** Network attempts made so far for this delete (across tabs and reloads). */
  attempts: number;
}

export interface SessionStartDetail {
  sessionId: string;
}

export interface SessionEndDetail {
  sessionId: string;
  reason: EndReason;
}

export interface DeleteDetail extends DeleteOutcome {
  /** HTTP status of the last answer, when there was one. */
  status?: number;
  /** Why a delete failed or was given up, in words. */
  error?: string;
}

export interface IdleWarningDetail {
  secondsLeft: number;
}

export type GuardErrorCode =
  | 'invalid-session-id'
  | 'invalid-proxy'
  | 'missing-proxy'
  | 'invalid-widget-src'
  | 'invalid-widget-origin'
  | 'invalid-watch'
  | 'invalid-number'
  | 'invalid-logout-trigger'
  | 'invalid-expires-at'
  | 'no-widget'
  | 'invalid-wipe'
  | 'start-failed'
  | 'storage-unavailable'
  | 'invalid-stored-delete'
  | 'push-unavailable';

export interface GuardErrorDetail {
  code: GuardErrorCode;
  message: string;
}

export interface GuardEventMap {
  'konpro-session-start': CustomEvent<SessionStartDetail>;
  'konpro-session-end': CustomEvent<SessionEndDetail>;
  'konpro-delete': CustomEvent<DeleteDetail>;
  'konpro-idle-warning': CustomEvent<IdleWarningDetail>;
  'konpro-guard-error': CustomEvent<GuardErrorDetail>;
}

// The events bubble and are composed: they reach the document and the window too.
/* eslint-disable @typescript-eslint/no-empty-object-type -- declaration merging */
declare global {
  interface HTMLElementEventMap extends GuardEventMap {}
  interface DocumentEventMap extends GuardEventMap {}
  interface WindowEventMap extends GuardEventMap {}
}
/* eslint-enable @typescript-eslint/no-empty-object-type */

export function dispatch<K extends keyof GuardEventMap>(
  target: EventTarget,
  type: K,
  detail: GuardEventMap[K]['detail'],
): void {
  target.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}
