/**
 * `konpro-widget-guard/proxy/redis`: the proxy's store in Redis, for a site
 * that runs several proxy instances (`createWidgetSessionProxy({store: redisStore({url})})`).
 * It needs the `redis` package (an optional peer dependency); the main proxy
 * entry never imports it.
 */
export { redisStore, type RedisStoreOptions } from './store/redis-store.js';
export type {
  EndedEvent,
  QueuedDelete,
  RegisteredSession,
  ServerEndReason,
  SessionEnd,
  StoreHealth,
  WidgetSessionStore,
  WindowCount,
} from './store/store.js';
