// `konpro-widget-guard/react` (made with @lit/react) in React 19 and React 18, which passes neither
// properties nor custom events to custom elements by itself: properties arrive as properties,
// every event reaches its `onKonpro…` prop, the ref is the element, and leaving a prop out
// unsets it. The page: test/fixtures/react-wrapper.jsx, bundled with either React.
import { expect } from '@esm-bundle/chai';
import type { KonproWidgetGuard } from '../../src/index.js';
import { FakeProxy, GONE, uniqueId, until, WIDGET } from '../support/helpers.js';

interface LoggedEvent {
  name: string;
  type: string;
  detail: Record<string, unknown>;
  isElement: boolean;
}

interface WrapperWindow extends Window {
  ready?: boolean;
  reactVersion: string;
  events: LoggedEvent[];
  errors: string[];
  guardRef: { current: KonproWidgetGuard | null };
  render(props: Record<string, unknown>, options?: { handlers?: boolean }): void;
  unmount(): void;
}

async function openWrapperPage(query: string): Promise<{ win: WrapperWindow; close(): void }> {
  const frame = document.createElement('iframe');
  frame.style.cssText = 'width: 800px; height: 700px';
  frame.src = `/test/fixtures/react-wrapper.html${query}`;
  document.body.append(frame);
  await new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  const win = frame.contentWindow as WrapperWindow;
  await until(() => win.ready === true, 'the React app loaded', 10_000);
  return { win, close: () => frame.remove() };
}

for (const [major, query] of [
  ['19', ''],
  ['18', '?react=18'],
] as const) {
  describe(`konpro-widget-guard/react in React ${major}`, () => {
    let page: { win: WrapperWindow; close(): void };
    before(async () => {
      page = await openWrapperPage(query);
    });
    after(() => page.close());
    afterEach(() => {
      page.win.unmount();
      page.win.events.length = 0;
    });

    const guard = () => page.win.document.querySelector('konpro-widget-guard')!;
    const named = (name: string) => page.win.events.filter((e) => e.name === name);

    it(`runs React ${major}`, () => {
      expect(page.win.reactVersion.split('.')[0]).to.equal(major);
    });

    it('sets properties as properties, starts, and hands the element to the ref', async () => {
      const proxy = new FakeProxy();
      const strings = { ended: `Ended in React ${major}` };
      page.win.render({ proxy: proxy.url, autoStart: true, checkInterval: 0, strings, logoutTrigger: '#logout' });
      const el = guard();
      expect(page.win.guardRef.current).to.equal(el);
      await until(() => el.state === 'active', 'the session started', 8000);
      // Objects and numbers as themselves (React 18 alone would have set strings="[object Object]").
      expect(el.strings).to.equal(strings);
      expect(el.checkInterval).to.equal(0);
      expect(el.autoStart).to.equal(true);
      expect(el.hasAttribute('auto-start')).to.equal(true);
      expect(el.shadowRoot!.querySelectorAll('iframe')).to.have.length(1);
      const [start] = named('onKonproSessionStart');
      expect(start).to.deep.include({ type: 'konpro-session-start', isElement: true });
      expect(start.detail).to.deep.equal({ sessionId: el.sessionId });
      expect((await proxy.log()).filter((entry) => entry.method === 'POST')).to.have.length(1);
      expect(page.win.errors).to.deep.equal([]);
    });

    it('delivers konpro-session-end and konpro-delete to their props; logout() through the ref', async () => {
      const proxy = new FakeProxy();
      page.win.render({ proxy: proxy.url, autoStart: true, checkInterval: 0 });
      await until(() => guard().state === 'active', 'the session started', 8000);
      const sessionId = guard().sessionId;
      const outcome = await page.win.guardRef.current!.logout();
      expect(outcome.outcome).to.equal('deleted');
      expect(named('onKonproSessionEnd').map((e) => e.detail)).to.deep.equal([{ sessionId, reason: 'logout' }]);
      await until(() => named('onKonproDelete').length > 0, 'konpro-delete');
      expect(named('onKonproDelete')[0].detail).to.deep.include({ sessionId, outcome: 'deleted' });
      expect(guard().state).to.equal('terminated');
      const slot = guard().shadowRoot!.querySelector<HTMLSlotElement>('slot[name="terminated"]')!;
      expect(slot.assignedElements()[0].textContent).to.equal(`Signed out (React ${major})`);
    });

    it('delivers konpro-guard-error and konpro-idle-warning to their props', async () => {
      page.win.render({ widgetSrc: WIDGET, sessionId: 'not a valid id!' });
      await until(() => named('onKonproGuardError').length > 0, 'konpro-guard-error');
      expect(named('onKonproGuardError').map((e) => e.detail.code)).to.deep.equal(['invalid-session-id']);
      expect(guard().state).to.equal('error');

      const proxy = new FakeProxy();
      page.win.render({
        proxy: proxy.url,
        widgetSrc: WIDGET,
        sessionId: uniqueId(),
        checkInterval: 0,
        idleTimeout: 2,
        idleWarning: 1,
      });
      await until(() => named('onKonproIdleWarning').length > 0, 'the idle countdown', 8000);
      expect(named('onKonproIdleWarning')[0].detail).to.deep.equal({ secondsLeft: 1 });
      await until(() => named('onKonproSessionEnd').some((e) => e.detail.reason === 'idle'), 'the idle reset', 8000);
    });

    it('follows new props and handlers, and unsets a prop that is left out', async () => {
      const proxy = new FakeProxy();
      const first = uniqueId();
      const props = { proxy: proxy.url, widgetSrc: WIDGET, checkInterval: 0, watch: '/test-api/echo' };
      page.win.render({ ...props, sessionId: first });
      await until(() => guard().state === 'active', 'first session', 8000);
      const second = uniqueId();
      page.win.render({ ...props, sessionId: second });
      await until(
        () => guard().state === 'active' && !!guard().shadowRoot!.querySelector('iframe')?.src.includes(second),
        'second session',
        8000,
      );
      expect(guard().shadowRoot!.querySelectorAll('iframe')).to.have.length(1);

      // Left out: released, as removing the attribute does (no error, no session-end).
      page.win.render({ proxy: proxy.url, widgetSrc: WIDGET, checkInterval: 0 });
      await until(() => guard().state === 'idle', 'released', 4000);
      expect(guard().sessionId).to.equal(null);
      expect(guard().watch).to.equal(null);
      expect(guard().shadowRoot!.querySelector('iframe')).to.equal(null);
      expect(named('onKonproGuardError')).to.deep.equal([]);
      expect(named('onKonproSessionEnd')).to.deep.equal([]);

      // Without handlers, nothing is listening any more.
      const third = uniqueId();
      page.win.render({ ...props, sessionId: third }, { handlers: false });
      await until(() => guard().state === 'active', 'third session', 8000);
      await page.win.fetch(GONE);
      expect(guard().state).to.equal('terminated');
      expect(named('onKonproSessionEnd')).to.deep.equal([]);
      expect(page.win.errors).to.deep.equal([]);
    });
  });
}
