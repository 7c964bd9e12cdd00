/**
 * The guard's own words. Every text can be replaced through the `strings`
 * property (to localise it), and the visible panels through their slots.
 */
export interface GuardStrings {
  /** Shown after the session ended (the `terminated` slot's default). */
  ended: string;
  /** Shown when no widget can be mounted (the `error` slot's default). */
  startFailed: string;
  /** Announced to assistive technology when the session ends. */
  endedAnnouncement: string;
  /** Title of the idle countdown. */
  idleTitle: string;
  /** The countdown's message. */
  idleMessage: (secondsLeft: number) => string;
  /** Announced once when the countdown starts. */
  idleAnnouncement: (secondsLeft: number) => string;
  /** The button that cancels the countdown. */
  stillHere: string;
  /** Accessible name of the widget frame. */
  frameTitle: string;
}

export const DEFAULT_STRINGS: GuardStrings = {
  ended: 'This avatar session has ended.',
  startFailed: 'The avatar could not be started.',
  endedAnnouncement: 'The avatar session has ended.',
  idleTitle: 'Are you still there?',
  idleMessage: (s) => `This session will reset in ${s} ${s === 1 ? 'second' : 'seconds'}.`,
  idleAnnouncement: (s) => `The session will reset in ${s} seconds unless you continue.`,
  stillHere: 'I’m still here',
  frameTitle: 'Avatar',
};
