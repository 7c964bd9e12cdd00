/** How the registry's parts write log lines: the proxy's own `record`, which hashes the ids. */
import type { LogLevel, ProxyLogEntry, ProxyLogEvent } from '../log.js';

export interface LoggedIds {
  sessionId?: string;
  userId?: string;
}

export type Recorder = (
  level: LogLevel,
  event: ProxyLogEvent,
  ids: LoggedIds,
  extra?: Omit<ProxyLogEntry, 'level' | 'event' | 'sessionHash' | 'userHash'>,
) => Promise<void>;
