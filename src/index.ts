/**
 * konpro-widget-guard: defines `<konpro-widget-guard>` and exports its class
 * and types. Lit and idb-keyval are dependencies, not inlined; for a plain
 * `<script type="module">` use `dist/konpro-widget-guard.min.js`.
 */
import './define.js';

export { KonproWidgetGuard, GuardState, VENDOR_API_PREFIX } from './element/konpro-widget-guard.js';
export { TAG_NAME } from './define.js';
export type {
  DeleteDetail,
  DeleteOutcome,
  DeleteOutcomeKind,
  EndReason,
  GuardErrorCode,
  GuardErrorDetail,
  GuardEventMap,
  IdleWarningDetail,
  SessionEndDetail,
  SessionStartDetail,
} from './element/events.js';
export { classifyResponse, Verdict, type Classification } from './detection/classify-response.js';
export { isValidSessionId } from './shared/session-id.js';
