/**
 * A browser's event streams in a process of its own, so the orphan figure can
 * kill it (SIGKILL: no close, no goodbye; the kernel drops its connections,
 * as when a machine loses power or a browser is killed). For each user given
 * it creates a session through the proxy, as that user's page would, and
 * opens one stream reporting it; it says `ready` (with the sessions) once all
 * are open, so no session goes unshown while the process starts.
 *
 * Usage: stream-holder.ts <origin> '<JSON user ids>'
 */
import { serveParent } from './children.js';
import { createSession, openSse, type CreatedSession } from './sse-client.js';

export interface HolderReady {
  sessions: CreatedSession[];
}

const [origin, list] = process.argv.slice(2);
const users = JSON.parse(list ?? '[]') as string[];
const sessions = await Promise.all(users.map((user) => createSession(origin, user)));
const streams = sessions.map((session) =>
  openSse(origin, { user: session.user, cookies: [session.cookie], sessions: [session.sessionId] }),
);
const statuses = await Promise.all(streams.map((stream) => stream.opened));
if (statuses.some((status) => status !== 200))
  throw new Error(`stream-holder: streams answered ${statuses.join(', ')}`);
serveParent({ sessions } satisfies HolderReady, {});
