/**
 * `konpro-widget-guard/proxy`: the reference backend proxy. The handler uses
 * only web standards (Fetch API, Web Crypto); `toNodeListener` adapts it to
 * `node:http` and Express.
 */
export {
  createWidgetSessionProxy,
  type EndSessionsResult,
  type ProxyHealth,
  type RevokeOptions,
  type RevokeResult,
  type SweepResult,
  type WidgetSessionProxy,
} from './create-proxy.js';
export {
  createBackChannelLogout,
  type BackChannelLogoutHandler,
  type BackChannelLogoutOptions,
  type BackChannelLogoutTarget,
  type LogoutTokenKeys,
  type RemoteJwksOptions,
} from './back-channel-logout.js';
export { BACK_CHANNEL_LOGOUT_EVENT, type LogoutTokenClaims } from './logout-token.js';
export {
  incomingMessageOf,
  toFetchRequest,
  toNodeListener,
  type FetchHandler,
  type NodeListener,
  type NodeRequest,
  type NodeResponse,
} from './node.js';
export type {
  CookieOptions,
  RateLimitOptions,
  SessionSettings,
  VendorSessionAnswer,
  WidgetSessionProxyOptions,
} from './options.js';
export type { LogLevel, ProxyLogEntry, ProxyLogEvent, ProxyLogger } from './log.js';
export { ProxyErrorCode } from './errors.js';
export { isValidSessionId } from '../shared/session-id.js';
export type {
  ErrorBody,
  ProxyCreatedSession,
  ProxyDeletedSession,
  ProxySessionStatus,
  DeletedSession,
} from '../shared/konpro-api.js';
export { memoryStore, type MemoryStoreOptions } from './store/memory-store.js';
export {
  compareFeedIds,
  isFeedId,
  type EndedEvent,
  type QueuedDelete,
  type RegisteredSession,
  type ServerEndReason,
  type SessionEnd,
  type StoreHealth,
  type WidgetSessionStore,
  type WindowCount,
} from './store/store.js';
