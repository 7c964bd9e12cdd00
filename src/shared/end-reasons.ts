/**
 * Why a session ended and how its delete settled: the words the element's events, the tab channel
 * (and the proxy) use, listed once so a message from another tab is checked against the same list.
 */

/** Reasons in `konpro-session-end`. `revoked`: the site's server ended it (the event stream said so). */
export const END_REASONS = [
  'logout',
  'terminated',
  'expired',
  'other-tab',
  'idle',
  'reset',
  'invalid',
  'revoked',
] as const;

export type EndReason = (typeof END_REASONS)[number];

/** Outcomes in `konpro-delete` and `logout()`'s answer. */
export const DELETE_OUTCOMES = ['deleted', 'already-gone', 'queued', 'failed'] as const;

export type DeleteOutcomeKind = (typeof DELETE_OUTCOMES)[number];
