// Server commands that reach past what page JavaScript can see, through the
// Chrome DevTools Protocol of the test page: garbage collection, heap size,
// event listeners on an object, network conditions, and extra tabs of the same
// browser context (so IndexedDB, BroadcastChannel and Web Locks are shared).
const tabs = new Map();
let nextTab = 1;

async function cdpFor(page) {
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
        case 'cdp-gc':
          await cdp.send('HeapProfiler.collectGarbage');
          return true;
        case 'cdp-heap': {
          await cdp.send('HeapProfiler.collectGarbage');
          const { usedSize } = await cdp.send('Runtime.getHeapUsage');
          return usedSize;
        }
        case 'cdp-listeners': {
          const { result } = await cdp.send('Runtime.evaluate', { expression: payload.expression });
          const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId });
          await cdp.send('Runtime.releaseObject', { objectId: result.objectId });
          return listeners.map((l) => l.type);
        }
        case 'cdp-offline':
          await cdp.send('Network.enable');
          await cdp.send('Network.emulateNetworkConditions', {
            offline: Boolean(payload.offline),
            latency: 0,
            downloadThroughput: -1,
            uploadThroughput: -1,
          });
          return true;
        case 'tab-open': {
          const tab = await page.browserContext().newPage();
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
          await tab.goBack({ waitUntil: 'load' });
          return true;
        }
        case 'tab-offline': {
          const tab = tabs.get(payload.id);
          const tabCdp = await cdpFor(tab);
          await tabCdp.send('Network.enable');
          await tabCdp.send('Network.emulateNetworkConditions', { offline: Boolean(payload.offline), latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
          return true;
        }
        case 'tab-close': {
          const tab = tabs.get(payload.id);
          tabs.delete(payload.id);
          await tab.close({ runBeforeUnload: Boolean(payload.runBeforeUnload) });
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
          return true;
        }
        default:
          return undefined;
      }
    },
  };
}
