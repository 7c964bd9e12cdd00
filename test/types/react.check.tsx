// React: the `konpro-widget-guard/react` wrapper's props, and the tag itself in React 19 JSX
// (declared by the same module). Wrong props, attributes and event-detail uses must not compile.
import { createRef } from 'react';
import type { DeleteDetail, EndReason, GuardErrorCode, KonproWidgetGuard as GuardElement } from 'konpro-widget-guard';
import { KonproWidgetGuard, type KonproWidgetGuardProps } from 'konpro-widget-guard/react';
import { expectType, type Equal } from './expect.js';

// The wrapper: properties (objects and dates too), a handler per event, a ref to the element.
const ref = createRef<GuardElement>();
export const wrapped = (
  <KonproWidgetGuard
    ref={ref}
    proxy="/api/widget-sessions"
    sessionId="ws_1"
    autoStart
    checkInterval={0}
    idleTimeout={60}
    expiresAt={new Date()}
    strings={{ ended: 'Auf Wiedersehen', idleMessage: (seconds) => `Neustart in ${seconds} s` }}
    logoutTrigger="#logout"
    className="assistant"
    style={{ height: 560 }}
    onKonproSessionStart={(event) => expectType<Equal<typeof event.detail.sessionId, string>>()}
    onKonproSessionEnd={(event) => expectType<Equal<typeof event.detail.reason, EndReason>>()}
    onKonproDelete={(event) => expectType<Equal<typeof event.detail, DeleteDetail>>()}
    onKonproIdleWarning={(event) => expectType<Equal<typeof event.detail.secondsLeft, number>>()}
    onKonproGuardError={(event) => expectType<Equal<typeof event.detail.code, GuardErrorCode>>()}
  >
    <p slot="terminated">Signed out.</p>
  </KonproWidgetGuard>
);
async function viaRef(): Promise<void> {
  const outcome = await ref.current?.logout();
  expectType<Equal<typeof outcome, Awaited<ReturnType<GuardElement['logout']>> | undefined>>();
}
void viaRef;
expectType<Equal<KonproWidgetGuardProps['checkInterval'], number | null | undefined>>();

// @ts-expect-error no such event detail field
export const badDetail = <KonproWidgetGuard onKonproSessionEnd={(event) => event.detail.why} />;
// @ts-expect-error the reason is one of the documented ones
export const badReason = <KonproWidgetGuard onKonproSessionEnd={(event) => event.detail.reason === 'gone'} />;
// @ts-expect-error a number of seconds, not text
export const badNumber = <KonproWidgetGuard checkInterval="30" />;
// @ts-expect-error no such property (it is sessionId)
export const badName = <KonproWidgetGuard sessionid="ws_1" />;
// @ts-expect-error state is the element's to say
export const readOnly = <KonproWidgetGuard state="active" />;
// @ts-expect-error methods are not props
export const method = <KonproWidgetGuard logout={() => undefined} />;

// The tag itself in React 19 JSX: attributes as markup writes them, properties, `onkonpro-…` handlers.
export const bare = (
  <konpro-widget-guard
    proxy="/api/widget-sessions"
    session-id="ws_1"
    widget-src="https://widget.example/embed?session={session_id}"
    auto-start=""
    push
    check-interval={30}
    idle-timeout="60"
    logout-trigger="#logout"
    strings={{ ended: 'Bye' }}
    style={{ display: 'block', height: 560 }}
    ref={ref}
    onkonpro-session-start={(event) => expectType<Equal<typeof event.detail.sessionId, string>>()}
    onkonpro-session-end={(event) => expectType<Equal<typeof event.detail.reason, EndReason>>()}
    onkonpro-delete={(event) => expectType<Equal<typeof event.detail, DeleteDetail>>()}
    onkonpro-idle-warning={(event) => expectType<Equal<typeof event.detail.secondsLeft, number>>()}
    onkonpro-guard-error={(event) => expectType<Equal<typeof event.detail.code, GuardErrorCode>>()}
  />
);
// @ts-expect-error no such event detail field
export const bareBadDetail = <konpro-widget-guard onkonpro-session-end={(event) => event.detail.why} />;
// @ts-expect-error the detail of konpro-delete has no reason
export const bareWrongEvent = <konpro-widget-guard onkonpro-delete={(event) => event.detail.reason} />;
// @ts-expect-error no such attribute (it is session-id)
export const bareBadName = <konpro-widget-guard sessionid="ws_1" />;
// @ts-expect-error auto-start is a boolean attribute
export const bareBadBoolean = <konpro-widget-guard auto-start={5} />;
// @ts-expect-error check-interval is a number of seconds
export const bareBadNumber = <konpro-widget-guard check-interval={{ seconds: 30 }} />;
// @ts-expect-error state is the element's to say
export const bareReadOnly = <konpro-widget-guard state="active" />;
