// Server commands that reach past what page JavaScript can see, through the
// Chrome DevTools Protocol of the test page: event listeners on an object, and
// extra tabs of the same browser context (so IndexedDB, BroadcastChannel and
// Web Locks are shared), with their network conditions.
const tabs = new Map();
let nextTab = 1;

/** One DevTools session with the browser itself, kept for the run (detaching it breaks later lookups). */
export async function browserSession(browser) {
  browser.__konproCdp ??= browser.target().createCDPSession();
  return browser.__konproCdp;
}

/** The DevTools session of a page, one for its life (what it emulates lasts while it is attached). */
export async function cdpFor(page) {
  if (!page.__konproCdp) page.__konproCdp = await page.createCDPSession();
  return page.__konproCdp;
}

export function cdpPlugin() {
  return {
    name: 'konpro-cdp',
    async executeCommand({ command, payload, session }) {
      if (!command.startsWith('cdp-') && !command.startsWith('tab-')) return undefined;
      const page = session.browser.getPage(session.id);
      const cdp = await cdpFor(page);
      switch (command) {
        case 'cdp-listeners': {
          const { result } = await cdp.send('Runtime.evaluate', { expression: payload.expression });
          const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId });
          await cdp.send('Runtime.releaseObject', { objectId: result.objectId });
          return listeners.map((l) => l.type);
        }
        case 'tab-open': {
          // A background tab, so the test page (and any other test file's page) stays visible.
          const browserCdp = await browserSession(page.browser());
          const contextId = page.browserContext().id;
          const { targetId } = await browserCdp.send('Target.createTarget', {
            url: 'about:blank',
            background: true,
            ...(contextId ? { browserContextId: contextId } : {}),
          });
          const target = await page.browser().waitForTarget((t) => t._targetId === targetId);
          const tab = await target.page();
          const url = new URL(payload.url, page.url()).href;
          await tab.goto(url, { waitUntil: 'load' });
          const id = nextTab++;
          tabs.set(id, tab);
          return id;
        }
        case 'tab-eval': {
          const tab = tabs.get(payload.id);
          // The expression may return a promise; its JSON-able value comes back.
          return tab.evaluate(payload.expression);
        }
        case 'tab-goto': {
          const tab = tabs.get(payload.id);
          await tab.goto(new URL(payload.url, tab.url()).href, { waitUntil: 'load' });
          return true;
        }
        case 'tab-back': {
          const tab = tabs.get(payload.id);
          const tabCdp = await cdpFor(tab);
          await tabCdp.send('Page.enable');
          let notUsed;
          const onNotUsed = (event) => (notUsed = event.notRestoredExplanations.map((e) => e.reason));
          tabCdp.on('Page.backForwardCacheNotUsed', onNotUsed);
          // A page restored from the back/forward cache fires no load event: wait for either.
          await Promise.race([tab.goBack({ waitUntil: 'load' }), new Promise((resolve) => setTimeout(resolve, 3000))]);
          tabCdp.off('Page.backForwardCacheNotUsed', onNotUsed);
          return { readyState: await tab.evaluate(() => document.readyState), bfcacheNotUsed: notUsed ?? null };
        }
        case 'tab-offline': {
          const tab = tabs.get(payload.id);
          const tabCdp = await cdpFor(tab);
          await tabCdp.send('Network.enable');
          await tabCdp.send('Network.emulateNetworkConditions', {
            offline: Boolean(payload.offline),
            latency: 0,
            downloadThroughput: -1,
            uploadThroughput: -1,
          });
          return true;
        }
        case 'tab-close': {
          const tab = tabs.get(payload.id);
          tabs.delete(payload.id);
          await tab.close({ runBeforeUnload: Boolean(payload.runBeforeUnload) });
          // The new tab had taken the front: give it back to the test page, which is visible again.
          await page.bringToFront();
          return true;
        }
        case 'tab-crash': {
          const tab = tabs.get(payload.id);
          tabs.delete(payload.id);
          const tabCdp = await tab.createCDPSession();
          // The crashed renderer never answers: do not wait for it.
          tabCdp.send('Page.crash').catch(() => {});
          await new Promise((resolve) => setTimeout(resolve, 300));
          await Promise.race([tab.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000))]);
          await page.bringToFront();
          return true;
        }
        default:
          return undefined;
      }
    },
  };
}
