// The self-contained file has the package's types: the same exports, tag and events.
import {
  KonproWidgetGuard,
  isValidSessionId,
  type EndReason,
} from 'konpro-widget-guard/dist/konpro-widget-guard.min.js';
import type { KonproWidgetGuard as FromPackage } from 'konpro-widget-guard';
import { expectType, type Equal } from './expect.js';

expectType<Equal<KonproWidgetGuard, FromPackage>>();
expectType<Equal<ReturnType<typeof isValidSessionId>, boolean>>();
const guard = document.createElement('konpro-widget-guard');
guard.addEventListener('konpro-session-end', (event) => expectType<Equal<typeof event.detail.reason, EndReason>>());
// @ts-expect-error no such export
export { start } from 'konpro-widget-guard/dist/konpro-widget-guard.min.js';
