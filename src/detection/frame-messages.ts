/**
 * Listens for the widget frame's own word that its session has ended:
 * `{type: "konpro-session-terminated", session_id}` posted by a frame the
 * guard mounted, from the trusted origin. Any other sender, origin, shape or
 * session id is ignored, so no other frame or window can end (or fake the
 * end of) a session.
 */
import { TERMINATED_MESSAGE_TYPE, isRecord } from '../shared/konpro-api.js';

export interface FrameMessageOptions {
  /** The windows of the frames the guard mounted, looked up at message time. */
  frames(): Iterable<Window>;
  /** The one origin whose messages are trusted. */
  origin: string;
  sessionId: string;
  onTerminated(): void;
  /** Any other well-formed message from the widget (e.g. activity), for other concerns. */
  onMessage?(data: Record<string, unknown>): void;
}

function isTerminationMessage(data: unknown, sessionId: string): boolean {
  return isRecord(data) && data.type === TERMINATED_MESSAGE_TYPE && data.session_id === sessionId;
}

export function watchFrameMessages(options: FrameMessageOptions, signal: AbortSignal): void {
  window.addEventListener(
    'message',
    (event: MessageEvent<unknown>) => {
      if (event.origin !== options.origin || event.source === null) return;
      let fromOwnFrame = false;
      for (const frame of options.frames()) if (frame === event.source) fromOwnFrame = true;
      if (!fromOwnFrame) return;
      if (isTerminationMessage(event.data, options.sessionId)) options.onTerminated();
      else if (isRecord(event.data)) options.onMessage?.(event.data);
    },
    { signal },
  );
}
