// The README's browser recipes, run as written: demo/recipes/* (the README quotes their readme
// regions verbatim; test/proxy/readme.test.ts checks that). Each runs in a page of its own, with
// /api/widget-sessions answered by the test backend's fake proxy.
import { expect } from '@esm-bundle/chai';
import type { KonproWidgetGuard } from '../../src/index.js';
import { expectNoFrame, fixtureCleanup, until } from '../support/helpers.js';

afterEach(() => fixtureCleanup());

interface RecipeWindow extends Window {
  ended?: string[];
}

async function openRecipe(
  url: string,
): Promise<{ win: RecipeWindow; guard: () => KonproWidgetGuard | null; close(): void }> {
  const frame = document.createElement('iframe');
  frame.style.cssText = 'width: 800px; height: 700px';
  frame.src = url;
  document.body.append(frame);
  await new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  const win = frame.contentWindow as RecipeWindow;
  const guard = () => win.document.querySelector('konpro-widget-guard');
  return { win, guard, close: () => frame.remove() };
}

/** The guard mounted a session from the proxy, and the logout button ends it. */
async function startsAndLogsOut(url: string): Promise<RecipeWindow> {
  const page = await openRecipe(url);
  try {
    await until(() => page.guard()?.state === 'active', `${url}: widget live`, 8000);
    const guard = page.guard()!;
    expect(guard.shadowRoot!.querySelector('iframe')!.src).to.contain('/test/fixtures/widget.html?session_id=');
    const deleted = (await (await fetch('/test-api/control/recipes/log')).json()) as Array<{
      method: string;
      id: string;
    }>;
    const before = deleted.filter((e) => e.method === 'DELETE' && e.id === guard.sessionId).length;
    page.win.document.querySelector<HTMLButtonElement>('#logout')!.click();
    expect(guard.state).to.equal('terminated');
    expectNoFrame(guard);
    await until(
      async () =>
        ((await (await fetch('/test-api/control/recipes/log')).json()) as Array<{ method: string; id: string }>).filter(
          (e) => e.method === 'DELETE' && e.id === guard.sessionId,
        ).length > before,
      'delete reached the proxy',
    );
    return page.win;
  } finally {
    page.close();
  }
}

describe('README recipes in the browser', () => {
  it('plain HTML with the self-contained bundle', async () => {
    await startsAndLogsOut('/demo/recipes/plain.html');
  });

  it('React 19: props, auto-start and the custom event', async () => {
    const win = await startsAndLogsOut('/test/fixtures/recipe-react.html');
    expect(win.ended).to.deep.equal(['logout']);
  });

  for (const [major, query] of [
    ['19', ''],
    ['18', '?react=18'],
  ]) {
    it(`React ${major} through konpro-widget-guard/react: props, auto-start, the event prop, logout() by ref`, async () => {
      const win = await startsAndLogsOut(`/test/fixtures/recipe-react-wrapper.html${query}`);
      expect(win.ended).to.deep.equal(['logout']);
    });
  }

  it('Vue 3 with isCustomElement: attributes and the custom event', async () => {
    const win = await startsAndLogsOut('/test/fixtures/recipe-vue.html');
    expect(win.ended).to.deep.equal(['logout']);
  });

  it('a kiosk page: auto-start, idle timeout, attract screen', async () => {
    const page = await openRecipe('/demo/recipes/kiosk.html');
    try {
      await until(() => page.guard()?.state === 'active', 'kiosk live', 8000);
      const guard = page.guard()!;
      expect(guard.idleTimeout).to.equal(60);
      expect(guard.querySelector('[slot="start"]')!.textContent).to.match(/Touch/);
      await guard.reset();
      expect(guard.state).to.equal('active');
    } finally {
      page.close();
    }
  });
});
