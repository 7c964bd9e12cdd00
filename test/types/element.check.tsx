// The element's public types, as a site author's editor sees them.
import 'konpro-widget-guard';
import {
  KonproWidgetGuard,
  type DeleteOutcome,
  type DeleteDetail,
  type EndReason,
  type GuardErrorCode,
  type IdleWarningDetail,
} from 'konpro-widget-guard';
import { expectType, type Equal } from './expect.js';

const guard = document.createElement('konpro-widget-guard');
expectType<Equal<typeof guard, KonproWidgetGuard>>();
const found = document.querySelector('konpro-widget-guard');
expectType<Equal<typeof found, KonproWidgetGuard | null>>();

guard.addEventListener('konpro-session-start', (event) => expectType<Equal<typeof event.detail.sessionId, string>>());
guard.addEventListener('konpro-session-end', (event) => {
  expectType<Equal<typeof event.detail.reason, EndReason>>();
  expectType<
    Equal<EndReason, 'logout' | 'terminated' | 'expired' | 'other-tab' | 'idle' | 'reset' | 'invalid' | 'revoked'>
  >();
});
guard.addEventListener('konpro-delete', (event) => {
  expectType<Equal<typeof event.detail, DeleteDetail>>();
  expectType<Equal<typeof event.detail.outcome, 'deleted' | 'already-gone' | 'queued' | 'failed'>>();
});
guard.addEventListener('konpro-idle-warning', (event) => expectType<Equal<typeof event.detail, IdleWarningDetail>>());
guard.addEventListener('konpro-guard-error', (event) => expectType<Equal<typeof event.detail.code, GuardErrorCode>>());
// The events bubble out of shadow roots, so a document (or window) listener hears every guard.
document.addEventListener('konpro-session-end', (event) => expectType<Equal<typeof event.detail.sessionId, string>>());
window.addEventListener('konpro-delete', (event) => expectType<Equal<typeof event.detail, DeleteDetail>>());

async function methods(): Promise<void> {
  expectType<Equal<Awaited<ReturnType<KonproWidgetGuard['logout']>>, DeleteOutcome>>();
  const outcome = await guard.logout();
  expectType<Equal<typeof outcome.outcome, 'deleted' | 'already-gone' | 'queued' | 'failed'>>();
  await guard.reset();
  await guard.start();
}
void methods;

guard.proxy = '/api/widget-sessions';
guard.sessionId = 'ws_1';
guard.checkInterval = 30;
guard.autoStart = true;
guard.expiresAt = new Date();
guard.strings = { stillHere: 'Ich bin noch da', idleMessage: (s) => `Neustart in ${s} s` };
expectType<Equal<typeof guard.state, 'idle' | 'starting' | 'active' | 'terminated' | 'error'>>();
// @ts-expect-error state is read-only
guard.state = 'active';
// @ts-expect-error no such event detail field
guard.addEventListener('konpro-session-end', (event) => event.detail.why);
