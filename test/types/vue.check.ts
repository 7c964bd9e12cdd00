// Vue: `konpro-widget-guard/vue` declares the tag in Vue's GlobalComponents, in the shape vue-tsc
// reads a template's props and listeners from ($props, $emit). Wrong props and event-detail uses
// must not compile.
import type { GlobalComponents } from 'vue';
import type {} from 'konpro-widget-guard/vue';
import type { DeleteDetail, EndReason, KonproWidgetGuard } from 'konpro-widget-guard';
import { expectType, type Equal } from './expect.js';

type Guard = InstanceType<GlobalComponents['konpro-widget-guard']>;
type Props = Guard['$props'];

// Each template attribute and property, as a template writes them.
export const props: Props = {
  proxy: '/api/widget-sessions',
  'session-id': 'ws_1',
  sessionId: 'ws_1',
  'auto-start': true,
  push: true,
  'check-interval': 30,
  idleTimeout: 60,
  strings: { ended: 'Tschüss' },
  class: 'assistant',
  style: { height: '560px' },
  onKonproSessionStart: (event) => expectType<Equal<typeof event.detail.sessionId, string>>(),
  onKonproSessionEnd: (event) => expectType<Equal<typeof event.detail.reason, EndReason>>(),
  onKonproDelete: (event) => expectType<Equal<typeof event.detail, DeleteDetail>>(),
  onKonproIdleWarning: (event) => expectType<Equal<typeof event.detail.secondsLeft, number>>(),
  onKonproGuardError: (event) => expectType<Equal<typeof event.detail.message, string>>(),
};
// A template ref is the element itself.
expectType<Equal<Guard extends KonproWidgetGuard ? true : false, true>>();
declare const guard: Guard;
guard.$emit(
  'konpro-session-end',
  new CustomEvent('konpro-session-end', { detail: { sessionId: 's', reason: 'idle' } }),
);

// @ts-expect-error no such event detail field
export const badDetail: Props = { onKonproSessionEnd: (event) => event.detail.why };
// @ts-expect-error the detail of konpro-delete has no reason
export const wrongEvent: Props = { onKonproDelete: (event) => event.detail.reason };
// @ts-expect-error no such attribute (it is session-id)
export const badName: Props = { sessionid: 'ws_1' };
// @ts-expect-error a number of seconds
export const badNumber: Props = { checkInterval: 'soon' };
// @ts-expect-error state is the element's to say
export const readOnly: Props = { state: 'active' };
// @ts-expect-error an event the element does not fire
guard.$emit('konpro-session-ended', new CustomEvent('x'));
